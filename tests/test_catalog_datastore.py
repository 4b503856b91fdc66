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
