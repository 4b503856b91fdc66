"""Whole datastore tables as files to download (CKAN's /datastore/dump), streamed.

Rows come from DuckDB in Arrow batches (`to_arrow_reader`), so memory does not grow with
the table: CSV and JSON are written batch by batch; XLSX through openpyxl's write-only mode,
which keeps no cell in memory (inline strings), into a temporary file streamed afterwards
(a zip's directory comes last); Parquet is the stored file itself.

Formula injection (OWASP, "CSV Injection"): a text cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is run as a formula by spreadsheets. In CSV such a cell gets
a leading apostrophe; in XLSX it is written as a string cell with Excel's "quote prefix" (the
apostrophe Excel itself stores when one types ``'=...``), so the text shows unchanged and is
never evaluated. Numbers (typed columns, and text that is a plain number such as ``-5``) are
left alone: they cannot run anything.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from catalog.services.datastore_query import ID, engine, jsonable_table, quote, source
from catalog.services.errors import ValidationFailed
from catalog.storage import Storage

if TYPE_CHECKING:
    from catalog.services.datastore import Located

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
}
#: Rows per batch read from DuckDB.
BATCH_ROWS = 10_000
#: Rows of data per XLSX sheet: Excel's 1,048,576 less the header row.
SHEET_ROWS = 1_048_575
_RISKY = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
BOM = "\ufeff"


def risky(text: str) -> bool:
    """Whether a spreadsheet would run this text cell as a formula."""
    return text.startswith(_RISKY) and not _PLAIN_NUMBER.fullmatch(text)


def neutralise(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (OWASP's leading apostrophe)."""
    if isinstance(value, str) and risky(value):
        return "'" + value
    return value


@dataclass(frozen=True)
class Dump:
    """A dump ready to stream: its bytes come from `chunks()`, read once."""

    filename: str
    mimetype: str
    etag: str
    last_modified: datetime | None
    chunks: Iterator[bytes]


def make_dump(storage: Storage, found: Located, format: str) -> Dump:
    """The dump of `found`'s table in `format` (csv, json, xlsx, parquet)."""
    if format not in FORMATS:
        raise ValidationFailed({"format": [f"must be one of: {', '.join(FORMATS)}"]})
    mimetype, extension = FORMATS[format]
    writers = {"csv": _csv, "json": _json, "xlsx": _xlsx, "parquet": _parquet}
    # The file is content addressed: its key names its bytes, and so does the dump's.
    etag = f"{found.key.rsplit('/', 1)[-1][:24]}-{format}"
    return Dump(
        filename=f"{found.id}.{extension}",
        mimetype=mimetype,
        etag=etag,
        last_modified=found.modified,
        chunks=writers[format](storage, found),
    )


def _batches(storage: Storage, found: Located) -> Iterator[pa.RecordBatch]:
    # A cursor of its own: the stream outlives the request's other queries on this thread.
    cursor = engine().db.cursor()
    try:
        names = [ID, *(str(f["name"]) for f in found.schema_fields)]
        cols = ", ".join(quote(n) for n in names)
        table = source(storage, found.key, cursor)
        reader = cursor.sql(
            f"SELECT {cols} FROM {table} ORDER BY {quote(ID)}"  # noqa: S608  (schema's names, quoted)
        ).to_arrow_reader(BATCH_ROWS)
        yield from reader
    finally:
        cursor.close()


def csv_lines(batches: Iterable[pa.RecordBatch], delimiter: str = ",") -> Iterator[str]:
    """Rows as CSV text (no header), a batch at a time: dates ISO, missing values empty,
    booleans true/false."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for batch in batches:
        table = jsonable_table(pa.Table.from_batches([batch]))
        columns = [_csv_column(column.to_pylist()) for column in table.columns]
        writer.writerows(zip(*columns, strict=True))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _csv_column(values: list[Any]) -> list[Any]:
    return [("true" if v else "false") if isinstance(v, bool) else neutralise(v) for v in values]


def _csv(storage: Storage, found: Located) -> Iterator[bytes]:
    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow(
        [neutralise(str(f["name"])) for f in found.schema_fields]
    )
    yield (BOM + header.getvalue()).encode()
    for text in csv_lines(_without_id(_batches(storage, found))):
        yield text.encode()


def _without_id(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    # The files people download hold the data as published; `_id` is the API's row number.
    for batch in batches:
        yield batch.drop_columns([ID])


def _json(storage: Storage, found: Located) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in _without_id(_batches(storage, found)):
        rows = jsonable_table(pa.Table.from_batches([batch])).to_pylist()
        if not rows:
            continue
        text = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        yield ((("\n" if first else ",\n") + text).encode())
        first = False
    yield b"\n]\n"


def _xlsx(storage: Storage, found: Located) -> Iterator[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    names = [str(f["name"]) for f in found.schema_fields]
    with tempfile.TemporaryFile(prefix="khlang-dump-", suffix=".xlsx") as spool:
        book = Workbook(write_only=True)
        sheet = None
        written = SHEET_ROWS

        def text_cell(value: str) -> Any:
            cell = WriteOnlyCell(sheet, value=value)
            if risky(value):
                cell.data_type = "s"  # openpyxl would make "=..." a formula
                cell.quotePrefix = True
            return cell

        for batch in _without_id(_batches(storage, found)):
            table = jsonable_table(pa.Table.from_batches([batch]))
            columns = [column.to_pylist() for column in table.columns]
            for row in zip(*columns, strict=True):
                if written >= SHEET_ROWS:  # a table longer than a sheet goes on in the next
                    sheet = book.create_sheet()
                    sheet.append([text_cell(n) for n in names])
                    written = 0
                sheet.append([text_cell(v) if isinstance(v, str) else v for v in row])
                written += 1
        if sheet is None:
            sheet = book.create_sheet()
            sheet.append([text_cell(n) for n in names])
        book.save(spool)
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            yield chunk


def _parquet(storage: Storage, found: Located) -> Iterator[bytes]:
    with storage.open(found.key) as stream:
        while chunk := stream.read(1 << 20):
            yield chunk
