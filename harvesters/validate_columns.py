"""The fast validator's result and output types, and its column checks: vectorised pyarrow
kernels for plain spellings, frictionless' own cell readers for every other cell.

The reading and row logic, and the entry point `validate_csv`, are in harvesters/validate.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from schemas.tables import (
    FieldRules,
    Finding,
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
class Checked:
    blank: pa.BooleanArray
    typed: pa.Array
    events: list[tuple[int, int, str, str, str]]  # (offset, order, type, value, note)
    keys: list[Any] | None = None


def where(mask: pa.Array | None) -> list[int]:
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


class Column:
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

    def check(self, raw: pa.Array, absent: pa.Array | None) -> Checked:
        """Check one batch of cells; ``absent`` marks cells the row did not have at all."""
        if self.rules.missing_values == ("",):
            blank = pc.equal(raw, self.empty)
        else:
            blank = pc.is_in(raw, value_set=self.missing)
        if absent is not None:
            blank = pc.or_(blank, absent)
        events: list[tuple[int, int, str, str, str]] = []
        if self.constraints.get("required"):
            for i in where(blank):
                value = "" if absent is not None and absent[i].as_py() else raw[i].as_py()
                events.append(
                    (i, self.order["required"], "constraint-error", value, self.notes["required"])
                )
        # typed: the value of each surely valid cell, null elsewhere; bad: surely a type error;
        # slow: cells only frictionless' own reader can judge.
        typed, bad, slow = self._parse(raw, blank)
        events += [(i, 0, "type-error", raw[i].as_py(), self.type_note) for i in where(bad)]
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
                (i, order, "constraint-error", raw[i].as_py(), note) for i in where(violated)
            ]
        slow_values, replacements = self._read_slow(raw, slow, events)
        if slow_values:
            typed = pc.replace_with_mask(typed, slow, pa.array(replacements, self.arrow_type))
        result = Checked(blank=blank, typed=typed, events=events)
        if self.want_keys:
            result.keys = self._keys(raw, typed, slow_values)
        return result

    def _read_slow(
        self, raw: pa.Array, slow: pa.Array | None, events: list[Any]
    ) -> tuple[dict[int, Any], list[Any]]:
        """Read the slow cells with frictionless' reader: (values by row, typed replacements)."""
        rows = where(slow)
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
        rows = where(suspects)
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
