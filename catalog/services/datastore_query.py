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

A page of filters only, the search asked most, is answered without DuckDB from a table the
process holds in memory once it has been searched twice (`Resident`, at the end of this module):
1-2 ms instead of 15-25 ms on 1,000,000 rows.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from catalog.services.errors import ValidationFailed
from catalog.storage import Storage

log = logging.getLogger(__name__)

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

    def __init__(self, memory_bytes: int | None = None) -> None:
        self.pid = os.getpid()
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET parquet_metadata_cache = true")
        # Pages without a sort are in the file's order (see `plan`); this is DuckDB's default.
        self.db.execute("SET preserve_insertion_order = true")
        self.local = threading.local()
        self.lock = threading.Lock()
        #: Parquet files read through pyarrow's filesystem (S3): key → pyarrow dataset.
        self.datasets: dict[str, Any] = {}
        #: Tables held in memory (`Resident`), which answer filtered pages without DuckDB.
        self.memory = _Memory(MEMORY_BYTES if memory_bytes is None else memory_bytes)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self.local, "cursor", None)
        if cur is None:
            cur = self.local.cursor = self.db.cursor()
            self.local.registered = set()
        return cur


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def engine(memory_bytes: int | None = None) -> _Engine:
    """The process's engine; `memory_bytes` (DATASTORE_MEMORY_MB) bounds the tables it holds
    and is read when the engine is made (once per process)."""
    global _engine
    with _engine_lock:
        if _engine is None or _engine.pid != os.getpid():
            _engine = _Engine(memory_bytes)
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
    import pyarrow.dataset as ds

    s3, path = _s3_location(storage, key)
    return ds.dataset(path, filesystem=s3, format="parquet")


def _s3_location(storage: Storage, key: str) -> tuple[Any, str]:
    """pyarrow's S3 filesystem for `storage` and the path of `key` in it."""
    import boto3
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
    return s3, f"{storage.bucket}/{storage.prefix}{key}"  # type: ignore[attr-defined]


# --- parameters: checked against the schema -------------------------------------------------


@dataclass
class Plan:
    """A search turned into SQL fragments over the schema's quoted names and bound values."""

    columns: list[str]  # schema names (and ``_id``), in output order
    where: str = "TRUE"
    params: list[Any] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    distinct: bool = False
    #: The filters as (schema name, typed values) when the search is only filters (no ``q``,
    #: sort or distinct) on the schema's columns: a table held in memory can answer it
    #: (`Resident`); None otherwise.
    equals: list[tuple[str, list[Any]]] | None = field(default_factory=list)

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
    equals: list[tuple[str, list[Any]]] = []
    for name, value in (filters or {}).items():
        if name not in types:
            raise _unknown("filters", name)
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        typed = [_typed(name, types[name], v) for v in values]
        conditions.append(_filter(name, typed, result.params))
        equals.append((name, typed))
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
    plain = not (isinstance(q, Mapping) and q) and not (isinstance(q, str) and q.strip())
    plain = plain and not sort and not distinct and all(name != ID for name, _ in equals)
    result.equals = equals if plain else None
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


def _filter(name: str, typed: list[Any], params: list[Any]) -> str:
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


# --- tables held in memory ------------------------------------------------------------------
#
# The page a browse preview or an API client asks most, "100 rows where agency = X and
# fiscal_year = Y", costs DuckDB 10-20 ms on a 1,000,000-row file however the file is laid
# out: it decodes whole row groups of every column to return 100 rows, and the count for
# `total` scans the filter columns again. A process serving hundreds of such searches a
# second holds the tables it is asked for often in memory instead, decoded once: a column
# with few distinct values as one- or two-byte codes into its values (Arrow's dictionary
# arrays), so a filter compares small integers over the whole column in a fraction of a
# millisecond, counts its matches exactly, and the page's rows are taken by position.
# Measurements: docs/benchmarks.md, "Datastore engine".

#: Memory each process may use for tables held in memory, in bytes; the least recently
#: searched table goes first, and a table that alone would take more is never held (DuckDB
#: answers for it).
MEMORY_BYTES = 256 * 1024 * 1024
#: Searches of one file in a process before it is read into memory (in the background; DuckDB
#: answers meanwhile): a table searched once, by a crawler walking every resource, is not
#: worth reading whole.
TOUCHES = 2
#: Files whose searches are counted towards TOUCHES (least recently searched forgotten first).
_TOUCHED_MAX = 10_000
#: A non-text column with at most this many distinct values is held as codes; text columns
#: always are (as Parquet stores them), with codes as narrow as their number of values allows.
DICTIONARY_MAX = 32_767
#: Filters' matches kept per table held (see `Resident.masks`).
MASKS = 64
#: Rows examined at a time when looking for a page's matches.
_STEP = 65_536


class Unanswerable(Exception):
    """A search a table in memory does not answer exactly as DuckDB would: DuckDB answers."""


class Resident:
    """A datastore file's table, decoded into this process's memory, that answers searches
    made only of filters (`Plan.equals`) in the file's order, with their exact count.

    ``_id`` is not held: the file numbers its rows 1, 2, 3... (checked when read), so a row's
    ``_id`` is its position plus one.
    """

    def __init__(self, rows: int, columns: dict[str, pa.Array]) -> None:
        self.rows = rows
        self.columns = columns
        self.nbytes = sum(column.nbytes for column in columns.values())
        #: The rows one filter matches, by (field, values): a bit a row, MASKS of them at
        #: most (125 kB each on 1,000,000 rows), the least recently used dropped first.
        self.masks: OrderedDict[tuple[str, tuple[Any, ...]], pa.BooleanArray] = OrderedDict()
        self.lock = threading.Lock()

    def match(self, equals: Sequence[tuple[str, list[Any]]]) -> pa.BooleanArray | None:
        """The rows every filter matches; None when there is no filter (every row)."""
        mask = None
        for name, values in equals:
            found = self._mask(name, values)
            mask = found if mask is None else pc.and_(mask, found)
        return mask

    def _mask(self, name: str, values: list[Any]) -> pa.BooleanArray:
        key = (name, tuple((type(v).__name__, v) for v in values))
        with self.lock:
            found = self.masks.get(key)
            if found is not None:
                self.masks.move_to_end(key)
                return found
        column = self.columns.get(name)
        if column is None:
            raise Unanswerable(name)
        found = _matching(column, values)
        with self.lock:
            self.masks[key] = found
            while len(self.masks) > MASKS:
                self.masks.popitem(last=False)
        return found

    def positions(self, mask: pa.BooleanArray | None, offset: int, limit: int) -> list[int]:
        """Positions of the matching rows `offset` to `offset + limit`, in the file's order."""
        if mask is None:
            return list(range(min(offset, self.rows), min(offset + limit, self.rows)))
        found: list[int] = []
        skip, start = offset, 0
        while start < self.rows and len(found) < limit:
            window = mask.slice(start, _STEP)
            count = window.true_count
            if count <= skip:
                skip -= count
            else:
                wanted = pc.indices_nonzero(window).to_pylist()[skip : skip + limit - len(found)]
                found.extend(start + i for i in wanted)
                skip = 0
            start += _STEP
        return found

    def take(self, positions: Sequence[int], names: Sequence[str]) -> pa.Table:
        """The columns `names` (``_id`` included) of the rows at `positions`."""
        index = pa.array(positions, pa.int64())
        arrays = []
        for name in names:
            if name == ID:
                arrays.append(pc.add(index, 1))
                continue
            column = self.columns[name].take(index)
            if isinstance(column, pa.DictionaryArray):
                column = column.dictionary_decode()
            arrays.append(column)
        return pa.Table.from_arrays(arrays, names=list(names))

    def search(self, planned: Plan, offset: int, limit: int) -> tuple[pa.Table, int] | None:
        """The page and the count of matching rows, or None when DuckDB must answer."""
        try:
            mask = self.match(planned.equals or ())
        except (Unanswerable, pa.ArrowException, OverflowError, TypeError, ValueError):
            return None
        total = self.rows if mask is None else mask.true_count
        return self.take(self.positions(mask, offset, limit), planned.columns), total


def _matching(column: pa.Array, values: list[Any]) -> pa.BooleanArray:
    """Where `column` holds one of `values` (None: a missing value), as SQL's ``IN`` and
    ``IS NULL`` do."""
    present = [v for v in values if v is not None]
    if any(isinstance(v, float) and (v != v or v == 0) for v in present):
        # NaN equals NaN in DuckDB, and -0.0 equals 0.0: leave those to it.
        raise Unanswerable("NaN or zero")
    if isinstance(column, pa.DictionaryArray):
        wanted = pa.array(present, column.dictionary.type)
        codes = pc.indices_nonzero(pc.is_in(column.dictionary, value_set=wanted))
        if len(codes) == 1:
            found = pc.equal(column.indices, pa.scalar(codes[0].as_py(), column.indices.type))
        else:
            found = pc.is_in(column.indices, value_set=codes.cast(column.indices.type))
    else:
        found = pc.is_in(column, value_set=pa.array(present, column.type))
    if column.null_count:
        found = pc.fill_null(found, False)
        if len(present) < len(values):
            found = pc.or_(found, column.is_null())
    return found


def _compact(data: pa.ChunkedArray) -> pa.Array:
    """A column as held in memory: codes into its values where it has few distinct ones."""
    if pa.types.is_dictionary(data.type):
        array = data.unify_dictionaries().combine_chunks()
    elif pa.types.is_boolean(data.type) or pc.count_distinct(data).as_py() > DICTIONARY_MAX:
        return data.combine_chunks()
    else:
        array = pc.dictionary_encode(data.combine_chunks())
    values = len(array.dictionary)
    width = pa.int8() if values <= 127 else pa.int16() if values <= 32_767 else pa.int32()
    return pa.DictionaryArray.from_arrays(array.indices.cast(width), array.dictionary)


def _numbered(ids: pa.ChunkedArray, rows: int) -> bool:
    """Whether the ``_id`` column is 1, 2, 3... rows."""
    if len(ids) != rows or ids.null_count:
        return False
    if rows == 0:
        return True
    ids = ids.combine_chunks()
    if ids[0].as_py() != 1:
        return False
    if rows == 1:
        return True
    steps = pc.min_max(pc.subtract(ids.slice(1), ids.slice(0, rows - 1))).as_py()
    return steps == {"min": 1, "max": 1}


def read_resident(storage: Storage, key: str, budget: int = MEMORY_BYTES) -> Resident | None:
    """The table of the Parquet file stored under `key` decoded into memory, or None when it
    would take more than `budget` bytes (or its rows are not numbered 1, 2, 3...)."""
    import pyarrow.parquet as pq

    local = getattr(storage, "path", None)
    if callable(local):
        path, filesystem = str(local(key)), None
    else:
        filesystem, path = _s3_location(storage, key)
    schema = pq.read_schema(path, filesystem=filesystem)
    text = [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    parquet = pq.ParquetFile(
        path if filesystem is None else filesystem.open_input_file(path), read_dictionary=text
    )
    meta = parquet.metadata
    rows = meta.num_rows
    # Parquet's uncompressed sizes are those of its dictionary-encoded pages: near what the
    # codes and values take in memory.
    if sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) > budget:
        return None
    columns: dict[str, pa.Array] = {}
    used = 0
    for spec in schema:
        read = parquet.read(columns=[spec.name], use_threads=False)
        if read.column_names != [spec.name] or read.num_rows != rows:
            return None
        if spec.name == ID:
            if not _numbered(read.column(0), rows):
                return None
            continue
        columns[spec.name] = column = _compact(read.column(0))
        used += column.nbytes
        if used > budget:
            return None
    return Resident(rows, columns)


class _Memory:
    """The tables a process holds in memory, by storage key (a file's key never changes its
    bytes: a new version of a resource is a new file), least recently searched first."""

    def __init__(self, budget: int = MEMORY_BYTES) -> None:
        self.budget = budget
        self.tables: OrderedDict[str, Resident] = OrderedDict()
        self.used = 0
        #: Searches so far of files not held; -1: not to be held (too large, unreadable).
        self.touched: OrderedDict[str, int] = OrderedDict()
        self.reading: set[str] = set()
        self.lock = threading.Lock()
        self.one_read = threading.Lock()  # one file read at a time: the CPU is for answers

    def get(self, storage: Storage, key: str, wait: bool = False) -> Resident | None:
        """The table of `key` if held. Otherwise its search is counted, and at the TOUCHES-th
        the file is read in a background thread (or now, with `wait`)."""
        with self.lock:
            found = self.tables.get(key)
            if found is not None:
                self.tables.move_to_end(key)
                return found
            touches = self.touched.get(key, 0)
            if touches < 0 or key in self.reading:
                return None
            self.touched[key] = touches = touches + 1
            self.touched.move_to_end(key)
            while len(self.touched) > _TOUCHED_MAX:
                self.touched.popitem(last=False)
            if touches < TOUCHES and not wait:
                return None
            self.reading.add(key)
        if wait:
            return self._read(storage, key)
        threading.Thread(
            target=self._read, args=(storage, key), name="khlang-datastore-read", daemon=True
        ).start()
        return None

    def _read(self, storage: Storage, key: str) -> Resident | None:
        try:
            with self.one_read:
                resident = read_resident(storage, key, self.budget)
        except Exception:  # DuckDB goes on answering for this file
            log.exception("reading the datastore file %s into memory failed", key)
            resident = None
        with self.lock:
            self.reading.discard(key)
            if resident is None:
                self.touched[key] = -1
                return None
            self.touched.pop(key, None)
            self.tables[key] = resident
            self.used += resident.nbytes
            while self.used > self.budget and len(self.tables) > 1:
                _, dropped = self.tables.popitem(last=False)
                self.used -= dropped.nbytes
        return resident
