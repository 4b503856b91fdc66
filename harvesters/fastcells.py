"""How the vectorised prepare path (:mod:`harvesters.fastprepare`) treats one output column.

Each distinct value of a column with few of them goes through the real
:class:`~harvesters.normalise.Normaliser` once and is cached (:class:`Column`); a column of
mostly distinct values goes through vectorised rules that accept only spellings whose result
is certain, and every other value through the Normaliser too. Fields come out CSV-quoted as
``csv.writer`` writes them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from harvesters.normalise import Normaliser
from harvesters.pii import scan_rows
from harvesters.prepare import (
    _NORMALISER_TYPES,
    _YearChanges,
    is_be_year_field,
    mask_cell,
    text_of,
)

CACHE_LIMIT = 100_000  # distinct values remembered per column
# Text the Normaliser leaves as it is: printable ASCII and Thai only, single inner spaces,
# no nikhahit (SARA AM repair), no SARA AM before a tone mark, Thai marks in canonical (NFC)
# order. Anything else is "dirty" and goes through the Normaliser.
_DIRTY = (
    r"[^ -~\x{0e01}-\x{0e3a}\x{0e3f}-\x{0e5b}]|^ | $|  |\x{0e4d}|\x{0e33}[\x{0e48}-\x{0e4b}]"
    r"|[\x{0e48}-\x{0e4b}][\x{0e38}-\x{0e3a}]|[\x{0e38}\x{0e39}]\x{0e3a}"
)
# A superset of what pii.py looks at: "@", or a digit and 7 more digits, dashes or spaces.
# Python's \d is any Unicode digit; RE2 spells that \p{Nd}, which costs 0.2 ms to compile per
# call, so any character beyond ASCII and Thai makes a candidate instead.
_PII = r"@|[0-9\x{0e50}-\x{0e59}][-0-9\x{0e50}-\x{0e59} ]{7}|[^\x00-\x7f\x{0e00}-\x{0e7f}]"
_PII_PY = re.compile(r"@|\d[-\d ]{7}")
# Amounts whose Decimal text is certain. Negative ones are negated in Decimal's 28-digit
# context, hence the digit limits; "-0" loses its sign, hence no sign before a lone 0.
_NUMBER = r"(?:-?(?:[1-9][0-9]{0,2}(?:,[0-9]{3}){1,5}|[1-9][0-9]{0,17})|0)(?:\.[0-9]{1,9})?"
_PLAIN_AMOUNT = f"^{_NUMBER}$"
_AMOUNT = rf"^(?:฿ ?)?(?P<number>{_NUMBER})(?:\.-)?(?: ?บาท)?$"
_INTEGER = r"^-?[1-9][0-9]{0,17}$|^0$"
_THAI_DIGIT = r"[\x{0e50}-\x{0e59}]"


def normalise_cell(raw: str, column: str, ntype: str | None, year: bool, row: int) -> tuple:
    """prepare_table's treatment of one cell: (value, Normaliser report, BE-year report)."""
    normaliser = Normaliser({column: ntype} if ntype else {}, keep_original_dates=False)
    value = normaliser.row({column: raw}, row=row)[column]
    years = _YearChanges()
    if year:
        value = years.be_year(column, value, row)
    return value, normaliser.report(), list(years.tallies.values())


def quote(text: str) -> str:
    """A field as csv.writer (QUOTE_MINIMAL, comma) writes it, except the lone-field case."""
    if "," in text or '"' in text or "\n" in text or ("\r" in text and quotes_cr()):
        return '"' + text.replace('"', '""') + '"'
    return text


@cache
def quotes_cr() -> bool:
    # Whether csv.writer quotes a lone CR depends on the Python version.
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["a\rb"])
    return out.getvalue().startswith('"')


def quoted(text: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(text, '[,"\n\r]' if quotes_cr() else '[,"\n]')
    if not needs.true_count:
        return text
    doubled = pc.replace_substring(text, '"', '""')
    return pc.if_else(needs, pc.binary_join_element_wise('"', doubled, '"', ""), text)


def unquoted(field: pa.Array) -> pa.Array:
    """The text of CSV fields as _quote/_quoted wrote them (only quoted fields start with a
    double quote: any text holding one is quoted)."""
    quoted = pc.starts_with(field, '"')
    if not quoted.true_count:
        return field
    inner = pc.replace_substring(pc.utf8_slice_codeunits(field, 1, -1), '""', '"')
    return pc.if_else(quoted, inner, field)


@dataclass(frozen=True)
class _Cell:
    """One distinct value of an output column as prepare_table writes and reports it."""

    field: str  # as written, CSV-quoted
    kinds: tuple[tuple[str, str], ...]  # ("n", kind): Normaliser; ("y", kind): BE years
    scan: Any  # what the PDPA scan sees: the text, an int, or None (not scanned)
    pii: bool  # a PDPA candidate
    filled: bool  # not empty (counted in masked_cells)


@dataclass
class _Block:
    """An output column's results for one group, per value: per distinct value with the
    group's dictionary indices, or per row (then ``indices`` is None)."""

    field: pa.Array
    kinds: dict[tuple[str, str], pa.Array]
    pii: pa.Array | None
    scan: Callable[[int], Any]  # value index -> what the PDPA scan sees
    filled: pa.Array | None = None
    same: bool = False  # every field is its raw value: the raw cells can be written as they are


class Column:
    """An output column: where it comes from, how it is normalised, what it has cached."""

    def __init__(self, name: str, position: int, source: int, spec: Mapping[str, Any]):
        self.name, self.position, self.source = name, position, source
        self.year = is_be_year_field(spec) if spec else False
        self.ntype = None if self.year else _NORMALISER_TYPES.get(spec.get("type"))
        self.scanned, self.masked = True, False
        self.cache: dict[str, _Cell] = {}
        self.probed: dict[Any, bool] = {}

    def cell(self, raw: str) -> _Cell:
        found = self.cache.get(raw)
        if found is None:
            value, report, years = normalise_cell(raw, self.name, self.ntype, self.year, 0)
            kinds = [("n", e["kind"]) for e in report] + [("y", e["kind"]) for e in years]
            text = text_of(value)
            scan = value if isinstance(value, str | int) and not isinstance(value, bool) else None
            masked = mask_cell(text) if self.masked and text else text
            found = _Cell(quote(masked), tuple(kinds), scan, self.finds(scan), bool(text))
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            self.cache[raw] = found
        return found

    def finds(self, scan: Any) -> bool:
        """Whether the PDPA scan finds or counts anything in this value: a row's findings are
        those of its cells, so only such cells need to reach the row-level scan."""
        if not self.scanned or scan is None or scan == "":
            return False
        if isinstance(scan, str) and _PII_PY.search(scan) is None:
            return False
        if scan not in self.probed:
            if len(self.probed) >= CACHE_LIMIT:
                self.probed.clear()
            probe = scan_rows([{self.name: scan}])
            self.probed[scan] = bool(probe.counts or probe.thirteen_digit_numbers)
        return self.probed[scan]

    def distinct(self, values: list[str]) -> _Block:
        """Results for a dictionary of distinct values: all through the Normaliser."""
        cells = [self.cell(v) for v in values]
        keys = dict.fromkeys(k for c in cells for k in c.kinds)
        pii = [c.pii for c in cells]
        return _Block(
            pa.array([c.field for c in cells], pa.string()),
            {key: pa.array([key in c.kinds for c in cells]) for key in keys},
            pa.array(pii) if any(pii) else None,
            lambda i: cells[i].scan,
            pa.array([c.filled for c in cells]) if self.masked else None,
            all(c.field == v for c, v in zip(cells, values, strict=True)),
        )

    def dense(self, raw: pa.Array) -> _Block:
        """Results for the cells themselves: vectorised rules, then the Normaliser for the
        values they cannot decide (``slow``)."""
        if self.masked:  # rare: masking is per value in Python anyway
            return self.distinct(raw.to_pylist())
        text, kinds, slow = self._vectorised(raw)
        cells: list[_Cell] = []
        if slow.true_count:
            cells = [self.cell(v) for v in pc.filter(raw, slow).to_pylist()]
            text = pc.replace_with_mask(text, slow, pa.array([c.field for c in cells]))
            for key in dict.fromkeys(k for c in cells for k in c.kinds):
                base = kinds.get(key, _false(len(raw)))
                kinds[key] = pc.replace_with_mask(
                    base, slow, pa.array([key in c.kinds for c in cells])
                )
        pii = None
        if not self.scanned:
            pass
        elif self.ntype in (None, "integer") and not self.year:  # the text is what is scanned
            pii = pc.match_substring_regex(text, _PII)
        elif any(c.pii for c in cells):  # parsed values are not scanned: slow cells only
            found = pa.array([c.pii for c in cells])
            pii = pc.replace_with_mask(_false(len(raw)), slow, found)
        scans: dict[int, Any] = {}
        if pii is not None and cells:
            scans = dict(
                zip(pc.indices_nonzero(slow).to_pylist(), (c.scan for c in cells), strict=True)
            )
        fast_scan = (lambda v: int(v) if v else None) if self.ntype == "integer" else (lambda v: v)
        return _Block(
            text, kinds, pii, lambda i: scans[i] if i in scans else fast_scan(raw[i].as_py())
        )

    def _vectorised(self, raw: pa.Array) -> tuple[pa.Array, dict, pa.Array]:
        """(CSV field, kinds, slow mask)."""
        empty = pc.equal(raw, "")
        if self.ntype is None and not self.year:
            return quoted(raw), {}, pc.match_substring_regex(raw, _DIRTY)
        if self.ntype == "integer":
            return raw, {}, pc.invert(pc.or_(empty, pc.match_substring_regex(raw, _INTEGER)))
        if self.ntype != "number":  # dates and years: the Normaliser, value by value
            return raw, {}, pc.invert(empty)
        plain = pc.match_substring_regex(raw, _PLAIN_AMOUNT)
        text = pc.replace_substring(raw, ",", "")
        kinds = {("n", "amount"): pc.and_(plain, pc.match_substring(raw, ","))}
        slow = pc.invert(pc.or_(plain, empty))
        if slow.true_count:  # "฿1,234", "1,234 บาท", "1,234.-", Thai digits
            rest = pc.filter(raw, slow)
            rest_text, rest_kinds, rest_fast = _decorated_amounts(rest)
            text = pc.replace_with_mask(text, slow, rest_text)
            for key, flags in rest_kinds.items():
                base = kinds.get(key, _false(len(raw)))
                kinds[key] = pc.replace_with_mask(base, slow, flags)
            slow = pc.replace_with_mask(slow, slow, pc.invert(rest_fast))
        return text, kinds, slow


def _false(n: int) -> pa.Array:
    return pa.repeat(pa.scalar(False), n)


def _decorated_amounts(raw: pa.Array) -> tuple[pa.Array, dict, pa.Array]:
    """(text, kinds, fast) for amounts with a currency sign, บาท, ``.-`` or Thai digits."""
    thai = pc.match_substring_regex(raw, _THAI_DIGIT)
    digits = raw
    if thai.true_count:
        for d in range(10):
            digits = pc.replace_substring(digits, chr(0x0E50 + d), str(d))
    number = pc.extract_regex(digits, _AMOUNT)
    fast = pc.is_valid(number)
    text = pc.if_else(fast, pc.replace_substring(number.field("number"), ",", ""), raw)
    kinds = {("n", "thai-digits"): pc.and_(thai, fast)} if thai.true_count else {}
    # "amount": the text with Thai digits converted is not a plain number
    kinds[("n", "amount")] = pc.and_(fast, pc.not_equal(text, digits).fill_null(True))
    return text, kinds, fast
