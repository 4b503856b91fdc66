"""The PDPA guard: national IDs, phone numbers and e-mails found, budget figures left alone."""

from __future__ import annotations

import csv
import json
import random

import openpyxl
import pytest

from harvesters.pii import mask_value, national_id_is_valid, scan_rows
from tests.realdata import real_file


def synthetic_id(rng: random.Random) -> str:
    """A made-up 13-digit ID with a valid mod-11 check digit."""
    body = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    total = sum(int(d) * w for d, w in zip(body, range(13, 1, -1), strict=True))
    return body + str((11 - total % 11) % 10)


def dashed(id13: str, sep: str = "-") -> str:
    return sep.join((id13[0], id13[1:5], id13[5:10], id13[10:12], id13[12]))


def found(report) -> dict[tuple[str, str], int]:
    return dict(report.counts)


# -- national ID numbers ---------------------------------------------------------------------


def test_checksum():
    # 1*13 + 1*12 + 0*11 + 1*10 + 7*9 + 0*8 + 0*7 + 2*6 + 3*5 + 0*4 + 7*3 + 0*2 = 146;
    # 146 mod 11 = 3; (11 - 3) mod 10 = 8
    assert national_id_is_valid("1101700230708")
    assert not national_id_is_valid("1101700230705")
    assert not national_id_is_valid("1234567890123")  # a budget-sized amount
    assert not national_id_is_valid("110170023070")


@pytest.mark.parametrize(
    "write",
    [
        lambda i: i,
        lambda i: dashed(i),
        lambda i: dashed(i, " "),
        lambda i: f"ชื่อ นายสมมติ เลขประจำตัวประชาชน {dashed(i)} ที่อยู่ ...",
        lambda i: i.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")),
        lambda i: int(i),  # typed into Excel as a number
        lambda i: float(i),
    ],
    ids=["plain", "dashes", "spaces", "in-text", "thai-digits", "int", "float"],
)
def test_synthetic_national_ids_are_found_and_masked(write):
    rng = random.Random(2567)
    ids = [synthetic_id(rng) for _ in range(20)]
    report = scan_rows({"citizen": write(i), "amount": "78,459,000"} for i in ids)
    assert found(report) == {("citizen", "national-id"): 20}
    assert report.rows_scanned == 20
    assert report.id_checksum_rate("citizen") == 1.0
    first = report.findings[0]
    assert (first.row, first.column, first.kind) == (1, "citizen", "national-id")
    assert first.masked == f"{ids[0][0]}-{ids[0][1:5]}-xxxxx-xx-x"
    # no full value anywhere in the report
    dumped = json.dumps(report.as_list(), ensure_ascii=False) + repr(report)
    assert not any(i in dumped or dashed(i) in dumped for i in ids)


@pytest.mark.parametrize(
    "value",
    [
        "1234567890123",
        1234567890123,
        "1-2345-67890-12-3",
        "1101700230708.50",  # a decimal amount, whatever its digits
        "11017002307081",  # 14 digits
        "1,101,700,230,708",
        "1-1017-00230708",  # not the 1-4-5-2-1 grouping
        "1101-700-230-708",
    ],
)
def test_numbers_that_are_not_national_ids(value):
    assert not scan_rows([{"amount": value}]).found


def test_a_column_of_amounts_has_a_low_checksum_rate():
    rng = random.Random(1)
    amounts = [rng.randrange(10**12, 10**13) for _ in range(1000)]
    report = scan_rows({"amount": a} for a in amounts)
    assert report.thirteen_digit_numbers["amount"] == 1000
    # about 1 in 10 random numbers pass mod-11 by chance: the report lets a reviewer see that
    assert report.id_checksum_rate("amount") < 0.2


# -- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("0812345678", "081-xxx-xxxx"),
        ("081-234-5678", "081-xxx-xxxx"),
        ("081 234 5678", "081-xxx-xxxx"),
        ("08-1234-5678", "081-xxx-xxxx"),
        ("โทร. 062-345-6789", "062-xxx-xxxx"),
        ("มือถือ 0912345678 (ผู้ประสานงาน)", "091-xxx-xxxx"),
        ("02-123-4567", "02-xxx-xxxx"),
        ("021234567", "02-xxx-xxxx"),
        ("ติดต่อ 02 123 4567 ต่อ 12", "02-xxx-xxxx"),
        ("053-123456", "053-xxx-xxx"),
        ("053 123 456", "053-xxx-xxx"),
        ("+66812345678", "081-xxx-xxxx"),
        ("+66 81 234 5678", "081-xxx-xxxx"),
        ("+66-2-123-4567", "02-xxx-xxxx"),
        ("+66 (0) 2 123 4567", "02-xxx-xxxx"),
        ("๐๘๑-๒๓๔-๕๖๗๘", "081-xxx-xxxx"),
    ],
)
def test_phone_numbers(value, masked):
    report = scan_rows([{"contact": value}])
    assert found(report) == {("contact", "phone"): 1}
    assert report.findings[0].masked == masked


@pytest.mark.parametrize(
    "value",
    [
        "12345678",
        "2567-01-15",
        "15/01/2567",
        "1,234,567,890",
        "0812345678.00",
        "1234567890",
        "ระยะทาง 0.790 กิโลเมตร 1 สายทาง",
        "กม.0+000 - 34970",
        812345678,  # a phone number that lost its 0 in Excel cannot be told from an amount
    ],
)
def test_values_that_are_not_phone_numbers(value):
    assert not scan_rows([{"x": value}]).found


# -- e-mail ----------------------------------------------------------------------------------


def test_email_addresses():
    report = scan_rows(
        [
            {"contact": "somchai.j@example.go.th"},
            {"contact": "ส่งเอกสารที่ saraban@agency.example.com ภายในวันที่ 15"},
            {"contact": "@twitter_handle"},
        ]
    )
    assert found(report) == {("contact", "email"): 2}
    assert [f.masked for f in report.findings] == ["s***@example.go.th", "s***@agency.example.com"]


def test_mask_value_kinds():
    assert mask_value("email", "a@b.co") == "a***@b.co"
    with pytest.raises(ValueError):
        mask_value("passport", "AA123")


# -- the report ------------------------------------------------------------------------------


def test_counts_cells_per_column_and_kind_with_a_few_locations():
    rng = random.Random(7)
    rows = [
        {"name": "ผู้รับเหมา", "note": f"{dashed(synthetic_id(rng))} โทร 0812345678"}
        for _ in range(12)
    ]
    report = scan_rows(rows, sample_limit=3, start=2)  # row 1 of the file is the header
    assert found(report) == {("note", "national-id"): 12, ("note", "phone"): 12}
    assert [(f.row, f.kind) for f in report.findings] == [
        (2, "national-id"),
        (2, "phone"),
        (3, "national-id"),
        (3, "phone"),
        (4, "national-id"),
        (4, "phone"),
    ]
    entries = {(e["column"], e["kind"]): e for e in report.as_list()}
    assert entries[("note", "phone")]["count"] == 12
    assert len(entries[("note", "phone")]["examples"]) == 3


def test_allowed_columns_are_not_scanned():
    rows = [{"agency_phone": "02-123-4567", "agency_email": "info@example.go.th", "x": "-"}]
    assert not scan_rows(rows, allowed={"agency_phone", "agency_email"}).found
    assert found(scan_rows(rows, allowed={"agency_phone"})) == {("agency_email", "email"): 1}


def test_empty_input():
    report = scan_rows([])
    assert (report.rows_scanned, report.found, report.as_list()) == (0, False, [])


# -- the real files are clean ----------------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    [
        "budget/th_budget_act_2565_vol3-17_napatswift.csv",
        "budget/th_budget_act_2565_vol3-17_pdfplumber_raw.csv",
        "budget/th_budget_act_2565_output_example_v2.csv",
        "projects/th_budget_act_2565_vol3-13-1_provinces_napatswift.csv",
    ],
)
def test_real_csv_files_are_clean(relative):
    with real_file(relative).open(encoding="utf-8-sig", newline="") as f:
        report = scan_rows(csv.DictReader(f))
    assert report.rows_scanned > 0
    assert report.as_list() == []


@pytest.mark.parametrize(
    "relative", ["budget/provbudget2556_converted.xlsx", "budget/provbudget_all_2553_2559.xlsx"]
)
def test_real_workbooks_with_13_digit_amounts_are_clean(relative):
    workbook = openpyxl.load_workbook(real_file(relative), read_only=True, data_only=True)
    try:
        rows = [
            {f"{sheet.title}!{i}": v for i, v in enumerate(row)}
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()
    report = scan_rows(rows)
    assert report.as_list() == []
    if relative.endswith("all_2553_2559.xlsx"):
        assert sum(report.thirteen_digit_numbers.values()) > 0  # 1.7e12-baht totals were checked


def flatten(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from flatten(item, f"{path}[]")
    else:
        yield path, value


@pytest.mark.parametrize(
    "relative",
    [
        "budget/pao_chiangmai_2565.json",
        "budget/pao_chiangmai_2566.json",
        "budget/pao_metadata.json",
        "regulations/pple_law_tracker_law.json",
    ],
)
def test_real_json_files_are_clean(relative):
    data = json.loads(real_file(relative).read_text("utf-8"))
    report = scan_rows({path: value} for path, value in flatten(data))
    assert report.rows_scanned > 0
    assert report.as_list() == []
