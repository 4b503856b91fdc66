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

import csv
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
    Identity,
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
    path = _local_file(catalog, res.normalised_key or "", workdir)
    name = table_name(res.id, res.normalised_key or "")
    expected = (res.validation_report or {}).get("rows")
    rows = load_csv(conn, name, res.table_schema or {}, path, expected)
    old = res.datastore_table
    res.datastore_table, res.datastore_rows, res.datastore_status = name, rows, ACTIVE
    if old and old != name:
        drop_table(conn, old)
    return rows


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
