"""Normalisation of real Thai files before validation: reported, never silent.

Thai agencies publish CSV and XLSX files in UTF-8 (with or without a BOM) or in the legacy
Thai code page (TIS-620 / cp874), with preamble rows above the header, two-row headers from
merged cells, totals rows among the data, Thai digits, BE dates and text damaged by PDF
conversion. This module finds the encoding and the header and cleans cell values, recording
every change it makes so the harvest report can show the publisher what was altered.
"""

from __future__ import annotations

import codecs
import datetime
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import IO, Any, BinaryIO, TextIO

from schemas.thai import (
    ThaiValueError,
    collapse_whitespace,
    normalise_text,
    parse_amount,
    parse_thai_date_era,
    parse_year_era,
    remove_zero_width,
    repair_sara_am,
    strip_thai_marks,
    thai_digits_to_arabic,
)

SAMPLE_SIZE = 64 * 1024
# How far open_text looks past a pure-ASCII start for the first non-ASCII byte (seekable files
# only). A cp874 file whose Thai text starts late would otherwise be taken for UTF-8.
LOOKAHEAD_LIMIT = 16 * 1024 * 1024

KINDS = (
    *("thai-digits", "sara-am", "be-date", "be-year", "amount", "whitespace", "zero-width"),
    # a CE date written in another format (15/01/2024), and text that was not in Unicode NFC
    *("date-format", "unicode-nfc"),
)
FIELD_TYPES = frozenset({"string", "date", "year", "amount", "number", "integer"})

# A 3-byte UTF-8 sequence for a Thai character (U+0E00..U+0E7F).
_UTF8_THAI = re.compile(rb"\xe0[\xb8\xb9][\x80-\xbf]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_THAI_CHAR = re.compile("[\u0e01-\u0e5b]")
# The non-Thai characters of cp874: euro, ellipsis, curly quotes, bullet, dashes, NBSP.
_CP874_PUNCT = re.compile("[\u20ac\u2026\u2018\u2019\u201c\u201d\u2022\u2013\u2014\xa0]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A vowel sign or tone mark that follows no Thai letter, or a leading vowel with no consonant
# after it: what Latin-1 or other single-byte text looks like when decoded as cp874.
_MISPLACED = re.compile(
    "(?<![\u0e01-\u0e4e])[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]|[\u0e40-\u0e44](?![\u0e01-\u0e2e])"
)
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_UNIT_KEY = re.compile(r"\(?(?:หนวย|unit)\b", re.IGNORECASE)

_TOTAL_WORDS = (
    *("รวม", "ยอดรวม", "รวมยอด", "รวมทั้งสิ้น", "รวมทั้งหมด", "รวมเป็นเงิน", "รวมจังหวัด"),
    *("รวมทุกจังหวัด", "รวมต่างประเทศ", "รวมจังหวัด/ต่างประเทศ"),
    *("total", "totals", "grandtotal", "subtotal"),
)


class EncodingError(ValueError):
    """The bytes are neither UTF-8 nor Thai cp874/TIS-620 text."""

    def __init__(self, offset: int, byte: int | None, reason: str) -> None:
        where = f"byte 0x{byte:02x} at offset {offset}" if byte is not None else f"offset {offset}"
        super().__init__(f"not UTF-8 (invalid {where}) and not Thai cp874/TIS-620: {reason}")
        self.offset = offset
        self.byte = byte
        self.reason = reason


class HeaderNotFound(ValueError):
    """No row in the scanned range looks like a table header."""


def _cp874_problem(text: str) -> str | None:
    """Why ``text`` (decoded as cp874) is not plausible Thai text, or None if it is."""
    if len(_CONTROL.findall(text)) * 1000 > len(text):
        return "control characters: this looks like a binary file"
    non_ascii = len(_NON_ASCII.findall(text))
    thai = len(_THAI_CHAR.findall(text))
    other = non_ascii - thai - len(_CP874_PUNCT.findall(text))
    if other * 20 > non_ascii:
        return "the non-ASCII bytes do not decode to Thai text"
    if len(_MISPLACED.findall(text)) > max(2, thai // 20):
        return "Thai vowel and tone marks in impossible positions (another single-byte encoding?)"
    return None


def detect_encoding(sample: bytes, *, final: bool = False) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"cp874"`` for the first bytes of a file.

    A BOM means utf-8-sig; valid UTF-8 means utf-8 (a character cut at the end of the sample is
    fine unless ``final`` says the sample is the whole file); otherwise cp874 (a superset of
    TIS-620) if the bytes decode to plausible Thai text.

    :raises EncodingError: naming the offset of the first byte that is not valid UTF-8.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=final)
        return "utf-8"
    except UnicodeDecodeError as exc:
        offset = exc.start
    byte = sample[offset] if offset < len(sample) else None
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise EncodingError(0, sample[0], "UTF-16 byte order mark; save the file as UTF-8")
    high = len(sample) - len(sample.translate(None, bytes(range(128))))
    if len(_UTF8_THAI.findall(sample)) * 3 * 2 >= high:
        # Most high bytes form UTF-8 Thai characters: a UTF-8 file with a damaged byte, which
        # cp874 would turn into mojibake (เธชเธงเธฑเธช...).
        raise EncodingError(offset, byte, "UTF-8 Thai text with an invalid byte")
    try:
        text = sample.decode("cp874")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            offset, byte, f"byte 0x{sample[exc.start]:02x} at offset {exc.start} is not cp874"
        ) from None
    problem = _cp874_problem(text)
    if problem is not None:
        raise EncodingError(offset, byte, problem)
    return "cp874"


class _Prefixed(io.RawIOBase):
    """A read-only stream that replays bytes already read from an unseekable stream."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._rest.close()
            finally:
                super().close()


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    # Pipes and sockets may return short reads before the end of the stream.
    parts, remaining = [], size
    while remaining > 0:
        data = stream.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _detect_at(chunk: bytes, base: int, final: bool) -> str:
    try:
        return detect_encoding(chunk, final=final)
    except EncodingError as exc:
        raise EncodingError(base + exc.offset, exc.byte, exc.reason) from None


def _detect_stream(stream: IO[bytes], sample_size: int) -> tuple[IO[bytes], str]:
    sample = _read_up_to(stream, sample_size)
    at_end = len(sample) < sample_size
    if not stream.seekable():
        encoding = _detect_at(sample, 0, at_end)
        return io.BufferedReader(_Prefixed(sample, stream)), encoding
    start = stream.tell() - len(sample)
    chunk, base = sample, start
    while chunk.isascii() and not at_end and base - start < LOOKAHEAD_LIMIT:
        base += len(chunk)
        chunk = _read_up_to(stream, sample_size)
        at_end = len(chunk) < sample_size
    encoding = _detect_at(chunk, base - start, at_end)
    stream.seek(start)
    return stream, encoding


def open_text(
    path_or_stream: str | os.PathLike[str] | BinaryIO,
    encoding: str | None = None,
    *,
    sample_size: int = SAMPLE_SIZE,
) -> tuple[TextIO, str]:
    """Open a file or binary stream for streaming text decoding; return (text stream, encoding).

    Without ``encoding``, it is detected from the first ``sample_size`` bytes (see
    :func:`detect_encoding`); only that sample is held in memory. The text stream uses
    ``newline=""`` so the csv module sees line breaks inside quoted fields as they are. Closing
    it closes the underlying file or stream. Bytes past the sample that cannot be decoded raise
    ``UnicodeDecodeError`` when they are read.

    :raises EncodingError: when the sample is neither UTF-8 nor Thai cp874.
    """
    if isinstance(path_or_stream, io.TextIOBase):
        raise TypeError("open_text needs a path or a binary stream, not a text stream")
    opened = isinstance(path_or_stream, str | os.PathLike)
    stream: IO[bytes] = open(path_or_stream, "rb") if opened else path_or_stream
    try:
        if encoding is None:
            stream, encoding = _detect_stream(stream, sample_size)
        return io.TextIOWrapper(stream, encoding=encoding, newline=""), encoding
    except BaseException:
        if opened:
            stream.close()
        raise


# -- cell values ---------------------------------------------------------------------------


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@dataclass
class _Tally:
    count: int = 0
    examples: list[dict[str, object]] = field(default_factory=list)


class Normaliser:
    """Normalise cell values row by row and report every change, per column and kind.

    ``field_types`` maps column names to ``string`` (the default for undeclared columns),
    ``date``, ``year``, ``amount``, ``number`` or ``integer``. All text gets NFC, zero-width
    removal, SARA AM repair and whitespace collapsing. Typed columns also get Thai digits
    converted and are parsed: dates to ``datetime.date`` in CE (the original value is kept in
    ``<column>_original``), years to CE ``int``, amounts and numbers to ``Decimal`` (thousands
    separators, ``บาท``, parentheses for negatives), integers to ``int``. A value that does not
    parse is returned as cleaned text for validation to report; nothing is dropped here.
    """

    def __init__(
        self,
        field_types: Mapping[str, str] | None = None,
        *,
        max_examples: int = 5,
        keep_original_dates: bool = True,
    ) -> None:
        types = dict(field_types or {})
        unknown = {t for t in types.values() if t not in FIELD_TYPES}
        if unknown:
            raise ValueError(f"unknown field types {sorted(unknown)}; use {sorted(FIELD_TYPES)}")
        self._types = types
        self._max_examples = max_examples
        self._keep_original_dates = keep_original_dates
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._rows = 0

    def row(self, values: Mapping[str, object], row: int | None = None) -> dict[str, object]:
        """Return the normalised row; ``row`` is the number shown in the report (default: a
        1-based count of the rows seen so far).
        """
        self._rows += 1
        number = self._rows if row is None else row
        out: dict[str, object] = {}
        for column, value in values.items():
            kind = self._types.get(column, "string")
            out[column] = self._cell(number, column, kind, value)
            if kind == "date" and self._keep_original_dates:
                out[f"{column}_original"] = value
        return out

    def report(self) -> list[dict[str, object]]:
        """What was changed: one entry per (column, kind) with ``count`` and up to
        ``max_examples`` examples of ``{row, column, original, normalised}``.
        """
        return [
            {"column": column, "kind": kind, "count": t.count, "examples": list(t.examples)}
            for (column, kind), t in self._tallies.items()
        ]

    def _note(self, kinds: list[str], row: int, column: str, original: object, new: object) -> None:
        for kind in kinds:
            tally = self._tallies.setdefault((column, kind), _Tally())
            tally.count += 1
            if len(tally.examples) < self._max_examples:
                example = {"row": row, "column": column}
                example.update(original=_jsonable(original), normalised=_jsonable(new))
                tally.examples.append(example)

    def _cell(self, row: int, column: str, kind: str, value: object) -> object:
        kinds: list[str] = []
        if isinstance(value, str):
            result: object = self._clean_text(value, kinds)
            if kind != "string":
                result = self._typed_text(str(result), kind, kinds) if result else None
        else:
            result = self._typed_value(value, kind, kinds)
        if kinds:
            self._note(kinds, row, column, value, result)
        return result

    @staticmethod
    def _clean_text(s: str, kinds: list[str]) -> str:
        if not s.isascii():
            if not unicodedata.is_normalized("NFC", s):
                s = unicodedata.normalize("NFC", s)
                kinds.append("unicode-nfc")
            t = remove_zero_width(s)
            if t != s:
                kinds.append("zero-width")
                s = t
            t = repair_sara_am(s)
            if t != s:
                kinds.append("sara-am")
                s = t
        t = collapse_whitespace(s)
        if t != s:
            kinds.append("whitespace")
        return t

    @staticmethod
    def _typed_text(text: str, kind: str, kinds: list[str]) -> object:
        digits = thai_digits_to_arabic(text)
        found = ["thai-digits"] if digits != text else []
        try:
            if kind == "date":
                parsed_date, era = parse_thai_date_era(digits)
                if era == "BE":
                    found.append("be-date")
                elif parsed_date.isoformat() != digits:
                    found.append("date-format")
                result: object = parsed_date
            elif kind == "year":
                year, era = parse_year_era(digits)
                if era == "BE":
                    found.append("be-year")
                result = year
            else:
                amount = parse_amount(digits)
                if not _PLAIN_NUMBER.fullmatch(digits):
                    found.append("amount")
                if kind == "integer" and amount != amount.to_integral_value():
                    return text
                result = int(amount) if kind == "integer" else amount
        except ThaiValueError:
            return text  # left as text: validation reports it against the schema
        kinds.extend(found)
        return result

    @staticmethod
    def _typed_value(value: object, kind: str, kinds: list[str]) -> object:
        # Spreadsheet cells arrive as numbers and dates already; only the era may need fixing.
        if value is None or isinstance(value, bool):
            return value
        try:
            if kind == "date" and isinstance(value, datetime.date):
                parsed_date, era = parse_thai_date_era(value)
                if era == "BE":
                    kinds.append("be-date")
                return parsed_date
            if kind == "year" and isinstance(value, int | float):
                year, era = parse_year_era(value)
                if era == "BE":
                    kinds.append("be-year")
                return year
            if kind in {"amount", "number"} and isinstance(value, int | float | Decimal):
                return parse_amount(value)
            if kind == "integer" and isinstance(value, float) and value.is_integer():
                return int(value)
        except ThaiValueError:
            return value
        return value


# -- rows and headers ----------------------------------------------------------------------


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not remove_zero_width(value).strip())


def is_blank_row(values: Iterable[object]) -> bool:
    """True when every cell is empty, whitespace or zero-width characters."""
    return all(_is_empty(v) for v in values)


def _key(text: str) -> str:
    # Comparison key that survives vowel-dropping PDF conversions (รวมทงสน) and split-off marks
    # (รวมทง้ั ส้นิ): marks, spaces and trailing punctuation removed.
    return "".join(strip_thai_marks(remove_zero_width(text)).split()).lower().rstrip(":.")


@cache
def _total_keys() -> tuple[frozenset[str], str]:
    return frozenset(_key(w) for w in _TOTAL_WORDS), _key("ทั้งสิ้น")


def _is_total_label(text: str) -> bool:
    keys, suffix = _total_keys()
    k = _key(text)
    return k in keys or (k.endswith(suffix) and k[: -len(suffix)] in keys)


def is_totals_row(values: Iterable[object]) -> bool:
    """True when a cell is a totals label (รวม, รวมทั้งสิ้น, ยอดรวม, รวมจังหวัด, Total, ...).

    Matching ignores spaces and Thai vowel/tone marks, so labels from lossy PDF conversions
    (``รวมทงสน``) are found too; the price is that ``ร่วม`` reads as ``รวม``. Apply it to data
    rows only: a header can have a column named รวม.
    """
    return any(isinstance(v, str) and len(v) <= 60 and _is_total_label(v) for v in values)


@dataclass(frozen=True)
class HeaderGuess:
    """Where the header is: ``rows[header_row_index : header_row_index + n_header_rows]``."""

    header_row_index: int
    n_header_rows: int
    columns: list[str]

    @property
    def data_start(self) -> int:
        """Index of the first row after the header."""
        return self.header_row_index + self.n_header_rows


def _is_year(number: float) -> bool:
    return float(number).is_integer() and (1900 <= number <= 2100 or 2400 <= number <= 2700)


def _is_label(value: object) -> bool:
    """Could this cell be a column name? Text, or a number that is a year (2556, 2013)."""
    if isinstance(value, bool) or isinstance(value, datetime.date):
        return False
    if isinstance(value, int | float | Decimal):
        return _is_year(float(value))
    text = str(value)
    try:
        number = parse_amount(text)
    except (ThaiValueError, TypeError):
        return True
    return _is_year(float(number))


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalise_text(str(value))


def _is_sub_header(top: Sequence[object], below: Sequence[object], tops: list[int]) -> bool:
    belows = [j for j, v in enumerate(below) if not _is_empty(v)]
    if not belows or not all(_is_label(below[j]) for j in belows):
        return False
    # A merged top cell leaves gaps to its right that the second row fills.
    fills_gap = any(j not in tops and j > tops[0] for j in belows)
    last = max(tops[-1], belows[-1])
    gaps = sum(1 for j in range(tops[0], last + 1) if j not in tops)
    # Vertically merged labels (ลำดับ, จังหวัด) leave the second row empty under them; a data
    # row of text would fill every column.
    empty_under_label = any(j not in belows for j in tops)
    return fills_gap and (empty_under_label or gaps >= len(tops))


def _merge_columns(top: Sequence[object], below: Sequence[object], joiner: str) -> list[str]:
    width = max(
        (j + 1 for row in (top, below) for j, v in enumerate(row) if not _is_empty(v)), default=0
    )
    columns, current = [], ""
    for j in range(width):
        upper = top[j] if j < len(top) and not _is_empty(top[j]) else None
        lower = below[j] if j < len(below) and not _is_empty(below[j]) else None
        if upper is not None:
            current = _label(upper)
        if lower is None:
            columns.append(_label(upper) if upper is not None else "")
        else:
            prefix = current if upper is None else _label(upper)
            columns.append(f"{prefix}{joiner}{_label(lower)}" if prefix else _label(lower))
    return columns


def find_header(
    rows: Sequence[Sequence[object]], max_scan: int = 30, *, joiner: str = " "
) -> HeaderGuess:
    """Guess the header of a sheet or CSV that may have title rows above it.

    Skips blank rows, single-cell rows (titles, page numbers, notes) and unit rows such as
    ``หน่วย : บาท``; the header is the first remaining row of at least two cells that are all
    text or years and that covers at least half the table's width. A second header row is
    recognised when it fills the gaps a merged top cell leaves; the top label is carried to
    the right over those gaps and joined to the lower label with ``joiner``.

    :raises HeaderNotFound: when no row in the first ``max_scan`` rows qualifies.
    """
    scan = [list(r) for r in rows[: max_scan + 1]]
    filled = [[j for j, v in enumerate(r) if not _is_empty(v)] for r in scan]
    width = max((len(f) for f in filled[:max_scan]), default=0)
    for i, cells in enumerate(filled[:max_scan]):
        if len(cells) < 2 or not all(_is_label(scan[i][j]) for j in cells):
            continue
        if all(isinstance(scan[i][j], str) and _UNIT_KEY.match(_key(scan[i][j])) for j in cells):
            continue
        second = i + 1 < len(scan) and _is_sub_header(scan[i], scan[i + 1], cells)
        covered = set(cells) | (set(filled[i + 1]) if second else set())
        if len(covered) * 2 < width:
            continue
        if second:
            return HeaderGuess(i, 2, _merge_columns(scan[i], scan[i + 1], joiner))
        columns = [_label(v) if not _is_empty(v) else "" for v in scan[i][: cells[-1] + 1]]
        return HeaderGuess(i, 1, columns)
    raise HeaderNotFound(f"no header row found in the first {max_scan} rows")
