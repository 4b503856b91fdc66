"""Write the demo's encoded and binary files from their UTF-8 sources.

Two demo files cannot be kept readable in the repository, so they are generated:

- ``demo/data/tharawadi_city_budget_2568.csv``: ``demo/src/tharawadi_city_budget_2568.csv``
  encoded in cp874 (Windows Thai, a superset of TIS-620) with CRLF line ends, as Excel on a
  Thai Windows PC saves "CSV";
- ``demo/data/tharawadi_city_projects_2568.xlsx``: ``demo/src/tharawadi_city_projects_2568.csv``
  laid out as agencies lay out their spreadsheets: a title row, a subtitle with the division
  and the unit ("หน่วย : บาท"), a blank row, then a two-row header whose merged top cells
  ("สัญญา", "ระยะเวลาตามสัญญา", "ผลการดำเนินงาน") stand over the lower labels, a running
  number column, dates typed with Buddhist Era years, and a totals row (รวม) at the bottom.

Run it after changing a source file, then commit both outputs:

    .venv/bin/python examples/make_demo_files.py

Everything in these files is fictional.
"""

from __future__ import annotations

import csv
import datetime
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent / "demo"
SRC_DIR = DEMO_DIR / "src"
DATA_DIR = DEMO_DIR / "data"

CP874_NAME = "tharawadi_city_budget_2568.csv"
XLSX_NAME = "tharawadi_city_projects_2568.xlsx"
XLSX_SOURCE = "tharawadi_city_projects_2568.csv"

TITLE = "ความก้าวหน้าโครงการก่อสร้างโครงสร้างพื้นฐาน ปีงบประมาณ พ.ศ. 2568"
SUBTITLE = "กองช่าง เทศบาลนครธาราวดี จังหวัดธาราวดี  ข้อมูล ณ วันที่ 31 มีนาคม 2568"
UNIT = "หน่วย : บาท"
HEADER_ROW = 4  # the first of the two header rows (1-based), as the harvest config says
# (top label, lower label, source column or None for the running number)
COLUMNS: Sequence[tuple[str, str, str | None]] = (
    ("ลำดับ", "", None),
    ("เลขที่โครงการ", "", "project_id"),
    ("ชื่อโครงการ", "", "project_name"),
    ("หน่วยงานเจ้าของโครงการ", "", "agency"),
    ("สถานที่ดำเนินการ", "", "location"),
    ("วงเงินงบประมาณ", "", "budget"),
    ("ผู้รับจ้าง", "", "contractor"),
    ("วิธีการจัดหา", "", "procurement_method"),
    ("สัญญา", "เลขที่", "contract_no"),
    ("", "ลงวันที่", "contract_date"),
    ("ระยะเวลาตามสัญญา", "เริ่ม", "planned_start"),
    ("", "สิ้นสุด", "planned_end"),
    ("ผลการดำเนินงาน", "ร้อยละ", "progress_percent"),
    ("", "เบิกจ่ายแล้ว", "disbursed_amount"),
    ("", "สถานะ", "status"),
)
AMOUNTS = ("budget", "disbursed_amount")
THAI_MONTHS = "ม.ค. ก.พ. มี.ค. เม.ย. พ.ค. มิ.ย. ก.ค. ส.ค. ก.ย. ต.ค. พ.ย. ธ.ค.".split()


def write_cp874(source: Path, target: Path) -> None:
    """Re-encode a UTF-8 CSV as cp874 with CRLF line ends."""
    text = source.read_text(encoding="utf-8")
    target.write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("cp874"))


def _be_date(iso_be: str) -> datetime.date | None:
    """A date typed with its Buddhist Era year into a date cell (2568-03-31 stays 2568)."""
    if not iso_be:
        return None
    year, month, day = (int(part) for part in iso_be.split("-"))
    return datetime.date(year, month, day)


def _thai_text_date(iso_be: str) -> str:
    """``2567-11-06`` -> ``6 พ.ย. 2567``: how a date typed as text usually looks."""
    if not iso_be:
        return ""
    year, month, day = iso_be.split("-")
    return f"{int(day)} {THAI_MONTHS[int(month) - 1]} {year}"


def _cell(column: str, value: str) -> object:
    if value == "":
        return None
    if column in AMOUNTS:
        return float(Decimal(value))
    if column == "progress_percent":
        return int(value) if value.isdigit() else float(value)
    if column in ("planned_start", "planned_end"):
        return _be_date(value)
    if column == "contract_date":
        return _thai_text_date(value)
    return value


def write_projects_xlsx(source: Path, target: Path) -> None:
    """Lay the project rows of ``source`` out as the agency's worksheet (see module docs)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    book = Workbook()
    sheet = book.active
    sheet.title = "ความก้าวหน้าโครงการ"
    last = get_column_letter(len(COLUMNS))
    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(f"A1:{last}1")
    sheet["A2"] = SUBTITLE
    sheet.merge_cells(f"A2:{get_column_letter(len(COLUMNS) - 2)}2")
    sheet[f"{last}2"] = UNIT
    # Row 3 stays blank, as it does under most agencies' titles.
    top, low = HEADER_ROW, HEADER_ROW + 1
    for j, (upper, lower, _) in enumerate(COLUMNS, start=1):
        if upper:
            sheet.cell(top, j, upper)
        if lower:
            sheet.cell(low, j, lower)
        for row in (top, low):
            sheet.cell(row, j).font = Font(bold=True)
            sheet.cell(row, j).alignment = Alignment(horizontal="center", wrap_text=True)
    j = 1
    while j <= len(COLUMNS):
        span = 1
        while j + span <= len(COLUMNS) and not COLUMNS[j + span - 1][0]:
            span += 1
        if span > 1:  # a group: the top label spans its lower labels
            sheet.merge_cells(start_row=top, start_column=j, end_row=top, end_column=j + span - 1)
        elif not COLUMNS[j - 1][1]:  # a single label fills both header rows
            sheet.merge_cells(start_row=top, start_column=j, end_row=low, end_column=j)
        j += span
    for n, record in enumerate(rows, start=1):
        r = low + n
        for j, (_, _, column) in enumerate(COLUMNS, start=1):
            value = n if column is None else _cell(column, record[column])
            cell = sheet.cell(r, j, value)
            if column in AMOUNTS:
                cell.number_format = "#,##0.00"
            elif isinstance(value, datetime.date):
                cell.number_format = "dd/mm/yyyy"
    totals = low + len(rows) + 1
    sheet.cell(totals, 3, "รวม").font = Font(bold=True)
    for column in AMOUNTS:
        j = next(i for i, c in enumerate(COLUMNS, start=1) if c[2] == column)
        total = sum(Decimal(record[column] or "0") for record in rows)
        sheet.cell(totals, j, float(total)).number_format = "#,##0.00"
    for j, width in enumerate((7, 13, 48, 24, 28, 15, 32, 13, 9, 12, 11, 11, 8, 15, 18), 1):
        sheet.column_dimensions[get_column_letter(j)].width = width
    book.save(target)


def main(argv: Sequence[str] | None = None) -> int:
    """Write both generated files into ``demo/data`` and print their paths."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    outputs = (
        (write_cp874, SRC_DIR / CP874_NAME, DATA_DIR / CP874_NAME),
        (write_projects_xlsx, SRC_DIR / XLSX_SOURCE, DATA_DIR / XLSX_NAME),
    )
    for write, source, target in outputs:
        write(source, target)
        print(f"wrote {target.relative_to(DEMO_DIR.parent)} ({target.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
