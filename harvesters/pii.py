"""PDPA guard: find personal data (Thai national ID numbers, phone numbers, e-mail addresses) in
tabular rows before they are published.

The report never holds a full value: every example is masked. It runs over files of millions
of rows, so cells that cannot hold personal data are skipped before any regular expression
runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from schemas.thai import thai_digits_to_arabic

KINDS = ("national-id", "phone", "email")

_SEP = "[- ]?"
# Digits are matched as ASCII or Thai (๐-๙) so that cells need no translation before the search.
_D = "[0-9\u0e50-\u0e59]"
# 13 digits, optionally grouped 1-4-5-2-1 with the same separator throughout. Not part of a
# longer number or a decimal (1234567890123.45 is an amount).
_NATIONAL_ID = rf"(?P<id>{_D}(?P<s>[- ]?){_D}{{4}}(?P=s){_D}{{5}}(?P=s){_D}{{2}}(?P=s){_D})"
# Mobile 06/08/09 + 8 digits; landline 02 + 7 digits or 0XX + 6 digits; +66 without the 0.
_PHONE_NATIONAL = (
    rf"[689๖๘๙]{_D}{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}"  # 81-234-5678
    rf"|[689๖๘๙]{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}"  # 8-1234-5678
    rf"|[2๒]{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}"  # 2-123-4567
    rf"|[3-7๓-๗]{_D}{_SEP}{_D}{{3}}{_SEP}{_D}{{3}}"  # 53-123-456
    rf"|[3-7๓-๗]{_D}{_SEP}{_D}{{6}}"  # 53-123456
)
_PHONE = rf"(?P<phone>(?:\+66{_SEP}(?:\([0๐]\){_SEP})?|[0๐])(?:{_PHONE_NATIONAL}))"
_NUMBERS = re.compile(rf"(?<![\d+])(?<!\d[.,])(?:{_NATIONAL_ID}|{_PHONE})(?!\d|[.,]\d)")
# Every ID or phone number has a digit followed by 7 more digits or separators; searching for
# that first is five times faster than the full pattern on the long text cells most files have.
_CANDIDATE = re.compile(r"\d[-\d ]{7}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_MIN_NUMBER_LEN = 9  # the shortest phone number, 02 123 456 7 without separators
_ID_MIN, _ID_MAX = 10**12, 10**13


def national_id_is_valid(digits: str) -> bool:
    """True for 13 digits whose last digit is the mod-11 check digit of the first 12."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:12], range(13, 1, -1), strict=True))
    return (11 - total % 11) % 10 == int(digits[12])


def _digits(value: str) -> str:
    return "".join(ch for ch in thai_digits_to_arabic(value) if "0" <= ch <= "9")


def mask_value(kind: str, value: str) -> str:
    """Mask a found value for a report: ``1-1017-xxxxx-xx-x``, ``081-xxx-xxxx``,
    ``02-xxx-xxxx`` or ``053-xxx-xxx`` for landlines, ``s***@example.go.th`` for e-mail.

    Only the start of a number survives (the ID's province/district prefix, the phone's operator
    or area code), which is not enough to identify anyone.
    """
    if kind == "national-id":
        d = _digits(value)
        return f"{d[:1]}-{d[1:5]}-xxxxx-xx-x"
    if kind == "phone":
        d = _digits(value)
        if value.lstrip().startswith("+66"):
            d = d[2:] if d[2:3] == "0" else "0" + d[2:]
        if d[1:2] == "2":
            return "02-xxx-xxxx"
        if len(d) == 9:
            return f"{d[:3]}-xxx-xxx"
        return f"{d[:3]}-xxx-xxxx"
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")


@dataclass(frozen=True)
class PiiFinding:
    """One cell holding personal data, with the value masked."""

    row: int
    column: str
    kind: str
    masked: str


@dataclass
class PiiReport:
    """Cells with personal data per (column, kind), the first few locations, and per column the
    number of 13-digit numbers seen, to judge national-ID hits: a column of amounts passes the
    checksum about one time in ten by chance, a column of real IDs almost always.
    """

    rows_scanned: int = 0
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    findings: list[PiiFinding] = field(default_factory=list)
    thirteen_digit_numbers: dict[str, int] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """True when any personal data was found."""
        return bool(self.counts)

    def id_checksum_rate(self, column: str) -> float | None:
        """Share of the column's 13-digit numbers that are valid national IDs (None if none)."""
        seen = self.thirteen_digit_numbers.get(column, 0)
        return self.counts.get((column, "national-id"), 0) / seen if seen else None

    def as_list(self) -> list[dict[str, object]]:
        """The report as plain data: one entry per (column, kind) with masked examples."""
        out: list[dict[str, object]] = []
        for (column, kind), count in self.counts.items():
            examples = [
                {"row": f.row, "masked": f.masked}
                for f in self.findings
                if f.column == column and f.kind == kind
            ]
            out.append({"column": column, "kind": kind, "count": count, "examples": examples})
        return out


def _scan_text(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for every national ID, phone number and e-mail in ``text``."""
    hits: list[tuple[str, str]] = []
    if "@" in text:
        hits.extend(("email", m.group()) for m in _EMAIL.finditer(text))
    if len(text) >= _MIN_NUMBER_LEN and _CANDIDATE.search(text) is not None:
        for m in _NUMBERS.finditer(text):
            if m.group("id") is not None:
                hits.append(("national-id#", m.group("id")))
            else:
                hits.append(("phone", m.group("phone")))
    return hits


def scan_rows(
    rows: Iterable[Mapping[str, object]],
    *,
    allowed: AbstractSet[str] = frozenset(),
    sample_limit: int = 5,
    start: int = 1,
) -> PiiReport:
    """Scan rows (column -> value) for Thai national IDs (valid checksum only), Thai phone
    numbers and e-mail addresses.

    :param allowed: columns that may hold such data (e.g. an agency's public contact phone);
        they are not scanned.
    :param sample_limit: how many locations to keep per (column, kind).
    :param start: the number of the first row in the report.
    :returns: a :class:`PiiReport` counting cells (not matches) per column and kind.
    """
    report = PiiReport()
    counts = report.counts
    thirteen = report.thirteen_digit_numbers
    kept: dict[tuple[str, str], int] = {}
    row_number = start - 1
    for row_number, row in enumerate(rows, start=start):
        for column, value in row.items():
            if column in allowed or value is None:
                continue
            if isinstance(value, str):
                if len(value) < _MIN_NUMBER_LEN and "@" not in value:
                    continue
                hits = _scan_text(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                # IDs typed into Excel become numbers; phone numbers lose their leading 0 there
                # and cannot be told from amounts, so only IDs are looked for.
                if not _ID_MIN <= value < _ID_MAX:
                    continue
                hits = [("national-id#", str(value))]
            elif isinstance(value, float) and value.is_integer() and _ID_MIN <= value < _ID_MAX:
                hits = [("national-id#", str(int(value)))]
            else:
                continue
            seen: set[str] = set()
            for kind, text in hits:
                if kind == "national-id#":
                    digits = _digits(text)
                    thirteen[column] = thirteen.get(column, 0) + 1
                    if not national_id_is_valid(digits):
                        continue
                    kind = "national-id"
                if kind in seen:
                    continue
                seen.add(kind)
                key = (column, kind)
                counts[key] = counts.get(key, 0) + 1
                if kept.get(key, 0) < sample_limit:
                    kept[key] = kept.get(key, 0) + 1
                    report.findings.append(
                        PiiFinding(row_number, str(column), kind, mask_value(kind, text))
                    )
    report.rows_scanned = row_number - start + 1
    return report
