"""The datastore: one typed table per tabular resource, loaded from validated batches.

A harvest publishes a resource with ``datastore_status = "pending"`` in its own transaction;
`load_pending` then loads the stored normalised CSV into a new table and switches the resource
to it in one more transaction, so the publish does not wait for the load (the slowest part of a
big harvest on SQLite) and readers keep the previous table until the new one is complete. A
crash mid-load leaves the resource "pending"; the next `load_pending` carries on.

Tables are built with SQLAlchemy Core from the resource's Table Schema, so column names are
always quoted identifiers and values always bound parameters. Field names that are not plain
identifiers (Thai, spaces, ...) get positional column names; the Table Schema keeps the labels.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
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
    MetaData,
    Table,
    Text,
    func,
    inspect,
    select,
)

from catalog.models import Resource
from catalog.services.context import Catalog, Context
from catalog.services.datasets import can_read
from catalog.services.errors import NotFound

_TYPES = {
    "integer": BigInteger,
    "number": Float,
    "boolean": Boolean,
    "date": Date,
    "year": BigInteger,
}
log = logging.getLogger(__name__)
PENDING, ACTIVE, FAILED = "pending", "active", "failed"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,58}$")
ROW_COLUMN = "_row"


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


def load_pending(
    catalog: Catalog, progress: Callable[..., None] | None = None
) -> list[dict[str, Any]]:
    """Load every resource waiting for its datastore table; returns what each load did.

    :param progress: called as ``progress("datastore", resource=..., rows=..., seconds=...,
        status=...)`` after each resource, for the CLI.
    """
    with catalog.reader() as session:
        waiting = session.scalars(
            select(Resource.id).where(Resource.datastore_status == PENDING).order_by(Resource.id)
        ).all()
    done = []
    for resource_id in waiting:
        result = _load(catalog, resource_id)
        if result is not None:
            done.append(result)
            if progress is not None:
                progress("datastore", **result)
    return done


def _load(catalog: Catalog, resource_id: str) -> dict[str, Any] | None:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="khlang-datastore-"))
    try:
        with catalog.transaction(index=False) as session:
            query = select(Resource).where(
                Resource.id == resource_id, Resource.datastore_status == PENDING
            )
            if session.bind.dialect.name == "postgresql":
                # Two processes draining at once each take a different resource.
                query = query.with_for_update(skip_locked=True)
            res = session.scalar(query)
            if res is None or not res.normalised_key or not res.table_schema:
                return None
            rows = _fill(catalog, session.connection(), res, workdir)
        return _result(res, rows, started, ACTIVE)
    except Exception as exc:  # the publish stands; only this table is missing, and reported
        log.exception("datastore load of resource %s failed", resource_id)
        with catalog.transaction(index=False) as session:
            res = session.get(Resource, resource_id)
            if res is None or res.datastore_status != PENDING:
                return None
            res.datastore_status = FAILED
            res.validation_report = {
                **(res.validation_report or {}),
                "datastore_error": f"{type(exc).__name__}: {exc}",
            }
        return _result(res, 0, started, FAILED)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _fill(catalog: Catalog, conn: Connection, res: Resource, workdir: Path) -> int:
    from harvesters.validate import validate_csv

    path = _local_file(catalog, res.normalised_key or "", workdir)
    name = table_name(res.id, res.normalised_key or "")
    loader = Loader(conn, name, res.table_schema or {})
    checked = validate_csv(path, dict(res.table_schema or {}), on_batch=loader.append)
    if checked.findings:
        first = checked.findings[0]
        raise ValueError(f"row {first.row}, field {first.field}: {first.message_en}")
    old = res.datastore_table
    res.datastore_table, res.datastore_rows, res.datastore_status = name, loader.rows, ACTIVE
    if old and old != name:
        drop_table(conn, old)
    return loader.rows


def _local_file(catalog: Catalog, key: str, workdir: Path) -> Path:
    local = getattr(catalog.storage, "path", None)
    if callable(local):
        return local(key)
    target = workdir / "normalised.csv"
    with catalog.storage.open(key) as stream, target.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    return target


def _result(res: Resource, rows: int, started: float, status: str) -> dict[str, Any]:
    return {
        "resource": res.id,
        "name": res.name,
        "rows": rows,
        "seconds": round(time.monotonic() - started, 3),
        "status": status,
    }


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
            waiting = " yet (its load is queued)" if res.datastore_status == PENDING else ""
            raise NotFound(f"Not found: resource {resource_id} has no datastore table{waiting}")
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
