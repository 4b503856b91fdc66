"""Thai text, dates, years and amounts as agencies actually write them."""

from __future__ import annotations

import csv
import datetime
import json
from decimal import Decimal

import pytest

from schemas.thai import (
    ThaiAmountError,
    ThaiDateError,
    be_to_ce,
    normalise_text,
    parse_amount,
    parse_be_year,
    parse_thai_date,
    parse_thai_date_era,
    repair_sara_am,
    strip_thai_marks,
    thai_digits_to_arabic,
    year_to_ce,
)
from tests.realdata import real_file

# -- text ------------------------------------------------------------------------------------


def test_thai_digits_become_arabic_and_nothing_else_changes():
    assert thai_digits_to_arabic("ปี ๒๕๖๗ ข้อ ๑๐") == "ปี 2567 ข้อ 10"
    assert thai_digits_to_arabic("abc 123") == "abc 123"


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("ส\u0e4d\u0e32นัก", "สำนัก"),  # nikhahit + sara aa
        ("ส\u0e32\u0e4dนัก", "สำนัก"),  # reordered, as in the pdfplumber CSV (สาํนัก)
        ("ต\u0e4d\u0e48\u0e32", "ต\u0e48ำ"),  # split by a tone mark
        ("ต\u0e48\u0e32\u0e4d", "ต\u0e48ำ"),  # tone mark first, then the reordered pair
        ("ต\u0e32\u0e48\u0e4d", "ต\u0e48ำ"),
        ("ตำ\u0e48", "ต\u0e48ำ"),  # SARA AM typed before the tone mark
        ("สำนัก ต่ำ", "สำนัก ต่ำ"),  # already correct text is left alone
    ],
)
def test_repair_sara_am(broken, fixed):
    assert repair_sara_am(broken) == fixed


def test_normalise_text_cleans_pdf_and_word_processor_debris():
    raw = "\ufeff  สาํนักงาน\u200bคณะกรรมการ \n\t การแข่งขัน\u00a0ทางการค้า\u200d  "
    assert normalise_text(raw) == "สำนักงานคณะกรรมการ การแข่งขัน ทางการค้า"
    assert normalise_text("cafe\u0301") == "café"  # NFC
    assert normalise_text("   ") == ""


def test_sara_am_repair_on_the_real_pdfplumber_file():
    text = real_file("budget/th_budget_act_2565_vol3-17_pdfplumber_raw.csv").read_text("utf-8")
    assert "สาํนัก" in text
    fixed = normalise_text(text)
    assert "\u0e4d" not in fixed  # every nikhahit there was half of a broken SARA AM
    assert fixed.count("สำนัก") >= text.count("สาํนัก")
    assert normalise_text(fixed) == fixed


def test_strip_thai_marks_matches_vowel_dropped_pdf_text():
    # provbudget2556_converted.xlsx has รวมทงสน for รวมทั้งสิ้น
    assert strip_thai_marks("รวมทั้งสิ้น") == "รวมทงสน"
    assert strip_thai_marks("จังหวัดเชียงใหม่") == strip_thai_marks("จงหวดเชยงใหม")


# -- years -----------------------------------------------------------------------------------


def test_era_rule():
    assert be_to_ce(2567) == 2024
    assert year_to_ce(2567) == 2024
    assert year_to_ce(2400) == 1857
    assert year_to_ce(2024) == 2024
    assert year_to_ce(2399) == 2399


@pytest.mark.parametrize(
    "value", ["2567", "๒๕๖๗", "พ.ศ. 2567", "พ.ศ.2567", "ปีงบประมาณ 2567", "2024", 2567, 2024, 2567.0]
)
def test_parse_be_year(value):
    assert parse_be_year(value) == 2024


def test_parse_be_year_markers_win_over_the_era_rule():
    assert parse_be_year("ค.ศ. 2024") == 2024
    assert parse_be_year("พ.ศ. 2500") == 1957


@pytest.mark.parametrize("value", ["67", "25670", "ปี", "", "2567/68", 67])
def test_parse_be_year_rejects(value):
    with pytest.raises(ThaiDateError):
        parse_be_year(value)


# -- dates -----------------------------------------------------------------------------------

JAN_15_2024 = datetime.date(2024, 1, 15)


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-15",
        "2567-01-15",
        "2024-1-15",
        "15/01/2567",
        "15/1/2567",
        "15-01-2567",
        "15.01.2567",
        "15/01/2024",
        "15 ม.ค. 2567",
        "15 ม.ค 2567",
        "15 มค 2567",
        "15 ม. ค. 2567",
        "15ม.ค.2567",
        "15 มกราคม 2567",
        "วันที่ 15 มกราคม 2567",
        "วันที่15 มกราคม 2567",
        "15 มกราคม พ.ศ. 2567",
        "15 มกราคม พ.ศ.2567",
        "15 มกราคม ค.ศ. 2024",
        "๑๕ ม.ค. ๒๕๖๗",
        "๑๕/๐๑/๒๕๖๗",
        "  15  มกราคม\u200b 2567 ",
        "15/1/2567 0:00",  # spreadsheet export of a date cell
        "2024-01-15T00:00:00",
    ],
)
def test_parse_thai_date_accepts(value):
    assert parse_thai_date(value) == JAN_15_2024


MONTHS = [
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
]


@pytest.mark.parametrize(("number", "names"), list(enumerate(MONTHS, start=1)))
def test_every_month_name_and_abbreviation(number, names):
    full, abbr = names
    expected = datetime.date(2023, number, 1)
    for name in (full, abbr, abbr.replace(".", "")):
        assert parse_thai_date(f"1 {name} 2566") == expected, name


def test_common_month_misspelling():
    assert parse_thai_date("1 กรกฏาคม 2566") == datetime.date(2023, 7, 1)


def test_leap_day_is_checked_in_the_common_era():
    assert parse_thai_date("29/02/2567") == datetime.date(2024, 2, 29)
    with pytest.raises(ThaiDateError):
        parse_thai_date("29/02/2566")


def test_parse_thai_date_reports_the_era_it_read():
    assert parse_thai_date_era("15/01/2567") == (JAN_15_2024, "BE")
    assert parse_thai_date_era("2024-01-15") == (JAN_15_2024, "CE")


def test_spreadsheet_dates_in_be_are_converted():
    # Excel stores "15/01/2567" typed by a Thai user as a real date in the year 2567
    assert parse_thai_date(datetime.datetime(2567, 1, 15)) == JAN_15_2024
    assert parse_thai_date(JAN_15_2024) == JAN_15_2024


@pytest.mark.parametrize(
    "value",
    [
        "15/1/67",  # two-digit years are ambiguous
        "15 ม.ค. 67",
        "31/02/2567",
        "31 กุมภาพันธ์ 2567",
        "15/13/2567",
        "01/15/2024",  # month-first is not a Thai convention
        "15 มกรา 2567",
        "15 January 2024",
        "15/01/567",
        "15/1/2567 10:30",
        "",
        "-",
        "วันที่",
    ],
)
def test_parse_thai_date_rejects_with_english_and_thai_messages(value):
    with pytest.raises(ThaiDateError) as info:
        parse_thai_date(value)
    assert isinstance(info.value, ValueError)
    assert info.value.message_en and info.value.message_th
    assert str(info.value) == info.value.message_en


def test_two_digit_year_message_says_why():
    with pytest.raises(ThaiDateError) as info:
        parse_thai_date("15 ม.ค. 67")
    assert "two-digit" in info.value.message_en
    assert "67" in info.value.message_th


def test_terms_of_office_in_the_real_pao_file():
    data = json.loads(real_file("budget/pao_chiangmai_2566.json").read_text("utf-8"))
    terms = [chief["inOffice"] for chief in data["pao"]["chiefExecutives"]]
    assert terms
    for term in terms:
        start, end = (parse_thai_date(part) for part in term.split(" - "))
        assert datetime.date(1990, 1, 1) < start < end < datetime.date(2035, 1, 1)


# -- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,234,567.50", Decimal("1234567.50")),
        ("1234567.50", Decimal("1234567.50")),
        ("1,234 บาท", Decimal(1234)),
        ("1,234บาท", Decimal(1234)),
        ("฿1,234", Decimal(1234)),
        ("1,234.-", Decimal(1234)),
        ("๑,๒๓๔", Decimal(1234)),
        ("(1,234)", Decimal(-1234)),
        ("-1,234.50", Decimal("-1234.50")),
        (" 1 234 ", Decimal(1234)),
        ("78,459,000", Decimal(78459000)),
        ("0.5", Decimal("0.5")),
        (1234, Decimal(1234)),
        (78459000.0, Decimal("78459000.0")),
    ],
)
def test_parse_amount(value, expected):
    assert parse_amount(value) == expected


@pytest.mark.parametrize("value", ["-", "", "  ", "1,23", "12,34,567", "1,234 ล้านบาท", "abc", "()"])
def test_parse_amount_rejects(value):
    with pytest.raises(ThaiAmountError) as info:
        parse_amount(value)
    assert info.value.message_en and info.value.message_th


def test_every_amount_of_the_real_budget_act_csv_parses():
    path = real_file("budget/th_budget_act_2565_vol3-17_napatswift.csv")
    with path.open(encoding="utf-8", newline="") as f:
        amounts = [parse_amount(row["AMOUNT"]) for row in csv.DictReader(f)]
    assert len(amounts) == 243
    assert all(a >= 0 for a in amounts)  # ten rows are 0.0
    assert Decimal(78459000) in amounts
