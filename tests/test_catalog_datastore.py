"""Datastore tables loaded from validated normalised CSVs: PostgreSQL's COPY parsing the CSV
gives the same table as the typed batches of the validator."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, select

from catalog import db
from catalog.services.datastore import copy_csv, copy_csv_allowed, load_csv
from catalog.services.datastore_query import ID
from schemas.tables import load_table_schema

SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "agency", "type": "string"},
        {"name": "amount", "type": "number"},
        {"name": "count", "type": "integer"},
        {"name": "fiscal_year", "type": "year"},
        {"name": "day", "type": "date"},
        {"name": "obliged", "type": "boolean"},
        {"name": "หมายเหตุ อื่น", "type": "string"},
        {"name": "link", "type": "string", "format": "uri"},
    ]
}
ROWS = [
    ["กรมทางหลวง", "1234567.5", "12", "2567", "2024-01-15", "true", 'มี "อัญประกาศ", จุลภาค', ""],
    ["", "", "", "", "", "", "บรรทัด\nใหม่", "https://example.org/a?b=1,2"],
    ["-5", "-0.25", "-3", "1999", "1999-12-31", "FALSE", "  ช่องว่าง  ", ""],
    ["เทศบาลตำบลบ้านสวน", "1e3", "+7", "2024", "2024-02-29", "1", "\\N", ""],
]


def write_csv(path: Path, schema: dict[str, Any], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([f["name"] for f in schema["fields"]])
        writer.writerows(rows)
    return path


def table_rows(engine: Engine, name: str) -> list[tuple]:
    table = Table(name, MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c._row))]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def test_copy_gives_the_table_the_typed_batches_give(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", SCHEMA, ROWS)
    with engine.begin() as conn:
        if not copy_csv_allowed(conn, SCHEMA):
            assert engine.dialect.name == "sqlite"  # SQLite has no COPY: batches only
            return
        assert copy_csv(conn, "ds_copied", SCHEMA, path) == len(ROWS)
        assert load_csv(conn, "ds_batches", SCHEMA, path, len(ROWS), server_parsed=False) == 4
    copied, batches = table_rows(engine, "ds_copied"), table_rows(engine, "ds_batches")
    assert copied == batches
    assert copied[0][1:7] == ("กรมทางหลวง", 1234567.5, 12, 2567, date(2024, 1, 15), True)
    assert copied[1][1:7] == (None,) * 6  # empty cells are missing values
    assert [r[6] for r in copied] == [True, None, False, True]


def test_a_file_copy_reads_otherwise_is_loaded_by_batches(engine: Engine, tmp_path: Path) -> None:
    # In CSV mode a line holding only \. ends COPY's data: COPY would stop short.
    schema = {"fields": [{"name": "note", "type": "string"}]}
    rows = [["ก่อน"], ["\\."], ["หลัง"]]
    path = write_csv(tmp_path / "t.csv", schema, rows)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            with conn.begin_nested() as savepoint:
                assert copy_csv(conn, "ds_note", schema, path) == 1  # what COPY alone reads
                savepoint.rollback()
        assert load_csv(conn, "ds_note", schema, path, len(rows)) == 3
    assert [r[1] for r in table_rows(engine, "ds_note")] == ["ก่อน", "\\.", "หลัง"]


def test_schemas_copy_cannot_read_alike_are_loaded_by_batches(engine: Engine) -> None:
    with engine.connect() as conn:
        postgres = engine.dialect.name == "postgresql"
        assert copy_csv_allowed(conn, load_table_schema("regulation")) == postgres
        assert copy_csv_allowed(conn, load_table_schema("project_progress")) == postgres
        # budget's "obliged" is also ใช่/ผูกพัน, which PostgreSQL does not read as true
        assert not copy_csv_allowed(conn, load_table_schema("budget"))
        for field in (
            {"name": "d", "type": "date", "format": "%d/%m/%Y"},
            {"name": "n", "type": "number", "groupChar": ","},
            {"name": "g", "type": "geopoint"},
        ):
            assert not copy_csv_allowed(conn, {"fields": [field]})
        assert not copy_csv_allowed(
            conn, {"fields": [{"name": "a", "type": "string"}], "missingValues": ["", "-"]}
        )


# --- the datastore actions over a harvested table ------------------------------------------

TABLE_SCHEMA = {
    "fields": [
        {"name": "รายการ", "type": "string", "title": "รายการ", "title_en": "Item"},
        {"name": "agency", "type": "string"},
        {"name": "amount", "type": "number"},
        {"name": "fiscal_year", "type": "integer"},
        {"name": "day", "type": "date"},
        {"name": "note", "type": "string"},
    ]
}
TABLE_ROWS = [
    [
        "ก่อสร้างถนนคอนกรีตเสริมเหล็ก",
        "กรมทางหลวง",
        "1200000.5",
        "2567",
        "2024-01-15",
        '=HYPERLINK("http://evil.example")',
    ],
    ["ซ่อมแซมถนนลูกรัง", "เทศบาลตำบลบ้านสวน", "-5", "2567", "2024-02-01", "@ผู้ดูแล"],
    ["จัดซื้อคอมพิวเตอร์", "Bangkok Office", "300", "2568", "", "-5"],
    ["Road repair ROAD", "กรมทางหลวง", "42", "2568", "2025-03-03", '"; DROP TABLE resource; --'],
]
HARVEST = """organization: ban-suan
defaults:
  license_id: odc-thai
  maintainer: กองคลัง
  maintainer_email: finance@example.org
  data_type: ข้อมูลระเบียน
  objective: [พันธกิจหน่วยงาน]
  update_frequency_unit: ปี
  geo_coverage: เทศบาล/อบต.
  data_source: กองคลัง
  data_format: [CSV]
  data_category: ข้อมูลสาธารณะ
  tags: [ทดสอบ]
sources:
  - id: table
    kind: tabular
    path: table.csv
    table_schema: table.json
    dataset:
      name: ban-suan-table
      title: ตารางทดสอบคลังข้อมูล
      notes: ตารางสำหรับทดสอบ datastore_search
"""


def harvest_table(ctx: Any, folder: Path) -> str:
    """Harvest TABLE_ROWS as a published, datastore-loaded resource; returns its id."""
    import json

    from catalog.services import package_show
    from catalog.services.harvest import harvest_run
    from harvesters.config import load_config

    write_csv(folder / "table.csv", TABLE_SCHEMA, TABLE_ROWS)
    (folder / "table.json").write_text(json.dumps(TABLE_SCHEMA, ensure_ascii=False), "utf-8")
    (folder / "harvest.yaml").write_text(HARVEST, encoding="utf-8")
    (summary,) = harvest_run(ctx, load_config(folder / "harvest.yaml"))
    if summary["counts"] != {"created": 1}:
        from catalog.services.harvest import harvest_report

        raise AssertionError(harvest_report(ctx, summary["id"]))
    (res,) = package_show(ctx, "ban-suan-table")["resources"]
    return res["id"]


@pytest.fixture
def people(catalog: Any, system: Any) -> dict[str, Any]:
    """A publisher (editor of ban-suan), an outsider (signed in, no role) and the public."""
    from catalog import services
    from catalog.services import Context
    from tests.factories import make_org, make_user

    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน")
    services.member_create(system, "ban-suan", make_user(system, "publisher"), "editor")
    make_user(system, "outsider")
    return {
        "publisher": Context(catalog, user="publisher", lang="en"),
        "outsider": Context(catalog, user="outsider", lang="en"),
        "public": Context(catalog, lang="en"),
    }


@pytest.fixture
def table_id(people: dict[str, Any], tmp_path: Path) -> str:
    return harvest_table(people["publisher"], tmp_path)


def search(ctx: Any, resource_id: str, **params: Any) -> dict[str, Any]:
    """datastore_search called as the API calls it: wire values through the action's schema."""
    from catalog.services.registry import call_action

    return call_action(ctx, "datastore_search", {"resource_id": resource_id, **params})


def test_search_answers_ckans_shape_with_typed_values(people: dict, table_id: str) -> None:
    result = search(people["public"], table_id)
    assert [f["id"] for f in result["fields"]] == [
        "_id",
        "รายการ",
        "agency",
        "amount",
        "fiscal_year",
        "day",
        "note",
    ]
    assert [f["type"] for f in result["fields"]] == [
        "int",
        "text",
        "text",
        "numeric",
        "int",
        "date",
        "text",
    ]
    assert result["fields"][1]["info"] == {"label": "รายการ", "label_en": "Item"}
    assert result["total"] == 4 and result["total_was_estimated"] is False
    assert (result["limit"], result["offset"], result["records_format"]) == (100, 0, "objects")
    first = result["records"][0]
    assert first == {
        "_id": 1,
        "รายการ": "ก่อสร้างถนนคอนกรีตเสริมเหล็ก",
        "agency": "กรมทางหลวง",
        "amount": 1200000.5,
        "fiscal_year": 2567,
        "day": "2024-01-15",
        "note": '=HYPERLINK("http://evil.example")',
    }
    assert result["records"][2]["day"] is None  # a missing value
    assert result["_links"]["start"].startswith("/api/3/action/datastore_search?")
    assert "offset=100" in result["_links"]["next"]


def test_q_finds_thai_words_inside_cells_and_latin_in_any_case(people: dict, table_id: str) -> None:
    def ids(**params: Any) -> list[int]:
        return [r["_id"] for r in search(people["public"], table_id, **params)["records"]]

    assert ids(q="ถนน") == [1, 2]  # inside ก่อสร้างถนนคอนกรีต..., no spaces around it
    assert ids(q="ถนน ลูกรัง") == [2]  # every word
    assert ids(q="road") == [4] and ids(q="ROAD rEpAiR") == [4]
    assert ids(q="ทางหลวง") == [1, 4]  # found in the agency column too
    assert ids(q={"รายการ": "คอม"}) == [3]
    assert ids(q='{"agency": "ทางหลวง"}') == [1, 4]  # a JSON object from a query string
    assert ids(q="ไม่มีคำนี้") == []
    assert search(people["public"], table_id, q="ถนน")["total"] == 2


def test_filters_fields_sort_limit_offset_distinct(people: dict, table_id: str) -> None:
    public = people["public"]
    assert [
        r["_id"] for r in search(public, table_id, filters={"fiscal_year": 2568})["records"]
    ] == [3, 4]
    # From a query string: a JSON object, numbers as text, a list meaning "any of"
    found = search(
        public, table_id, filters='{"fiscal_year": "2567", "agency": ["กรมทางหลวง", "x"]}'
    )
    assert [r["_id"] for r in found["records"]] == [1] and found["total"] == 1
    assert search(public, table_id, filters={"day": None})["total"] == 1
    assert search(public, table_id, filters={"agency": []})["total"] == 0

    picked = search(public, table_id, fields="amount, รายการ", sort="amount desc")
    assert [f["id"] for f in picked["fields"]] == ["amount", "รายการ"]
    assert [r["amount"] for r in picked["records"]] == [1200000.5, 300, 42, -5]
    assert list(picked["records"][0]) == ["amount", "รายการ"]
    by_two = search(public, table_id, sort=["fiscal_year desc", "amount"], fields=["_id"])
    assert [r["_id"] for r in by_two["records"]] == [4, 3, 2, 1]

    page = search(public, table_id, limit="2", offset="1")
    assert [r["_id"] for r in page["records"]] == [2, 3] and page["total"] == 4
    assert "offset=3" in page["_links"]["next"] and "limit=2" in page["_links"]["next"]
    assert search(public, table_id, limit=10**9)["limit"] == 32_000  # CKAN's cap

    distinct = search(public, table_id, fields="agency", distinct="true", sort="agency")
    assert distinct["records"] == [
        {"agency": "Bangkok Office"},
        {"agency": "กรมทางหลวง"},
        {"agency": "เทศบาลตำบลบ้านสวน"},
    ]
    assert distinct["total"] == 3
    assert "total" not in search(public, table_id, include_total="false")


def test_records_as_lists_and_csv(people: dict, table_id: str) -> None:
    lists = search(people["public"], table_id, records_format="lists", fields="_id,amount,day")
    assert lists["records"][:3] == [
        [1, 1200000.5, "2024-01-15"],
        [2, -5.0, "2024-02-01"],
        [3, 300.0, None],
    ]
    text = search(people["public"], table_id, records_format="csv", fields="รายการ,amount", limit=2)
    assert text["records"] == "ก่อสร้างถนนคอนกรีตเสริมเหล็ก,1200000.5\r\nซ่อมแซมถนนลูกรัง,-5.0\r\n"


@pytest.mark.parametrize("param", ["fields", "sort", "filters", "q"])
@pytest.mark.parametrize(
    "name",
    ['"; DROP TABLE resource; --', "amount) OR 1=1 --", "no_such", "_id\\", "AMOUNT", "รายการ'"],
)
def test_unknown_fields_are_refused_by_name(
    people: dict, table_id: str, param: str, name: str
) -> None:
    from catalog.services import ValidationFailed

    value: Any = {"fields": name, "sort": f"{name} desc", "filters": {name: 1}, "q": {name: "x"}}[
        param
    ]
    if param == "fields" and "," in name:
        return
    with pytest.raises(ValidationFailed) as refused:
        search(people["public"], table_id, **{param: value})
    assert refused.value.errors == {param: [f'field "{name}" not in table']}
    assert search(people["public"], table_id)["total"] == 4  # nothing broken


def test_sql_metacharacters_in_values_are_only_values(people: dict, table_id: str) -> None:
    from catalog.services import ValidationFailed

    public = people["public"]
    for text in ['"; DROP TABLE resource; --', "' OR '1'='1", "\\", "%", "_", "'; SELECT 1; --"]:
        assert search(public, table_id, filters={"agency": text})["total"] == 0
        assert search(public, table_id, q={"agency": text})["total"] == 0
    # The cell holding an injection attempt is found as the text it is, and nothing else.
    hit = search(public, table_id, q='"; DROP TABLE')
    assert [r["_id"] for r in hit["records"]] == [4]
    assert search(public, table_id, q="%")["total"] == 0  # not a LIKE wildcard
    with pytest.raises(ValidationFailed) as refused:
        search(public, table_id, filters={"fiscal_year": "2567; DROP TABLE resource"})
    assert list(refused.value.errors) == ["filters"]
    assert search(public, table_id)["total"] == 4


def test_info_gives_the_count_and_the_fields(people: dict, table_id: str) -> None:
    from catalog.services.registry import call_action

    info = call_action(people["public"], "datastore_info", {"id": table_id})
    assert info["meta"]["count"] == 4 and info["meta"]["size"] > 0
    assert [f["id"] for f in info["fields"]][:3] == ["_id", "รายการ", "agency"]
    assert call_action(people["public"], "datastore_info", {"resource_id": table_id}) == info


def test_private_data_is_hidden(people: dict, table_id: str) -> None:
    from catalog import services
    from catalog.services import NotFound
    from catalog.services.datastore import datastore_dump, datastore_info, datastore_search

    publisher, outsider, public = people["publisher"], people["outsider"], people["public"]

    def hidden(ctx: Any) -> None:
        for call in (datastore_search, datastore_info, lambda c, i: datastore_dump(c, i, "csv")):
            with pytest.raises(NotFound):
                call(ctx, table_id)

    services.resource_patch(publisher, table_id, {"private": True})
    hidden(public)
    hidden(outsider)
    assert datastore_search(publisher, table_id)["total"] == 4  # the organisation reads it

    services.resource_patch(publisher, table_id, {"private": False})
    assert datastore_search(public, table_id)["total"] == 4
    services.package_patch(publisher, "ban-suan-table", {"private": True})
    hidden(public)
    hidden(outsider)
    assert datastore_info(publisher, table_id)["meta"]["count"] == 4


def test_a_missing_resource_or_table_is_not_found(people: dict) -> None:
    from catalog.services import NotFound
    from catalog.services.datastore import datastore_search

    with pytest.raises(NotFound):
        datastore_search(people["public"], "no-such-resource")


def test_dumps_are_formula_safe_and_keep_thai(people: dict, table_id: str, tmp_path: Path) -> None:
    import io
    import json

    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    from catalog.services.datastore import datastore_dump

    def dump(fmt: str) -> bytes:
        return b"".join(datastore_dump(people["public"], table_id, fmt).chunks)

    text = dump("csv")
    assert text.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0] == ["รายการ", "agency", "amount", "fiscal_year", "day", "note"]
    assert rows[1][5] == '\'=HYPERLINK("http://evil.example")'  # neutralised
    assert rows[2][2] == "-5.0" and rows[2][5] == "'@ผู้ดูแล"  # a number stays a number
    assert rows[3][5] == "-5" and rows[3][4] == ""  # so does a text that is a plain number
    assert len(rows) == 5

    records = json.loads(dump("json"))
    assert records[0]["รายการ"] == "ก่อสร้างถนนคอนกรีตเสริมเหล็ก" and records[1]["amount"] == -5
    assert "_id" not in records[0]

    (tmp_path / "t.xlsx").write_bytes(dump("xlsx"))
    sheet = load_workbook(tmp_path / "t.xlsx").active
    cells = list(sheet.iter_rows(values_only=False))
    assert [c.value for c in cells[0]] == rows[0]
    formula = cells[1][5]
    assert formula.data_type == "s" and formula.value == '=HYPERLINK("http://evil.example")'
    assert formula.quotePrefix  # shown as text, never run
    assert cells[2][2].value == -5 and cells[2][2].data_type == "n"
    assert cells[1][0].value == "ก่อสร้างถนนคอนกรีตเสริมเหล็ก"

    table = pq.read_table(io.BytesIO(dump("parquet")))
    assert table.column_names == ["_id", "รายการ", "agency", "amount", "fiscal_year", "day", "note"]
    assert table.column("amount").to_pylist() == [1200000.5, -5.0, 300.0, 42.0]
    assert str(table.schema.field("day").type) == "date32[day]"


def test_a_table_held_in_memory_answers_as_duckdb_does(people: dict, table_id: str) -> None:
    """Pages of filters only are answered from the table held in memory: the same records,
    total and order as DuckDB's, in every records format; anything else still asks DuckDB."""
    from catalog.services import datastore_query as dq
    from catalog.services.datastore import locate

    public = people["public"]
    key = locate(public, table_id).key
    memory = dq.engine().memory
    searches: list[dict[str, Any]] = [
        {},
        {"filters": {"fiscal_year": 2568}},
        {"filters": '{"fiscal_year": "2567", "agency": ["กรมทางหลวง", "x"]}'},
        {"filters": {"day": None}},
        {"filters": {"day": ["2024-02-01", None]}},
        {"filters": {"agency": []}},
        {"filters": {"agency": "ไม่มี"}},
        {"filters": {"amount": 42}},
        {"filters": {"amount": 0}},  # -0.0 equals 0.0: DuckDB answers
        {"filters": {"_id": 2}},  # _id is not held: DuckDB answers
        {"filters": {"agency": "กรมทางหลวง"}, "offset": 1, "limit": 1},
        {"filters": {"agency": "กรมทางหลวง"}, "offset": 5},
        {"filters": {"fiscal_year": 2567}, "fields": "day,_id", "records_format": "lists"},
        {"filters": {"fiscal_year": 2568}, "records_format": "csv", "include_total": "false"},
        {"filters": {"fiscal_year": 2568}, "sort": "amount"},  # a sort: DuckDB answers
        {"filters": {"fiscal_year": 2568}, "q": "road"},  # q: DuckDB answers
        {"limit": 2, "offset": 3},
    ]

    def forget() -> None:
        memory.tables.clear()
        memory.touched.clear()
        memory.used = 0

    forget()
    by_duckdb = [search(public, table_id, **params) for params in searches]
    forget()
    resident = memory.get(public.catalog.storage, key, wait=True)
    assert resident is not None and resident.rows == 4 and ID not in resident.columns
    by_memory = [search(public, table_id, **params) for params in searches]
    assert by_memory == by_duckdb
    assert [r["_id"] for r in by_memory[2]["records"]] == [1] and by_memory[2]["total"] == 1
    assert by_memory[4]["total"] == 2
    forget()


def test_a_table_is_read_into_memory_at_its_second_search_and_within_the_budget(
    people: dict, table_id: str
) -> None:
    import time

    from catalog.services import datastore_query as dq
    from catalog.services.datastore import locate

    public = people["public"]
    storage, key = public.catalog.storage, locate(public, table_id).key
    memory = dq._Memory()
    assert memory.get(storage, key) is None  # the first search: counted only
    assert memory.get(storage, key) is None  # the second: read in the background
    for _ in range(200):
        if key in memory.tables:
            break
        time.sleep(0.05)
    assert memory.get(storage, key) is memory.tables[key]
    assert memory.used == memory.tables[key].nbytes

    small = dq._Memory(budget=100)  # too small for the table: DuckDB answers for it
    assert small.get(storage, key, wait=True) is None
    assert small.touched[key] == -1 and small.get(storage, key, wait=True) is None
    assert dq.read_resident(storage, key, budget=100) is None
