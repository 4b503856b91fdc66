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
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from schemas.tables import (
    DEFAULT_LIMIT_ERRORS,
    FieldRules,
    Finding,
    TableRules,
    any_field_rules,
    make_finding,
    table_rules,
)

_ARROW_TYPES = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}
# Fast spellings; the bounded forms are used for a batch whose cast overflows.
_FAST_RE = {"integer": r"^-?[0-9]+$", "number": r"^-?[0-9]+(?:\.[0-9]+)?$"}
_BOUNDED_RE = {"integer": r"^-?[0-9]{1,18}$", "number": r"^-?[0-9]{1,40}(?:\.[0-9]{1,40})?$"}
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_URI_RE = r"^[A-Za-z][A-Za-z0-9+.\-]*:"
# Python and RE2 agree on a pattern made of literals, classes with explicit ranges,
# groups, alternation and quantifiers; escapes such as \d or \w differ (Unicode vs ASCII).
_RE2_UNSAFE = re.compile(r"\\[A-Za-z0-9]|\(\?|\[:|\{,|\$")
# constraint -> the comparison that breaks it
_BOUNDS = {
    "minimum": pc.less,
    "maximum": pc.greater,
    "exclusiveMinimum": pc.less_equal,
    "exclusiveMaximum": pc.greater_equal,
}
_OUTPUT_TYPES = {**_ARROW_TYPES, "year": pa.int64()}
BatchCallback = Callable[[pa.RecordBatch], object]
_TRUE, _FALSE = pa.scalar(True), pa.scalar(False)
DEFAULT_BLOCK_SIZE = 1 << 20
"""Bytes pyarrow parses at a time; peak memory grows with it (about 170 MB at 1 MiB)."""


@dataclass(frozen=True)
class ValidationResult:
    """What :func:`validate_csv` found.

    :param findings: findings in frictionless' order, at most ``limit_errors`` of them.
    :param row_count: number of data rows (blank rows included), as frictionless counts them.
    :param truncated: True when findings were cut at ``limit_errors`` (rows were still all
        read, counted and passed to ``on_batch``).
    """

    findings: list[Finding]
    row_count: int
    truncated: bool


def arrow_schema(schema: dict[str, Any]) -> pa.Schema:
    """The pyarrow schema of the typed batches: integer and year -> int64, number -> float64,
    boolean -> bool, date -> date32, anything else -> string (the cell text)."""
    rules = table_rules(schema)
    return pa.schema([(f.name, _OUTPUT_TYPES.get(f.type, pa.string())) for f in rules.fields])


# One column ---------------------------------------------------------------------------------


@dataclass
class _Checked:
    blank: pa.BooleanArray
    typed: pa.Array
    events: list[tuple[int, int, str, str, str]]  # (offset, order, type, value, note)
    keys: list[Any] | None = None


def _where(mask: pa.Array | None) -> list[int]:
    if mask is None or not mask.true_count:
        return []
    return pc.indices_nonzero(mask).to_pylist()


def _python_value(value: Any, arrow_type: pa.DataType, cell: str) -> Any:
    if value is None:
        return None
    if arrow_type == pa.int64():
        return value if isinstance(value, int) and -(2**63) <= value < 2**63 else None
    if arrow_type == pa.float64():
        return float(value)
    if arrow_type == pa.string():
        return cell  # the text as written, for types without an Arrow twin (time, ...)
    return value


class _Column:
    """Checks one column of text cells the way frictionless checks its field."""

    def __init__(self, rules: FieldRules, position: int, want_keys: bool, want_typed: bool):
        self.rules, self.position, self.want_keys = rules, position, want_keys
        self.arrow_type = _OUTPUT_TYPES.get(rules.type, pa.string())
        self.missing = pa.array(rules.missing_values, pa.string())
        # scalars are built once: converting Python values costs more than the kernels
        self.null = pa.scalar(None, self.arrow_type)
        self.null_text = pa.scalar(None, pa.string())
        self.empty = pa.scalar("")
        self.true_values = pa.array(rules.true_values, pa.string())
        self.false_values = pa.array(rules.false_values, pa.string())
        booleans = set(rules.true_values) | set(rules.false_values)
        self.blank_reads_as_bool = bool(booleans & set(rules.missing_values))
        self.constraints = dict(rules.constraints)
        self.order = {name: i + 1 for i, name in enumerate(self.constraints)}
        self.notes = {name: f'constraint "{name}" is "{v}"' for name, v in rules.constraints}
        self.type_note = f'type is "{rules.type}/{rules.format}"'
        self.want_typed = want_typed or want_keys or bool(set(self.constraints) - {"required"})
        # the fast path knows the default spellings only
        self.slow_only = (
            rules.decimal_char != "."
            or (rules.type == "date" and rules.format != "default")
            or (rules.type not in _ARROW_TYPES and rules.type != "any")
        ) and not (rules.type == "string" and rules.format in ("default", "uri"))
        limits = {n: rules.read(v)[0] for n, v in rules.constraints if n in _BOUNDS}
        self.slow_only |= any(value is None for value in limits.values())
        floats = rules.type == "number"
        self.bounds: dict[str, pa.Scalar] = {}
        try:
            self.bounds = {
                name: pa.scalar(float(value) if floats else value, self.arrow_type)
                for name, value in limits.items()
            }
            if "enum" in self.constraints:
                values = [rules.read(v)[0] for v in self.constraints["enum"]]
                self.enum = pa.array(values, self.arrow_type)
                # numbers need exact Decimal equality; None marks a quirky enum entry
                self.slow_only |= floats or any(v is None for v in values)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            self.slow_only = True  # limits Arrow cannot hold: frictionless judges every cell
        pattern = self.constraints.get("pattern")
        self.python_re = re.compile(f"^{pattern}$") if pattern is not None else None
        self.re2: str | None = None
        if pattern is not None and not _RE2_UNSAFE.search(pattern):
            self.re2 = f"^(?:^{pattern}$)"
            try:
                pc.match_substring_regex(pa.array([""]), self.re2)
            except pa.ArrowInvalid:
                self.re2 = None

    def check(self, raw: pa.Array, absent: pa.Array | None) -> _Checked:
        """Check one batch of cells; ``absent`` marks cells the row did not have at all."""
        if self.rules.missing_values == ("",):
            blank = pc.equal(raw, self.empty)
        else:
            blank = pc.is_in(raw, value_set=self.missing)
        if absent is not None:
            blank = pc.or_(blank, absent)
        events: list[tuple[int, int, str, str, str]] = []
        if self.constraints.get("required"):
            for i in _where(blank):
                value = "" if absent is not None and absent[i].as_py() else raw[i].as_py()
                events.append(
                    (i, self.order["required"], "constraint-error", value, self.notes["required"])
                )
        # typed: the value of each surely valid cell, null elsewhere; bad: surely a type error;
        # slow: cells only frictionless' own reader can judge.
        typed, bad, slow = self._parse(raw, blank)
        events += [(i, 0, "type-error", raw[i].as_py(), self.type_note) for i in _where(bad)]
        checked = typed
        if self.bounds and self.rules.type == "number" and not self.slow_only:
            # floats round monotonically: only a cell whose float ties a bound needs Decimal
            ties = None
            for bound in self.bounds.values():
                tie = pc.equal(typed, bound)
                ties = tie if ties is None else pc.or_(ties, tie)
            if ties is not None and ties.true_count:
                ties = ties.fill_null(False)
                slow = ties if slow is None else pc.or_(slow, ties)
                checked = pc.if_else(ties, self.null, typed)
        for name, violated in self._violations(checked):
            note, order = self.notes[name], self.order[name]
            events += [
                (i, order, "constraint-error", raw[i].as_py(), note) for i in _where(violated)
            ]
        slow_values, replacements = self._read_slow(raw, slow, events)
        if slow_values:
            typed = pc.replace_with_mask(typed, slow, pa.array(replacements, self.arrow_type))
        result = _Checked(blank=blank, typed=typed, events=events)
        if self.want_keys:
            result.keys = self._keys(raw, typed, slow_values)
        return result

    def _read_slow(
        self, raw: pa.Array, slow: pa.Array | None, events: list[Any]
    ) -> tuple[dict[int, Any], list[Any]]:
        """Read the slow cells with frictionless' reader: (values by row, typed replacements)."""
        rows = _where(slow)
        values: dict[int, Any] = {}
        replacements: list[Any] = []
        if not rows:
            return values, replacements
        cells = pc.take(raw, pa.array(rows, pa.int64())).to_pylist()
        for i, cell in zip(rows, cells, strict=True):
            try:
                values[i], notes = self.rules.read(cell)
            except ArithmeticError:  # frictionless itself fails on "sNaN" with bounds
                values[i], notes = None, {"type": self.type_note}
            for name, note in (notes or {}).items():
                kind = "type-error" if name == "type" else "constraint-error"
                events.append((i, self.order.get(name, 0), kind, cell, note))
            replacements.append(_python_value(values[i], self.arrow_type, cell))
        return values, replacements

    def _parse(self, raw: pa.Array, blank: pa.Array) -> tuple[pa.Array, Any, Any]:
        """Return (typed values, bad-type mask or None, slow mask or None)."""
        kind, n = self.rules.type, len(raw)
        if self.slow_only:
            return pa.nulls(n, self.arrow_type), None, pc.invert(blank)
        if kind in ("string", "any"):
            if self.rules.format == "uri":
                slow = pc.invert(pc.or_(blank, pc.match_substring_regex(raw, _URI_RE)))
                return pc.if_else(pc.or_(blank, slow), self.null, raw), None, slow
            if not self.want_typed:
                return pa.nulls(n, pa.string()), None, None
            return self._unless(blank, raw), None, None
        if kind == "boolean":
            false = pc.is_in(raw, value_set=self.false_values)
            true = pc.is_in(raw, value_set=self.true_values)
            # frictionless maps true values first, so a value in both lists reads as false
            typed = pc.if_else(false, _FALSE, pc.if_else(true, _TRUE, self.null))
            if self.blank_reads_as_bool:
                typed = self._unless(blank, typed)
            if typed.null_count == blank.true_count:  # every other cell is a boolean
                return typed, None, None
            return typed, pc.and_not(pc.is_null(typed), blank), None
        if kind == "date":
            fast = pc.and_not(pc.match_substring_regex(raw, _DATE_RE), blank)
            fast = pc.and_(fast, self._real_dates(raw))
            text = pc.if_else(fast, raw, self.null_text)
            typed = pc.cast(pc.cast(text, pa.timestamp("s")), pa.date32())
            return typed, None, pc.invert(pc.or_(blank, fast))
        for pattern in (_FAST_RE[kind], _BOUNDED_RE[kind]):
            fast = pc.and_not(pc.match_substring_regex(raw, pattern), blank)
            everything = fast.true_count == n
            try:
                text = raw if everything else pc.if_else(fast, raw, self.null_text)
                typed = pc.cast(text, self.arrow_type)
                break
            except pa.ArrowInvalid:  # a huge number: its cell takes the slow path
                continue
        if fast.true_count + blank.true_count == n:  # fast and blank are disjoint
            return typed, None, None
        return typed, None, pc.invert(pc.or_(blank, fast))

    def _unless(self, mask: pa.Array, values: pa.Array) -> pa.Array:
        """values, null where mask is true."""
        return pc.if_else(mask, self.null, values) if mask.true_count else values

    @staticmethod
    def _real_dates(raw: pa.Array) -> pa.Array:
        """Whether YYYY-MM-DD text is a date that exists (year 1 on), without raising."""

        def part(start: int, stop: int) -> pa.Array:
            digits = pc.utf8_slice_codeunits(raw, start, stop)
            ok = pc.match_substring_regex(digits, "^[0-9]+$")
            return pc.cast(pc.if_else(ok, digits, pa.scalar(None, pa.string())), pa.int32())

        year, month, day = part(0, 4), part(5, 7), part(8, 10)
        leap = pc.and_(
            pc.equal(pc.bit_wise_and(year, 3), 0),
            pc.or_(pc.not_equal(pc.remainder(year, 100), 0), pc.equal(pc.remainder(year, 400), 0)),
        )
        in_range = pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12))
        month_days = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int32())
        days = pc.add(
            pc.take(month_days, pc.if_else(in_range, month, 0)),
            pc.if_else(pc.and_(leap, pc.equal(month, 2)), 1, 0),
        )
        ok = pc.and_(pc.and_(pc.greater_equal(year, 1), in_range), pc.greater_equal(day, 1))
        return pc.and_(ok, pc.less_equal(day, days)).fill_null(False)

    def _violations(self, typed: pa.Array) -> Iterator[tuple[str, pa.Array]]:
        """Yield (constraint, mask of cells breaking it); typed is null where not to check."""
        if self.slow_only:
            return
        for name, limit in self.constraints.items():
            if name in _BOUNDS:
                yield name, _BOUNDS[name](typed, self.bounds[name])
            elif name == "enum":
                known = pc.is_in(typed, value_set=self.enum)
                if known.true_count < len(typed) - typed.null_count:
                    yield name, pc.and_not(pc.is_valid(typed), known)
            elif name == "minLength":
                yield name, pc.less(pc.utf8_length(typed), limit)
            elif name == "maxLength":
                yield name, pc.greater(pc.utf8_length(typed), limit)
            elif name == "pattern":
                yield name, self._pattern_violations(typed)

    def _pattern_violations(self, typed: pa.Array) -> pa.Array:
        # Python's "$" also matches before a final newline, and some patterns mean other
        # things to RE2: such cells are matched by Python.
        if self.re2 is not None:
            suspects = pc.match_substring(typed, "\n")
            bad = pc.and_not(pc.invert(pc.match_substring_regex(typed, self.re2)), suspects)
        else:
            suspects, bad = pc.is_valid(typed), None
        rows = _where(suspects)
        if not rows:
            return bad
        assert self.python_re is not None
        cells = pc.take(typed, pa.array(rows, pa.int64())).to_pylist()
        flags = [False] * len(typed)
        for i, cell in zip(rows, cells, strict=True):
            flags[i] = self.python_re.match(cell) is None
        python_bad = pa.array(flags, pa.bool_())
        return python_bad if bad is None else pc.or_(bad, python_bad)

    def _keys(self, raw: pa.Array, typed: pa.Array, slow_values: dict[int, Any]) -> list[Any]:
        if self.rules.type == "number":
            text = pc.if_else(pc.is_valid(typed), raw, pa.scalar(None, pa.string()))
            keys = [None if c is None else Decimal(c) for c in text.to_pylist()]
        else:
            keys = typed.to_pylist()
        for i, value in slow_values.items():
            keys[i] = value
        return keys


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
        self.columns = [_Column(f, i + 1, i in keyed, want_typed) for i, f in enumerate(fields)]
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
            for i in _where(absent) if absent is not None else []:
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
            for i in _where(blank):
                rows.setdefault(i, _RowEvents()).blank = make_finding("blank-row", first + i)
        self._integrity(checked, first, rows)
        return [f for i in sorted(rows) for f in self._ordered(rows[i])], [r.typed for r in checked]

    def _integrity(self, checked: list[_Checked], first: int, rows: dict[int, _RowEvents]) -> None:
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
    rules = table_rules(schema)
    if rules.fields_match != "exact" or rules.foreign_keys:
        raise ValueError("fieldsMatch other than 'exact' and foreignKeys are not supported")
    output = arrow_schema(schema)
    findings: list[Finding] = []
    try:
        labels, offset = _read_header(path)
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
            for batch in _arrow_batches(path, offset, width, block_size):
                consume(batch)
                done = row_count
    except _Stop:
        pass
    else:
        if blank_is_missing and width > 0:
            return ValidationResult(findings, row_count, truncated)
    try:
        for batch in _python_batches(path, offset, width, done, batch_rows=20_000):
            consume(batch)
    except UnicodeDecodeError as exc:
        findings.append(make_finding("encoding-error", None, note=str(exc)))
    return ValidationResult(findings, row_count, truncated)
