"""The datastore's query engine: DuckDB over one Parquet file per resource version.

Why DuckDB over Parquet and not the SQL tables the datastore used to load: on the 1,000,000-row
budget table it sorts, counts a Thai substring, groups and counts 5-30 times faster than SQLite
and than PostgreSQL, and the file is 60 times smaller (docs/benchmarks.md, "Datastore engine").

No SQL is built from a caller's strings. A caller's field name is only ever looked up in the
resource's Table Schema, and the identifier written into the statement is the *schema's* name,
quoted; every value is a bound parameter. Paths of stored files come from storage keys, whose
characters are limited to ``[A-Za-z0-9_./-]`` (catalog.storage.base), and are quoted as literals.

One in-memory DuckDB database per process, one cursor per thread: connecting costs about a
millisecond, and a process answering hundreds of searches a second should not pay it each time.
The database keeps Parquet footers cached (``parquet_metadata_cache``), so a file's metadata is
read once, not at every call.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from catalog.services.errors import ValidationFailed
from catalog.storage import Storage

#: The row number of each record, 1 for the file's first data row (CKAN's ``_id``).
ID = "_id"
#: Most records one call returns (CKAN's default ``ckan.datastore.search.rows_max``).
MAX_LIMIT = 32_000
#: Table Schema type → CKAN's datastore type names.
CKAN_TYPES = {
    "string": "text",
    "integer": "int",
    "year": "int",
    "number": "numeric",
    "boolean": "bool",
    "date": "date",
}


class _Engine:
    """The process's DuckDB database, made after a fork (gunicorn's workers), and its
    per-thread cursors."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET parquet_metadata_cache = true")
        # Pages without a sort are in the file's order (see `plan`); this is DuckDB's default.
        self.db.execute("SET preserve_insertion_order = true")
        self.local = threading.local()
        self.lock = threading.Lock()
        #: Parquet files read through pyarrow's filesystem (S3): key → pyarrow dataset.
        self.datasets: dict[str, Any] = {}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self.local, "cursor", None)
        if cur is None:
            cur = self.local.cursor = self.db.cursor()
            self.local.registered = set()
        return cur


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def engine() -> _Engine:
    global _engine
    with _engine_lock:
        if _engine is None or _engine.pid != os.getpid():
            _engine = _Engine()
        return _engine


def quote(name: str) -> str:
    """A DuckDB identifier for a schema's field name (never a caller's string)."""
    return '"' + name.replace('"', '""') + '"'


def source(storage: Storage, key: str, cursor: duckdb.DuckDBPyConnection) -> str:
    """The FROM clause that reads the Parquet file stored under `key`, for `cursor`.

    A local store's file is read by DuckDB itself; a file in S3 through pyarrow's S3
    filesystem (a dataset registered with the cursor), which reads only the column chunks a
    query needs with ranged GETs, and keeps the footer it read once per process.
    """
    local = getattr(storage, "path", None)
    if callable(local):
        path = str(local(key))
        return "read_parquet(" + "'" + path.replace("'", "''") + "')"
    eng = engine()
    name = "pq_" + key.rsplit("/", 1)[-1][:32]
    registered = eng.local.registered
    if name not in registered:
        with eng.lock:
            dataset = eng.datasets.get(key)
            if dataset is None:
                dataset = eng.datasets[key] = _s3_dataset(storage, key)
        cursor.register(name, dataset)
        registered.add(name)
    return quote(name)


def _s3_dataset(storage: Storage, key: str) -> Any:
    import boto3
    import pyarrow.dataset as ds
    from pyarrow import fs

    client = storage.client  # type: ignore[attr-defined]
    endpoint = client.meta.endpoint_url
    credentials = boto3.Session().get_credentials()
    frozen = credentials.get_frozen_credentials() if credentials else None
    scheme, _, host = endpoint.partition("://")
    s3 = fs.S3FileSystem(
        access_key=frozen.access_key if frozen else None,
        secret_key=frozen.secret_key if frozen else None,
        session_token=frozen.token if frozen else None,
        region=client.meta.region_name or "us-east-1",
        endpoint_override=host if "amazonaws.com" not in host else None,
        scheme=scheme or "https",
    )
    path = f"{storage.bucket}/{storage.prefix}{key}"  # type: ignore[attr-defined]
    return ds.dataset(path, filesystem=s3, format="parquet")


# --- parameters: checked against the schema -------------------------------------------------


@dataclass
class Plan:
    """A search turned into SQL fragments over the schema's quoted names and bound values."""

    columns: list[str]  # schema names (and ``_id``), in output order
    where: str = "TRUE"
    params: list[Any] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    distinct: bool = False

    # Only the schema's quoted names, placeholders and our own keywords are in the text:
    # hence the noqa of ruff's S608 below.

    def select_sql(self, table: str) -> str:
        cols = ", ".join(quote(c) for c in self.columns)
        keyword = "SELECT DISTINCT" if self.distinct else "SELECT"
        sql = f"{keyword} {cols} FROM {table} WHERE {self.where}"
        return sql + (" ORDER BY " + ", ".join(self.order) if self.order else "")

    def count_sql(self, table: str) -> str:
        if self.distinct:
            cols = ", ".join(quote(c) for c in self.columns)
            inner = f"SELECT DISTINCT {cols} FROM {table} WHERE {self.where}"  # noqa: S608
            return f"SELECT count(*) FROM ({inner})"  # noqa: S608
        return f"SELECT count(*) FROM {table} WHERE {self.where}"  # noqa: S608


def _unknown(param: str, name: object) -> ValidationFailed:
    return ValidationFailed({param: [f'field "{name}" not in table']})


def plan(
    schema_fields: Sequence[Mapping[str, Any]],
    *,
    filters: Mapping[str, Any] | None = None,
    q: str | Mapping[str, str] | None = None,
    fields: Sequence[str] | None = None,
    sort: Sequence[str] | None = None,
    distinct: bool = False,
) -> Plan:
    """Check a search's parameters against the Table Schema and plan it.

    :raises ValidationFailed: a field the table does not have (named, under the parameter
        that used it), or a filter value that cannot be of the field's type.
    """
    types = {ID: "integer", **{str(f["name"]): str(f.get("type", "string")) for f in schema_fields}}
    names = [str(f["name"]) for f in schema_fields]
    if fields:
        columns = []
        for name in fields:
            if name not in types:
                raise _unknown("fields", name)
            columns.append(name)
        columns = list(dict.fromkeys(columns))
    else:
        # Distinct rows of the data: every row's own _id would make each row distinct.
        columns = names if distinct else [ID, *names]
    result = Plan(columns=columns, distinct=distinct)
    conditions: list[str] = []
    for name, value in (filters or {}).items():
        if name not in types:
            raise _unknown("filters", name)
        conditions.append(_filter(name, types[name], value, result.params))
    text = [n for n in names if types[n] == "string"]
    if isinstance(q, Mapping):
        for name, value in q.items():
            if name not in types:
                raise _unknown("q", name)
            column = quote(name) if types[name] == "string" else f"CAST({quote(name)} AS VARCHAR)"
            conditions += _contains(column, str(value), result.params)
    elif q and q.strip():
        # Each word in any text column. One contains() per column: on 1M rows joining the
        # columns first (concat_ws) took 2.5 s against 0.33 s for this (docs/benchmarks.md).
        for term_condition in _each_word(text, q, result.params):
            conditions.append(term_condition)
    result.where = " AND ".join(conditions) or "TRUE"
    for item in sort or ():
        name, direction = _sort_item(item)
        if name not in types:
            raise _unknown("sort", name)
        if distinct and name not in columns:
            raise ValidationFailed({"sort": [f'field "{name}" not in fields (distinct)']})
        result.order.append(f"{quote(name)} {direction}")
    # A stable order, so pages follow each other: the file's order breaks ties. Without a
    # sort the file's order is the order: DuckDB keeps a scan's order (preserve_insertion_order)
    # and can stop at the page's last row, where ORDER BY _id would read every match.
    if distinct:
        result.order += [f"{quote(c)} ASC NULLS LAST" for c in columns]
    elif result.order:
        result.order.append(f"{quote(ID)} ASC")
    return result


def _sort_item(item: str) -> tuple[str, str]:
    text = item.strip()
    direction = "ASC"
    lowered = text.lower()
    for word in (" asc", " desc"):
        if lowered.endswith(word):
            direction = word.strip().upper()
            text = text[: -len(word)].rstrip()
            break
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text, direction + (" NULLS LAST" if direction == "ASC" else " NULLS FIRST")


def _typed(name: str, kind: str, value: Any) -> Any:
    """A filter value as the column's type; strings from a query string are read here."""
    if value is None:
        return None
    try:
        if kind in ("integer", "year"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(str(value).strip()) if not isinstance(value, float) else int(value)
        if kind == "number":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "t", "yes"):
                return True
            if text in ("false", "0", "f", "no"):
                return False
            raise ValueError
        if kind == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(
            {"filters": [f'field "{name}": {value!r} is not a valid {kind}']}
        ) from None
    return value if isinstance(value, str) else str(value)


def _filter(name: str, kind: str, value: Any, params: list[Any]) -> str:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    typed = [_typed(name, kind, v) for v in values]
    column = quote(name)
    present = [v for v in typed if v is not None]
    parts = []
    if present:
        parts.append(f"{column} IN ({', '.join('?' for _ in present)})")
        params.extend(present)
    if len(present) < len(typed):
        parts.append(f"{column} IS NULL")
    if not parts:  # an empty list: CKAN's IN () matches nothing
        return "FALSE"
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _words(text: str) -> list[tuple[str, bool]]:
    """The words of a query, lower-cased, each with whether it has cased letters: Thai is
    written without spaces, so a word must match within a cell, not at word boundaries;
    Latin letters match in any case."""
    return [(term.lower(), term.lower() != term.upper()) for term in text.split()]


def _match(column: str, cased: bool) -> str:
    # lower() on a million cells is the slow part; Thai and digits need none.
    return f"contains(lower({column}), ?)" if cased else f"contains({column}, ?)"


def _contains(column: str, text: str, params: list[Any]) -> list[str]:
    """Every word of `text` found inside the column."""
    conditions = []
    for folded, cased in _words(text):
        conditions.append(_match(column, cased))
        params.append(folded)
    return conditions


def _each_word(columns: Sequence[str], text: str, params: list[Any]) -> list[str]:
    """Every word of `text` found inside one of the text columns."""
    if not columns:
        return ["FALSE"] if text.split() else []
    conditions = []
    for folded, cased in _words(text):
        conditions.append("(" + " OR ".join(_match(quote(c), cased) for c in columns) + ")")
        params.extend([folded] * len(columns))
    return conditions


# --- results ------------------------------------------------------------------------------


def jsonable_table(table: pa.Table) -> pa.Table:
    """Dates (and anything else JSON cannot hold) as ISO text."""
    columns = []
    for column in table.columns:
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)
