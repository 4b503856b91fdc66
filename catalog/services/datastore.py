"""The datastore: one typed table per tabular resource, loaded from validated batches.

Tables are built with SQLAlchemy Core from the resource's Table Schema, so column names are
always quoted identifiers and values always bound parameters. Field names that are not plain
identifiers (Thai, spaces, ...) get positional column names; the Table Schema keeps the labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    MetaData,
    Table,
    Text,
    func,
    inspect,
    select,
)

from catalog.models import Resource
from catalog.services.context import Context
from catalog.services.datasets import can_read
from catalog.services.errors import NotFound

_TYPES = {
    "integer": BigInteger,
    "number": Float,
    "boolean": Boolean,
    "date": Date,
    "year": BigInteger,
}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,58}$")
ROW_COLUMN = "_row"


def table_name(resource_id: str) -> str:
    return "ds_" + resource_id.replace("-", "")


def column_names(table_schema: Mapping[str, Any]) -> list[str]:
    """Database column names for the schema's fields, in order."""
    names = []
    for index, field in enumerate(table_schema.get("fields", [])):
        name = str(field.get("name", ""))
        names.append(name if _IDENT.match(name) and name != ROW_COLUMN else f"col_{index + 1}")
    return names


def build_table(name: str, table_schema: Mapping[str, Any]) -> Table:
    columns = [Column(ROW_COLUMN, BigInteger, primary_key=True, autoincrement=False)]
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


def drop_table(conn: Connection, name: str) -> None:
    if inspect(conn).has_table(name):
        Table(name, MetaData()).drop(conn)


def datastore_search(
    ctx: Context, resource_id: str, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """Rows of a resource's datastore table, in source order: fields, records and total.

    :raises NotFound: no such resource, not readable, or not loaded into the datastore.
    """
    limit = max(0, min(int(limit), 10_000))
    with ctx.catalog.reader() as session:
        res = session.get(Resource, resource_id)
        if res is None or res.state != "active" or not can_read(ctx, session, res.dataset):
            raise NotFound(f"Not found: resource {resource_id}")
        if not res.datastore_table or not res.table_schema:
            raise NotFound(f"Not found: resource {resource_id} has no datastore table")
        table = build_table(res.datastore_table, res.table_schema)
        conn = session.connection()
        total = conn.scalar(select(func.count()).select_from(table))
        query = select(table).order_by(table.c[ROW_COLUMN]).limit(limit).offset(max(0, int(offset)))
        names = [f["name"] for f in res.table_schema["fields"]]
        records = [
            dict(zip(["_row", *names], row, strict=True)) for row in conn.execute(query).all()
        ]
        return {
            "resource_id": resource_id,
            "fields": [
                {"id": f["name"], "type": f.get("type", "string")}
                for f in res.table_schema["fields"]
            ],
            "records": records,
            "total": total,
        }
