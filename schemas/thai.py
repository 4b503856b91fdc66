"""Thai text, date, year and amount normalisation: pure functions shared by the metadata schemas,
the harvesters and the search analyzer.

Thai government data mixes Buddhist Era (BE) and Common Era (CE) years, Thai and Arabic digits,
and text damaged by PDF conversion (a decomposed SARA AM, zero-width characters, stray spaces).
Every parser here raises a :class:`ThaiValueError` carrying an English and a Thai message, so a
harvest report can show the publisher what was wrong in their own language.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import cache

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

# BE = CE + 543. Any year from 2400 on is read as BE: CE 2400 is centuries away, and BE 2400
# (CE 1857) predates every dataset a Thai agency publishes.
BE_OFFSET = 543
BE_THRESHOLD = 2400

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))
_THAI_DIGIT = re.compile("[\u0e50-\u0e59]")
_NIKHAHIT, _SARA_AA, _SARA_AM = "\u0e4d", "\u0e32", "\u0e33"
_TONE = "[\u0e48-\u0e4b]"
# Nikhahit and sara aa in either order, optionally with a tone mark between them. The tone mark
# belongs before SARA AM in the canonical order (ต่ำ is U+0E15 U+0E48 U+0E33).
_SPLIT_AM = re.compile(f"\u0e4d({_TONE}?)\u0e32|\u0e32({_TONE}?)\u0e4d")
_AM_BEFORE_TONE = re.compile(f"\u0e33({_TONE})")
# Upper and lower vowels, tone marks and other combining signs: what a lossy PDF conversion
# drops (สรุป -> สรป) or splits off with spaces (จงั หวดั).
_THAI_MARKS = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")

_ERA_BE = r"พ\.?\s*ศ\.?"
_ERA_CE = r"ค\.?\s*ศ\.?"
_TIME_SUFFIX = re.compile(r"(?:\s+|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")
_YMD = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d+)")
_TEXT_DATE = re.compile(
    rf"(\d{{1,2}})\s*([^\d\s][^\d]*?)\s*(?:ปี\s*)?(?:({_ERA_BE}|{_ERA_CE})\s*)?(\d+)"
)
_YEAR = re.compile(rf"(?:ปี(?:งบประมาณ)?\s*)?(?:({_ERA_BE}|{_ERA_CE})\s*)?(\d+)(?:\.0+)?")
_AMOUNT = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")

_MONTHS = (
    ("มกราคม", "ม.ค."),
    ("กุมภาพันธ์", "ก.พ."),
    ("มีนาคม", "มี.ค."),
    ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."),
    ("มิถุนายน", "มิ.ย."),
    ("กรกฎาคม", "ก.ค."),
    ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."),
    ("ตุลาคม", "ต.ค."),
    ("พฤศจิกายน", "พ.ย."),
    ("ธันวาคม", "ธ.ค."),
)
# Frequent misspellings seen in published documents (ฏ for ฎ).
_MONTH_ALIASES = {"กรกฏาคม": 7}


class ThaiValueError(ValueError):
    """A value that could not be read, with the reason in English and in Thai."""

    def __init__(self, message_en: str, message_th: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_th = message_th


class ThaiDateError(ThaiValueError):
    """A date or year that could not be read."""


class ThaiAmountError(ThaiValueError):
    """An amount of money that could not be read."""


def thai_digits_to_arabic(s: str) -> str:
    """Replace Thai digits (๐-๙) with ASCII digits; everything else is left alone."""
    # str.translate is slow on non-ASCII text (~10 us for 100 characters); most cells have no
    # Thai digit, and a regex search says so ten times faster.
    if s.isascii() or _THAI_DIGIT.search(s) is None:
        return s
    return s.translate(THAI_DIGITS)


def repair_sara_am(s: str) -> str:
    """Rebuild SARA AM (U+0E33) from the pieces PDF converters leave behind.

    Handles nikhahit + sara aa, the reordered sara aa + nikhahit (``สาํนัก`` -> ``สำนัก``), either
    order with a tone mark between (the tone mark is moved before SARA AM), and SARA AM followed
    by a tone mark (``ตำ่`` -> ``ต่ำ``).
    """
    if _NIKHAHIT in s:
        s = _SPLIT_AM.sub(lambda m: (m.group(1) or m.group(2) or "") + _SARA_AM, s)
    if _SARA_AM in s:
        s = _AM_BEFORE_TONE.sub(lambda m: m.group(1) + _SARA_AM, s)
    return s


def remove_zero_width(s: str) -> str:
    """Drop zero-width spaces/joiners and stray BOMs, which Thai word processors insert."""
    # Fast path: translate is slow, and four substring tests beat any() over a generator.
    if not ("\u200b" in s or "\u200c" in s or "\u200d" in s or "\ufeff" in s):
        return s
    return s.translate(_ZERO_WIDTH)


def collapse_whitespace(s: str) -> str:
    """Collapse runs of whitespace (including NBSP, tabs, newlines) to one space and strip."""
    return " ".join(s.split())


def normalise_text(s: str) -> str:
    """NFC, SARA AM repair, zero-width characters removed, whitespace collapsed and stripped."""
    if s.isascii():
        return collapse_whitespace(s)
    s = unicodedata.normalize("NFC", s)
    s = repair_sara_am(remove_zero_width(s))
    return collapse_whitespace(s)


def strip_thai_marks(s: str) -> str:
    """Remove Thai vowel signs above/below and tone marks, for matching text from lossy PDF
    conversions (``รวมทั้งสิ้น`` and ``รวมทงสน`` both become ``รวมทงสน``).

    Lossy: use it for comparison keys, never for stored values.
    """
    return _THAI_MARKS.sub("", s)


def be_to_ce(year: int) -> int:
    """Convert a Buddhist Era year to the Common Era (2567 -> 2024)."""
    return year - BE_OFFSET


def year_to_ce(year: int) -> int:
    """Return the CE year: years from 2400 on are BE and converted, smaller years are kept."""
    return be_to_ce(year) if year >= BE_THRESHOLD else year


@cache
def _month_numbers() -> dict[str, int]:
    # Keys have dots and spaces removed so that ม.ค., ม.ค, มค and "ม. ค." all match.
    table: dict[str, int] = {}
    for number, (full, abbr) in enumerate(_MONTHS, start=1):
        table[full] = number
        table[abbr.replace(".", "")] = number
    for alias, number in _MONTH_ALIASES.items():
        table[alias] = number
    return table


def _month_key(token: str) -> str:
    return "".join(token.replace(".", "").split())


def _clean(value: str) -> str:
    return thai_digits_to_arabic(normalise_text(value))


def _apply_era(year: int, era: str | None) -> tuple[int, str]:
    """Return (CE year, era of the written year), era being "BE" or "CE"."""
    if era is not None and era.startswith("พ"):
        return be_to_ce(year), "BE"
    if era is not None:  # ค.ศ.: trust the marker even for a year the era rule would call BE
        return year, "CE"
    return year_to_ce(year), "BE" if year >= BE_THRESHOLD else "CE"


def _check_year_digits(text: str, value: str) -> int:
    if len(text) == 2:
        raise ThaiDateError(
            f"two-digit year {text!r} in {value!r} is ambiguous; write the year in full, "
            "e.g. 2567 or 2024",
            f"ปี 2 หลัก {text!r} ใน {value!r} กำกวม กรุณาระบุปีเต็ม 4 หลัก เช่น 2567",
        )
    if len(text) != 4:
        raise ThaiDateError(
            f"year {text!r} in {value!r} must have 4 digits",
            f"ปี {text!r} ใน {value!r} ต้องมี 4 หลัก",
        )
    return int(text)


def _strip_midnight(s: str, value: str) -> str:
    # Spreadsheet exports often add a midnight time to dates ("15/1/2567 0:00").
    m = _TIME_SUFFIX.search(s)
    if m is None:
        return s
    if any(int(part or 0) for part in m.groups()):
        raise ThaiDateError(
            f"{value!r} has a time of day; a date is expected",
            f"{value!r} มีเวลาด้วย ต้องการเฉพาะวันที่",
        )
    return s[: m.start()]


def _make_date(year: int, month: int, day: int, value: str) -> datetime.date:
    if not 1 <= month <= 12:
        raise ThaiDateError(
            f"month {month} in {value!r} is out of range (1-12)",
            f"เดือน {month} ใน {value!r} ไม่ถูกต้อง (ต้องเป็น 1-12)",
        )
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ThaiDateError(
            f"day {day} does not exist in {value!r}",
            f"ไม่มีวันที่ {day} ในเดือน{_MONTHS[month - 1][0]} ตามที่ระบุใน {value!r}",
        ) from None


def parse_thai_date_era(value: str | datetime.date) -> tuple[datetime.date, str]:
    """Parse a date like :func:`parse_thai_date`; also return the era the year was written in
    ("BE" or "CE"), so callers can report a BE-to-CE conversion.
    """
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        # Excel happily stores a BE date as a real date in the year 2567.
        year, era = _apply_era(value.year, None)
        return _make_date(year, value.month, value.day, value.isoformat()), era
    if not isinstance(value, str):
        raise TypeError(f"expected a string or a date, got {type(value).__name__}")
    s = _clean(value)
    if s.startswith("วันที่"):
        s = s[len("วันที่") :].lstrip()
    if not s:
        raise ThaiDateError("empty date", "ไม่ได้ระบุวันที่")
    s = _strip_midnight(s, value)

    m = _YMD.fullmatch(s)
    if m is not None:
        year, era = _apply_era(_check_year_digits(m.group(1), value), None)
        return _make_date(year, int(m.group(3)), int(m.group(4)), value), era
    m = _DMY.fullmatch(s)
    if m is not None:
        year, era = _apply_era(_check_year_digits(m.group(4), value), None)
        return _make_date(year, int(m.group(3)), int(m.group(1)), value), era
    m = _TEXT_DATE.fullmatch(s)
    if m is not None:
        month = _month_numbers().get(_month_key(m.group(2)))
        if month is None:
            raise ThaiDateError(
                f"unknown month {m.group(2)!r} in {value!r}",
                f"ไม่รู้จักชื่อเดือน {m.group(2)!r} ใน {value!r}",
            )
        year, era = _apply_era(_check_year_digits(m.group(4), value), m.group(3))
        return _make_date(year, month, int(m.group(1)), value), era
    raise ThaiDateError(
        f"{value!r} is not a date; use e.g. 2024-01-15, 15/01/2567 or 15 มกราคม 2567",
        f"{value!r} ไม่ใช่วันที่ ตัวอย่างรูปแบบที่ใช้ได้: 2024-01-15, 15/01/2567, 15 มกราคม 2567",
    )


def parse_thai_date(value: str | datetime.date) -> datetime.date:
    """Parse a Thai or ISO date and return it in the Common Era.

    Accepts ISO ``2024-01-15`` and BE ISO ``2567-01-15``; day-first ``15/01/2567``, ``15-1-2567``
    or ``15.01.2567``; Thai month names and abbreviations with or without dots (``15 ม.ค. 2567``,
    ``15 มค 2567``, ``15 มกราคม 2567``); an optional ``วันที่`` prefix and ``พ.ศ.``/``ค.ศ.``
    marker; Thai digits; a trailing midnight time. Years from 2400 on are BE unless marked ค.ศ.
    Two-digit years are rejected as ambiguous.

    :raises ThaiDateError: with ``message_en`` and ``message_th``.
    """
    return parse_thai_date_era(value)[0]


def parse_year_era(value: str | int | float) -> tuple[int, str]:
    """Parse a year like :func:`parse_be_year`; also return the era it was written in."""
    if isinstance(value, bool):
        raise TypeError("expected a year, got a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise ThaiDateError(f"{value!r} is not a year", f"{value!r} ไม่ใช่ปี")
        value = int(value)
    if isinstance(value, int):
        return _apply_era(_check_year_digits(str(value), str(value)), None)
    if not isinstance(value, str):
        raise TypeError(f"expected a string or a number, got {type(value).__name__}")
    m = _YEAR.fullmatch(_clean(value))
    if m is None:
        raise ThaiDateError(
            f"{value!r} is not a year; use e.g. 2567, พ.ศ. 2567 or 2024",
            f"{value!r} ไม่ใช่ปี ตัวอย่างที่ใช้ได้: 2567, พ.ศ. 2567, 2024",
        )
    return _apply_era(_check_year_digits(m.group(2), value), m.group(1))


def parse_be_year(value: str | int | float) -> int:
    """Return the CE year from ``2567``, ``๒๕๖๗``, ``พ.ศ. 2567``, ``ปีงบประมาณ 2567``, ``2024``
    or an int; years from 2400 on are BE unless marked ค.ศ.

    :raises ThaiDateError: for anything that is not a 4-digit year.
    """
    return parse_year_era(value)[0]


def parse_amount(value: str | int | Decimal) -> Decimal:
    """Parse an amount of money: ``1,234,567.50``, ``1,234 บาท``, ``฿1,234``, ``1,234.-``,
    ``๑,๒๓๔``, ``(1,234)`` and ``-1,234`` (negative); spaces are ignored.

    ``-`` (the usual "nil" in Thai budget tables), empty text and anything with other words,
    such as ``ล้านบาท``, are rejected rather than guessed.

    :raises ThaiAmountError: with ``message_en`` and ``message_th``.
    """
    if isinstance(value, bool):
        raise TypeError("expected an amount, got a boolean")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise TypeError(f"expected a string or a number, got {type(value).__name__}")
    s = "".join(_clean(value).split())
    if s.startswith("฿"):
        s = s[1:]
    if s.endswith("บาท"):
        s = s[: -len("บาท")]
    if s.endswith(".-"):  # "1,234.-" is how cheques and forms write whole baht
        s = s[:-2]
    negative = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        negative, s = True, s[1:-1]
    elif s[:1] in {"-", "\u2212"} and len(s) > 1:
        negative, s = True, s[1:]
    if not _AMOUNT.fullmatch(s):
        if s in {"", "-", "\u2212"}:
            raise ThaiAmountError(
                f"no amount in {value!r} ('-' or an empty cell is not a number)",
                f"ไม่มีจำนวนเงินใน {value!r} (เครื่องหมาย '-' หรือช่องว่างไม่ใช่ตัวเลข)",
            )
        raise ThaiAmountError(
            f"{value!r} is not an amount; use e.g. 1,234,567.50",
            f"{value!r} ไม่ใช่จำนวนเงิน ตัวอย่างที่ใช้ได้: 1,234,567.50",
        )
    try:
        amount = Decimal(s.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern above only lets decimals through
        raise ThaiAmountError(f"{value!r} is not an amount", f"{value!r} ไม่ใช่จำนวนเงิน") from None
    return -amount if negative else amount
