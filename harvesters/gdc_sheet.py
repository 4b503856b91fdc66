"""The GD Catalog metadata spreadsheet: its columns and labels, and reading its sheets.

Pure code (no database): the Excel bridge in catalog/services/metadata_sheet.py imports and
exports datasets with it. See that module's docstring for the sheet format.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from schemas import vocab
from schemas.messages import Bilingual
from schemas.thai import normalise_text


class SheetError(ValueError):
    """The file is missing, or is neither an XLSX workbook nor a CSV text file."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


class Column(NamedTuple):
    """A spreadsheet column: the field and its Thai and English labels."""

    field: str
    th: str
    en: str


# Reference B.1 in form order, "field | Thai label | English label"; the Thai labels of name,
# owner_org, notes and license_id are ours (the GDC form shows none). Read by `columns`, which
# adds each *_other companion after its field.
_GDC = """
data_type | ประเภทชุดข้อมูล | Data Type
title | ชื่อชุดข้อมูล | Dataset Name
name | ชื่อ URL ของชุดข้อมูล | URL name
owner_org | หน่วยงาน | Organization
allow_harvest | ยินยอมให้นำชื่อชุดข้อมูลไปใช้ที่ GD-Catalog | Allow for harvest to GD-Catalog
reference_url_catalog | อ้างอิง URL Catalog | Reference URL Catalog
maintainer | ชื่อผู้ติดต่อ | Contact Person
maintainer_email | อีเมลผู้ติดต่อ | Contact Email
tag_string | คำสำคัญ | Tags
notes | รายละเอียด | Description
objective | วัตถุประสงค์ | Objective
update_frequency_unit | หน่วยความถี่ของการปรับปรุงข้อมูล | Update Frequency Unit
update_frequency_interval | ค่าความถี่ของการปรับปรุงข้อมูล (ความถี่น้อยที่สุด) | Update Frequency Interval
geo_coverage | ขอบเขตเชิงภูมิศาสตร์หรือเชิงพื้นที่ | Geo Coverage
data_source | แหล่งที่มา | Data Source
data_format | รูปแบบการเก็บข้อมูล | Data Format
data_category | หมวดหมู่ข้อมูลตามธรรมาภิบาลข้อมูลภาครัฐ | Data Category
data_classification | ระดับชั้นข้อมูล | Data Classification
license_id | สัญญาอนุญาต | License
accessible_condition | เงื่อนไขในการเข้าถึงข้อมูล | Accessible Condition
data_support | ผู้สนับสนุนหรือผู้ร่วมดำเนินการ | Data Support
data_collect | หน่วยที่ย่อยที่สุดของการจัดเก็บข้อมูล | Data Collect
url | URL | URL
data_language | ภาษาที่ใช้ | Data Language
created_date | วันที่เริ่มต้นสร้าง | Created date
last_updated_date | วันที่ปรับปรุงข้อมูลล่าสุด | Last updated date
data_release_calendar | วันที่กำหนดเผยแพร่ข้อมูล | Data release calendar
first_year_of_data | ปีข้อมูลที่เริ่มต้นจัดทำ (สำหรับชุดข้อมูลสถิติ) | First year of data
last_year_of_data | ปีข้อมูลล่าสุดที่เผยแพร่ (สำหรับชุดข้อมูลสถิติ) | Last year of data
disaggregate | การจัดจำแนก (สำหรับชุดข้อมูลสถิติ) | Disaggregate
unit_of_measure | หน่วยวัด (สำหรับชุดข้อมูลสถิติ) | Unit of measure
unit_of_multiplier | หน่วยตัวคูณ (สำหรับชุดข้อมูลสถิติ) | Unit of multiplier
calculation_method | วิธีการคำนวณ (สำหรับชุดข้อมูลสถิติ) | Calculation method
standard | มาตรฐานการจัดทำข้อมูล (สำหรับชุดข้อมูลสถิติ) | Standard
geographic_data_set | ชุดข้อมูลภูมิศาสตร์ (สำหรับชุดข้อมูลภูมิศาสตร์สารสนเทศ) | Geographic dataset
equivalent_scale | มาตราส่วน (สำหรับชุดข้อมูลภูมิศาสตร์สารสนเทศ) | Equivalent scale
west_bound_longitude | ค่าพิกัดกรอบพื้นที่ด้านทิศตะวันตก | West bound longitude
east_bound_longitude | ค่าพิกัดกรอบพื้นที่ด้านทิศตะวันออก | East bound longitude
north_bound_longitude | ค่าพิกัดกรอบพื้นที่ด้านทิศเหนือ | North bound longitude
south_bound_longitude | ค่าพิกัดกรอบพื้นที่ด้านทิศใต้ | South bound longitude
positional_accuracy | ความถูกต้องของตำแหน่ง | Positional accuracy
reference_period | เวลาอ้างอิง | Reference period
data_release_date | วันที่เผยแพร่ข้อมูล | Data release date
high_value_dataset | ชุดข้อมูลที่มีคุณค่าสูง | High Value Dataset
reference_data | ข้อมูลอ้างอิง | Reference Data
official_statistics | สถิติทางการ | Official Statistics
# Khlang fields outside the GDC form, so that an export re-imports without loss
title_en | ชื่อชุดข้อมูล (ภาษาอังกฤษ) | Dataset Name (English)
notes_en | รายละเอียด (ภาษาอังกฤษ) | Description (English)
fiscal_year | ปีงบประมาณ | Fiscal year
private | ชุดข้อมูลส่วนตัว (ไม่เผยแพร่) | Private
"""

# Controlled lists whose unknown values become อื่นๆ + *_other (see the module docstring).
_CHOICES: dict[str, tuple[vocab.Choice, ...]] = {
    "objective": vocab.OBJECTIVES,
    "update_frequency_unit": vocab.UPDATE_FREQUENCY_UNITS,
    "geo_coverage": vocab.GEO_COVERAGE,
    "data_format": vocab.DATA_FORMATS,
    "data_support": vocab.DATA_SUPPORT,
    "data_collect": vocab.DATA_COLLECT,
    "data_language": vocab.DATA_LANGUAGES,
    "disaggregate": vocab.DISAGGREGATE,
    "unit_of_multiplier": vocab.UNIT_OF_MULTIPLIER,
    "equivalent_scale": vocab.EQUIVALENT_SCALES,
}

# Words in the GDC template's sheet names (Temp2_Meta_Record, ..._Stat, ..._GIS...).
_SHEET_TYPES: dict[str, str] = {
    **dict.fromkeys(("record", "ระเบียน"), vocab.RECORD),
    **dict.fromkeys(("stat", "สถิติ"), vocab.STATISTICAL),
    **dict.fromkeys(("gis", "geo", "ภูมิ"), vocab.GEOSPATIAL),
    **dict.fromkeys(("multi", "หลากหลาย"), vocab.MULTIPLE),
    **dict.fromkeys(("other", "อื่น"), vocab.OTHER_TYPE),
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPLIT = re.compile(r"\s*[,\n\r]+\s*")
_FIELD_SUFFIX = re.compile(r"\(\s*([A-Za-z_]+)\s*\)\s*$")
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_HEADER_SCAN = 30

NO_HEADER = Bilingual(
    "No header row of GD Catalog fields (e.g. title or ชื่อชุดข้อมูล) was found.",
    "ไม่พบแถวหัวตารางที่มีชื่อช่องข้อมูลของ GD Catalog (เช่น title หรือ ชื่อชุดข้อมูล)",
)
NOT_XLSX = Bilingual(
    "Not a readable XLSX or CSV file (an old .xls must be saved as .xlsx).",
    "ไม่ใช่ไฟล์ XLSX หรือ CSV ที่อ่านได้ (ไฟล์ .xls ต้องบันทึกเป็น .xlsx ก่อน)",
)


def duplicate(sheet: str, row: int) -> Bilingual:
    return Bilingual(
        f"The same name is already used by row {row} of sheet {sheet}.",
        f"ชื่อนี้ซ้ำกับแถวที่ {row} ของชีต {sheet}",
    )


@cache
def columns() -> tuple[Column, ...]:
    """The sheet's columns in GD Catalog form order, each *_other companion after its field."""
    out: list[Column] = []
    for line in _GDC.strip().splitlines():
        if line.startswith("#"):
            continue
        field, th, en = (part.strip() for part in line.split("|"))
        out.append(Column(field, th, en))
        other = vocab.DATASET_OTHER_COMPANIONS.get(field)
        if other is not None:
            out.append(Column(other[0], f"{th} (อื่นๆ)", f"{en} (other)"))
    return tuple(out)


def key(text: str) -> str:
    text = normalise_text(text).casefold().replace("_", " ")
    return "".join(text.split()).strip("*:")


@cache
def _label_index() -> dict[str, str]:
    index: dict[str, str] = {}
    cols = columns()
    for col in cols:
        for text in (col.field, col.th, col.en):
            index.setdefault(key(text), col.field)
    # Labels without their trailing note ("หน่วยวัด" for "หน่วยวัด (สำหรับชุดข้อมูลสถิติ)"), as
    # the resource form and older templates write them; exact labels win over these.
    for col in cols:
        short = _TRAILING_NOTE.sub("", col.th)
        if short and short != col.th:
            index.setdefault(key(short), col.field)
    return index


def column_field(header: object) -> str | None:
    """The field a header cell names, or None: a Thai or English label, the field name, or
    "label (field_name)"."""
    if header is None:
        return None
    text = str(header)
    found = _FIELD_SUFFIX.search(text)
    fields = {c.field for c in columns()}
    if found and found.group(1) in fields:
        return found.group(1)
    return _label_index().get(key(text)) if text.strip() else None


def escape_formula(text: str) -> str:
    """`text` with a leading apostrophe when a spreadsheet could read it as a formula."""
    if text[:1] in _FORMULA_START or (text[:1] == "'" and text[1:2] in (*_FORMULA_START, "'")):
        return "'" + text
    return text


def unescape_formula(text: str) -> str:
    """Undo `escape_formula`."""
    if text[:1] == "'" and text[1:2] in (*_FORMULA_START, "'"):
        return text[1:]
    return text


@cache
def _kinds() -> dict[str, str]:
    from marshmallow import fields as mf

    from schemas.dataset import DatasetSchema
    from schemas.fields import BoundedList, Tags, ThaiDate

    kinds = {"tag_string": "list", "owner_org": "text"}
    for name, field in DatasetSchema().fields.items():
        if isinstance(field, BoundedList | Tags):
            kinds[name] = "list"
        elif isinstance(field, ThaiDate):
            kinds[name] = "date"
        elif isinstance(field, mf.String):
            kinds[name] = "text"
        else:
            kinds[name] = "other"
    return kinds


def cell(field: str, value: Any) -> Any:
    """A sheet cell as the schemas want it; None for an empty cell."""
    if isinstance(value, str):
        value = unescape_formula(value).strip()
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    kind = _kinds().get(field, "text")
    if kind == "list":
        if isinstance(value, str) and not value.startswith("["):  # "[...]": CKAN's JSON list
            return [part for part in _SPLIT.split(value) if part] or None
        return value if isinstance(value, str) else [str(value)]
    if kind == "text" and not isinstance(value, str):
        return value.isoformat() if isinstance(value, datetime.date) else str(value)
    return value


def fill_other(data: dict[str, Any], present: set[str]) -> None:
    """Controlled values in their listed spelling ("csv" -> "CSV"); unknown ones -> อื่นๆ with
    the text in the *_other companion, unless the sheet has a column for that companion."""
    for field, choices in _CHOICES.items():
        value = data.get(field)
        if value is None:
            continue
        known = {normalise_text(v).casefold(): v for v in vocab.values(choices)}
        items = value if isinstance(value, list) else [value]
        found = [known.get(normalise_text(str(v)).casefold()) for v in items]
        kept = [v for v in found if v is not None]
        unknown = [str(v) for v, k in zip(items, found, strict=True) if k is None]
        other = vocab.DATASET_OTHER_COMPANIONS[field][0]
        if unknown and other not in present:
            data[other] = ", ".join(unknown)
            kept.append(vocab.OTHER)
        else:
            kept.extend(unknown)  # the schema reports them
        data[field] = kept if isinstance(value, list) else kept[0]
    license_id = data.get("license_id")
    if license_id and "license_id_other" not in present and not vocab.find_license(license_id):
        data["license_id"], data["license_id_other"] = vocab.OTHER_LICENSE, license_id


def sheet_data_type(title: str) -> str | None:
    lowered = title.casefold()
    return next((dt for word, dt in _SHEET_TYPES.items() if word in lowered), None)


def _ascii_slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def derive_name(org_name: str, title: str | None, title_en: str | None) -> str | None:
    """A stable ASCII slug for a row without `name`: the org name, then the English title or,
    without one, a hash of the Thai title. None without a title."""
    base = _ascii_slug(title_en or "")[:60].strip("-")
    if not base and title:
        base = hashlib.sha1(normalise_text(title).encode()).hexdigest()[:12]
    if not base:
        return None
    return f"{_ascii_slug(org_name)}-{base}"[:100].rstrip("-")


# --- reading sheets ---------------------------------------------------------------------------


@dataclasses.dataclass
class Sheet:
    title: str
    fields: dict[int, str]  # column index -> field
    ignored: list[str]
    rows: Iterator[tuple[int, Sequence[Any]]]  # (row number in the file, cells)


def _map_header(cells: Sequence[Any]) -> tuple[dict[int, str], list[str]]:
    fields: dict[int, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        field = column_field(cell)
        if field is None or field in fields.values():
            if cell is not None and str(cell).strip():
                ignored.append(str(cell).strip())
            continue
        fields[index] = field
    return fields, ignored


def _usable(fields: dict[int, str]) -> bool:
    return len(fields) >= 2 and bool({"name", "title"} & set(fields.values()))


def _sheet(title: str, rows: Iterator[Sequence[Any]]) -> Sheet | None:
    """Find the header in the first rows; None when the sheet holds no metadata table."""
    from harvesters.normalise import HeaderNotFound, find_header

    head = [list(row) for _, row in zip(range(_HEADER_SCAN + 2), rows, strict=False)]
    start: int | None = None
    try:
        guess = find_header(head, max_scan=_HEADER_SCAN)
        if _usable(_map_header(head[guess.header_row_index])[0]):
            start = guess.header_row_index
    except HeaderNotFound:
        pass
    if start is None:  # a preamble find_header took for the header: look for the labels
        start = next((i for i, r in enumerate(head) if _usable(_map_header(r)[0])), None)
    if start is None:
        return None
    fields, ignored = _map_header(head[start])

    def numbered() -> Iterator[tuple[int, Sequence[Any]]]:
        yield from ((n, r) for n, r in enumerate(head[start + 1 :], start=start + 2))
        yield from enumerate(rows, start=len(head) + 1)

    return Sheet(title, fields, ignored, numbered())


@contextmanager
def open_sheets(path: Path) -> Iterator[Iterator[Sheet]]:
    if not path.is_file():
        raise SheetError(f"Not found: {path.name}", missing=True)
    if path.suffix.lower() in {".csv", ".txt"}:
        from harvesters.normalise import EncodingError, open_text

        try:
            text, _encoding = open_text(path)
            with text:
                yield (s for s in [_sheet(path.stem, iter(csv.reader(text)))] if s is not None)
        except (EncodingError, UnicodeDecodeError, csv.Error):  # neither UTF-8 nor cp874 text
            raise SheetError(NOT_XLSX) from None
        return
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # BadZipFile, KeyError, XML errors...: all mean "not an XLSX"
        raise SheetError(NOT_XLSX) from None
    try:

        def sheets() -> Iterator[Sheet]:
            for ws in book.worksheets:
                if not hasattr(ws, "reset_dimensions"):
                    continue  # a chart sheet
                ws.reset_dimensions()  # some writers declare a wrong sheet size
                found = _sheet(ws.title, ws.iter_rows(values_only=True))
                if found is not None:
                    yield found

        yield sheets()
    finally:
        book.close()
