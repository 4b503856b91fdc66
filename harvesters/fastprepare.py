"""A vectorised twin of :func:`harvesters.prepare.prepare_table` for CSV and TSV files.

It writes the same normalised CSV, byte for byte, and returns the same :class:`PreparedTable`
(counts, row map, totals and blank rows, normalisation and PDPA reports, problems), working
on blocks of rows with pyarrow instead of row by row:

- The header is found by prepare_table's own code on the first records, read with Python's
  ``csv``; pyarrow then reads the data records, as text, from the byte where they start.
  cp874 files are first transcoded to UTF-8, streaming.
- A column with few distinct values in a block (agency, plan, budget type, years, dates) is
  dictionary-encoded; each distinct value is normalised once by the real
  :class:`~harvesters.normalise.Normaliser` (and cached), then spread back with ``take``.
- A column of mostly distinct values (amounts, free text) goes through vectorised rules that
  accept only spellings whose result is certain (text needing no cleaning; amounts such as
  ``1,234.50``, ``฿ 1,234`` or ``๑,๒๓๔ บาท``); every other value goes through the
  Normaliser too.
- Blank rows, totals rows and personal data are found with patterns that are supersets of
  prepare_table's rules; the rows they flag are confirmed by the same Python functions
  (``is_blank_row``, ``is_totals_row``, ``scan_rows``), and report examples are produced by
  the Normaliser itself, so decisions and reports are the same.

The fast path gives up, before returning anything, on what it cannot reproduce exactly, and
the row-by-row path runs instead: records whose number of cells differs from the first data
record's (pyarrow reads one width), a lone carriage return in the header rows, a data record
starting with U+FEFF (pyarrow drops it), text that is not valid in its encoding, no header, a
stream that cannot seek.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from harvesters.base import HarvestError
from harvesters.fastcells import (
    CACHE_LIMIT,
    Column,
    normalise_cell,
    quote,
    quoted,
    quotes_cr,
    unquoted,
)
from harvesters.normalise import EncodingError, is_blank_row, is_totals_row, open_text
from harvesters.pii import PiiReport, scan_rows
from harvesters.prepare import (
    PreparedTable,
    _header,
    _may_be_totals,
    _plan,
    _stem,
)
from harvesters.readers import EXTENSIONS, Problem, TableRows, guess_format
from harvesters.sink import HashingSink, Worker
from harvesters.validate import TableChecker

__all__ = ["can_prepare_fast", "try_prepare_fast"]

# options["encoding"] -> open_text's encoding, as harvesters.readers maps them; an encoding
# missing here makes can_prepare_fast say no, so the two cannot disagree silently.
_ENCODINGS: Mapping[Any, str | None] = {
    None: None,
    "auto": None,
    "utf-8": "utf-8-sig",
    "cp874": "cp874",
    "tis-620": "cp874",
}
# pyarrow parses fastest in small blocks, but each block of rows costs ~100 kernel calls, so
# blocks are grouped: 8192 rows of a typical budget file hold ~5 MB of text, and the peak RSS
# of a run is ~100 MB above the imports.
READ_BLOCK = 512 << 10
GROUP_ROWS = 8192
#: Groups of rows waiting for validation on the checking thread (bounds its lag and memory).
CHECK_QUEUE = 4
#: Groups of rows waiting to be joined into CSV lines and written (the joining thread).
JOIN_QUEUE = 2
WIDTH_SCAN = 10_000  # records read past the header for one that is not an empty line

# Python's str.isspace() characters (what split() and strip() remove), in RE2 syntax; a test
# compares the class with every code point.
_SPACE = (
    r"\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
_BLANK = rf"^[{_SPACE}\x{{200b}}-\x{{200d}}\x{{feff}}]*$"  # is_blank_row, per cell
_STRIPS_EMPTY = rf"^[{_SPACE}]*$"  # "not cell.strip()": trailing extra cells are dropped
# prepare._may_be_totals, per cell of up to 60 characters
_TOTALS = r"ร[ \x{200b}]*ว[ \x{200b}]*ม|o[ \x{200b}]*t[ \x{200b}]*a[ \x{200b}]*l"
_TOTALS += r"|O[ \x{200b}]*T[ \x{200b}]*A[ \x{200b}]*L"


class _Fallback(Exception):
    """This file needs the row-by-row path."""


def can_prepare_fast(fmt: str | None, options: Mapping[str, Any]) -> bool:
    """Whether :func:`try_prepare_fast` may handle a file of format ``fmt`` (csv, tsv, or an
    extension such as txt or tab) read with ``options``: delimited text in an encoding
    prepare_table knows. It may still give up on the file itself (see the module notes)."""
    encoding = options.get("encoding")
    known = isinstance(encoding, str | None) and encoding in _ENCODINGS
    return known and EXTENSIONS.get((fmt or "").lower().lstrip(".")) in ("csv", "tsv")


def try_prepare_fast(
    stream: BinaryIO,
    *,
    name: str,
    fmt: str | None,
    table_schema: Mapping[str, Any],
    options: Mapping[str, Any],
    workdir: Path,
    validate: bool = False,
) -> PreparedTable | None:
    """The fast path alone: what prepare_table would return (the stream is then closed), or
    None with the stream back where it was, when the file needs the row-by-row path.
    :func:`harvesters.prepare.prepare_table` calls it first for delimited text."""
    try:
        fmt = guess_format(name, fmt)
    except HarvestError:
        return None
    if not can_prepare_fast(fmt, options) or not stream.seekable():
        return None
    start = stream.tell()
    job = _Job(stream, name, "\t" if fmt == "tsv" else ",", table_schema, options, workdir)
    job.validate = validate
    try:
        prepared = job.run()
    except (_Fallback, pa.ArrowInvalid, csv.Error, UnicodeDecodeError):
        job.discard()
        stream.seek(start)
        return None
    finally:
        job.close_source()
        # pyarrow's allocator keeps freed pages for reuse; the harvest goes on with other
        # work (validation, the search index), so hand them back now.
        pa.default_memory_pool().release_unused()
    stream.close()
    return prepared


# -- reading ----------------------------------------------------------------------------------


def _utf8_source(stream: BinaryIO, options: Mapping[str, Any], workdir: Path) -> tuple[Any, str]:
    """(UTF-8 byte stream at the first record, the encoding as open_text names it)."""
    try:
        text, encoding = open_text(stream, _ENCODINGS[options.get("encoding")])
    except EncodingError:
        raise _Fallback from None
    text.detach()  # the caller's stream stays open
    if encoding == "cp874":
        decoder = codecs.getincrementaldecoder("cp874")()
        target = tempfile.TemporaryFile(dir=workdir)
        while chunk := stream.read(READ_BLOCK):
            target.write(decoder.decode(chunk).encode("utf-8"))
        target.write(decoder.decode(b"", final=True).encode("utf-8"))
        target.seek(0)
        return target, encoding
    if encoding == "utf-8-sig" and stream.read(3) != codecs.BOM_UTF8:
        stream.seek(-3, io.SEEK_CUR)
    return stream, encoding


class _Head:
    """Records read with Python's csv from a UTF-8 byte stream, with the byte offset where
    each ends (the csv module reads no line past the record it returns)."""

    def __init__(self, raw: BinaryIO, delimiter: str) -> None:
        self.base = raw.tell()
        self.ends: list[int] = []
        self.records: list[list[str]] = []
        self._raw = raw
        self._consumed = 0
        self._reader = csv.reader(self._lines(), delimiter=delimiter)

    def _lines(self) -> Iterator[str]:
        while line := self._raw.readline():
            # Python's text streams also end a line at a lone CR; readline() does not.
            if b"\r" in line.removesuffix(b"\n").removesuffix(b"\r"):
                raise _Fallback
            self._consumed += len(line)
            yield line.decode("utf-8")

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for record in self._reader:
            self.records.append(record)
            self.ends.append(self._consumed)
            yield len(self.records), record

    def offset(self, records: int) -> int:
        """Byte offset just after the first ``records`` records."""
        return self.base + (self.ends[records - 1] if records else 0)


# -- the report -------------------------------------------------------------------------------


class _Tallies:
    """Normalisation report entries in prepare_table's order: Normaliser entries, then BE-year
    entries, each group in the order its (column, kind) first occurred, row by row."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], tuple[tuple, dict[str, Any]]] = {}

    def wanted(self, key: tuple[str, str, str]) -> int:
        entry = self.entries.get(key)
        return 5 if entry is None else 5 - len(entry[1]["examples"])

    def add(self, key: tuple[str, str, str], count: int, first: tuple, examples: list) -> None:
        _, column, kind = key
        if key not in self.entries:
            self.entries[key] = (
                first,
                {"column": column, "kind": kind, "count": 0, "examples": []},
            )
        entry = self.entries[key][1]
        entry["count"] += count
        entry["examples"].extend(examples)

    def report(self) -> list[dict[str, Any]]:
        ordered = sorted(self.entries.items(), key=lambda item: (item[0][0], item[1][0]))
        return [entry for _, (_, entry) in ordered]  # "n" sorts before "y"


def _holds_cr(text: pa.Array) -> bool:
    """Whether any string of `text` holds a CR (or its buffer does around it: then the
    caller only takes the slower, always exact way). memchr over the bytes, not a kernel
    that walks the strings: this runs on every column of every group."""
    data = text.buffers()[2]
    return data is not None and data.to_pybytes().find(b"\r") >= 0


# -- the job ----------------------------------------------------------------------------------


class _Job:
    def __init__(self, stream, name, delimiter, table_schema, options, workdir) -> None:
        self.stream, self.name, self.delimiter = stream, name, delimiter
        self.schema, self.options, self.workdir = table_schema, options, workdir
        self.source: Any = None
        self.out_path: Path | None = None
        self.tallies = _Tallies()
        self.row_map = array("I")
        self.totals: list[int] = []
        self.blank = 0
        self.pii_rows = array("I")  # source row of each PDPA candidate row, in order
        self.flags: dict[str, tuple[bool, bool, bool]] = {}  # cell text -> _cell_flags
        self.validate = False
        self.checker: TableChecker | None = None
        self.checking: Worker | None = None
        self.joining: Worker | None = None

    def discard(self) -> None:
        if self.out_path is not None:
            self.out_path.unlink(missing_ok=True)

    def close_source(self) -> None:
        if self.source is not None and self.source is not self.stream:
            self.source.close()

    def run(self) -> PreparedTable:
        self.source, encoding = _utf8_source(self.stream, self.options, self.workdir)
        problems: list[Problem] = []
        specs = list(self.schema.get("fields") or [])
        head = _Head(self.source, self.delimiter)
        rows = TableRows(iter(head), None, encoding, None, problems)
        header, _ = _header(rows, [s["name"] for s in specs], self.options, problems)
        if header is None:
            raise _Fallback
        plan = _plan(header.columns, self.schema, self.options, problems)
        if not plan.names:
            raise _Fallback
        pii = self.options.get("pii") or {}
        for column in [*pii.get("allow", ()), *pii.get("mask", ())]:
            if column not in plan.names:
                problems.append(
                    Problem(
                        "pii-column-not-found",
                        "warning",
                        f"pii names the column {column!r}, but the table has no such column",
                        f"ตั้งค่า pii ระบุคอลัมน์ {column!r} แต่ไม่พบคอลัมน์นี้ในตาราง",
                    )
                )
        masked = [c for c in pii.get("mask", ()) if c in plan.names]
        allowed = frozenset(pii.get("allow", ())) | frozenset(masked)
        specs_by_name = {s["name"]: s for s in specs}
        self.columns = []
        for i, (name, source) in enumerate(zip(plan.names, plan.sources, strict=True)):
            column = Column(name, i, source, specs_by_name.get(name, {}))
            column.scanned, column.masked = name not in allowed, name in masked
            self.columns.append(column)
        self.masked_cells = dict.fromkeys(masked, 0)
        self.width = len(header.columns)
        self.keep_overflow = self.options.get("extra_columns") != "drop"
        self.next_row = header.data_start + 1
        prefix = _stem(self.name) + "-"
        handle, out = tempfile.mkstemp(prefix=prefix, suffix=".csv", dir=self.workdir)
        self.out_path = Path(out)
        if self.validate:
            self.checker = TableChecker(dict(self.schema), plan.names)
            self.checking = Worker("khlang-check", CHECK_QUEUE)
        with os.fdopen(handle, "wb") as out:
            # Hashed as it is written, so storing it needs no second read (Storage.adopt).
            self.out = HashingSink(out)
            self.joining = Worker("khlang-join", JOIN_QUEUE)
            try:
                line = io.StringIO()
                csv.writer(line, lineterminator="\n").writerow(plan.names)
                self.out.write(line.getvalue().encode("utf-8"))
                found = scan_rows(self._data(head, header.data_start), allowed=allowed, start=0)
            finally:
                try:
                    if self.checking is not None:
                        self.checking.close()
                finally:
                    try:
                        self.joining.close()
                    finally:
                        sha256 = self.out.close()
        return PreparedTable(
            csv_path=self.out_path,
            fields=plan.names,
            rows_written=len(self.row_map),
            source_rows=self.next_row - 1 - header.data_start,
            encoding=encoding,
            header=header,
            totals_rows=self.totals,
            blank_rows=self.blank,
            normalisation=self.tallies.report(),
            pii=self._pii(found),
            row_map=self.row_map,
            problems=problems,
            columns=plan.columns,
            masked_cells=self.masked_cells,
            sheet=None,
            csv_sha256=sha256,
            csv_size=self.out.size,
            checked=self.checker.result() if self.checker is not None else None,
        )

    def _pii(self, found: PiiReport) -> PiiReport:
        # scan_rows numbered the candidate rows from 0; prepare_table reports source rows
        found.rows_scanned = len(self.row_map)
        found.findings = [replace(f, row=self.pii_rows[f.row]) for f in found.findings]
        return found

    def _data(self, head: _Head, data_start: int) -> Iterator[dict[str, Any]]:
        """Read, normalise and write the data records; yield the PDPA candidate rows."""
        # pyarrow reads one width: that of the first data record that is not an empty line
        records = iter(head)
        while len(head.records) <= data_start or not any(head.records[data_start:]):
            if next(records, None) is None or len(head.records) > data_start + WIDTH_SCAN:
                break
        widths = [len(r) for r in head.records[data_start:] if r]
        if not widths:
            if len(head.records) > data_start:  # only empty lines so far
                raise _Fallback
            return
        names = [f"c{j}" for j in range(widths[0])]
        self.source.seek(head.offset(data_start))
        if self.source.read(3) == codecs.BOM_UTF8:  # pyarrow would drop it from the cell
            raise _Fallback
        self.source.seek(head.offset(data_start))
        reader = pcsv.open_csv(
            self.source,
            read_options=pcsv.ReadOptions(
                column_names=names, block_size=READ_BLOCK, use_threads=False
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                # checked on the joining thread instead (_group), off the critical path
                check_utf8=False,
            ),
        )
        self.dense = [False] * len(names)
        pending: list[pa.RecordBatch] = []
        for batch in reader:
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= GROUP_ROWS:
                yield from self._group(pa.Table.from_batches(pending).combine_chunks())
                pending = []
        if pending:
            yield from self._group(pa.Table.from_batches(pending).combine_chunks())

    def _group(self, table: pa.Table) -> Iterator[dict[str, Any]]:
        n = table.num_rows
        if not n:
            return
        cells = [table.column(j).chunk(0) for j in range(table.num_columns)]
        # Invalid UTF-8 raises ArrowInvalid here or at close: the row-by-row path then reports
        # it. Until then the main thread may work on such cells; its output is discarded.
        self.joining.submit(lambda: [c.validate(full=True) for c in cells])
        encoded = [self._encode(j, c) for j, c in enumerate(cells)]
        blank, totals = self._blank_rows(encoded), self._totals_rows(encoded, cells)
        first = self.next_row
        self.next_row += n
        drop = blank
        if totals:
            self.totals.extend(first + i for i in totals)
            flagged = pc.is_in(pa.array(range(n)), pa.array(totals))
            drop = flagged if drop is None else pc.or_(drop, flagged)
        rows = list(range(first, first + n))
        if drop is not None and drop.true_count:
            kept = pc.indices_nonzero(pc.invert(drop))
            rows = [first + i for i in kept.to_pylist()]
            cells = [pc.take(c, kept) for c in cells]
            # a dense column's values are its cells
            encoded = [
                (c, None) if i is None else (v, pc.take(i, kept))
                for c, (v, i) in zip(cells, encoded, strict=True)
            ]
        if rows:
            yield from self._write(encoded, cells, rows)

    def _encode(self, j: int, cells: pa.Array) -> tuple[Any, pa.Array | None]:
        """(distinct values as a list, indices) for a column with few distinct values in the
        group, else (the cells, None): such a column is then handled vectorised, and once it
        has been mostly distinct it is no longer encoded."""
        if not self.dense[j]:
            encoded = pc.dictionary_encode(cells)
            if len(encoded.dictionary) * 8 <= len(cells):
                return encoded.dictionary.to_pylist(), encoded.indices
            self.dense[j] = len(encoded.dictionary) * 2 > len(cells)
        return cells, None

    def _cell_flags(self, values: list[str]) -> list[tuple[bool, bool, bool]]:
        """(blank, totals candidate, strips to nothing) of distinct values, by the rules."""
        cached, out = self.flags, []
        for v in values:
            if v not in cached:
                if len(cached) >= CACHE_LIMIT:
                    cached.clear()
                cached[v] = (is_blank_row([v]), _may_be_totals([v]), not v.strip())
            out.append(cached[v])
        return out

    def _flag_rows(self, encoded: list, which: int, pattern: str) -> Iterator[pa.Array]:
        """Per source column, a bool per row: flag ``which`` of _cell_flags, or ``pattern``."""
        for values, indices in encoded:
            if indices is None:
                flags = pc.match_substring_regex(values, pattern)
                if which == 1:
                    flags = pc.and_(flags, pc.less_equal(pc.utf8_length(values), 60))
                yield flags
            else:
                flags = pa.array([f[which] for f in self._cell_flags(values)])
                yield pc.take(flags, indices)

    def _blank_rows(self, encoded: list) -> pa.Array | None:
        blank = None
        for flags in self._flag_rows(encoded, 0, _BLANK):
            blank = flags if blank is None else pc.and_(blank, flags)
            if not blank.true_count:
                return None
        self.blank += blank.true_count if blank is not None else 0
        return blank

    def _totals_rows(self, encoded: list, cells: list) -> list[int]:
        candidates = None
        for flags in self._flag_rows(encoded, 1, _TOTALS):
            if flags.true_count:
                candidates = flags if candidates is None else pc.or_(candidates, flags)
        if candidates is None:
            return []
        totals = []
        for i in pc.indices_nonzero(candidates).to_pylist():
            row = [c[i].as_py() for c in cells]
            if _may_be_totals(row) and is_totals_row(row):
                totals.append(i)
        return totals

    def _write(self, encoded: list, cells: list, rows: list[int]) -> Iterator[dict[str, Any]]:
        n, written = len(rows), len(self.row_map)
        fields: list[pa.Array] = []
        candidates: dict[int, dict[int, tuple[str, Any]]] = {}
        for col in self.columns:
            if not 0 <= col.source < len(encoded):
                fields.append(pa.repeat("", n))
                continue
            values, indices = encoded[col.source]
            block = col.dense(values) if indices is None else col.distinct(values)

            def per_row(flags: pa.Array, indices: pa.Array | None = indices) -> pa.Array:
                return flags if indices is None else pc.take(flags, indices)

            fields.append(cells[col.source] if block.same else per_row(block.field))
            for (group, kind), flags in block.kinds.items():
                hits = per_row(flags)
                if hits.true_count:
                    self._tally(col, group, kind, hits, values, indices, rows, written)
            if block.filled is not None:
                self.masked_cells[col.name] += per_row(block.filled).true_count
            if block.pii is not None and block.pii.true_count:
                for i in pc.indices_nonzero(per_row(block.pii)).to_pylist():
                    scan = block.scan(i if indices is None else indices[i].as_py())
                    if col.finds(scan):  # the vectorised pattern is only a superset
                        candidates.setdefault(i, {})[col.position] = (col.name, scan)
        overflow = self._overflow(encoded)
        check = self._check(fields, bool(overflow)) if self.checker is not None else None
        fields += overflow
        if len(self.columns) == 1:  # csv.writer quotes a record's only field when it is empty
            alone = pc.equal(fields[0], "")
            if len(fields) > 1:
                alone = pc.and_(alone, pc.is_null(fields[1]))
            fields[0] = pc.if_else(alone, '""', fields[0])
        self.joining.submit(lambda parts=tuple(fields): self._join(parts))
        if check is not None and self.checking is not None:
            self.checking.submit(check)
        self.row_map.extend(rows)
        for i in sorted(candidates):
            found = candidates[i]
            self.pii_rows.append(rows[i])
            yield {found[p][0]: found[p][1] for p in sorted(found)}

    def _join(self, fields: tuple[pa.Array, ...]) -> None:
        """Write the rows of a group's CSV fields (on the joining thread, in order)."""
        # overflow cells past the last one kept are null, and "skip" leaves them out
        lines = pc.binary_join_element_wise(*fields, ",", null_handling="skip")
        lines = pc.binary_join_element_wise(lines, "\n", "")
        size = pc.sum(pc.binary_length(lines)).as_py()
        if lines.offset:
            lines = pa.concat_arrays([lines])
        self.out.write(memoryview(lines.buffers()[2])[:size])

    def _check(self, fields: list[pa.Array], overflow: bool) -> Callable[[], None] | None:
        """The validation of the rows as a CSV reader will read them back (the fields
        unquoted), to run on the checking thread. Rows with cells beyond the header, or a CR
        that csv.writer leaves unquoted, read back otherwise: then the caller validates the
        file instead."""
        if overflow:
            self.checker = None
            return None
        checker = self.checker

        def check() -> None:
            if self.checker is None:
                return
            cells = [unquoted(f) for f in fields]
            if not quotes_cr() and any(_holds_cr(c) for c in cells):
                self.checker = None
                return
            try:
                checker.check_cells(cells)
            except Exception:  # the file is validated afterwards instead, never skipped
                self.checker = None

        return check

    def _overflow(self, encoded: list) -> list[pa.Array]:
        """Cells beyond the header as written, null past the last one that is not blank in
        each row (prepare_table drops trailing blank cells)."""
        if not self.keep_overflow or len(encoded) <= self.width:
            return []
        extra = encoded[self.width :]
        blanks = list(self._flag_rows(extra, 2, _STRIPS_EMPTY))
        if all(b.false_count == 0 for b in blanks):
            return []
        keep = None
        out: list[pa.Array] = []
        for (values, indices), blank in zip(reversed(extra), reversed(blanks), strict=True):
            keep = pc.invert(blank) if keep is None else pc.or_(keep, pc.invert(blank))
            if indices is None:
                text = quoted(values)
            else:
                text = pc.take(pa.array([quote(v) for v in values], pa.string()), indices)
            out.append(pc.if_else(keep, text, pa.scalar(None, pa.string())))
        return out[::-1]

    def _tally(self, col, group, kind, hits, values, indices, rows, written) -> None:
        key = (group, col.name, kind)
        examples: list[dict[str, Any]] = []
        first: tuple = ()
        wanted = self.tallies.wanted(key)
        if wanted > 0:
            for i in pc.indices_nonzero(hits)[:wanted].to_pylist():
                raw = values[i] if indices is None else values[indices[i].as_py()]
                raw = raw.as_py() if isinstance(raw, pa.Scalar) else raw
                _, report, years = normalise_cell(raw, col.name, col.ntype, col.year, rows[i])
                kinds = [e["kind"] for e in (report if group == "n" else years)]
                if kind not in kinds:  # the vectorised rules disagree with the Normaliser
                    raise _Fallback
                entry = (report if group == "n" else years)[kinds.index(kind)]
                examples.append(entry["examples"][0])
                first = first or (written + i, col.position, kinds.index(kind))
        self.tallies.add(key, hits.true_count, first, examples)
