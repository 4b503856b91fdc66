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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


class _Stop(Exception):
    """pyarrow cannot go on exactly; Python's csv takes over at the first unchecked row."""


def _read_header(path: Path) -> tuple[list[str] | None, int]:
    """Read the header record as frictionless does; return (labels, byte offset of data).

    labels is None for an empty file and [] for a blank first line.
    """
    consumed = 0
    with path.open("rb") as handle:

        def lines() -> Iterator[str]:
            nonlocal consumed
            encoding = "utf-8-sig"
            while line := handle.readline():
                consumed += len(line)
                yield line.decode(encoding)
                encoding = "utf-8"

        labels = next(csv.reader(lines()), None)
    return labels, consumed


def _arrow_batches(path: Path, offset: int, width: int, block_size: int) -> Iterator[_Batch]:
    """Batches read by pyarrow; raise _Stop where Python's csv must take over."""
    if offset >= os.path.getsize(path):
        return
    ragged: list[bool] = []

    def on_invalid_row(_row: Any) -> str:
        ragged.append(True)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    source = pa.OSFile(str(path))
    source.seek(offset)
    try:
        reader = pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(column_names=names, block_size=block_size),
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
    path: Path, offset: int, width: int, skip: int, batch_rows: int
) -> Iterator[_Batch]:
    """Batches read by Python's csv module (exact for any shape), after ``skip`` rows."""
    with path.open("rb") as raw:
        raw.seek(offset)
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


def _supported_rules(schema: dict[str, Any]) -> TableRules:
    rules = table_rules(schema)
    if rules.fields_match != "exact" or rules.foreign_keys:
        raise ValueError("fieldsMatch other than 'exact' and foreignKeys are not supported")
    return rules


class TableChecker:
    """Checks a table's rows against a Table Schema as they come, with the findings
    frictionless' ``validate()`` would report: the state of :func:`validate_csv`, which feeds
    it from a CSV file, and of ``prepare_table``, which feeds it the cells it writes.

    :param labels: the header of the table.
    :param limit_errors: keep at most this many findings (None: all); rows are still counted.
    :param on_batch: see :func:`validate_csv`.
    :raises ValueError: for an invalid schema, or one using ``fieldsMatch`` other than
        ``exact`` or ``foreignKeys``.
    """

    def __init__(
        self,
        schema: dict[str, Any],
        labels: list[str],
        *,
        limit_errors: int | None = DEFAULT_LIMIT_ERRORS,
        on_batch: BatchCallback | None = None,
    ) -> None:
        rules = _supported_rules(schema)
        self.output = arrow_schema(schema)
        self.findings: list[Finding] = _header_findings(labels, rules) if labels else []
        self.fields = _expected_fields(labels, rules)
        self.width = len(self.fields)
        self.row_count = 0
        self.truncated = False
        self._rows = _Rows(self.fields, rules, on_batch is not None)
        self._limit = limit_errors or None
        self._on_batch = on_batch
        self._positions = {f.name: i for i, f in enumerate(self.fields) if i < len(rules.fields)}
        # pyarrow cannot tell a blank line from a row of empty cells; that matters only when
        # "" is not a missing value, so then Python's csv reads the whole file.
        self.blank_is_missing = self.width > 0 and all("" in f.missing_values for f in self.fields)

    def check(self, batch: _Batch) -> None:
        """Check the next rows (a batch of whole rows, in order)."""
        n = len(batch.columns[0]) if batch.columns else 0
        self.row_count += n
        found, typed = self._rows.check(batch, findings=not self.truncated)
        if not self.truncated:
            self.findings += found
            if self._limit is not None and len(self.findings) >= self._limit:
                self.findings, self.truncated = self.findings[: self._limit], True
        if self._on_batch is not None:
            arrays = [
                typed[self._positions[f.name]] if f.name in self._positions else pa.nulls(n, f.type)
                for f in self.output
            ]
            self._on_batch(pa.RecordBatch.from_arrays(arrays, schema=self.output))

    def check_cells(self, columns: list[pa.Array]) -> None:
        """Check the next rows given as one string array per column (a row of the header's
        width each, as a CSV reader would give them)."""
        self.check(_Batch(self.row_count + 2, columns, [None] * self.width))

    def result(self) -> ValidationResult:
        return ValidationResult(self.findings, self.row_count, self.truncated)


def validate_csv(
    path: str | Path,
    schema: dict[str, Any],
    *,
    limit_errors: int | None = DEFAULT_LIMIT_ERRORS,
    on_batch: BatchCallback | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
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
    :raises ValueError: for an invalid schema, or one using ``fieldsMatch`` other than
        ``exact`` or ``foreignKeys``.
    """
    path = Path(path)
    _supported_rules(schema)  # a bad schema is refused before the file is read
    try:
        labels, offset = _read_header(path)
    except UnicodeDecodeError as exc:
        return ValidationResult([make_finding("encoding-error", None, note=str(exc))], 0, False)
    if labels is None:
        source = make_finding("source-error", None, note="the source is empty")
        return ValidationResult([source], 0, False)
    checker = TableChecker(schema, labels, limit_errors=limit_errors, on_batch=on_batch)
    done = 0
    try:
        if checker.blank_is_missing:
            for batch in _arrow_batches(path, offset, checker.width, block_size):
                checker.check(batch)
                done = checker.row_count
    except _Stop:
        pass
    else:
        if checker.blank_is_missing:
            return checker.result()
    try:
        for batch in _python_batches(path, offset, checker.width, done, batch_rows=20_000):
            checker.check(batch)
    except UnicodeDecodeError as exc:
        checker.findings.append(make_finding("encoding-error", None, note=str(exc)))
    return checker.result()
