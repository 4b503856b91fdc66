"""The Excel bridge: GD Catalog metadata spreadsheets in (`import_metadata`) and out
(`export_metadata`).

Thai agencies keep their data catalogue in the GD Catalog spreadsheet template. The sheet format:

- One row per dataset under a header row. The header may follow title/preamble rows. A header
  cell is a Thai label of reference B.1 ("ชื่อชุดข้อมูล"), its English label ("Dataset Name"),
  the field name ("title"), or all three as "Thai label (field_name)", which is what the export
  writes. Matching ignores case, spaces, underscores, "*" and ":". Unknown columns are ignored
  and listed in the import result.
- Every worksheet whose header has a `name` or `title` column is read. A sheet without a
  data_type column takes its data type from its name, as the GDC template does (Temp2_Meta_Stat...).
- Multi-value cells (objective, data_format, data_language, disaggregate, tags) are split on
  commas and line breaks; the export joins them with ", ".
- Dates may be BE or CE, ISO or Thai (the schemas parse them). The export writes ISO CE dates;
  years (fiscal_year, first/last_year_of_data) stay BE, as the GDC stores them.
- Like the GDC importer, a value outside a controlled list becomes อื่นๆ with the text in the
  `*_other` companion, but only when the sheet has no column for that companion.
- Spreadsheet formula injection is neutralised: a text cell starting with =, +, -, @, tab or CR
  (or with an apostrophe followed by one of those or another apostrophe) is written with a
  leading apostrophe, in the XLSX and the CSV; the import strips it again. Numbers are written
  as numbers, so a negative longitude is not escaped.
- CSV is UTF-8 with a BOM, so that Excel opens Thai text correctly.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Dataset, Organization
from catalog.services.context import Catalog, Context
from catalog.services.datasets import dataset_list, package_create, package_patch
from catalog.services.errors import NotAuthorized, NotFound, ValidationFailed
from schemas import vocab
from schemas.messages import Bilingual, localise_errors
from schemas.thai import normalise_text


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


def _duplicate(sheet: str, row: int) -> Bilingual:
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


def _key(text: str) -> str:
    text = normalise_text(text).casefold().replace("_", " ")
    return "".join(text.split()).strip("*:")


@cache
def _label_index() -> dict[str, str]:
    index: dict[str, str] = {}
    cols = columns()
    for col in cols:
        for text in (col.field, col.th, col.en):
            index.setdefault(_key(text), col.field)
    # Labels without their trailing note ("หน่วยวัด" for "หน่วยวัด (สำหรับชุดข้อมูลสถิติ)"), as
    # the resource form and older templates write them; exact labels win over these.
    for col in cols:
        short = _TRAILING_NOTE.sub("", col.th)
        if short and short != col.th:
            index.setdefault(_key(short), col.field)
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
    return _label_index().get(_key(text)) if text.strip() else None


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


def _cell(field: str, value: Any) -> Any:
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


def _fill_other(data: dict[str, Any], present: set[str]) -> None:
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


def _sheet_data_type(title: str) -> str | None:
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
class _Sheet:
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


def _sheet(title: str, rows: Iterator[Sequence[Any]]) -> _Sheet | None:
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

    return _Sheet(title, fields, ignored, numbered())


@contextmanager
def _open_sheets(path: Path) -> Iterator[Iterator[_Sheet]]:
    if not path.is_file():
        raise NotFound(f"Not found: {path.name}")
    if path.suffix.lower() in {".csv", ".txt"}:
        from harvesters.normalise import EncodingError, open_text

        try:
            text, _encoding = open_text(path)
            with text:
                yield (s for s in [_sheet(path.stem, iter(csv.reader(text)))] if s is not None)
        except (EncodingError, UnicodeDecodeError, csv.Error):  # neither UTF-8 nor cp874 text
            raise ValidationFailed({"file": [NOT_XLSX]}) from None
        return
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # BadZipFile, KeyError, XML errors...: all mean "not an XLSX"
        raise ValidationFailed({"file": [NOT_XLSX]}) from None
    try:

        def sheets() -> Iterator[_Sheet]:
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


# --- import -----------------------------------------------------------------------------------


class _DryRunCatalog(Catalog):
    """The same database, but every transaction is rolled back: services run their whole
    validation and permission path and write nothing."""

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session:
            session.begin()
            try:
                yield session
                session.flush()
            finally:
                session.rollback()


def _org_index(ctx: Context) -> dict[str, str]:
    """Organisation name, id, Thai and English title (as `_key`s) -> organisation name."""
    with ctx.catalog.reader() as session:
        orgs = session.scalars(select(Organization).where(Organization.state == "active")).all()
    index: dict[str, str] = {}
    for org in orgs:
        for text in (org.name, org.id, org.title, org.title_en):
            if text:
                index.setdefault(_key(text), org.name)
    return index


def _version(ctx: Context, name: str) -> int | None:
    with ctx.catalog.reader() as session:
        return session.scalar(select(Dataset.version_number).where(Dataset.name == name))


def _failure(
    sheet: str, row: int, name: str | None, error_type: str, errors: dict[str, Any]
) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": row,
        "name": name,
        "type": error_type,
        "errors": localise_errors(errors, "en"),
        "errors_th": localise_errors(errors, "th"),
    }


def import_metadata(
    ctx: Context, path: Path, *, organization: str | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Create or update datasets from a GD Catalog metadata spreadsheet (XLSX, or CSV).

    Each row is one service call (package_create, or package_patch of the dataset with the row's
    `name`), so a bad row never blocks the others. On update, the columns present in the sheet
    are set (an empty cell clears the field) and the others are left alone. A row without `name`
    gets a slug derived from its organisation and English or Thai title (see `derive_name`).

    :param path: the .xlsx (or .csv) file.
    :param organization: name, id or title of the organisation of rows without one; for rows
        that update an existing dataset it is not applied (the dataset is not moved).
    :param dry_run: validate every row, check permissions, and write nothing.
    :returns: ``{"created", "updated", "unchanged": counts, "failed": [{"sheet", "row" (row
        number in the file), "name", "type" ("validation-failed", "not-authorized",
        "not-found"), "errors": {field: [English messages]}, "errors_th": {...}}],
        "ignored_columns": [header texts that name no field]}``.
    :raises NotFound: the file or `organization` does not exist.
    :raises ValidationFailed: under ``file`` when the file is no spreadsheet or has no header.
    """
    orgs = _org_index(ctx)
    default_org = None
    if organization:
        default_org = orgs.get(_key(organization))
        if default_org is None:
            raise NotFound(f"Not found: organization {organization}")
    run = ctx
    if dry_run:
        dry = _DryRunCatalog(ctx.catalog.settings, ctx.catalog.engine, ctx.catalog.storage)
        run = dataclasses.replace(ctx, catalog=dry)
    result: dict[str, Any] = {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "failed": [],
        "ignored_columns": [],
    }
    seen: dict[str, tuple[str, int]] = {}
    found_sheet = False
    with _open_sheets(Path(path)) as sheets:
        for sheet in sheets:
            found_sheet = True
            result["ignored_columns"].extend(
                c for c in sheet.ignored if c not in result["ignored_columns"]
            )
            for number, cells in sheet.rows:
                _import_row(run, sheet, number, cells, orgs, default_org, seen, result)
    if not found_sheet:
        raise ValidationFailed({"file": [NO_HEADER]})
    return result


def _import_row(
    ctx: Context,
    sheet: _Sheet,
    number: int,
    cells: Sequence[Any],
    orgs: Mapping[str, str],
    default_org: str | None,
    seen: dict[str, tuple[str, int]],
    result: dict[str, Any],
) -> None:
    data = {
        field: _cell(field, cells[i] if i < len(cells) else None)
        for i, field in sheet.fields.items()
    }
    if all(value is None for value in data.values()):
        return  # a blank row, or one with notes in columns we do not read
    present = set(data)
    _fill_other(data, present)
    if "data_type" not in present:
        sheet_type = _sheet_data_type(sheet.title)
        if sheet_type:
            data["data_type"] = sheet_type
    org_cell = data.pop("owner_org", None)
    org = orgs.get(_key(org_cell)) if org_cell else None
    name = data.pop("name", None)
    name = "-".join(name.lower().split()) if name else None
    if name is None and (org or default_org):
        name = derive_name(org or default_org or "", data.get("title"), data.get("title_en"))

    def fail(error_type: str, errors: dict[str, Any]) -> None:
        result["failed"].append(_failure(sheet.title, number, name, error_type, errors))

    if org_cell and org is None:
        return fail("validation-failed", {"owner_org": ["Organization does not exist."]})
    if name is not None:
        if name in seen:
            return fail("validation-failed", {"name": [_duplicate(*seen[name])]})
        seen[name] = (sheet.title, number)
    try:
        before = _version(ctx, name) if name else None
        if before is None:
            new = {k: v for k, v in data.items() if v is not None}
            package_create(ctx, {**new, "name": name, "owner_org": org or default_org})
            result["created"] += 1
            return
        patch = {**data, **({"owner_org": org} if org else {})}
        after = package_patch(ctx, name, patch)
        result["unchanged" if after.get("version_number") == before else "updated"] += 1
    except ValidationFailed as exc:
        fail("validation-failed", exc.errors)
    except NotAuthorized as exc:
        fail("not-authorized", {"_": [exc.message]})
    except NotFound as exc:
        fail("not-found", {"_": [exc.message]})


# --- export -----------------------------------------------------------------------------------


def _readable(ctx: Context, organization: str | None) -> list[dict[str, Any]]:
    datasets: list[dict[str, Any]] = []
    page = 5000  # one call for most catalogues: pages of a list ordered by modified can shift
    while True:
        batch = dataset_list(ctx, organization=organization, limit=page, offset=len(datasets))
        datasets.extend(batch)
        if len(batch) < page:
            break
    # Withdrawn datasets are CKAN's "deleted" ones: re-importing them would publish them again.
    # Keyed by id, as a dataset edited while we page could come twice.
    kept = {ds["id"]: ds for ds in datasets if ds.get("state") != "withdrawn"}.values()
    return sorted(kept, key=lambda ds: ds["name"])


def _export_value(ds: Mapping[str, Any], field: str) -> Any:
    if field == "tag_string":
        value: Any = [t["name"] for t in ds.get("tags") or []]
    elif field == "owner_org":
        value = (ds.get("organization") or {}).get("name")
    elif field == "license_id":
        found = vocab.find_license(ds["license_id"]) if ds.get("license_id") else None
        value = found.title if found else ds.get("license_id")
    else:
        value = ds.get(field)
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value) or None
    if isinstance(value, bool):
        value = "True" if value else "False"
    if isinstance(value, str):
        value = escape_formula(value) if value else None
    return value


def _replace_atomically(path: Path, write: Any) -> None:
    # A failed export must not leave a truncated file where a good one was.
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export_metadata(
    ctx: Context,
    xlsx_path: Path | None,
    csv_path: Path | None,
    *,
    organization: str | None = None,
) -> int:
    """Write the metadata of every dataset the caller may read (withdrawn ones excepted) to an
    XLSX and/or a CSV file that `import_metadata` reads back.

    One row per dataset, ordered by name, under one header row of "Thai label (field_name)" in
    GD Catalog form order (see `columns`). Dates are ISO (CE), years BE, multi values joined
    with ", ", the licence as its GDC title and the organisation as its name.

    :param organization: only this organisation's datasets.
    :returns: the number of datasets written.
    :raises NotFound: unknown `organization`.
    """
    if xlsx_path is None and csv_path is None:
        raise ValueError("give xlsx_path, csv_path or both")
    cols = columns()
    header = [f"{c.th} ({c.field})" for c in cols]
    rows = [[_export_value(ds, c.field) for c in cols] for ds in _readable(ctx, organization)]
    if xlsx_path is not None:
        _replace_atomically(Path(xlsx_path), lambda p: _write_xlsx(p, header, rows))
    if csv_path is not None:
        _replace_atomically(Path(csv_path), lambda p: _write_csv(p, header, rows))
    return len(rows)


def _write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("GD Catalog metadata")
    sheet.append(header)
    for row in rows:
        # XML 1.0 cannot hold control characters; openpyxl would refuse the whole file.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    book.save(path)


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


__all__ = [
    "Column",
    "column_field",
    "columns",
    "derive_name",
    "escape_formula",
    "export_metadata",
    "import_metadata",
    "unescape_formula",
]
