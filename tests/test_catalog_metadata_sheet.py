"""The GD Catalog spreadsheet bridge: `khlang import-metadata` / `export-metadata` services.

Template sheets are generated here with openpyxl, the way agencies fill them in: Thai labels,
title rows above the header, BE dates, several values in one cell.
"""

from __future__ import annotations

import csv
import datetime
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from catalog import services
from catalog.services import Catalog, Context, NotFound, ValidationFailed
from catalog.services.metadata_sheet import export_metadata, import_metadata
from catalog.settings import load_settings
from harvesters.gdc_sheet import (
    column_field,
    columns,
    derive_name,
    escape_formula,
    unescape_formula,
)
from tests.factories import make_dataset, make_org, make_user

ORG_TITLE = "เทศบาลตำบลบ้านสวน"

# The main sheet: a row of column labels as agencies write them (Thai, English, field names,
# odd spacing and case, a required-field star) and one column we do not know.
HEADER = [
    "name",
    "ประเภทชุดข้อมูล",
    " ชื่อชุดข้อมูล ",
    "หน่วยงาน",
    "ชื่อผู้ติดต่อ",
    "อีเมลผู้ติดต่อ*",
    "คำสำคัญ",
    "Description",
    "วัตถุประสงค์",
    "หน่วยความถี่ของการปรับปรุงข้อมูล",
    "UPDATE FREQUENCY INTERVAL",
    "ขอบเขตเชิงภูมิศาสตร์หรือเชิงพื้นที่",
    "data_source",
    "รูปแบบการเก็บข้อมูล",
    "หมวดหมู่ข้อมูลตามธรรมาภิบาลข้อมูลภาครัฐ",
    "ระดับชั้นข้อมูล",
    "License",
    "ภาษาที่ใช้",
    "วันที่เริ่มต้นสร้าง",
    "วันที่ปรับปรุงข้อมูลล่าสุด",
    "Dataset Name (English)",
    "หมายเหตุ",
]


def record(**values: Any) -> list[Any]:
    """One row of the main sheet: a valid record dataset, with `values` by field name."""
    row: dict[str, Any] = {
        "name": None,
        "data_type": "ข้อมูลระเบียน",
        "title": "ทะเบียนผู้สูงอายุ",
        "owner_org": None,
        "maintainer": "กองสวัสดิการสังคม",
        "maintainer_email": "welfare@example.org",
        "tag_string": "ผู้สูงอายุ, สวัสดิการ",
        "notes": "รายชื่อผู้มีสิทธิ์รับเบี้ยยังชีพผู้สูงอายุ",
        "objective": "พันธกิจหน่วยงาน",
        "update_frequency_unit": "เดือน",
        "update_frequency_interval": 1,
        "geo_coverage": "เทศบาล/อบต.",
        "data_source": "กองสวัสดิการสังคม",
        "data_format": "XLS",
        "data_category": "ข้อมูลสาธารณะ",
        "data_classification": "เปิดเผย",
        "license_id": "Open Data Common",
        "data_language": "ไทย",
        "created_date": None,
        "last_updated_date": None,
        "title_en": None,
        "note": None,
    }
    assert set(values) <= set(row)
    row.update(values)
    return list(row.values())


def write_template(path: Path) -> Path:
    """A two-sheet GD Catalog template: records, then a statistics sheet without data_type."""
    book = openpyxl.Workbook()
    main = book.active
    main.title = "บัญชีข้อมูล"
    main.append(["บัญชีข้อมูลของหน่วยงาน (GD Catalog) ปีงบประมาณ พ.ศ. 2567"])
    main.append([])
    main.append(HEADER)
    main.append(  # row 4
        record(
            name="budget-2567",
            title="งบประมาณรายจ่ายประจำปี พ.ศ. 2567",
            owner_org=ORG_TITLE,
            tag_string="งบประมาณ\nการคลัง",
            objective="พันธกิจหน่วยงาน, เพื่อการให้บริการประชาชน",
            data_format="csv, XLS",  # a listed value in another case
            data_language="ไทย,อังกฤษ",
            created_date="15/01/2567",
            last_updated_date=datetime.datetime(2567, 3, 1),  # Excel holds the BE year as is
        )
    )
    main.append([])  # row 5: blank, skipped
    main.append(  # row 6: no name, organisation from the argument, an objective off the list
        record(
            title="คุณภาพน้ำในคลอง",
            title_en="Water quality of canals",
            objective="แผนพัฒนาจังหวัด",
            last_updated_date="1 ม.ค. 2567",
        )
    )
    main.append(record(name="secret-list", data_classification="ลับ"))  # row 7: B.3 broken
    main.append(record(title="ข้อร้องเรียนประจำปี", created_date="2567-02-01"))  # row 8
    stat = book.create_sheet("Temp2_Meta_Stat")
    stat.append(["ชุดข้อมูลสถิติ"])
    stat.append(["กรอกข้อมูลตั้งแต่แถวที่ 5"])
    stat.append([])
    stat.append(
        ["name", "ชื่อชุดข้อมูล", "หน่วยงาน", "ชื่อผู้ติดต่อ", "อีเมลผู้ติดต่อ", "คำสำคัญ"]
        + ["รายละเอียด", "วัตถุประสงค์", "หน่วยความถี่ของการปรับปรุงข้อมูล"]
        + ["ขอบเขตเชิงภูมิศาสตร์หรือเชิงพื้นที่", "แหล่งที่มา", "รูปแบบการเก็บข้อมูล"]
        + ["หมวดหมู่ข้อมูลตามธรรมาภิบาลข้อมูลภาครัฐ", "สัญญาอนุญาต"]
        + ["ปีข้อมูลที่เริ่มต้นจัดทำ (สำหรับชุดข้อมูลสถิติ)", "ปีข้อมูลล่าสุดที่เผยแพร่"]
        + ["การจัดจำแนก (สำหรับชุดข้อมูลสถิติ)"]
    )
    stat.append(
        ["population", "จำนวนประชากรรายปี", "ban-suan", "สำนักปลัด", "clerk@example.org"]
        + ["ประชากร", "จำนวนประชากรแยกตามหมู่บ้าน", "พันธกิจหน่วยงาน", "ปี", "หมู่บ้าน"]
        + ["ทะเบียนราษฎร", "CSV", "ข้อมูลสาธารณะ", "Open Data Common", 2560, "พ.ศ. 2567"]
        + ["เพศ\nอายุ/กลุ่มอายุ"]
    )
    book.save(path)
    return path


@pytest.fixture
def org(system: Context) -> dict[str, Any]:
    return make_org(system, "ban-suan", title=ORG_TITLE)


@pytest.fixture
def other_catalog(tmp_path: Path, sqlite_template: Path) -> Iterator[Catalog]:
    """A second, empty catalogue (SQLite) to move metadata into."""
    folder = tmp_path / "other"
    folder.mkdir()
    shutil.copyfile(sqlite_template, folder / "khlang.db")
    settings = load_settings(
        overrides={"DATA_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'khlang.db'}"},
        environ={},
        config_file=None,
    )
    cat = Catalog.open(settings)
    try:
        yield cat
    finally:
        cat.close()


def names(ctx: Context) -> list[str]:
    return sorted(ds["name"] for ds in services.dataset_list(ctx, limit=1000))


# --- pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("ชื่อชุดข้อมูล", "title"),
        ("  Dataset  name ", "title"),
        ("DATA_TYPE", "data_type"),
        ("Data Type", "data_type"),
        ("อีเมลผู้ติดต่อ *", "maintainer_email"),
        ("ปีข้อมูลที่เริ่มต้นจัดทำ", "first_year_of_data"),  # without "(สำหรับชุดข้อมูลสถิติ)"
        ("คำสำคัญ (tag_string)", "tag_string"),
        ("วัตถุประสงค์ (อื่นๆ) (objective_other)", "objective_other"),
        ("URL", "url"),
        ("หมายเหตุ", None),
        ("", None),
    ],
)
def test_header_cells_name_fields_in_thai_english_or_raw(header: str, field: str | None) -> None:
    assert column_field(header) == field


def test_every_export_header_reads_back_as_its_field() -> None:
    for column in columns():
        assert column_field(f"{column.th} ({column.field})") == column.field
        assert column_field(column.th) == column.field
        assert column_field(column.en) == column.field


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x")', "+66 2 123 4567", "-5", "@SUM(A1)", "\tx", "'=x", "''", "'a", "a"],
)
def test_formula_escape_is_undone_exactly(text: str) -> None:
    escaped = escape_formula(text)
    assert escaped[:1] not in {"=", "+", "-", "@", "\t", "\r"}
    assert unescape_formula(escaped) == text


def test_derived_names_are_stable_ascii_slugs() -> None:
    assert derive_name("ban-suan", "คุณภาพน้ำ", "Water quality!") == "ban-suan-water-quality"
    thai = derive_name("ban-suan", "คุณภาพน้ำในคลอง", None)
    assert thai == derive_name("ban-suan", "คุณภาพน้ำในคลอง", None)
    assert thai is not None and thai.isascii() and thai.startswith("ban-suan-")
    assert thai != derive_name("ban-suan", "คุณภาพอากาศ", None)
    assert derive_name("ban-suan", None, None) is None


# --- import -----------------------------------------------------------------------------------


def test_import_template_creates_datasets_and_reports_the_bad_row(
    system: Context, org: dict, tmp_path: Path
) -> None:
    path = write_template(tmp_path / "template.xlsx")

    dry = import_metadata(system, path, organization="ban-suan", dry_run=True)
    assert (dry["created"], dry["updated"], len(dry["failed"])) == (4, 0, 1)
    assert names(system) == []  # a dry run writes nothing

    result = import_metadata(system, path, organization="ban-suan")
    assert (result["created"], result["updated"], result["unchanged"]) == (4, 0, 0)
    assert result["ignored_columns"] == ["หมายเหตุ"]
    [bad] = result["failed"]
    assert (bad["sheet"], bad["row"], bad["name"], bad["type"]) == (
        "บัญชีข้อมูล",
        7,
        "secret-list",
        "validation-failed",
    )
    assert set(bad["errors"]) == {"data_classification"}
    assert bad["errors_th"]["data_classification"][0].startswith("ไม่อนุญาต")
    assert bad["errors_th"]["data_classification"] != bad["errors"]["data_classification"]

    budget = services.package_show(system, "budget-2567")
    assert budget["organization"]["name"] == "ban-suan"  # found by its Thai title
    assert budget["created_date"] == "2024-01-15"  # BE dates converted
    assert budget["last_updated_date"] == "2024-03-01"
    assert budget["objective"] == ["พันธกิจหน่วยงาน", "เพื่อการให้บริการประชาชน"]
    assert budget["data_format"] == ["CSV", "XLS"]
    assert budget["data_language"] == ["ไทย", "อังกฤษ"]
    assert sorted(t["name"] for t in budget["tags"]) == ["การคลัง", "งบประมาณ"]
    assert budget["license_id"] == "odc-thai"
    assert budget["update_frequency_interval"] == 1

    water = services.package_show(system, "ban-suan-water-quality-of-canals")
    assert water["objective"] == ["อื่นๆ"]
    assert water["objective_other"] == "แผนพัฒนาจังหวัด"
    assert water["last_updated_date"] == "2024-01-01"

    population = services.package_show(system, "population")
    assert population["data_type"] == "ข้อมูลสถิติ"  # from the sheet name
    assert (population["first_year_of_data"], population["last_year_of_data"]) == (2560, 2567)
    assert population["disaggregate"] == ["เพศ", "อายุ/กลุ่มอายุ"]

    derived = [n for n in names(system) if n not in {"budget-2567", "population"}]
    assert len(derived) == 2 and all(n.startswith("ban-suan-") and n.isascii() for n in derived)


def test_reimport_updates_changed_rows_and_leaves_the_others(
    system: Context, org: dict, tmp_path: Path
) -> None:
    path = write_template(tmp_path / "template.xlsx")
    import_metadata(system, path, organization="ban-suan")
    before = names(system)

    again = import_metadata(system, path, organization="ban-suan")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert [f["row"] for f in again["failed"]] == [7]

    book = openpyxl.load_workbook(path)
    book["บัญชีข้อมูล"].cell(row=4, column=HEADER.index(" ชื่อชุดข้อมูล ") + 1).value = "งบ 2567"
    book.save(path)
    changed = import_metadata(system, path, organization="ban-suan")
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 3)
    assert services.package_show(system, "budget-2567")["title"] == "งบ 2567"
    assert names(system) == before  # rows without a name found their dataset again


def test_unknown_organisation_repeated_names_and_bad_files_are_reported(
    system: Context, org: dict, tmp_path: Path
) -> None:
    # A CSV saved by an old Thai Excel: cp874, no BOM.
    path = tmp_path / "sheet.csv"
    rows = [HEADER, record(name="a-1"), record(name="a-1"), record(name="b-1", owner_org="ไม่มี")]
    with open(path, "w", encoding="cp874", newline="") as out:
        csv.writer(out).writerows(rows)

    result = import_metadata(system, path, organization="ban-suan")

    assert result["created"] == 1
    assert [(f["row"], sorted(f["errors"])) for f in result["failed"]] == [
        (3, ["name"]),
        (4, ["owner_org"]),
    ]
    assert result["failed"][1]["errors_th"]["owner_org"] == ["ไม่มีหน่วยงานนี้"]
    with pytest.raises(NotFound):
        import_metadata(system, path, organization="no-such-org")
    (tmp_path / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0 an .xls renamed")
    (tmp_path / "notes.csv").write_text("บันทึก\nไม่มีตาราง\n", encoding="utf-8")
    for bad_file in ("old.xlsx", "notes.csv"):
        with pytest.raises(ValidationFailed) as raised:
            import_metadata(system, tmp_path / bad_file, organization="ban-suan")
        assert list(raised.value.errors) == ["file"]


def test_user_without_rights_gets_not_authorized_per_row(
    catalog: Catalog, system: Context, org: dict, tmp_path: Path
) -> None:
    existing = make_dataset(system, "ban-suan", name="budget-2567")
    outsider = Context(catalog, user=make_user(system, "outsider"), lang="en")

    result = import_metadata(outsider, write_template(tmp_path / "t.xlsx"), organization="ban-suan")

    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 0)
    by_row = {(f["sheet"], f["row"]): f for f in result["failed"]}
    assert len(by_row) == 5
    assert by_row[("บัญชีข้อมูล", 4)]["type"] == "not-authorized"  # an update
    assert by_row[("Temp2_Meta_Stat", 5)]["type"] == "not-authorized"  # a create
    assert by_row[("บัญชีข้อมูล", 4)]["errors_th"]["_"][0].startswith("ไม่มีสิทธิ์")
    assert names(system) == ["budget-2567"]
    assert services.package_show(system, "budget-2567")["title"] == existing["title"]


# --- export -----------------------------------------------------------------------------------


def make_catalogue(system: Context) -> list[str]:
    """Three datasets using most of the profile: record, statistical and geospatial."""
    make_dataset(
        system,
        "ban-suan",
        name="complaints",
        title='=HYPERLINK("http://x")',
        notes="ข้อร้องเรียน\n- แยกตามเดือน\n- แยกตามประเภท",
        created_date="1 ต.ค. 2566",
        last_updated_date="2024-01-31",
        data_language=["ไทย", "อังกฤษ"],
        data_support="อื่นๆ",
        data_support_other="ชมรมผู้สูงอายุ",
        high_value_dataset=True,
        accessible_condition="ขอผ่านระบบสารบรรณ",
    )
    make_dataset(
        system,
        "ban-suan",
        name="population",
        data_type="ข้อมูลสถิติ",
        first_year_of_data=2560,
        last_year_of_data=2567,
        disaggregate=["เพศ", "อายุ/กลุ่มอายุ"],
        unit_of_measure="คน",
        unit_of_multiplier="หน่วย",
        official_statistics=True,
        data_release_calendar="2567-12-31",
        objective=["พันธกิจหน่วยงาน", "เพื่อการให้บริการประชาชน"],
    )
    make_dataset(
        system,
        "ban-suan",
        name="land-parcels",
        data_type="ข้อมูลภูมิสารสนเทศเชิงพื้นที่",
        data_category="ข้อมูลใช้ภายใน",
        data_classification="ชั้นเผยแพร่ภายในองค์กร",
        geographic_data_set="ชั้นข้อมูลแปลงที่ดิน",
        equivalent_scale="1:50,000",
        west_bound_longitude=100.25,
        east_bound_longitude=100.5,
        north_bound_longitude=14.1,
        south_bound_longitude=13.9,
        license_id="other",
        license_id_other="ใบอนุญาตเฉพาะหน่วยงาน",
        data_format=["Shapefile", "อื่นๆ"],
        data_format_other="KML",
    )
    return ["complaints", "land-parcels", "population"]


def metadata(ctx: Context, name: str) -> dict[str, Any]:
    shown = services.package_show(ctx, name)
    out = {c.field: shown.get(c.field) for c in columns() if c.field not in {"tag_string"}}
    out["owner_org"] = shown["organization"]["name"]
    out["tags"] = sorted(t["name"] for t in shown["tags"])
    return out


def test_export_then_import_gives_identical_metadata(
    system: Context, org: dict, other_catalog: Catalog, tmp_path: Path
) -> None:
    created = make_catalogue(system)
    xlsx, text = tmp_path / "meta.xlsx", tmp_path / "meta.csv"

    assert export_metadata(system, xlsx, text) == 3

    # Into the same catalogue: nothing to change.
    same = import_metadata(system, xlsx)
    assert (same["created"], same["updated"], same["unchanged"], same["failed"]) == (0, 0, 3, [])
    # Into another catalogue: the same metadata.
    target = Context(other_catalog, system=True, lang="en")
    make_org(target, "ban-suan", title=ORG_TITLE)
    moved = import_metadata(target, xlsx)
    assert (moved["created"], moved["failed"], moved["ignored_columns"]) == (3, [], [])
    for name in created:
        assert metadata(target, name) == metadata(system, name)
    # The CSV says the same as the XLSX.
    from_csv = import_metadata(target, text)
    assert (from_csv["unchanged"], from_csv["failed"]) == (3, [])


def test_export_neutralises_formulas_and_writes_a_bom(
    system: Context, org: dict, tmp_path: Path
) -> None:
    make_dataset(system, "ban-suan", name="links", title='=HYPERLINK("http://x")')
    xlsx, text = tmp_path / "meta.xlsx", tmp_path / "meta.csv"

    export_metadata(system, xlsx, text, organization="ban-suan")

    raw = text.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, row = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert header[columns().index(next(c for c in columns() if c.field == "title"))] == (
        "ชื่อชุดข้อมูล (title)"
    )
    assert row[header.index("ชื่อชุดข้อมูล (title)")] == '\'=HYPERLINK("http://x")'
    sheet = openpyxl.load_workbook(xlsx).active
    cells = {h.value: v for h, v in zip(sheet[1], sheet[2], strict=True)}
    title = cells["ชื่อชุดข้อมูล (title)"]
    assert (title.value, title.data_type) == ('\'=HYPERLINK("http://x")', "s")
    assert cells["ปีงบประมาณ (fiscal_year)"].value == 2567  # years stay BE numbers
