"""Fast streaming validation of a normalised CSV file against a frictionless Table Schema.

:func:`validate_csv` returns the same findings, in the same order, as frictionless'
``validate()`` (see :func:`schemas.tables.frictionless_validate`), many times faster and in
bounded memory, and can hand typed pyarrow batches to the datastore loader on the way.

How it stays equal to frictionless:

- The file is read in blocks by pyarrow's streaming CSV reader, every column as text. A
  record with too few or too many cells, or anything else pyarrow cannot read, switches the
  rest of the file to Python's ``csv`` module (frictionless' own reader), starting at the
  first row not yet checked, so row numbers stay exact.
- Each column is checked with vectorised pyarrow kernels on a fast path that accepts only
  plain spellings frictionless surely reads the same way (``-?[0-9]+`` for integers,
  ``YYYY-MM-DD`` for dates, ...). Any other non-blank cell (``" 7"``, ``"1e3"``, Thai digits,
  an impossible date) is read by frictionless' own cell reader, one by one. Errors are rare
  in real files, so the slow path costs little.
- A number is compared to a bound in float64; floats are rounded monotonically, so only a
  cell whose float equals the bound's float needs frictionless' exact decimal comparison.
- Within a row, findings follow frictionless' order: type or constraint errors field by
  field, extra cells, missing cells (a blank row replaces all of those with one
  ``blank-row``), then ``unique-error`` and ``primary-key``.

Rows are numbered as frictionless does: the header is row 1, the first data row is row 2.
``unique`` and ``primaryKey`` keep one dictionary entry per distinct key, so memory grows
with the number of distinct keys only; everything else is bounded by the block size.
Not supported (ValueError): ``fieldsMatch`` other than ``exact``, and ``foreignKeys``.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from harvesters.validate_columns import (
    DEFAULT_BLOCK_SIZE,
    BatchCallback,
    Checked,
    Column,
    ValidationResult,
    arrow_schema,
    where,
)
from schemas.tables import (
    DEFAULT_LIMIT_ERRORS,
    FieldRules,
    Finding,
    TableRules,
    any_field_rules,
    make_finding,
    table_rules,
)

# Reading ------------------------------------------------------------------------------------


@dataclass
class _Batch:
    first_row: int
    columns: list[pa.Array]
    absent: list[pa.Array | None]
    extra: list[tuple[int, int, str]] = field(default_factory=list)  # (offset, position, cell)


class _Following(io.RawIOBase):
    """Reads a file another thread is still writing: at its end, waits for more bytes until
    `done` is set (after the writer closed it)."""

    def __init__(self, path: Path, done: threading.Event) -> None:
        super().__init__()
        self._file = path.open("rb", buffering=0)
        self._done = done

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        while True:
            n = self._file.readinto(buffer)
            if n:
                return n
            if self._done.is_set():
                # the last bytes may have landed between that read and the check
                return self._file.readinto(buffer) or 0
            self._done.wait(0.002)

    def skip(self, count: int) -> None:
        """Move on `count` bytes, waiting for them to be written."""
        while count > 0:
            data = self.read(min(count, 1 << 20))
            if not data:
                return
            count -= len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


def _open(path: Path, follow: threading.Event | None, offset: int = 0) -> BinaryIO:
    """The file for reading from `offset`; followed as it grows when `follow` is given."""
    if follow is None:
        handle = path.open("rb")
        handle.seek(offset)
        return handle
    raw = _Following(path, follow)
    raw.skip(offset)
    return io.BufferedReader(raw, 1 << 20)


class _Stop(Exception):
    """pyarrow cannot go on exactly; Python's csv takes over at the first unchecked row."""


def _read_header(path: Path, follow: threading.Event | None) -> tuple[list[str] | None, int]:
    """Read the header record as frictionless does; return (labels, byte offset of data).

    labels is None for an empty file and [] for a blank first line.
    """
    consumed = 0
    with _open(path, follow) as handle:

        def lines() -> Iterator[str]:
            nonlocal consumed
            encoding = "utf-8-sig"
            while line := handle.readline():
                consumed += len(line)
                yield line.decode(encoding)
                encoding = "utf-8"

        labels = next(csv.reader(lines()), None)
    return labels, consumed


def _arrow_batches(
    path: Path, offset: int, width: int, block_size: int, follow: threading.Event | None
) -> Iterator[_Batch]:
    """Batches read by pyarrow; raise _Stop where Python's csv must take over."""
    if follow is None and offset >= os.path.getsize(path):
        return
    ragged: list[bool] = []

    def on_invalid_row(_row: Any) -> str:
        ragged.append(True)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    if follow is None:
        source: Any = pa.OSFile(str(path))
        source.seek(offset)
    else:
        source = _open(path, follow, offset)
        if not source.peek(1):
            source.close()
            return
    try:
        reader = pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(
                column_names=names, block_size=block_size, use_threads=False
            ),
            parse_options=pcsv.ParseOptions(
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        first_row = 2
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            # A skipped record shifts the row numbers of its whole block: redo it in Python.
            if ragged:
                raise _Stop
            yield _Batch(first_row, list(batch.columns), [None] * width)
            first_row += batch.num_rows
    except pa.ArrowInvalid as exc:
        raise _Stop from exc
    finally:
        source.close()


def _python_batches(
    path: Path, offset: int, width: int, skip: int, batch_rows: int, follow: threading.Event | None
) -> Iterator[_Batch]:
    """Batches read by Python's csv module (exact for any shape), after ``skip`` rows."""
    with _open(path, follow, offset) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        reader = csv.reader(text)
        for _ in range(skip):
            next(reader, None)
        first_row = 2 + skip
        while True:
            rows = [row for _, row in zip(range(batch_rows), reader, strict=False)]
            if not rows:
                return
            columns, absent = [], []
            for j in range(width):
                columns.append(pa.array([r[j] if j < len(r) else "" for r in rows], pa.string()))
                short = [j >= len(r) for r in rows]
                absent.append(pa.array(short, pa.bool_()) if any(short) else None)
            extra = [
                (i, j + 1, cell)
                for i, r in enumerate(rows)
                if len(r) > width
                for j, cell in enumerate(r[width:], start=width)
            ]
            yield _Batch(first_row, columns, absent, extra)
            first_row += len(rows)


# Header and rows ------------------------------------------------------------------------------


def _header_findings(labels: list[str], rules: TableRules) -> list[Finding]:
    """Label findings of frictionless' ``exact`` fields match, in its order."""
    fields = rules.fields
    found = [
        make_finding("extra-label", 1, None, label, position=number)
        for number, label in enumerate(labels, start=1)
        if number > len(fields)
    ]
    found += [
        make_finding("missing-label", 1, f.name, "", position=number)
        for number, f in enumerate(fields[len(labels) :], start=len(labels) + 1)
    ]
    for number, (f, label) in enumerate(zip(fields, labels, strict=False), start=1):
        if not label:
            found.append(make_finding("blank-label", 1, f.name, "", position=number))
            continue
        earlier = [str(n) for n, seen in enumerate(labels[: number - 1], start=1) if seen == label]
        if earlier:
            note = 'at position "{}"'.format(", ".join(earlier))
            found.append(
                make_finding("duplicate-label", 1, f.name, label, position=number, note=note)
            )
        elif label != f.name:
            found.append(make_finding("incorrect-label", 1, f.name, label, position=number))
    return found


def _expected_fields(labels: list[str], rules: TableRules) -> list[FieldRules]:
    """The field frictionless pairs with each column: by position, ``any`` beyond the schema."""
    if not labels:
        return list(rules.fields)
    used = {f.name for f in rules.fields[: len(labels)]}
    expected = list(rules.fields[: len(labels)])
    for label in labels[len(rules.fields) :]:
        name, suffix = label, 2
        while name in used:
            name, suffix = f"{label}{suffix}", suffix + 1
        used.add(name)
        expected.append(any_field_rules(name))
    return expected


@dataclass
class _RowEvents:
    """One row's findings, before they are put in frictionless' order."""

    cells: dict[int, list[tuple[int, Finding]]] = field(default_factory=dict)  # position ->
    extra: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)
    unique: dict[int, Finding] = field(default_factory=dict)
    pk: Finding | None = None
    blank: Finding | None = None


class _Rows:
    """Turns column checks into findings per row; keeps unique and primary-key memory."""

    def __init__(self, fields: list[FieldRules], rules: TableRules, want_typed: bool) -> None:
        names = [f.name for f in fields]
        has_pk = rules.primary_key and set(rules.primary_key) <= set(names)
        self.pk = [names.index(n) for n in rules.primary_key] if has_pk else []
        self.unique = [i for i, f in enumerate(fields) if f.unique]
        keyed = set(self.pk) | set(self.unique)
        self.columns = [Column(f, i + 1, i in keyed, want_typed) for i, f in enumerate(fields)]
        self.seen_unique: dict[int, dict[Any, int]] = {i: {} for i in self.unique}
        self.seen_pk: dict[tuple[Any, ...], int] = {}

    def check(self, batch: _Batch, findings: bool = True) -> tuple[list[Finding], list[pa.Array]]:
        """Return the batch's findings in frictionless' order, and its typed columns."""
        columns = zip(self.columns, batch.columns, batch.absent, strict=True)
        checked = [column.check(raw, absent) for column, raw, absent in columns]
        if not findings:
            return [], [r.typed for r in checked]
        rows: dict[int, _RowEvents] = {}
        first = batch.first_row
        for col, result, absent in zip(self.columns, checked, batch.absent, strict=True):
            name, position = col.rules.name, col.position
            for i, order, kind, value, note in result.events:
                finding = make_finding(kind, first + i, name, value, position=position, note=note)
                cells = rows.setdefault(i, _RowEvents()).cells.setdefault(position, [])
                cells.append((order, finding))
            for i in where(absent) if absent is not None else []:
                finding = make_finding("missing-cell", first + i, name, "", position=position)
                rows.setdefault(i, _RowEvents()).missing.append(finding)
        for i, position, cell in batch.extra:
            finding = make_finding("extra-cell", first + i, None, cell, position=position)
            rows.setdefault(i, _RowEvents()).extra.append(finding)
        if checked:
            blanks = sorted((r.blank for r in checked), key=lambda b: b.true_count)
            blank = blanks[0]
            for other in blanks[1:] if blank.true_count else []:
                blank = pc.and_(blank, other)
            for i in where(blank):
                rows.setdefault(i, _RowEvents()).blank = make_finding("blank-row", first + i)
        self._integrity(checked, first, rows)
        return [f for i in sorted(rows) for f in self._ordered(rows[i])], [r.typed for r in checked]

    def _integrity(self, checked: list[Checked], first: int, rows: dict[int, _RowEvents]) -> None:
        for j in self.unique:
            seen, col = self.seen_unique[j], self.columns[j]
            for i, key in enumerate(checked[j].keys or []):
                if key is None:
                    continue
                match = seen.get(key)
                seen[key] = first + i
                if match:
                    note = f"the same as in the row at position {match}"
                    finding = make_finding(
                        "unique-error",
                        first + i,
                        col.rules.name,
                        str(key),
                        position=col.position,
                        note=note,
                    )
                    rows.setdefault(i, _RowEvents()).unique[col.position] = finding
        if not self.pk:
            return
        keys = zip(*[checked[j].keys or [] for j in self.pk], strict=True)
        for i, key in enumerate(keys):
            if all(k is None for k in key):
                note = 'cells composing the primary keys are all "None"'
            else:
                match = self.seen_pk.get(key)
                self.seen_pk[key] = first + i
                if not match:
                    continue
                note = f"the same as in the row at position {match}"
            rows.setdefault(i, _RowEvents()).pk = make_finding("primary-key", first + i, note=note)

    def _ordered(self, row: _RowEvents) -> list[Finding]:
        """Replay frictionless' order: the unique and primary-key checks read their cells
        (and so report those cells' errors) first, and a hit there makes the row process
        all its other cells before the hit is reported."""
        out: list[Finding] = []
        done: set[int] = set()
        finished = False

        def process(position: int) -> None:
            if position not in done:
                done.add(position)
                out.extend(f for _, f in sorted(row.cells.get(position, []), key=lambda e: e[0]))

        def finish() -> None:
            nonlocal finished, out
            if finished:
                return
            finished = True
            for position in sorted(row.cells):
                process(position)
            out += row.extra + row.missing
            if row.blank is not None:
                out = [row.blank]

        for j in self.unique:
            process(j + 1)
            if j + 1 in row.unique:
                finish()
                out.append(row.unique[j + 1])
        for j in self.pk:
            process(j + 1)
        if row.pk is not None:
            finish()
            out.append(row.pk)
        finish()
        return out


# Entry point ----------------------------------------------------------------------------------


def validate_csv(
    path: str | Path,
    schema: dict[str, Any],
    *,
    limit_errors: int | None = DEFAULT_LIMIT_ERRORS,
    on_batch: BatchCallback | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    follow: threading.Event | None = None,
) -> ValidationResult:
    """Validate a normalised UTF-8 CSV file (comma, double quotes, header row) against a
    Table Schema, with the findings frictionless' ``validate()`` would report.

    :param path: the CSV file.
    :param schema: a valid Table Schema descriptor (see :func:`schemas.tables.load_table_schema`).
    :param limit_errors: keep at most this many findings, like frictionless (default 1000);
        None keeps them all. Rows are still all read and counted.
    :param on_batch: called with each typed batch (see :func:`arrow_schema`), in file order;
        cells of a bad type or blank are null, the schema's columns absent from the file are
        all null, extra columns are dropped.
    :param block_size: bytes per block read by pyarrow (bounds memory).
    :param follow: the file is still being written by another thread; read on as it grows
        until this event is set (after the writer closed the file).
    :raises ValueError: for an invalid schema, or one using ``fieldsMatch`` other than
        ``exact`` or ``foreignKeys``.
    """
    path = Path(path)
    rules = table_rules(schema)
    if rules.fields_match != "exact" or rules.foreign_keys:
        raise ValueError("fieldsMatch other than 'exact' and foreignKeys are not supported")
    output = arrow_schema(schema)
    findings: list[Finding] = []
    try:
        labels, offset = _read_header(path, follow)
    except UnicodeDecodeError as exc:
        return ValidationResult([make_finding("encoding-error", None, note=str(exc))], 0, False)
    if labels is None:
        source = make_finding("source-error", None, note="the source is empty")
        return ValidationResult([source], 0, False)
    findings += _header_findings(labels, rules) if labels else []
    fields = _expected_fields(labels, rules)
    rows = _Rows(fields, rules, on_batch is not None)
    width = len(fields)
    row_count = 0
    truncated = False
    limit = limit_errors or None
    positions = {f.name: i for i, f in enumerate(fields) if i < len(rules.fields)}

    def consume(batch: _Batch) -> None:
        nonlocal row_count, truncated, findings
        n = len(batch.columns[0]) if batch.columns else 0
        row_count += n
        found, typed = rows.check(batch, findings=not truncated)
        if not truncated:
            findings += found
            if limit is not None and len(findings) >= limit:
                findings, truncated = findings[:limit], True
        if on_batch is not None:
            arrays = [
                typed[positions[f.name]] if f.name in positions else pa.nulls(n, f.type)
                for f in output
            ]
            on_batch(pa.RecordBatch.from_arrays(arrays, schema=output))

    # pyarrow cannot tell a blank line from a row of empty cells; that matters only when
    # "" is not a missing value, so then Python's csv reads the whole file.
    blank_is_missing = all("" in f.missing_values for f in fields)
    done = 0
    try:
        if blank_is_missing and width > 0:
            for batch in _arrow_batches(path, offset, width, block_size, follow):
                consume(batch)
                done = row_count
    except _Stop:
        pass
    else:
        if blank_is_missing and width > 0:
            return ValidationResult(findings, row_count, truncated)
    try:
        for batch in _python_batches(path, offset, width, done, 20_000, follow):
            consume(batch)
    except UnicodeDecodeError as exc:
        findings.append(make_finding("encoding-error", None, note=str(exc)))
    return ValidationResult(findings, row_count, truncated)
