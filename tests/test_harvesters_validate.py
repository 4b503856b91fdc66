"""The fast validator reports exactly what frictionless' validate() reports."""

from __future__ import annotations

import csv
import datetime
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from harvesters.validate import arrow_schema, validate_csv
from schemas.tables import Finding, frictionless_validate, load_table_schema, table_rules
from tests.realdata import SHARED
from tests.servers import unavailable

SMALL_BLOCKS = 1 << 12  # many batches, and Python's csv takes over at the first ragged row


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    """Write rows; an empty list is written as a blank line."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            if row:
                writer.writerow(row)
            else:
                handle.write("\n")
    return path


def both(path: Path, schema: dict[str, Any], **options: Any) -> tuple[list[Finding], list[Finding]]:
    expected = frictionless_validate(path, schema)
    got = validate_csv(path, schema, limit_errors=None, **options).findings
    return expected, got


def keys(findings: list[Finding]) -> set[tuple[Any, ...]]:
    return {f.key() for f in findings}


def budget_row(**cells: str) -> list[str]:
    row = {
        "fiscal_year": "2567",
        "agency": "กรมทางหลวงชนบท",
        "ministry": "กระทรวงคมนาคม",
        "plan": "แผนงานพื้นฐาน",
        "output": "ผลผลิต : ถนนได้รับการพัฒนา",
        "project": "",
        "budget_type": "งบลงทุน",
        "category": "ค่าที่ดินและสิ่งก่อสร้าง",
        "item": "ก่อสร้างถนนลาดยาง ตำบลสุเทพ",
        "amount": "1234567.00",
        "obliged": "ใช่",
        "note": "",
    }
    row.update(cells)
    return list(row.values())


def test_injected_budget_errors_match_frictionless(tmp_path: Path) -> None:
    schema = load_table_schema("budget")
    header = [f["name"] for f in schema["fields"]]
    rows = [
        header,
        budget_row(),
        budget_row(fiscal_year="2024"),  # CE year below the minimum 2400
        budget_row(fiscal_year="สองพัน", amount="-5"),
        budget_row(agency="", amount=""),
        budget_row(budget_type="งบอื่นๆ", obliged="maybe"),
        budget_row(amount="1,234.00", fiscal_year=" 2567 "),  # separators are not normalised
        [],
        [""] * 12,
        budget_row()[:9],
        budget_row() + ["เกิน"],
        budget_row(amount="๑๐๐", fiscal_year="๒๕๖๗", note='มี "คำพูด", และ\nขึ้นบรรทัดใหม่'),
        budget_row(),
    ]
    path = write_csv(tmp_path / "budget.csv", rows)
    expected, got = both(path, schema)
    assert got == expected
    assert {
        (3, "fiscal_year", "constraint-error"),
        (4, "fiscal_year", "type-error"),
        (4, "amount", "constraint-error"),
        (5, "agency", "constraint-error"),
        (5, "amount", "constraint-error"),
        (6, "budget_type", "constraint-error"),
        (6, "obliged", "type-error"),
        (7, "amount", "type-error"),
        (8, None, "blank-row"),
        (9, None, "blank-row"),
        (10, "amount", "missing-cell"),
        (10, "amount", "constraint-error"),
        (10, "obliged", "missing-cell"),
        (10, "note", "missing-cell"),
        (11, None, "extra-cell"),
    } == keys(got)
    assert validate_csv(path, schema, block_size=SMALL_BLOCKS).findings == expected


def test_injected_project_errors_match_frictionless(tmp_path: Path) -> None:
    schema = load_table_schema("project_progress")
    names = [f["name"] for f in schema["fields"]]
    good = dict.fromkeys(names, "")
    good.update(
        project_id="67019123456",
        project_name="ก่อสร้างถนน คสล. หมู่ 5",
        agency="เทศบาลตำบลสุเทพ",
        fiscal_year="2567",
        budget="500000",
        procurement_method="e-bidding",
        contract_date="2024-01-15",
        progress_percent="100",
        status="แล้วเสร็จ",
    )

    def row(**cells: str) -> list[str]:
        return list({**good, **cells}.values())

    rows = [
        names,
        row(),
        row(),  # duplicate project_id
        row(project_id="A-1", progress_percent="100.5", status="เสร็จแล้ว"),
        row(project_id="ข-2", contract_date="2024-02-30", planned_end="15/01/2567"),
        row(project_id="", project_name="", budget="-1", procurement_method="วิธีพิเศษ"),
        row(project_id="B-3", disbursed_amount="-0.01", actual_end="2567-01-01"),
        row(project_id="b-3", progress_percent="100.0", actual_start="2024-1-5"),
    ]
    path = write_csv(tmp_path / "progress.csv", rows)
    expected, got = both(path, schema)
    assert got == expected
    assert {
        (3, "project_id", "unique-error"),
        (3, None, "primary-key"),
        (4, "progress_percent", "constraint-error"),
        (5, "project_id", "constraint-error"),
        (5, "contract_date", "type-error"),
        (6, None, "primary-key"),
        (7, "disbursed_amount", "constraint-error"),
    } <= keys(got)


def test_injected_regulation_errors_match_frictionless(tmp_path: Path) -> None:
    schema = load_table_schema("regulation")
    rows = [
        [f["name"] for f in schema["fields"]],
        ["1/2567", "เทศบัญญัติงบประมาณรายจ่าย", "เทศบัญญัติ", "เทศบาลนครเชียงใหม่"]
        + ["2023-09-20", "2023-10-01", "มีผลบังคับใช้", "https://www.cmcity.go.th/a.pdf"],
        ["", "", "กฎ", "", "2023-9-20", "", "ใช้อยู่", "www.cmcity.go.th/a.pdf"],
        ["2", "ร" * 1001, "อื่นๆ", "", "", "", "", "ftp:archive"],
    ]
    path = write_csv(tmp_path / "regulation.csv", rows)
    expected, got = both(path, schema)
    assert got == expected
    assert keys(got) == {
        (3, "title", "constraint-error"),
        (3, "regulation_type", "constraint-error"),
        (3, "status", "constraint-error"),
        (3, "document_url", "type-error"),
        (4, "title", "constraint-error"),
    }


# Property-style: random tables, fixed seeds -----------------------------------------------

GOOD = {
    "integer": ["2567", "2566", "2400", "0", "-5", "007", "12345678901234567890"],
    "number": ["0", "1234567.50", "100", "99.999", "100.0000000000000001", "-0", "5"],
    "boolean": ["true", "false", "1", "0", "ใช่", "ไม่ใช่", "TRUE"],
    "date": ["2024-01-31", "2024-02-29", "2023-12-01", "1999-09-09"],
    "string": ["กรมบัญชีกลาง", "ถนน คสล.", "a", "x,y", 'say "hi"', "line1\nline2", "ABC-123/67"],
}
ODD = {
    "integer": ["x", "1.5", " 7 ", "๒๕๖๗", "+5", "1_000", "2399", "1e3", "-", "2,567"],
    "number": ["x", "1e3", ".5", "5.", " 5 ", "NaN", "-1", "Infinity", "-0.0000001", "๕", "-inf"],
    "boolean": ["yes", "no", "True ", "ผูกพัน", "T"],
    "date": ["2024-02-30", "2023-02-29", "2024-1-5", " 2024-01-01", "๒๕๖๗-01-01", "0000-01-01"]
    + ["2024-13-01", "2024/01/01", "2567-10-01", "2024-01-01T00:00:00"],
    "string": ["", " ", "\n", "x" * 1001, "ยกเลิก ", "e-Bidding", "http//x", "ftp:x", " http://x"]
    + ["1http://x", "-abc", "abc\n"],
}
URLS = ["https://ratchakitcha.soc.go.th/DATA/PDF/2567/A/001.pdf", "http://x.go.th/?q=ไทย"]


def random_table(schema: dict[str, Any], rows: int, seed: int, header: str) -> list[list[str]]:
    """Rows mostly valid, with bad cells, blank, short and long rows and a header variant."""
    rnd = random.Random(seed)
    fields = table_rules(schema).fields
    labels = [f.name for f in fields]
    if header == "missing":
        labels = labels[:-2]
    elif header == "extra":
        labels += ["extra_col", labels[0]]
    elif header == "wrong":
        labels[1], labels[2], labels[3] = labels[1].upper(), "", labels[0]
    table = [labels]
    for _ in range(rows):
        row = []
        for f in fields:
            enum = dict(f.constraints).get("enum")
            if enum and rnd.random() < 0.8:
                value = str(rnd.choice(enum))
            elif f.format == "uri" and rnd.random() < 0.7:
                value = rnd.choice(URLS)
            elif f.name in ("project_id", "code") and rnd.random() < 0.9:
                value = str(rnd.randint(1, rows * 2))
            else:
                value = rnd.choice(GOOD.get(f.type, ["x"]))
            if rnd.random() < 0.12:
                value = rnd.choice(ODD.get(f.type, []) + ["", " ", "n/a"])
            row.append(value)
        roll = rnd.random()
        if roll < 0.03:
            row = []
        elif roll < 0.06:
            row = [""] * len(row)
        elif roll < 0.09:
            row = row[: rnd.randint(1, len(row) - 1)]
        elif roll < 0.12:
            row += ["เกิน"] * rnd.randint(1, 2)
        table.append(row)
    return table


OTHER_RULES = {
    "missingValues": ["", "-", "n/a"],
    "primaryKey": ["code", "day"],
    "fields": [
        {
            "name": "code",
            "type": "integer",
            "constraints": {"minimum": 1, "maximum": 10**21, "unique": True},  # beyond int64
        },
        {
            "name": "day",
            "type": "date",
            "constraints": {
                "minimum": "2000-01-01",
                "maximum": "2030-12-31",
                "enum": ["2024-01-31", "2024-02-29", "2023-12-01", "1999-09-09", "2000-01-01"],
            },
        },
        {"name": "flag", "type": "boolean", "constraints": {"enum": [True], "required": True}},
        {"name": "amount", "type": "number", "constraints": {"maximum": 100, "unique": True}},
        {"name": "ratio", "type": "number", "constraints": {"enum": [0, 5, "100"]}},
        {
            "name": "name",
            "type": "string",
            "constraints": {
                "minLength": 2,
                "maxLength": 12,
                "pattern": '[ก-๙A-Za-z ,."]+|x|\\d+',
                "enum": ["กรมบัญชีกลาง", "a", "x,y", "ABC-123/67", "5", "x", "ยกเลิก "],
            },
        },
        {
            "name": "code2",
            "type": "string",
            "missingValues": ["NA"],
            "constraints": {"pattern": "[A-Z]+-[0-9]+(/[0-9]+)?|a|b", "unique": True},
        },
        {"name": "mail", "type": "string", "format": "email"},
        {"name": "year", "type": "year", "constraints": {"minimum": 2000}},
        {"name": "stamp", "type": "datetime"},
        {"name": "thai_day", "type": "date", "format": "%d/%m/%Y"},
        {"name": "baht", "type": "number", "groupChar": ",", "decimalChar": "."},
    ],
}
SCHEMAS = {name: load_table_schema(name) for name in ("budget", "project_progress", "regulation")}
SCHEMAS["other_rules"] = OTHER_RULES


@pytest.mark.parametrize("header", ["exact", "missing", "extra", "wrong"])
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_random_tables_match_frictionless(tmp_path: Path, name: str, header: str) -> None:
    schema = SCHEMAS[name]
    for seed in (1, 2):
        path = write_csv(tmp_path / f"{seed}.csv", random_table(schema, 300, seed, header))
        expected, got = both(path, schema, block_size=SMALL_BLOCKS)
        assert got == expected, (name, header, seed)
        assert len(expected) > 50  # the generator does inject errors
        assert validate_csv(path, schema, limit_errors=None).findings == expected


# Behaviour around the edges -----------------------------------------------------------------


def test_real_budget_act_file_matches_frictionless() -> None:
    path = SHARED / "data" / "real" / "budget" / "th_budget_act_2565_vol3-17_napatswift.csv"
    if not path.exists():
        unavailable(f"shared sample {path.name} is missing")
    labels = next(csv.reader(path.open(encoding="utf-8")))
    types = {"REF_PAGE_NO": "integer", "FISCAL_YEAR": "integer", "CROSS_FUNC?": "boolean"}
    types |= {"OBLIGED?": "boolean", "AMOUNT": "number"}
    fields: list[dict[str, Any]] = [{"name": "row", "type": "integer"}]
    fields += [{"name": label, "type": types.get(label, "string")} for label in labels[1:]]
    by_name = {f["name"]: f for f in fields}
    by_name["AMOUNT"]["groupChar"] = ","  # the source keeps "78,459,000"
    by_name["FISCAL_YEAR"]["constraints"] = {"minimum": 2400}  # Khlang wants BE years
    by_name["ITEM_ID"]["constraints"] = {"required": True, "unique": True}
    schema = {"fields": fields, "primaryKey": ["ITEM_ID"]}
    expected, got = both(path, schema)
    assert got == expected
    result = validate_csv(path, schema, limit_errors=None)
    assert result.row_count == 243
    # the file's fiscal years are CE (2022): every row breaks the BE minimum
    assert {f.key() for f in got if f.field == "FISCAL_YEAR"} == {
        (row, "FISCAL_YEAR", "constraint-error") for row in range(2, 245)
    }
    assert (1, "row", "blank-label") in keys(got)


def test_error_limit_keeps_frictionless_first_thousand(tmp_path: Path) -> None:
    schema = load_table_schema("budget")
    rows = [[f["name"] for f in schema["fields"]]]
    rows += [budget_row(fiscal_year="2024", amount="-1")] * 700
    path = write_csv(tmp_path / "many.csv", rows)
    expected = frictionless_validate(path, schema, limit_errors=1000)
    result = validate_csv(path, schema)
    assert len(expected) == 1000
    assert result.findings == expected
    assert result.truncated and result.row_count == 700


def test_typed_batches_for_the_datastore(tmp_path: Path) -> None:
    schema = load_table_schema("budget")
    rows = [[f["name"] for f in schema["fields"]]]
    rows += [budget_row(amount=f"{n}.25", obliged="ใช่" if n % 2 else "false") for n in range(999)]
    rows += [budget_row(fiscal_year="x", amount="-3", obliged="")]
    path = write_csv(tmp_path / "typed.csv", rows)
    batches: list[pa.RecordBatch] = []
    result = validate_csv(path, schema, on_batch=batches.append, block_size=SMALL_BLOCKS)
    table = pa.Table.from_batches(batches)
    assert len(batches) > 1 and table.schema == arrow_schema(schema)
    assert result.row_count == table.num_rows == 1000
    first = table.slice(0, 2).to_pylist()
    assert first[0]["fiscal_year"] == 2567 and first[0]["amount"] == 0.25
    assert first[0]["obliged"] is False and first[1]["obliged"] is True
    assert first[0]["agency"] == "กรมทางหลวงชนบท" and first[0]["project"] is None
    last = table.slice(999).to_pylist()[0]
    assert last["fiscal_year"] is None and last["amount"] == -3.0 and last["obliged"] is None
    assert pa.Table.from_batches(batches).column("fiscal_year").null_count == 1


def test_typed_dates_and_absent_columns(tmp_path: Path) -> None:
    schema = load_table_schema("project_progress")
    names = [f["name"] for f in schema["fields"]]
    rows = [names[:10], ["P-1", "ถนน", "อบต.", "2567", "1.5", "", "e-market", "", "2024-02-29"]]
    path = write_csv(tmp_path / "short.csv", rows + [rows[1][:8] + ["2024-02-30", "x"]])
    batches: list[pa.RecordBatch] = []
    validate_csv(path, schema, on_batch=batches.append)
    table = pa.Table.from_batches(batches).to_pylist()
    assert table[0]["contract_date"] == datetime.date(2024, 2, 29)
    assert table[1]["contract_date"] is None and table[0]["status"] is None


def test_types_without_a_fast_path_are_typed_by_frictionless(tmp_path: Path) -> None:
    schema = {"fields": [{"name": "year", "type": "year"}, {"name": "at", "type": "time"}]}
    path = write_csv(tmp_path / "slow.csv", [["year", "at"], ["2024", "10:30:00"], ["ปี", "x"]])
    batches: list[pa.RecordBatch] = []
    result = validate_csv(path, schema, on_batch=batches.append)
    assert result.findings == frictionless_validate(path, schema)
    assert [f.key() for f in result.findings] == [
        (3, "year", "type-error"),
        (3, "at", "type-error"),
    ]
    assert pa.Table.from_batches(batches).to_pylist() == [
        {"year": 2024, "at": "10:30:00"},
        {"year": None, "at": None},
    ]


def test_primary_key_is_remembered_across_batches(tmp_path: Path) -> None:
    schema = load_table_schema("project_progress")
    names = [f["name"] for f in schema["fields"]]
    row = dict.fromkeys(names, "") | {"project_name": "ถนน", "agency": "อบต."}
    rows = [names] + [list((row | {"project_id": f"P-{n % 1500}"}).values()) for n in range(2000)]
    rows.insert(1800, ["ragged"])  # Python's csv takes over from here
    path = write_csv(tmp_path / "keys.csv", rows)
    expected, got = both(path, schema, block_size=SMALL_BLOCKS)
    assert got == expected
    duplicates = [f for f in got if f.type == "primary-key"]
    assert len(duplicates) == 500 and duplicates[0].row == 1502
    assert duplicates[0].note == "the same as in the row at position 2"


def test_files_that_are_not_tables(tmp_path: Path) -> None:
    schema = load_table_schema("regulation")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert [f.type for f in validate_csv(empty, schema).findings] == ["source-error"]
    assert [f.type for f in frictionless_validate(empty, schema)] == ["source-error"]
    header_only = write_csv(tmp_path / "header.csv", [[f["name"] for f in schema["fields"]]])
    result = validate_csv(header_only, schema)
    assert result.findings == [] and result.row_count == 0
    latin = tmp_path / "latin.csv"
    latin.write_bytes("number,title\n1,caf\xe9\n".encode("latin-1"))
    assert "encoding-error" in [f.type for f in validate_csv(latin, schema).findings]


def test_unsupported_schema_features_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["a"], ["1"]])
    schema = {"fields": [{"name": "a", "type": "integer"}], "fieldsMatch": "subset"}
    with pytest.raises(ValueError, match="fieldsMatch"):
        validate_csv(path, schema)
