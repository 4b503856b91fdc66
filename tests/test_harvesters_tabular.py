"""The tabular source kind (files -> records) and reading table files as rows."""

from __future__ import annotations

import io
import json
import os
import shutil
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

import harvesters.readers as readers
from harvesters.base import FileRef, HarvestError, get_kind
from harvesters.config import load_config
from harvesters.fetch import make_opener
from harvesters.readers import read_table
from harvesters.tabular import TabularSource, year_in

FIXTURES = Path(__file__).resolve().parent / "data" / "harvest" / "tabular"
DEFAULTS = """\
organization: ban-suan
defaults:
  license_id: odc-thai
  data_category: ข้อมูลสาธารณะ
sources:
"""


def source(tmp_path: Path, entry: str, opener=None) -> TabularSource:
    text = DEFAULTS + textwrap.indent(textwrap.dedent(entry), "  ")
    config = load_config(text, base_dir=tmp_path)
    kind = get_kind(config.sources[0].kind)
    return kind(config.sources[0].as_mapping(), opener or make_opener(10_000_000))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The synthetic budget and projects CSVs, plus a README, in a data folder."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(FIXTURES / "budget_2567.csv", data / "budget_2567.csv")
    shutil.copy(FIXTURES / "projects_2567.csv", data / "budget_2566.csv")
    (data / "README.txt").write_text("not a table", encoding="utf-8")
    os.utime(data / "budget_2566.csv", (1_600_000_000, 1_600_000_000))
    os.utime(data / "budget_2567.csv", (1_700_000_000, 1_700_000_000))
    return data


def test_the_kind_is_registered_by_name():
    assert get_kind("tabular") is TabularSource


def test_one_file_is_one_dataset_with_one_tabular_resource(tmp_path, folder):
    kind = source(
        tmp_path,
        """\
        - id: budget
          kind: tabular
          path: data/budget_2567.csv
          table_schema: budget
          encoding: auto
          columns: {"ปีงบ": fiscal_year}
          pii: {mask: [citizen_id]}
          dataset:
            name: ban-suan-budget-{year}
            title: งบประมาณ {stem}
            fiscal_year: "{year}"
        """,
    )

    items = list(kind.gather())
    assert [i.remote_id for i in items] == ["budget"]
    record = kind.map(items[0])

    assert record.remote_id == "budget"
    assert record.dataset == {
        "license_id": "odc-thai",
        "data_category": "ข้อมูลสาธารณะ",
        "name": "ban-suan-budget-2567",
        "title": "งบประมาณ budget_2567",
        "fiscal_year": "2567",
        "owner_org": "ban-suan",
    }
    [resource] = record.resources
    assert (resource.name, resource.format, resource.tabular) == ("budget_2567.csv", "CSV", True)
    assert resource.file == FileRef(
        str(folder / "budget_2567.csv"),
        "budget_2567.csv",
        (folder / "budget_2567.csv").stat().st_size,
        datetime.fromtimestamp(1_700_000_000, tz=UTC),
    )
    assert resource.table_schema["fields"][0]["name"] == "fiscal_year"
    assert resource.read_options == {
        "format": "csv",
        "encoding": "auto",
        "columns": {"ปีงบ": "fiscal_year"},
        "pii": {"allow": [], "mask": ["citizen_id"]},
    }
    assert record.modified == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_per_file_sources_give_one_dataset_per_file_and_since_skips_old_ones(tmp_path, folder):
    kind = source(
        tmp_path,
        """\
        - id: budgets
          kind: tabular
          folder: data
          per_file: true
          table_schema: budget
          dataset:
            name: ban-suan-{stem}
            title: งบประมาณ ปี {year}
        """,
    )

    items = list(kind.gather())
    assert [i.remote_id for i in items] == ["budgets/budget_2566.csv", "budgets/budget_2567.csv"]
    records = [kind.map(i) for i in items]
    assert [r.dataset["name"] for r in records] == ["ban-suan-budget_2566", "ban-suan-budget_2567"]
    assert [r.dataset["title"] for r in records] == ["งบประมาณ ปี 2566", "งบประมาณ ปี 2567"]

    since = datetime.fromtimestamp(1_650_000_000, tz=UTC)
    assert [i.remote_id for i in kind.gather(since)] == ["budgets/budget_2567.csv"]
    assert list(kind.gather(datetime.fromtimestamp(1_700_000_000, tz=UTC))) == []


def test_a_folder_source_is_one_dataset_gathered_whole_when_any_file_changed(tmp_path, folder):
    kind = source(
        tmp_path,
        """\
        - id: budgets
          kind: tabular
          glob: data/*.csv
          table_schema: budget
          dataset: {name: ban-suan-budgets}
        """,
    )

    [item] = kind.gather(datetime.fromtimestamp(1_650_000_000, tz=UTC))
    record = kind.map(item)

    assert item.remote_id == "budgets"
    assert [r.name for r in record.resources] == ["budget_2566.csv", "budget_2567.csv"]
    assert record.dataset["name"] == "ban-suan-budgets"
    assert list(kind.gather(datetime(2030, 1, 1, tzinfo=UTC))) == []


def test_a_url_source_names_its_file_after_the_url(tmp_path):
    kind = source(
        tmp_path,
        """\
        - id: budget
          kind: tabular
          url: https://bansuan.go.th/files/%E0%B8%87%E0%B8%9A-2567.xlsx?download=1
          sheet: ข้อมูล
          table_schema: budget
        """,
    )

    [item] = kind.gather()
    [resource] = kind.map(item).resources

    assert resource.name == "งบ-2567.xlsx"
    assert resource.file.location.startswith("https://bansuan.go.th/files/")
    assert resource.read_options == {"format": "xlsx", "sheet": "ข้อมูล"}


def test_an_empty_location_is_an_error_not_an_empty_source(tmp_path, folder):
    kind = source(
        tmp_path,
        """\
        - id: budgets
          kind: tabular
          folder: data
          pattern: "*.xlsx"
          table_schema: budget
        """,
    )

    with pytest.raises(HarvestError, match="no table files found at .*data"):
        list(kind.gather())


def test_a_year_placeholder_needs_a_year_in_the_file_name(tmp_path, folder):
    (folder / "summary.csv").write_bytes((folder / "budget_2567.csv").read_bytes())
    kind = source(
        tmp_path,
        """\
        - id: budget
          kind: tabular
          path: data/summary.csv
          table_schema: budget
          dataset: {title: "งบประมาณ {year}"}
        """,
    )

    [item] = kind.gather()
    with pytest.raises(HarvestError) as caught:
        kind.map(item)
    assert "the file name has no year" in caught.value.message
    assert caught.value.message_th == "summary.csv: แม่แบบชุดข้อมูลใช้ {year} แต่ชื่อไฟล์ไม่มีปี"


def test_years_are_found_in_file_names():
    assert [year_in(n) for n in ("budget_2567", "2024-report", "v12345", "plan")] == [
        "2567",
        "2024",
        None,
        None,
    ]


@pytest.mark.s3
def test_an_s3_source_lists_through_the_opener(tmp_path, s3_endpoint):
    import uuid

    import boto3

    bucket = f"khlang-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=bucket)
    for key in ("budget/2566/budget_2566.csv", "budget/2567/budget_2567.csv", "budget/a.pdf"):
        client.put_object(Bucket=bucket, Key=key, Body=b"a,b\n1,2\n")
    opener = make_opener(10_000, s3_endpoint)
    kind = source(
        tmp_path,
        f"""\
        - id: budgets
          kind: tabular
          s3: s3://{bucket}/budget/
          per_file: true
          table_schema: budget
        """,
        opener,
    )

    items = list(kind.gather())

    assert [i.remote_id for i in items] == [
        "budgets/2566/budget_2566.csv",
        "budgets/2567/budget_2567.csv",
    ]
    [resource] = kind.map(items[1]).resources
    with opener(resource.file.location) as stream:
        assert stream.read() == b"a,b\n1,2\n"


# -- reading rows ------------------------------------------------------------------------------


def rows_of(data: bytes, name: str, tmp_path: Path, **options) -> tuple[list, readers.TableRows]:
    table = read_table(io.BytesIO(data), name=name, fmt=None, options=options, workdir=tmp_path)
    return list(table.rows), table


def test_a_json_array_is_read_element_by_element_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "JSON_CHUNK", 7)  # every element spans several reads
    elements = [
        {"task": "บริหารทั่วไป", "total": 57262660, "tags": ["a", "b"]},
        {"task": 'งาน "พิเศษ" ]', "total": 1.5e3, "note": None},
        {"task": "x" * 100, "total": -12345678901234567890},
    ]
    data = json.dumps(elements, ensure_ascii=False, indent=2).encode()

    rows, table = rows_of(data, "tasks.json", tmp_path)

    assert table.labels == ["task", "total", "tags", "note"]
    assert table.encoding == "utf-8"
    assert rows == [
        (1, ["บริหารทั่วไป", 57262660, '["a", "b"]', None]),
        (2, ['งาน "พิเศษ" ]', 1500.0, None, None]),
        (3, ["x" * 100, -12345678901234567890, None, None]),
    ]


def test_arrays_of_arrays_are_rows_with_the_header_among_them(tmp_path):
    rows, table = rows_of(b'[["a", "b"], [1, 2], [3]]', "t.json", tmp_path)

    assert table.labels is None
    assert rows == [(1, ["a", "b"]), (2, [1, 2]), (3, [3])]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "t.json: the file is empty"),
        (b'{"rows": [1], "n": 2}', "not a JSON array of rows (it starts with '{'); set json_path"),
        (b'[{"a": 1},\n {"a": 2}', "not valid JSON at line 2 (character 20): the array is not"),
        (b'[{"a": 1}\n {"a": 2}]', "not valid JSON at line 2 (character 11): expected ',' or ']'"),
        (b'[{"a": 1},\n{"a": tru}]', "not valid JSON at line 2 (character 17): Expecting value"),
        (b'[{"a": 1}, 2]', "array element 2 is a int; every element must be an object"),
        (b"[1, 2]", "array element 1 is a int"),
        (b'[["a"], {"a": 1}]', "array element 2 is a dict"),
    ],
)
def test_json_that_is_not_an_array_of_rows_is_refused(tmp_path, data, message):
    with pytest.raises(HarvestError) as caught:
        rows_of(data, "t.json", tmp_path)
    assert message in caught.value.message
    assert caught.value.message_th.startswith("t.json: ")


def test_json_path_picks_the_array_of_a_document(tmp_path):
    doc = {"total": 3, "pao": {"tasks": [{"task": "a"}, {"task": "b", "extra": 1}]}}
    data = json.dumps(doc).encode()

    rows, table = rows_of(data, "pao.json", tmp_path, json_path="pao.tasks")
    assert table.labels == ["task", "extra"]
    assert rows == [(1, ["a", None]), (2, ["b", 1])]

    with pytest.raises(
        HarvestError, match=r"json_path 'pao.items': no 'items' here \(found: tasks"
    ):
        rows_of(data, "pao.json", tmp_path, json_path="pao.items")
    with pytest.raises(HarvestError, match="leads to a int, not an array"):
        rows_of(data, "pao.json", tmp_path, json_path="total")
    with pytest.raises(HarvestError, match="may hold at most 10 characters"):
        rows_of(data, "pao.json", tmp_path, json_path="pao.tasks", max_json_bytes=10)


def test_keys_first_seen_late_in_a_json_array_are_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "JSON_KEY_SCAN", 2)
    data = b'[{"a": 1}, {"a": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}]'

    rows, table = rows_of(data, "t.json", tmp_path)

    assert rows[2] == (3, [3])
    [problem] = table.problems
    assert (problem.code, problem.level, problem.row) == ("unknown-keys", "warning", 3)
    assert problem.message_en.endswith("their values were left out: b")


def test_xlsx_rows_keep_their_sheet_row_numbers(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "สรุป"
    sheet = book.create_sheet("ข้อมูล")
    sheet["A2"], sheet["B2"] = "จังหวัด", "งบประมาณ"
    sheet["A5"], sheet["B5"] = "เชียงใหม่", 1000
    buffer = io.BytesIO()
    book.save(buffer)

    rows, table = rows_of(buffer.getvalue(), "b.xlsx", tmp_path, sheet="ข้อมูล")
    assert table.sheet == "ข้อมูล" and table.encoding is None
    assert rows == [
        (1, []),
        (2, ["จังหวัด", "งบประมาณ"]),
        (3, []),
        (4, []),
        (5, ["เชียงใหม่", 1000]),
    ]
    assert rows_of(buffer.getvalue(), "b.xlsx", tmp_path, sheet=2)[1].sheet == "ข้อมูล"
    with pytest.raises(HarvestError, match="no sheet 'Data'; the sheets are สรุป, ข้อมูล"):
        rows_of(buffer.getvalue(), "b.xlsx", tmp_path, sheet="Data")


def test_files_that_are_not_what_they_claim_are_refused(tmp_path):
    with pytest.raises(HarvestError) as caught:
        rows_of(b"a,b\n1,2\n", "budget.xlsx", tmp_path)
    assert caught.value.message.startswith("budget.xlsx: not a readable XLSX workbook")
    assert caught.value.message_th.startswith("budget.xlsx: ไม่ใช่ไฟล์ XLSX")
    with pytest.raises(HarvestError, match="old Excel .xls format is not supported"):
        rows_of(b"", "budget.xls", tmp_path)
    with pytest.raises(HarvestError, match="unknown table format 'pdf'"):
        rows_of(b"", "budget.pdf", tmp_path)
