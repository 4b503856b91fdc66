"""Preparing harvested tables: real Thai files and synthetic ones in, normalised CSV out."""

from __future__ import annotations

import csv
import datetime
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import openpyxl
import pytest

from harvesters.base import HarvestError
from harvesters.prepare import PreparedTable, is_be_year_field, prepare_table
from harvesters.validate import validate_csv
from schemas.tables import load_table_schema
from tests.realdata import real_file

FIXTURES = Path(__file__).resolve().parent / "data" / "harvest" / "tabular"

# The budget-act CSVs' columns onto the built-in budget schema (MINISTRY, OUTPUT, PROJECT and
# AMOUNT match field names by themselves); the rest of their columns are dropped.
BUDGET_ACT = {
    "columns": {
        "FISCAL_YEAR": "fiscal_year",
        "BUDGETARY_UNIT": "agency",
        "BUDGET_PLAN": "plan",
        "CATEGORY_LV1": "budget_type",
        "CATEGORY_LV2": "category",
        "ITEM_DESCRIPTION": "item",
        "OBLIGED?": "obliged",
    },
    "extra_columns": "drop",
}
# Schemas written for the real files whose columns no built-in schema has.
PROVINCES = {
    "fields": [
        {"name": "province", "type": "string", "title": "จังหวัด/ต่างประเทศ"},
        {"name": "amount", "type": "number", "title": "รวม", "constraints": {"minimum": 0}},
    ]
}
PROVINCE_CODES = {
    "fields": [
        {"name": "province", "type": "string"},
        {"name": "code", "type": "string"},
        {"name": "amount", "type": "number"},
    ]
}
PAO_TASKS = {
    "fields": [{"name": n, "type": "string"} for n in ("task", "area", "plan", "type")]
    + [{"name": "total", "type": "number", "constraints": {"minimum": 0}}]
}
LAWS = {
    "fields": [
        {"name": "no", "type": "integer"},
        {"name": "title", "type": "string", "constraints": {"required": True}},
        {"name": "category", "type": "string"},
        {"name": "link", "type": "string", "format": "uri"},
        {"name": "name", "type": "string"},
        {"name": "status", "type": "string"},
    ]
}


def prepare(
    path: Path, schema, tmp_path: Path, name: str | None = None, fmt=None, **options
) -> PreparedTable:
    if isinstance(schema, str):
        schema = load_table_schema(schema)
    return prepare_table(
        path.open("rb"),
        name=name or path.name,
        fmt=fmt,
        table_schema=schema,
        options=options,
        workdir=tmp_path,
    )


def csv_rows(table: PreparedTable) -> list[list[str]]:
    with table.csv_path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# -- every real file -----------------------------------------------------------------------------

# file, schema, options -> rows written, data rows below the header, encoding,
# (header row, header rows), totals rows (source row numbers), problem codes
REAL_CASES = [
    (
        "budget/th_budget_act_2565_vol3-17_napatswift.csv",
        "budget",
        BUDGET_ACT,
        (243, 243, "utf-8", (1, 1), [], ["missing-column"]),  # no `note` column
    ),
    (
        "budget/th_budget_act_2565_vol3-17_pdfplumber_raw.csv",
        "budget",
        BUDGET_ACT,
        (275, 275, "utf-8", (1, 1), [], ["missing-column"]),
    ),
    (
        "budget/th_budget_act_2565_output_example_v2.csv",
        "budget",
        BUDGET_ACT,
        (10, 10, "utf-8-sig", (1, 1), [], ["missing-column"]),
    ),
    (
        "projects/th_budget_act_2565_vol3-13-1_provinces_napatswift.csv",
        "budget",
        BUDGET_ACT,
        (910, 910, "utf-8", (1, 1), [], ["missing-column"]),
    ),
    (  # 6 preamble rows (blank, page number, title, subtitle, unit) above the header
        "budget/provbudget2556_converted.xlsx",
        PROVINCES,
        {},
        (87, 91, None, (7, 1), [8, 11, 12, 13], []),
    ),
    (  # the first sheet, `match`, has no header row at all
        "budget/provbudget_all_2553_2559.xlsx",
        PROVINCES,
        {},
        (0, 0, None, None, [], ["no-header"]),
    ),
    (
        "budget/provbudget_all_2553_2559.xlsx",
        PROVINCE_CODES,
        {"sheet": "match", "header_row": "none"},
        (77, 77, None, (1, 0), [], []),
    ),
    (  # year blocks side by side; the 2556 amounts picked with a column mapping
        "budget/provbudget_all_2553_2559.xlsx",
        PROVINCES,
        {"sheet": "combine", "columns": {"2556": "amount"}, "extra_columns": "drop"},
        (87, 91, None, (1, 1), [2, 5, 6, 7], []),
    ),
    (
        "budget/provbudget_all_2553_2559.xlsx",
        PROVINCES,
        {"sheet": "checkname", "columns": {"2556": "amount"}, "extra_columns": "drop"},
        (87, 91, None, (1, 1), [2, 5, 6, 7], []),
    ),
    (
        "budget/provbudget_all_2553_2559.xlsx",
        PROVINCE_CODES,
        {"sheet": "budget", "columns": {"budget2013": "amount"}, "extra_columns": "drop"},
        (77, 77, None, (1, 1), [], ["missing-column"]),  # no code column
    ),
    (
        "budget/provbudget_all_2553_2559.xlsx",
        PROVINCE_CODES,
        {"sheet": "Sheet5", "columns": {"budget2013q1": "amount"}, "extra_columns": "drop"},
        (76, 76, None, (1, 1), [], ["missing-column"]),
    ),
    (
        "budget/pao_chiangmai_2565.json",
        PAO_TASKS,
        {"json_path": "tasks"},
        (58, 58, "utf-8", (1, 0), [], []),
    ),
    (
        "budget/pao_chiangmai_2566.json",
        PAO_TASKS,
        {"json_path": "tasks"},
        (59, 59, "utf-8", (1, 0), [], []),
    ),
    ("regulations/pple_law_tracker_law.json", LAWS, {}, (70, 70, "utf-8", (1, 0), [], [])),
]


@pytest.mark.parametrize(("relative", "schema", "options", "expected"), REAL_CASES)
def test_every_real_file_is_prepared_as_recorded(tmp_path, relative, schema, options, expected):
    table = prepare(real_file(relative), schema, tmp_path, **options)

    rows, source_rows, encoding, header, totals, problem_codes = expected
    assert table.rows_written == rows
    assert table.source_rows == source_rows
    assert table.encoding == encoding
    found_header = table.header and (table.header.header_row_index + 1, table.header.n_header_rows)
    assert found_header == header
    assert table.totals_rows == totals
    assert table.blank_rows == 0
    assert sorted({p.code for p in table.problems}) == problem_codes
    assert table.source_rows == table.rows_written + table.blank_rows + len(table.totals_rows)
    assert len(csv_rows(table)) == rows + 1
    assert not table.pii.found


@pytest.mark.parametrize(
    ("relative", "options", "message"),
    [
        (
            "budget/pao_chiangmai_2566.json",
            {},
            "pao_chiangmai_2566.json: not a JSON array of rows (it starts with '{'); "
            "set json_path to one of its arrays: groupedByArea, groupedByType, tasks",
        ),
        (
            "budget/pao_metadata.json",
            {},
            "pao_metadata.json: not a JSON array of rows (it starts with '{'); "
            "set json_path to one of its arrays: years, provinces",
        ),
        (
            "budget/pao_metadata.json",
            {"json_path": "provincesByYears.2566"},
            "pao_metadata.json: array element 1 is a str; every element must be an object "
            "(or every one an array)",
        ),
    ],
)
def test_real_json_documents_without_an_array_of_rows_are_refused(
    tmp_path, relative, options, message
):
    with pytest.raises(HarvestError) as caught:
        prepare(real_file(relative), PAO_TASKS, tmp_path, **options)
    assert caught.value.message == message
    assert caught.value.message_th.startswith(relative.rsplit("/", 1)[1] + ": ")
    assert "ไม่ใช่" in caught.value.message_th


def test_the_budget_act_csv_becomes_a_valid_budget_table(tmp_path):
    table = prepare(
        real_file("budget/th_budget_act_2565_vol3-17_napatswift.csv"),
        "budget",
        tmp_path,
        **BUDGET_ACT,
    )

    first = csv_rows(table)[:2]
    assert first[0] == [
        "fiscal_year", "agency", "ministry", "plan", "output", "project", "budget_type",
        "category", "item", "amount", "obliged", "note",
    ]  # fmt: skip
    # FISCAL_YEAR 2022 (CE) becomes BE 2565; "78,459,000" loses its separators
    assert first[1][0] == "2565" and first[1][9] == "78459000"
    report = {(e["column"], e["kind"]): e["count"] for e in table.normalisation}
    assert report == {("fiscal_year", "ce-year"): 243, ("amount", "amount"): 233}
    assert validate_csv(table.csv_path, load_table_schema("budget")).findings == []


def test_validation_findings_point_at_rows_of_the_original_file(tmp_path):
    table = prepare(
        real_file("projects/th_budget_act_2565_vol3-13-1_provinces_napatswift.csv"),
        "budget",
        tmp_path,
        **BUDGET_ACT,
    )

    [finding] = validate_csv(table.csv_path, load_table_schema("budget")).findings
    assert (finding.field, finding.type, finding.value) == ("amount", "type-error", "300,0")
    assert table.source_row(finding.row) == 481
    assert table.source_row(1) is None and table.source_row(10_000) is None


def test_pdf_damage_is_repaired_and_reported(tmp_path):
    table = prepare(
        real_file("budget/th_budget_act_2565_vol3-17_pdfplumber_raw.csv"),
        "budget",
        tmp_path,
        **BUDGET_ACT,
    )

    report = {(e["column"], e["kind"]): e for e in table.normalisation}
    assert report[("agency", "sara-am")]["count"] == 275
    example = report[("agency", "sara-am")]["examples"][0]
    assert "\u0e32\u0e4d" in example["original"] and "\u0e33" in example["normalised"]
    assert not any("\u0e32\u0e4d" in cell for row in csv_rows(table) for cell in row)


def test_an_xlsx_preamble_and_totals_rows_are_set_aside(tmp_path):
    table = prepare(real_file("budget/provbudget2556_converted.xlsx"), PROVINCES, tmp_path)

    assert table.sheet == "Sheet1"
    assert table.columns == {"จงหวด/ตางประเทศ": "province", "รวม": "amount"}
    rows = csv_rows(table)
    assert rows[:3] == [
        ["province", "amount"],
        ["สวนกลาง", "1979045304425"],  # a subtotal without a totals label stays a row
        ["จงหวดกรงเทพมหานคร", "106882801202"],
    ]
    assert table.row_map[:2].tolist() == [9, 10]


# -- synthetic files -----------------------------------------------------------------------------

BUDGET_EXPECTED = [
    ["fiscal_year", "agency", "ministry", "plan", "output", "project", "budget_type", "category",
     "item", "amount", "obliged", "note"],
    ["2567", "กองช่าง", "", "", "", "", "งบลงทุน", "", "ก่อสร้างถนนคอนกรีตเสริมเหล็ก หมู่ที่ 3",
     "1250000", "", ""],
    ["2567", "กองคลัง", "", "", "", "", "งบดำเนินงาน", "", "ค่าวัสดุสำนักงาน", "45000", "", ""],
    ["2567", "สำนักปลัด", "", "", "", "", "งบบุคลากร", "", "เงินเดือนพนักงาน", "3600000.50", "", ""],
    ["2567", "กองการศึกษา", "", "", "", "", "งบเงินอุดหนุน", "", "อาหารกลางวันนักเรียน", "-", "",
     ""],
]  # fmt: skip


def test_a_thai_budget_csv_is_normalised_and_every_change_reported(tmp_path):
    table = prepare(FIXTURES / "budget_2567.csv", "budget", tmp_path)

    assert csv_rows(table) == BUDGET_EXPECTED
    assert table.header.header_row_index + 1 == 3  # below a title and a unit row
    assert table.columns == {
        "ปีงบประมาณ": "fiscal_year",  # matched by the schema's Thai titles
        "หน่วยรับงบประมาณ": "agency",
        "งบรายจ่าย": "budget_type",
        "รายการ": "item",
        "จำนวนเงิน (บาท)": "amount",
    }
    assert (table.source_rows, table.blank_rows, table.totals_rows) == (6, 1, [9])
    assert table.row_map.tolist() == [4, 5, 7, 8]
    report = {(e["column"], e["kind"]): e for e in table.normalisation}
    assert {k: e["count"] for k, e in report.items()} == {
        ("item", "whitespace"): 1,
        ("amount", "amount"): 3,
        ("amount", "thai-digits"): 1,
        ("agency", "sara-am"): 1,
        ("fiscal_year", "thai-digits"): 1,
        ("fiscal_year", "ce-year"): 1,
    }
    assert report[("fiscal_year", "ce-year")]["examples"] == [
        {"row": 7, "column": "fiscal_year", "original": "2024", "normalised": 2567}
    ]
    assert table.ok  # only warnings: the schema's other fields are absent
    assert {p.code for p in table.problems} == {"missing-column"}
    findings = validate_csv(table.csv_path, load_table_schema("budget")).findings
    assert [(table.source_row(f.row), f.field, f.type) for f in findings] == [
        (8, "amount", "type-error")  # "-" (nil) is not a number
    ]


def test_a_cp874_file_gives_the_same_table_as_its_utf8_original(tmp_path):
    utf8 = FIXTURES / "budget_2567.csv"
    tis = tmp_path / "budget_2567_cp874.csv"  # synthetic: no real cp874 sample exists
    tis.write_bytes(utf8.read_text(encoding="utf-8").encode("cp874"))
    (tmp_path / "out").mkdir()

    a = prepare(utf8, "budget", tmp_path / "out")
    b = prepare(tis, "budget", tmp_path / "out")
    c = prepare(tis, "budget", tmp_path / "out", encoding="tis-620")

    assert (a.encoding, b.encoding, c.encoding) == ("utf-8", "cp874", "cp874")
    assert a.csv_path.read_bytes() == b.csv_path.read_bytes() == c.csv_path.read_bytes()
    assert a.normalisation == b.normalisation
    assert a.row_map == b.row_map


def test_dates_amounts_and_personal_data_in_a_projects_file(tmp_path):
    table = prepare(
        FIXTURES / "projects_2567.csv",
        "project_progress",
        tmp_path,
        pii={"allow": ["contact_phone"], "mask": ["citizen_id"]},
    )

    rows = [dict(zip(csv_rows(table)[0], r, strict=True)) for r in csv_rows(table)[1:]]
    assert [r["contract_date"] for r in rows] == ["2024-01-15", "2024-02-01", "2024-03-05"]
    assert [r["fiscal_year"] for r in rows] == ["2567", "2567", "2567"]  # "พ.ศ. 2567" too
    assert [r["budget"] for r in rows] == ["500000", "120000", "80000.00"]
    # allowed: published as is; masked: only the ID's province/district prefix survives
    assert [r["contact_phone"] for r in rows] == ["081-234-5678", "02-123-4567", ""]
    assert [r["citizen_id"] for r in rows] == ["1-1017-xxxxx-xx-x", "3-5099-xxxxx-xx-x", ""]
    assert table.masked_cells == {"citizen_id": 2}
    assert table.pii.as_list() == [
        {"column": "note", "kind": "email", "count": 1,
         "examples": [{"row": 3, "masked": "s***@example.go.th"}]},
        {"column": "note", "kind": "phone", "count": 1,
         "examples": [{"row": 4, "masked": "089-xxx-xxxx"}]},
    ]  # fmt: skip
    # the columns the schema lacks are written last, for the validator to report
    assert table.fields[-3:] == ["contact_phone", "citizen_id", "note"]
    findings = validate_csv(table.csv_path, load_table_schema("project_progress")).findings
    assert [(f.row, f.type, f.value) for f in findings] == [
        (1, "extra-label", "contact_phone"),
        (1, "extra-label", "citizen_id"),
        (1, "extra-label", "note"),
    ]


def test_unmasked_personal_data_is_found(tmp_path):
    table = prepare(FIXTURES / "projects_2567.csv", "project_progress", tmp_path)

    counts = {(e["column"], e["kind"]): e["count"] for e in table.pii.as_list()}
    assert counts == {
        ("contact_phone", "phone"): 2,
        ("citizen_id", "national-id"): 2,
        ("note", "email"): 1,
        ("note", "phone"): 1,
    }
    assert table.masked_cells == {}

    typo = prepare(
        FIXTURES / "projects_2567.csv", "project_progress", tmp_path, pii={"mask": ["citizen"]}
    )
    assert [p.code for p in typo.problems if p.code.startswith("pii")] == ["pii-column-not-found"]
    assert typo.pii.found  # nothing was masked, so the IDs are still found


def make_workbook(path: Path) -> None:
    """A sheet as agencies lay them out: title rows, a two-row header under merged cells, a
    BE date typed into Excel, Thai digits, a blank row and a totals row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "งบประมาณ"
    sheet.append(["รายงานงบประมาณรายจังหวัด (ข้อมูลสมมุติ)"])
    sheet.append([])
    sheet.append(["หน่วย : บาท"])
    sheet.append(["จังหวัด", "งบประมาณ", None, "วันที่อนุมัติ"])
    sheet.append([None, 2566, 2567, None])
    sheet.merge_cells("B4:C4")
    sheet.append(["เชียงใหม่", 1000.5, "๒,๐๐๐", datetime.datetime(2567, 1, 15)])
    sheet.append([])
    sheet.append(["ลำพูน", 300, 400, "1 ก.พ. 2567", "เกิน"])
    sheet.append(["รวมทั้งสิ้น", 1300.5, 2400, None])
    book.save(path)


XLSX_SCHEMA = {
    "fields": [
        {"name": "province", "type": "string", "title": "จังหวัด"},
        {"name": "budget_2566", "type": "number", "title": "งบประมาณ 2566"},
        {"name": "budget_2567", "type": "number", "title": "งบประมาณ 2567"},
        {"name": "approved", "type": "date", "title": "วันที่อนุมัติ"},
    ]
}


def test_an_xlsx_with_a_two_row_header_is_prepared(tmp_path):
    make_workbook(tmp_path / "provinces.xlsx")

    table = prepare(tmp_path / "provinces.xlsx", XLSX_SCHEMA, tmp_path)

    assert (table.header.header_row_index + 1, table.header.n_header_rows) == (4, 2)
    assert table.header.columns == ["จังหวัด", "งบประมาณ 2566", "งบประมาณ 2567", "วันที่อนุมัติ"]
    assert csv_rows(table) == [
        ["province", "budget_2566", "budget_2567", "approved"],
        ["เชียงใหม่", "1000.5", "2000", "2024-01-15"],
        ["ลำพูน", "300", "400", "2024-02-01", "เกิน"],  # a cell beyond the header is kept
    ]
    assert (table.row_map.tolist(), table.blank_rows, table.totals_rows) == ([6, 8], 1, [9])
    findings = validate_csv(table.csv_path, XLSX_SCHEMA).findings
    assert [(table.source_row(f.row), f.type, f.value) for f in findings] == [
        (8, "extra-cell", "เกิน")
    ]


def test_an_xlsx_from_an_unseekable_stream_is_spooled(tmp_path):
    make_workbook(tmp_path / "provinces.xlsx")
    data = (tmp_path / "provinces.xlsx").read_bytes()
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    (tmp_path / "work").mkdir()
    table = prepare_table(
        os.fdopen(read_end, "rb"),
        name="provinces.xlsx",
        fmt="xlsx",
        table_schema=XLSX_SCHEMA,
        options={},
        workdir=tmp_path / "work",
    )
    writer.join()

    assert table.rows_written == 2
    assert [p.name for p in (tmp_path / "work").iterdir()] == [table.csv_path.name]


def test_header_row_and_column_options(tmp_path):
    table = prepare(
        FIXTURES / "budget_2567.csv",
        "budget",
        tmp_path,
        header_row=3,
        columns={"รายการ": None, "งบรายจ่าย": "หมวด"},
    )

    assert table.fields[-1] == "หมวด"  # renamed to a name the schema lacks: an extra column
    assert [r[8] for r in csv_rows(table)[1:]] == ["", "", "", ""]  # รายการ was dropped
    assert table.columns["งบรายจ่าย"] == "หมวด"

    # a column the config maps claims its field before a column matched by title
    claimed = prepare(
        FIXTURES / "budget_2567.csv", "budget", tmp_path, columns={"รายการ": "budget_type"}
    )
    assert claimed.columns["รายการ"] == "budget_type"
    assert claimed.columns["งบรายจ่าย"] == "งบรายจ่าย"  # now an extra column
    assert claimed.fields[-1] == "งบรายจ่าย"

    wrong = prepare(
        FIXTURES / "budget_2567.csv", "budget", tmp_path, header_row=40, columns={"จังหวัด": "agency"}
    )
    assert [(p.code, p.level) for p in wrong.problems] == [
        ("no-header", "error"),
        ("column-not-found", "warning"),
    ]
    assert wrong.problems[0].message_th.startswith("ไม่พบแถวหัวตารางในแถวที่ 40")
    assert (wrong.rows_written, wrong.ok) == (0, False)


def test_files_that_cannot_be_read_name_the_file_and_place(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,city\nJosé,Zürich\nAnaïs,Genève\n".encode("latin-1"))
    with pytest.raises(HarvestError) as caught:
        prepare(latin, "budget", tmp_path)
    assert caught.value.message.startswith("latin.csv: cannot read the text at byte offset 13")
    assert caught.value.message_th.startswith("latin.csv: อ่านข้อความไม่ได้ที่ไบต์ที่ 13")

    late = tmp_path / "late.csv"
    good = "ปีงบประมาณ,รายการ\n" + "2567,ค่าวัสดุ\n" * 10_000
    late.write_bytes(good.encode() + b"2567,\xff\xfe\n")
    with pytest.raises(HarvestError) as caught:
        prepare(late, "budget", tmp_path)
    offset = len(good.encode()) + len("2567,")
    assert caught.value.message == (
        f"late.csv: the text at byte offset {offset} is not valid utf-8 (invalid start byte)"
    )
    assert caught.value.message_th == f"late.csv: ข้อความที่ไบต์ที่ {offset} ไม่ได้เข้ารหัสเป็น utf-8"

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(HarvestError, match="broken.xlsx: not a readable XLSX workbook"):
        prepare(broken, "budget", tmp_path)
    assert list(tmp_path.glob("*-*.csv")) == []  # no half-written output left behind


def test_an_empty_file_is_a_problem_not_a_crash(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    table = prepare(empty, "budget", tmp_path)

    assert [p.code for p in table.problems] == ["empty-file"]
    assert csv_rows(table) == [BUDGET_EXPECTED[0]]


def test_be_year_fields_are_recognised_from_the_schema():
    budget = load_table_schema("budget")
    assert [f["name"] for f in budget["fields"] if is_be_year_field(f)] == ["fiscal_year"]
    assert is_be_year_field({"name": "year", "type": "integer"})
    assert not is_be_year_field(
        {"name": "year", "type": "integer", "constraints": {"maximum": 2100}}
    )
    assert not is_be_year_field({"name": "amount", "type": "integer"})


# Run in a child process, so that its peak resident memory is about this file alone.
_MEASURE = """
import json, resource, sys
from pathlib import Path
from harvesters.prepare import prepare_table
big, schema = Path(sys.argv[1]), json.loads(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
table = prepare_table(big.open("rb"), name=big.name, fmt=None, table_schema=schema,
                      options={}, workdir=big.parent)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": table.rows_written, "last": table.row_map[-1],
                  "grown_kib": after - before, "csv": str(table.csv_path)}))
"""


@pytest.mark.slow
def test_a_200k_row_file_is_prepared_in_bounded_memory(tmp_path):
    schema = {
        "fields": [
            {"name": "fiscal_year", "type": "integer", "constraints": {"minimum": 2400}},
            {"name": "item", "type": "string"},
            {"name": "amount", "type": "number"},
        ]
    }
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as out:
        out.write("fiscal_year,item,amount\n")
        for i in range(200_000):
            out.write(f'2567,ก่อสร้างถนนสายที่ {i} หมู่ที่ {i % 20},"{i * 1000 + 250:,}.50"\n')
    size_kib = big.stat().st_size // 1024  # about 20 MB

    child = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(big), json.dumps(schema)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout)

    assert (result["rows"], result["last"]) == (200_000, 200_001)
    # The row map (4 bytes a row) is all that grows with the file: peak memory rose by ~1 MB
    # when this was written; a reader holding the file would need several times its size.
    assert result["grown_kib"] < 8 * 1024 < size_kib // 2
    with open(result["csv"], encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 200_001
