"""Doc values of a Whoosh segment as one Arrow table (facets, visibility, sort keys).

The values travel with each document in a stored field ("dv"), so any segment can rebuild its
table, but unpickling 100,000 stored documents takes seconds. A bulk build therefore also writes
the table beside the segment as `<segment id>.dvs` (Arrow IPC); Whoosh deletes it together with
the segment's other files when the segment is merged away.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from whoosh.reading import SegmentReader

#: Order of the doc values tuple stored with each document ("dv" field).
DV_FIELDS = (
    "organization",
    "organization_parents",
    "tags",
    "groups",
    "res_formats",
    "fiscal_years",
    "license_id",
    "data_type",
    "data_category",
    "update_frequency",
    "high_value",
    "private",
    "state",
    "metadata_created",
    "metadata_modified",
    "popularity",
    "title_th_key",
    "title_en_key",
    "name",
)
SINGLE = ("organization", "license_id", "data_type", "data_category", "update_frequency", "state")
MULTI = ("organization_parents", "tags", "groups", "res_formats", "fiscal_years")
EMPTY_DV = (
    "",
    (),
    (),
    (),
    (),
    (),
    "",
    "",
    "",
    "",
    False,
    False,
    "published",
    None,
    None,
    0,
    "",
    "",
    "",
)
#: Sort value of a missing date: before every real one.
NEVER = -(2**62)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SUFFIX = ".dvs"
#: Columns every table has (see `doc_values_table`).
_COLUMNS = {"id", *DV_FIELDS, "metadata_created_aware", "metadata_modified_aware"}


def timestamp_us(value: datetime | None) -> int:
    """Exact microseconds since the epoch (naive datetimes are taken as UTC); None -> NEVER."""
    if value is None:
        return NEVER
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _US


def from_timestamp_us(value: int, aware: bool) -> datetime | None:
    """The datetime `timestamp_us` was given (aware ones come back in UTC)."""
    if value == NEVER:
        return None
    found = _EPOCH + timedelta(microseconds=value)
    return found if aware else found.replace(tzinfo=None)


def doc_values_table(ids: list[str], dvs: list[tuple]) -> pa.Table:
    """The table of a segment's documents, in docnum order."""
    at = {name: i for i, name in enumerate(DV_FIELDS)}
    width = len(DV_FIELDS)
    # Documents indexed before a field was appended to DV_FIELDS stored shorter tuples: they get
    # the empty value of the missing fields until the index is rebuilt.
    dvs = [dv if len(dv) >= width else (*dv, *EMPTY_DV[len(dv) :]) for dv in dvs]
    columns: dict[str, pa.Array] = {"id": pa.array(ids, pa.string())}
    for name in SINGLE:
        columns[name] = pa.array([dv[at[name]] or "" for dv in dvs], pa.string())
    for name in MULTI:
        values = [[str(v) for v in dv[at[name]]] for dv in dvs]
        columns[name] = pa.array(values, pa.list_(pa.string()))
    columns["high_value"] = pa.array(
        ["true" if dv[at["high_value"]] else "false" for dv in dvs], pa.string()
    )
    columns["private"] = pa.array([bool(dv[at["private"]]) for dv in dvs], pa.bool_())
    for name in ("metadata_created", "metadata_modified"):
        stamps = [dv[at[name]] for dv in dvs]
        columns[name] = pa.array([timestamp_us(s) for s in stamps], pa.int64())
        columns[name + "_aware"] = pa.array(
            [s is not None and s.tzinfo is not None for s in stamps], pa.bool_()
        )
    columns["popularity"] = pa.array([int(dv[at["popularity"]] or 0) for dv in dvs], pa.int64())
    for name in ("title_th_key", "title_en_key", "name"):
        columns[name] = pa.array([dv[at[name]] for dv in dvs], pa.string())
    return pa.table(columns)


def sidecar_path(folder: str, segment_id: str) -> str:
    return os.path.join(folder, segment_id + _SUFFIX)


def write_sidecar(folder: str, segment_id: str, table: pa.Table) -> None:
    """Write a segment's table next to its files."""
    with pa.OSFile(sidecar_path(folder, segment_id), "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


def load_table(reader: SegmentReader) -> pa.Table:
    """A segment's table: from its sidecar file when the bulk build wrote one, else from the
    documents' stored fields."""
    folder = getattr(reader.storage(), "folder", None)
    if folder is not None:
        path = sidecar_path(folder, reader.segment().segment_id())
        if os.path.exists(path):
            with pa.memory_map(path) as source:
                table = pa.ipc.open_file(source).read_all()
            # A sidecar written before a column was added lacks it: read the stored values.
            if table.num_rows == reader.doc_count_all() and _COLUMNS <= set(table.column_names):
                return table
    ids: list[str] = []
    dvs: list[tuple] = []
    for docnum in range(reader.doc_count_all()):
        stored = reader.stored_fields(docnum)
        ids.append(stored.get("id", ""))
        dvs.append(stored.get("dv") or EMPTY_DV)
    return doc_values_table(ids, dvs)
