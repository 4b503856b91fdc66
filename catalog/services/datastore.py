"""The datastore: a typed Parquet file per tabular resource version, queried with DuckDB.

A harvest publishes a resource with ``datastore_status = "pending"`` in its own transaction;
`load_pending` then writes the stored normalised CSV's validated, typed batches into a Parquet
file, stores it (local folder or S3) and switches the resource to it in one more transaction,
so the publish does not wait for the load and readers keep the previous file until the new one
is complete. A crash mid-load leaves the resource "pending"; the next `load_pending` carries on.

`datastore_search` and `datastore_info` (CKAN's actions) and the dumps answer from that file
through DuckDB (catalog.services.datastore_query, catalog.services.datastore_dump); the
measurements that chose DuckDB over the SQL tables are in docs/benchmarks.md, "Datastore
engine". The SQL tables earlier releases loaded (catalog.services.datastore_sql) are dropped
when a resource's file replaces them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NotRequired, TypedDict
from urllib.parse import urlencode

import pyarrow as pa
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, joinedload

from catalog.models import Resource
from catalog.services import auth
from catalog.services.context import Catalog, Context
from catalog.services.datasets import can_read
from catalog.services.datastore_dump import Dump
from catalog.services.datastore_query import CKAN_TYPES, ID, MAX_LIMIT, engine, plan, source
from catalog.services.datastore_sql import (  # noqa: F401  (the loaders' public names, as before)
    Loader,
    copy_csv,
    copy_csv_allowed,
    drop_table,
    load_csv,
    table_name,
)
from catalog.services.errors import NotFound
from catalog.services.registry import action
from schemas.datastore import DatastoreInfoParams, DatastoreSearchParams

log = logging.getLogger(__name__)
PENDING, ACTIVE, FAILED = "pending", "active", "failed"


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
    expected = (res.validation_report or {}).get("rows")
    target = workdir / "datastore.parquet"
    rows = write_parquet(res.table_schema or {}, path, target)
    if expected is not None and rows != expected:
        raise ValueError(f"the Parquet file holds {rows} rows, the validated file {expected}")
    stored = catalog.storage.adopt(target, *_sha256(target))
    old = res.datastore_table
    res.datastore_key, res.datastore_rows, res.datastore_status = stored.key, rows, ACTIVE
    res.datastore_table = None
    if old:  # a SQL table loaded by an earlier release: the file answers from now on
        drop_table(conn, old)
    return rows


#: Rows per Parquet row group: DuckDB's own row-group size, so its threads split a scan well
#: and a page deep in the file skips whole groups by their statistics.
ROW_GROUP = 122_880


class ParquetSink:
    """Writes typed batches (Table Schema order) into a Parquet file, numbering the rows
    (``_id``) and keeping the Table Schema in the file's metadata."""

    def __init__(self, path: Path, table_schema: Mapping[str, Any]) -> None:
        import json

        import pyarrow.parquet as pq

        from harvesters.validate_columns import arrow_schema

        typed = arrow_schema(dict(table_schema))
        if ID in typed.names:
            raise ValueError(f"a field may not be called {ID}: the datastore numbers rows so")
        schema = pa.schema([pa.field(ID, pa.int64(), nullable=False), *typed])
        meta = {b"khlang.table_schema": json.dumps(dict(table_schema), ensure_ascii=False)}
        self.schema = schema.with_metadata(meta)
        self.rows = 0
        self._buffer: list[pa.RecordBatch] = []
        self._buffered = 0
        # Row numbers are a plain sequence: delta-encoded they take a few bytes per page,
        # where a dictionary would take as much as the data.
        self._writer = pq.ParquetWriter(
            path,
            self.schema,
            compression="zstd",
            use_dictionary=list(typed.names),
            column_encoding={ID: "DELTA_BINARY_PACKED"},
        )

    def append(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        if not n:
            return
        ids = pa.array(range(self.rows + 1, self.rows + n + 1), pa.int64())
        columns = [ids, *batch.columns]
        self._buffer.append(pa.RecordBatch.from_arrays(columns, schema=self.schema))
        self.rows += n
        self._buffered += n
        if self._buffered >= ROW_GROUP:
            self._flush(last=False)

    def _flush(self, last: bool) -> None:
        """Write the buffered rows in row groups of ROW_GROUP rows, keeping the remainder
        buffered unless this is the `last` flush (writing every batch as it came left a
        small row group after each full one)."""
        if not self._buffer:
            return
        table = pa.Table.from_batches(self._buffer, schema=self.schema)
        whole = table.num_rows if last else table.num_rows // ROW_GROUP * ROW_GROUP
        if whole:
            self._writer.write_table(table.slice(0, whole), row_group_size=ROW_GROUP)
        rest = table.slice(whole)
        self._buffer, self._buffered = rest.to_batches(), rest.num_rows

    def close(self) -> None:
        self._flush(last=True)
        self._writer.close()


def write_parquet(table_schema: Mapping[str, Any], csv_path: Path, target: Path) -> int:
    """Write the validated normalised CSV at `csv_path` as a Parquet file at `target`, with
    the types of the Table Schema and its field names; returns the rows written.

    :raises ValueError: the file no longer passes its schema.
    """
    from harvesters.validate import validate_csv

    sink = ParquetSink(target, table_schema)
    try:
        checked = validate_csv(csv_path, dict(table_schema), on_batch=sink.append)
    finally:
        sink.close()
    if checked.findings:
        first = checked.findings[0]
        raise ValueError(f"row {first.row}, field {first.field}: {first.message_en}")
    return sink.rows


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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


# --- reading: datastore_search, datastore_info, dumps -----------------------------------------


class DatastoreField(TypedDict):
    id: str
    type: str
    info: NotRequired[dict[str, str]]


class DatastoreLinks(TypedDict):
    start: str
    next: str


class DatastoreSearchResult(TypedDict):
    resource_id: str
    fields: list[DatastoreField]
    records: list[dict[str, Any]] | list[list[Any]] | str
    total: NotRequired[int]
    total_was_estimated: bool
    limit: int
    offset: int
    records_format: str
    _links: DatastoreLinks


class DatastoreInfoMeta(TypedDict):
    id: str
    count: int
    table_type: str
    size: int
    aliases: list[str]
    format: str


class DatastoreInfoResult(TypedDict):
    meta: DatastoreInfoMeta
    fields: list[DatastoreField]


@dataclass(frozen=True)
class Located:
    """A readable resource's datastore file, read from the database once per call."""

    id: str
    name: str
    key: str
    table_schema: dict[str, Any]
    rows: int
    modified: datetime | None

    @property
    def schema_fields(self) -> list[dict[str, Any]]:
        return list(self.table_schema.get("fields") or [])


def _readable(ctx: Context, session: Session, resource_id: str) -> Resource:
    """The resource if the caller may read it; NotFound otherwise, so that a private
    dataset's or resource's existence is not revealed."""
    res = (
        session.get(Resource, resource_id, options=[joinedload(Resource.dataset)])
        if isinstance(resource_id, str)
        else None
    )
    if res is None or res.state != "active" or not can_read(ctx, session, res.dataset):
        raise NotFound(f"Not found: resource {resource_id}")
    if res.private and not auth.can(ctx, session, "read_private", res.dataset.owner_org_id):
        raise NotFound(f"Not found: resource {resource_id}")
    return res


def locate(ctx: Context, resource_id: str) -> Located:
    """The datastore file of a resource the caller may read.

    :raises NotFound: no such resource, not readable, or no datastore file (yet).
    """
    with ctx.catalog.reader() as session:
        res = _readable(ctx, session, resource_id)
        if not res.datastore_key or not res.table_schema:
            waiting = " yet (its load is queued)" if res.datastore_status == PENDING else ""
            raise NotFound(f"Not found: resource {resource_id} has no datastore table{waiting}")
        return Located(
            res.id,
            res.name,
            res.datastore_key,
            dict(res.table_schema),
            res.datastore_rows or 0,
            res.modified,
        )


def ckan_fields(
    schema_fields: Sequence[Mapping[str, Any]], names: Sequence[str]
) -> list[DatastoreField]:
    """CKAN's field list for the columns `names`: ``_id`` and the schema's fields, with the
    Table Schema's titles and descriptions as CKAN's data dictionary ``info``."""
    by_name = {str(f["name"]): f for f in schema_fields}
    result: list[DatastoreField] = []
    for name in names:
        if name == ID:
            result.append({"id": ID, "type": "int"})
            continue
        spec = by_name[name]
        entry: DatastoreField = {
            "id": name,
            "type": CKAN_TYPES.get(spec.get("type", "string"), "text"),
        }
        info = {
            key: str(spec[source_key])
            for key, source_key in (
                ("label", "title"),
                ("notes", "description"),
                ("label_en", "title_en"),
                ("notes_en", "description_en"),
            )
            if spec.get(source_key)
        }
        if info:
            entry["info"] = info
        result.append(entry)
    return result


def _links(resource_id: str, given: dict[str, Any], offset: int, limit: int) -> DatastoreLinks:
    base = "/api/3/action/datastore_search?"
    start = {"resource_id": resource_id, **{k: v for k, v in given.items() if v is not None}}
    return {
        "start": base + urlencode(start),
        "next": base + urlencode({**start, "offset": offset + limit}),
    }


@action("datastore_search", DatastoreSearchParams)
def datastore_search(
    ctx: Context,
    resource_id: str,
    filters: Mapping[str, Any] | None = None,
    q: str | Mapping[str, str] | None = None,
    fields: Sequence[str] | None = None,
    sort: Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
    distinct: bool = False,
    include_total: bool = True,
    records_format: str = "objects",
) -> DatastoreSearchResult:
    """Search the rows of a resource's datastore table (CKAN's datastore_search).

    :param resource_id: the resource whose table is searched.
    :param filters: ``{field: value}`` or ``{field: [value, ...]}`` (any of the values); a
        JSON object when sent in a query string.
    :param q: words found anywhere in the row's text fields (each word inside a cell: Thai is
        written without spaces; Latin letters in any case), or ``{field: words}``.
    :param fields: the fields to return, a list or ``"a,b"`` (default: ``_id`` and all).
    :param sort: ``"field1 asc, field2 desc"`` or a list of such items (default: file order).
    :param limit: rows to return, 100 by default and at most 32,000.
    :param offset: rows to skip.
    :param distinct: return distinct rows of the fields only (without ``_id``).
    :param include_total: count the matching rows (``total``); false is faster.
    :param records_format: ``objects`` (default), ``lists`` or ``csv`` (a CSV string, no header).
    :raises NotFound: no such resource, not readable, or not loaded into the datastore.
    :raises ValidationFailed: a field the table does not have, or a bad filter value.
    """
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    found = locate(ctx, resource_id)
    planned = plan(
        found.schema_fields, filters=filters, q=q, fields=fields, sort=sort, distinct=distinct
    )
    held = None
    if planned.equals is not None:
        memory = ctx.catalog.settings.DATASTORE_MEMORY_MB * 1024 * 1024
        resident = engine(memory).memory.get(ctx.catalog.storage, found.key)
        held = resident.search(planned, offset, limit) if resident is not None else None
    if held is not None:  # a table held in memory: the page and its exact count, no DuckDB
        result, counted = held
    else:
        cursor = engine().cursor()
        table = source(ctx.catalog.storage, found.key, cursor)
        result = cursor.sql(
            planned.select_sql(table) + " LIMIT ? OFFSET ?",
            params=[*planned.params, limit, offset],
        ).to_arrow_table()
    records = _records(result, records_format)
    given = {
        "filters": json.dumps(dict(filters), ensure_ascii=False) if filters else None,
        "q": (json.dumps(dict(q), ensure_ascii=False) if isinstance(q, Mapping) else q) or None,
        "fields": ",".join(fields) if fields else None,
        "sort": ",".join(sort) if sort else None,
        "distinct": "true" if distinct else None,
        "include_total": None if include_total else "false",
        "records_format": None if records_format == "objects" else records_format,
        "limit": limit if limit != 100 else None,
    }
    answer: DatastoreSearchResult = {
        "resource_id": found.id,
        "fields": ckan_fields(found.schema_fields, planned.columns),
        "records": records,
        "total_was_estimated": False,
        "limit": limit,
        "offset": offset,
        "records_format": records_format,
        "_links": _links(found.id, given, offset, limit),
    }
    if include_total:
        if not filters and not q and not distinct:
            answer["total"] = found.rows  # counted when the file was written
        elif held is not None:
            answer["total"] = counted
        else:
            answer["total"] = int(
                cursor.sql(planned.count_sql(table), params=planned.params).fetchall()[0][0]
            )
    return answer


def _records(table: pa.Table, records_format: str) -> list[dict[str, Any]] | list[list[Any]] | str:
    from catalog.services.datastore_query import jsonable_table

    table = jsonable_table(table)
    if records_format == "lists":
        columns = [column.to_pylist() for column in table.columns]
        return [list(row) for row in zip(*columns, strict=True)]
    if records_format in ("csv", "tsv"):
        from catalog.services.datastore_dump import csv_lines

        return "".join(
            csv_lines(table.to_batches(), delimiter="," if records_format == "csv" else "\t")
        )
    return table.to_pylist()


@action("datastore_info", DatastoreInfoParams)
def datastore_info(ctx: Context, id: str) -> DatastoreInfoResult:
    """A resource's datastore table: its row count and size, and its fields with their
    types and data dictionary (CKAN 2.10's datastore_info).

    :param id: the resource's id.
    :raises NotFound: no such resource, not readable, or not loaded into the datastore.
    """
    found = locate(ctx, id)
    try:
        size = ctx.catalog.storage.size(found.key)
    except Exception:  # the figure is informative; the table itself is there
        size = 0
    names = [ID, *(str(f["name"]) for f in found.schema_fields)]
    return {
        "meta": {
            "id": found.id,
            "count": found.rows,
            "table_type": "BASE TABLE",
            "size": size,
            "aliases": [],
            "format": "parquet",
        },
        "fields": ckan_fields(found.schema_fields, names),
    }


def datastore_dump(ctx: Context, resource_id: str, format: str = "csv") -> Dump:
    """A whole datastore table as a file to download, streamed: ``csv`` (UTF-8 with a BOM,
    so Excel shows Thai), ``json`` (an array of objects), ``xlsx`` or ``parquet`` (the stored
    file). Text cells that a spreadsheet would run as a formula are neutralised in CSV and
    XLSX; numbers stay numbers.

    :raises NotFound: no such resource, not readable, or not loaded into the datastore.
    :raises ValidationFailed: an unknown format.
    """
    from catalog.services.datastore_dump import make_dump

    return make_dump(ctx.catalog.storage, locate(ctx, resource_id), format)
