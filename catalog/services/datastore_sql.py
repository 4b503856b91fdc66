"""The datastore's SQL tables (SQLite, or PostgreSQL through COPY): how earlier releases
served `datastore_search`, kept for measuring against the Parquet files that serve it now
(bench/harvest.py, bench/datastore.py) and for dropping the tables they left.

Tables are built with SQLAlchemy Core from the resource's Table Schema, so column names are
always quoted identifiers and values always bound parameters. Field names that are not plain
identifiers (Thai, spaces, ...) get positional column names; the Table Schema keeps the labels.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    Identity,
    MetaData,
    Table,
    Text,
    inspect,
)

log = logging.getLogger(__name__)
_TYPES = {
    "integer": BigInteger,
    "number": Float,
    "boolean": Boolean,
    "date": Date,
    "year": BigInteger,
}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,58}$")
ROW_COLUMN = "_row"
#: Field types whose default-format text PostgreSQL's own input functions read as the
#: validator does (ISO dates, plain numbers), so COPY may parse the CSV.
_SERVER_PARSED = frozenset({"string", "integer", "number", "year", "date", "boolean"})
#: What PostgreSQL's boolean input reads as true and false (in any case); a boolean field with
#: other true or false values (ใช่, ผูกพัน, ...) is loaded batch by batch.
_PG_TRUE, _PG_FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_TEXT_FORMATS = frozenset({"email", "uri", "uuid"})
#: Field keys that change how a number is read; a schema using them is loaded batch by batch.
_READING_KEYS = frozenset({"bareNumber", "groupChar", "decimalChar"})


def table_name(resource_id: str, normalised_key: str = "") -> str:
    """The table of a resource's data; a new normalised file gets a new table beside the old."""
    suffix = hashlib.sha256(normalised_key.encode()).hexdigest()[:8] if normalised_key else ""
    return "ds_" + resource_id.replace("-", "") + (f"_{suffix}" if suffix else "")


def column_names(table_schema: Mapping[str, Any]) -> list[str]:
    """Database column names for the schema's fields, in order."""
    names = []
    for index, field in enumerate(table_schema.get("fields", [])):
        name = str(field.get("name", ""))
        names.append(name if _IDENT.match(name) and name != ROW_COLUMN else f"col_{index + 1}")
    return names


def build_table(name: str, table_schema: Mapping[str, Any], numbered: bool = False) -> Table:
    """The table of a resource's data; `numbered`: the database numbers the rows as they come
    (an identity column, for `copy_csv`)."""
    row = Column(ROW_COLUMN, BigInteger, primary_key=True, autoincrement=False)
    if numbered:
        row = Column(ROW_COLUMN, BigInteger, Identity(start=1), primary_key=True)
    columns = [row]
    for field, column in zip(
        table_schema.get("fields", []), column_names(table_schema), strict=True
    ):
        columns.append(Column(column, _TYPES.get(field.get("type", "string"), Text)()))
    return Table(name, MetaData(), *columns)


class Loader:
    """Creates a resource's table and appends typed batches to it, in the caller's transaction."""

    def __init__(self, conn: Connection, name: str, table_schema: Mapping[str, Any]) -> None:
        self.conn = conn
        self.table = build_table(name, table_schema)
        self.table.drop(conn, checkfirst=True)
        self.table.create(conn)
        self.rows = 0
        self._columns = [c.name for c in self.table.columns]
        self._insert_sql = str(self.table.insert().compile(dialect=conn.dialect))

    def append(self, batch: pa.RecordBatch, source_rows: list[int] | None = None) -> None:
        """Insert a batch (its columns in Table Schema order); `source_rows` numbers the rows."""
        n = batch.num_rows
        if not n:
            return
        numbers = source_rows or range(self.rows + 1, self.rows + n + 1)
        postgres = self.conn.dialect.name == "postgresql"
        columns = [numbers]
        for column in batch.columns:
            if not postgres and pa.types.is_date(column.type):
                # SQLite stores dates as ISO text, which is what SQLAlchemy's Date reads back.
                column = column.cast(pa.string())
            columns.append(column.to_pylist())
        rows = list(zip(*columns, strict=True))
        if postgres:
            self._copy(rows)
        else:
            # Our own compiled INSERT (quoted identifiers, ? placeholders), run as a plain DBAPI
            # executemany of tuples: about twice as fast as going through SQLAlchemy.
            cursor = self.conn.connection.driver_connection.cursor()
            try:
                cursor.executemany(self._insert_sql, rows)
            finally:
                cursor.close()
        self.rows += n

    def _copy(self, rows: list[tuple[Any, ...]]) -> None:
        # COPY is several times faster than INSERT on PostgreSQL; identifiers are quoted by psycopg.
        from psycopg import sql

        raw = self.conn.connection.driver_connection
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.table.name), sql.SQL(", ").join(map(sql.Identifier, self._columns))
        )
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def load_csv(
    conn: Connection,
    name: str,
    table_schema: Mapping[str, Any],
    path: Path,
    expected_rows: int | None = None,
    server_parsed: bool = True,
) -> int:
    """(Re)create table `name` and load the validated normalised CSV at `path` into it, in
    the caller's transaction; returns the rows loaded.

    On PostgreSQL, when the schema's fields are all read by PostgreSQL as by the validator and
    `expected_rows` is known, COPY parses the CSV itself (`copy_csv`, several times faster);
    otherwise, or when that load does not give exactly the expected rows, the CSV is read
    into typed batches by the validator and appended (`Loader`).
    """
    from harvesters.validate import validate_csv

    if server_parsed and expected_rows is not None and copy_csv_allowed(conn, table_schema):
        try:
            with conn.begin_nested():  # a savepoint: a refused COPY leaves nothing behind
                rows = copy_csv(conn, name, table_schema, path)
                if rows != expected_rows:
                    raise _Mismatch(f"COPY read {rows} rows, the file holds {expected_rows}")
            return rows
        except Exception as exc:  # loaded batch by batch below, as for any other schema
            log.info(
                "datastore table %s: COPY of the CSV refused (%s); loading by batches", name, exc
            )
    loader = Loader(conn, name, table_schema)
    checked = validate_csv(path, dict(table_schema), on_batch=loader.append)
    if checked.findings:
        first = checked.findings[0]
        raise ValueError(f"row {first.row}, field {first.field}: {first.message_en}")
    return loader.rows


class _Mismatch(Exception):
    pass


def copy_csv_allowed(conn: Connection, table_schema: Mapping[str, Any]) -> bool:
    """Whether PostgreSQL's COPY may parse a validated CSV of this schema itself."""
    from schemas.tables import table_rules

    fields = table_schema.get("fields") or []
    if conn.dialect.name != "postgresql" or not fields:
        return False
    rules = table_rules(dict(table_schema)).fields
    return all(
        rule.type in _SERVER_PARSED
        and (rule.format == "default" or rule.type == "string" and rule.format in _TEXT_FORMATS)
        and rule.missing_values == ("",)
        and not _READING_KEYS & field.keys()
        and (
            rule.type != "boolean"
            or {v.lower() for v in rule.true_values} <= _PG_TRUE
            and {v.lower() for v in rule.false_values} <= _PG_FALSE
        )
        for field, rule in zip(fields, rules, strict=True)
    )


def copy_csv(conn: Connection, name: str, table_schema: Mapping[str, Any], path: Path) -> int:
    """Create table `name` and COPY the CSV at `path` into it, PostgreSQL parsing and typing
    the cells; returns the rows COPY read. The header must name the schema's fields in order.
    Rows are numbered in file order, as `Loader` numbers them."""
    from psycopg import sql

    fields = [str(f.get("name", "")) for f in table_schema.get("fields") or []]
    with path.open(encoding="utf-8", newline="") as text:
        header = next(csv.reader(text), [])
    if header != fields:
        raise _Mismatch("the CSV header is not the schema's fields in order")
    table = build_table(name, table_schema, numbered=True)
    table.drop(conn, checkfirst=True)
    table.create(conn)
    columns = sql.SQL(", ").join(map(sql.Identifier, column_names(table_schema)))
    # FORCE_NULL: an empty cell is missing whether or not csv.writer quoted it (a lone field).
    statement = sql.SQL(
        "COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NULL ({}))"
    ).format(sql.Identifier(name), columns, columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(statement) as copy, path.open("rb") as data:
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        rows = cursor.rowcount
        cursor.execute(  # the same table as Loader's from here on
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP IDENTITY").format(
                sql.Identifier(name), sql.Identifier(ROW_COLUMN)
            )
        )
    return rows


def drop_table(conn: Connection, name: str) -> None:
    """Drop the table `name` if it exists."""
    if inspect(conn).has_table(name):
        Table(name, MetaData()).drop(conn)
