"""Reading real Thai files: encodings, headers under title rows, totals rows and cell clean-up."""

from __future__ import annotations

import csv
import datetime
import io
import os
import threading
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from harvesters.normalise import (
    SAMPLE_SIZE,
    EncodingError,
    HeaderNotFound,
    Normaliser,
    detect_encoding,
    find_header,
    is_blank_row,
    is_totals_row,
    open_text,
)
from tests.realdata import real_file

BUDGET_CSV = "budget/th_budget_act_2565_vol3-17_napatswift.csv"  # 206 KB, UTF-8, no BOM


def read_all(path_or_stream, encoding=None) -> tuple[str, str]:
    stream, found = open_text(path_or_stream, encoding)
    with stream:
        return stream.read(), found


@pytest.fixture
def cp874_copy(tmp_path) -> tuple[Path, str]:
    """A synthetic cp874 (TIS-620) file: the real budget CSV transcoded, since no real cp874
    sample was found (see SOURCES.md)."""
    text = real_file(BUDGET_CSV).read_text("utf-8")
    path = tmp_path / "budget_cp874.csv"
    path.write_bytes(text.encode("cp874"))
    return path, text


# -- encodings -------------------------------------------------------------------------------


def test_real_files_are_detected_as_utf8_with_or_without_bom():
    with_bom = real_file("budget/th_budget_act_2565_output_example_v2.csv").read_bytes()
    without = real_file(BUDGET_CSV).read_bytes()
    assert detect_encoding(with_bom[:SAMPLE_SIZE]) == "utf-8-sig"
    assert detect_encoding(without[:SAMPLE_SIZE]) == "utf-8"


def test_cp874_file_reads_back_without_mojibake(cp874_copy):
    path, original = cp874_copy
    assert detect_encoding(path.read_bytes()[:SAMPLE_SIZE]) == "cp874"
    text, encoding = read_all(path)
    assert encoding == "cp874"
    assert text == original
    assert "เธ" not in text.split("\n")[1]  # the classic UTF-8-read-as-TIS-620 garbage


def test_bom_is_not_part_of_the_first_column_name():
    stream, encoding = open_text(real_file("budget/th_budget_act_2565_output_example_v2.csv"))
    with stream:
        rows = list(csv.reader(stream))
    assert encoding == "utf-8-sig"
    assert rows[0][0] == "ITEM_ID"
    assert len(rows) == 11  # header + 10 rows, CRLF handled


def test_utf8_file_with_one_damaged_byte_is_an_error_at_that_offset():
    data = bytearray(real_file(BUDGET_CSV).read_bytes()[:SAMPLE_SIZE])
    offset = data.index("สำนัก".encode()) + 3  # the lead byte of ำ
    data[offset] = 0xFF
    with pytest.raises(EncodingError) as info:
        detect_encoding(bytes(data))
    assert info.value.offset == offset
    assert str(offset) in str(info.value)


def test_utf8_damage_is_not_read_as_cp874_even_when_the_bytes_would_decode():
    # These characters encode to UTF-8 bytes that are all defined in cp874, so decoding the
    # damaged file as cp874 "works" and yields mojibake; it must be refused instead.
    good = ("ศาลาสีดำ " * 200).encode()
    assert good.decode("cp874")
    data = good[:900] + b"\xc0" + good[900:]
    with pytest.raises(EncodingError) as info:
        detect_encoding(data)
    assert info.value.offset == 900


@pytest.mark.parametrize(
    "data",
    [
        "Société générale, à Paris, élève été\n".encode("latin-1") * 50,
        "ราคา 100 บาท\n".encode("utf-16"),
        bytes(range(256)) * 4,
    ],
    ids=["latin-1", "utf-16", "binary"],
)
def test_other_encodings_are_refused(data):
    with pytest.raises(EncodingError):
        detect_encoding(data)


def test_a_character_cut_by_the_sample_boundary_is_not_an_error(tmp_path):
    text = "สำนักงบประมาณ\n" * 3000
    data = text.encode()
    assert 0x80 <= data[SAMPLE_SIZE] < 0xC0  # the sample ends inside a character
    assert detect_encoding(data[:SAMPLE_SIZE]) == "utf-8"
    with pytest.raises(EncodingError):
        detect_encoding(data[:SAMPLE_SIZE], final=True)  # a truncated file is damaged
    path = tmp_path / "split.csv"
    path.write_bytes(data)
    assert read_all(path) == (text, "utf-8")


def test_thai_text_starting_after_the_sample_is_still_detected(tmp_path):
    text = "code,amount\n" + "10,100\n" * 20000 + "50,เชียงใหม่\n"
    assert len(text) > 2 * SAMPLE_SIZE
    path = tmp_path / "late_thai.csv"
    path.write_bytes(text.encode("cp874"))
    assert read_all(path) == (text, "cp874")


def test_explicit_encoding_skips_detection(cp874_copy):
    path, original = cp874_copy
    assert read_all(path, "tis-620") == (original, "tis-620")


def test_unseekable_stream_is_decoded_while_it_is_still_being_written(cp874_copy):
    path, original = cp874_copy
    data = path.read_bytes()
    read_fd, write_fd = os.pipe()
    opened = threading.Event()
    outcome = {}

    def writer() -> None:
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data[: 2 * SAMPLE_SIZE])
            pipe.flush()
            # open_text must return after the sample, not wait for the end of the stream
            outcome["opened_before_end"] = opened.wait(timeout=10)
            pipe.write(data[2 * SAMPLE_SIZE :])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        stream, encoding = open_text(os.fdopen(read_fd, "rb"))
        opened.set()
        with stream:
            text = stream.read()
    finally:
        opened.set()
        thread.join()
    assert outcome["opened_before_end"]
    assert encoding == "cp874"
    assert text == original


def test_open_text_refuses_text_streams():
    with pytest.raises(TypeError):
        open_text(io.StringIO("a,b"))


# -- rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [[], [None, None], ["", "  ", "\u200b"], ("\t", None)],
)
def test_blank_rows(row):
    assert is_blank_row(row)


@pytest.mark.parametrize("row", [[None, "x"], [0, None], ["-"]])
def test_not_blank_rows(row):
    assert not is_blank_row(row)


@pytest.mark.parametrize(
    "label",
    [
        "รวม",
        "รวมทั้งสิ้น",
        "รวม ทั้งสิ้น",
        "รวมทั้งหมด",
        "ยอดรวม",
        "ยอดรวมทั้งสิ้น",
        "รวมจังหวัด",
        "  รวมจังหวัด ",
        "Total",
        "TOTAL:",
        "Grand total",
        "รวมทงสน",  # vowels dropped by PDF conversion (provbudget2556)
        "รวมทง้ั ส้นิ",  # marks split off with spaces (provbudget_all)
    ],
)
def test_totals_rows(label):
    assert is_totals_row([label, 2400000000000])
    assert is_totals_row([None, "", label])


@pytest.mark.parametrize(
    "row",
    [
        ["จังหวัดเชียงใหม่", 18091806387],
        ["รวมใจไทยสร้างชาติ", 100],
        ["ส่วนกลาง", 1979045304425],
        ["Totally", 1],
        [None, 12345],
    ],
)
def test_not_totals_rows(row):
    assert not is_totals_row(row)


# -- headers ---------------------------------------------------------------------------------


def load_sheet(path: Path, sheet: str | None = None) -> list[list[object]]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        return [list(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def test_header_below_the_title_rows_of_the_real_budget_bureau_sheet():
    rows = load_sheet(real_file("budget/provbudget2556_converted.xlsx"))
    guess = find_header(rows)
    # blank rows, the page number 1, the title, a subtitle and หนวย : บาท come first
    assert (guess.header_row_index, guess.n_header_rows) == (6, 1)
    assert guess.columns == ["จงหวด/ตางประเทศ", "รวม"]
    data = rows[guess.data_start :]
    totals = [row[0] for row in data if is_totals_row(row)]
    assert totals == ["รวมทงสน", "รวมจงหวด/ตางประเทศ", "รวมจงหวด", "รวมตางประเทศ"]
    provinces = [row for row in data if not is_totals_row(row) and not is_blank_row(row)]
    assert ["จงหวดเชยงใหม", 18091806387] in provinces


def test_header_of_the_real_combined_workbook_with_year_columns():
    rows = load_sheet(real_file("budget/provbudget_all_2553_2559.xlsx"), "checkname")
    guess = find_header(rows)
    assert guess.header_row_index == 0
    assert guess.columns[3:] == ["2553", "2554", "2555", "2556", "2557", "2558", "2559"]


def test_two_row_header_from_merged_cells(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["รายงานผลการเบิกจ่ายงบประมาณ ประจำปีงบประมาณ พ.ศ. 2567"])
    sheet.append([])
    sheet.append(["หน้า 1"])
    sheet.append([None, None, None, None, None, "หน่วย : ล้านบาท"])
    sheet.append(["ลำดับ", "จังหวัด", "งบประมาณ", None, None, "หมายเหตุ"])
    sheet.append([None, None, 2566, 2567, 2568, None])
    sheet.append([1, "เชียงใหม่", 100.5, 200, 300, None])
    sheet.append([2, "ลำพูน", 10, 20, 30, "โครงการใหม่"])
    sheet.append([None, "รวมทั้งสิ้น", 110.5, 220, 330, None])
    sheet.merge_cells("C5:E5")
    for column in "ABF":
        sheet.merge_cells(f"{column}5:{column}6")
    path = tmp_path / "two_row_header.xlsx"
    workbook.save(path)

    rows = load_sheet(path)
    guess = find_header(rows)
    assert (guess.header_row_index, guess.n_header_rows) == (4, 2)
    assert guess.columns == [
        "ลำดับ",
        "จังหวัด",
        "งบประมาณ 2566",
        "งบประมาณ 2567",
        "งบประมาณ 2568",
        "หมายเหตุ",
    ]
    assert find_header(rows, joiner="_").columns[2] == "งบประมาณ_2566"
    assert [is_totals_row(row) for row in rows[guess.data_start :]] == [False, False, True]


def test_two_row_header_where_every_top_cell_is_merged():
    rows = [
        ["2566", None, "2567", None],
        ["แผน", "ผล", "แผน", "ผล"],
        ["100", "90", "120", "80"],
    ]
    guess = find_header(rows)
    assert guess.n_header_rows == 2
    assert guess.columns == ["2566 แผน", "2566 ผล", "2567 แผน", "2567 ผล"]


def test_a_text_data_row_is_not_a_second_header_row():
    rows = [
        ["", "ชื่อหน่วยงาน", "จังหวัด"],  # an unnamed index column, as pandas writes it
        ["ก", "สำนักงานจังหวัด", "เชียงใหม่"],
    ]
    guess = find_header(rows)
    assert (guess.header_row_index, guess.n_header_rows) == (0, 1)
    assert guess.columns == ["", "ชื่อหน่วยงาน", "จังหวัด"]


def test_header_of_the_real_csv_is_its_first_row():
    stream, _ = open_text(real_file(BUDGET_CSV))
    with stream:
        rows = [row for row, _ in zip(csv.reader(stream), range(31), strict=False)]
    guess = find_header(rows)
    assert guess.header_row_index == 0
    assert guess.columns[1:4] == ["ITEM_ID", "REF_DOC", "REF_PAGE_NO"]


def test_no_header_found():
    with pytest.raises(HeaderNotFound):
        find_header([["กรุงเทพมหานคร", "10", 29716463204], [None], ["title"]])


# -- cell values -----------------------------------------------------------------------------


def kinds_by_column(report) -> dict[tuple[str, str], int]:
    return {(entry["column"], entry["kind"]): entry["count"] for entry in report}


def test_normaliser_changes_cells_and_reports_each_change():
    normaliser = Normaliser(
        {"date": "date", "year": "year", "amount": "amount", "count": "integer", "note": "string"}
    )
    out = normaliser.row(
        {
            "date": "๑๕ ม.ค. ๒๕๖๗",
            "year": "2567",
            "amount": "1,234 บาท",
            "count": "๑๒",
            "note": " สาํนัก\u200bงาน  งบประมาณ ",
            "other": "ok",
        }
    )
    assert out == {
        "date": datetime.date(2024, 1, 15),
        "date_original": "๑๕ ม.ค. ๒๕๖๗",
        "year": 2024,
        "amount": Decimal(1234),
        "count": 12,
        "note": "สำนักงาน งบประมาณ",
        "other": "ok",
    }
    assert kinds_by_column(normaliser.report()) == {
        ("date", "thai-digits"): 1,
        ("date", "be-date"): 1,
        ("year", "be-year"): 1,
        ("amount", "amount"): 1,
        ("count", "thai-digits"): 1,
        ("note", "zero-width"): 1,
        ("note", "sara-am"): 1,
        ("note", "whitespace"): 1,
    }
    example = next(e for e in normaliser.report() if e["kind"] == "be-date")["examples"][0]
    assert example == {
        "row": 1,
        "column": "date",
        "original": "๑๕ ม.ค. ๒๕๖๗",
        "normalised": "2024-01-15",
    }


def test_values_already_clean_are_not_reported():
    normaliser = Normaliser({"date": "date", "year": "year", "amount": "amount"})
    out = normaliser.row({"date": "2024-01-15", "year": "2022", "amount": "78459000", "x": "a"})
    assert out["date"] == datetime.date(2024, 1, 15)
    assert out["amount"] == Decimal(78459000)
    assert normaliser.report() == []


def test_unparsable_values_are_kept_for_validation_to_report():
    normaliser = Normaliser({"date": "date", "amount": "amount", "n": "integer"})
    out = normaliser.row({"date": "31/02/2567", "amount": "-", "n": "1.5"})
    assert out == {"date": "31/02/2567", "date_original": "31/02/2567", "amount": "-", "n": "1.5"}
    assert normaliser.report() == []


def test_empty_typed_cells_become_none():
    normaliser = Normaliser({"date": "date", "amount": "amount"}, keep_original_dates=False)
    assert normaliser.row({"date": " ", "amount": "", "s": ""}) == {
        "date": None,
        "amount": None,
        "s": "",
    }


def test_spreadsheet_cells_keep_their_types_and_be_dates_are_fixed():
    normaliser = Normaliser({"date": "date", "year": "year", "amount": "amount", "n": "integer"})
    out = normaliser.row(
        {"date": datetime.datetime(2567, 1, 15), "year": 2566, "amount": 1234, "n": 3.0},
        row=8,
    )
    assert out["date"] == datetime.date(2024, 1, 15)
    assert (out["year"], out["amount"], out["n"]) == (2023, Decimal(1234), 3)
    assert {(e["kind"], e["examples"][0]["row"]) for e in normaliser.report()} == {
        ("be-date", 8),
        ("be-year", 8),
    }


def test_report_keeps_five_examples_but_counts_all():
    normaliser = Normaliser({"amount": "amount"})
    for i in range(12):
        normaliser.row({"amount": f"{i},000"})
    [entry] = normaliser.report()
    assert entry["count"] == 12
    assert [e["row"] for e in entry["examples"]] == [1, 2, 3, 4, 5]


def test_unknown_field_type_is_refused():
    with pytest.raises(ValueError):
        Normaliser({"x": "datetime"})


def test_normalising_the_real_pdfplumber_csv():
    path = real_file("budget/th_budget_act_2565_vol3-17_pdfplumber_raw.csv")
    normaliser = Normaliser({"AMOUNT": "amount", "FISCAL_YEAR": "year"})
    stream, _ = open_text(path)
    with stream:
        rows = [normaliser.row(row) for row in csv.DictReader(stream)]
    assert len(rows) == 275
    assert not any("\u0e32\u0e4d" in str(v) for row in rows for v in row.values())
    counts = kinds_by_column(normaliser.report())
    assert counts[("BUDGETARY_UNIT", "sara-am")] == 275  # สาํนักงาน... on every row
    # FISCAL_YEAR is already CE (2022) and AMOUNT a plain float: nothing to report for them
    assert not [key for key in counts if key[0] in {"FISCAL_YEAR", "AMOUNT"}]
    assert all(2015 <= row["FISCAL_YEAR"] <= 2030 for row in rows)  # CE ints, none shifted


def test_normalising_the_real_napatswift_csv_amounts():
    path = real_file(BUDGET_CSV)
    normaliser = Normaliser({"AMOUNT": "amount"})
    stream, _ = open_text(path)
    with stream:
        originals, rows = [], []
        for row in csv.DictReader(stream):
            originals.append(row["AMOUNT"])
            rows.append(normaliser.row(row))
    assert all(isinstance(row["AMOUNT"], Decimal) for row in rows)
    with_separators = sum("," in amount for amount in originals)
    assert kinds_by_column(normaliser.report())[("AMOUNT", "amount")] == with_separators
