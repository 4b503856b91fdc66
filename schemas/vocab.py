"""Controlled vocabularies of the Thai Government Data Catalog (GDC) metadata profile.

Values are stored exactly as the GDC CKAN extension (ckanext-thai_gdc, newest ckan_dataset.json)
stores them, mostly Thai strings, so that agency catalogues and the national GD Catalog can read
our datasets unchanged. `en` is an English label for display; `th` is a Thai label for the few
lists whose stored value is an ASCII code (licences, organisation types, states...).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol


class Choice(NamedTuple):
    """One item of a controlled list: the stored value and its labels."""

    value: str
    en: str
    th: str = ""  # empty when the stored value is itself the Thai label


class License(NamedTuple):
    """A licence a dataset may carry, CKAN licence-register style."""

    id: str
    title: str
    th: str
    url: str
    od_conformance: str  # "approved" | "not reviewed" | "rejected" (opendefinition.org)
    isopen: bool
    aliases: tuple[str, ...] = ()  # other spellings found in GDC catalogues (harvest input)

    @property
    def value(self) -> str:
        return self.id

    @property
    def en(self) -> str:
        return self.title


class _Labelled(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def en(self) -> str: ...

    @property
    def th(self) -> str: ...


OTHER = "อื่นๆ"  # the "other" item of most GDC lists; it asks for a free-text *_other companion

# --- data types (the first field of the GDC form; it decides which later fields are shown) ---
RECORD = "ข้อมูลระเบียน"
STATISTICAL = "ข้อมูลสถิติ"
GEOSPATIAL = "ข้อมูลภูมิสารสนเทศเชิงพื้นที่"
MULTIPLE = "ข้อมูลหลากหลายประเภท"
OTHER_TYPE = "ข้อมูลประเภทอื่นๆ"

DATA_TYPES: tuple[Choice, ...] = (
    Choice(RECORD, "Record data"),
    Choice(STATISTICAL, "Statistical data"),
    Choice(GEOSPATIAL, "Geospatial data"),
    Choice(MULTIPLE, "Multiple data types"),
    Choice(OTHER_TYPE, "Other data type"),
)

# The reference's one-letter codes for the data types.
DATA_TYPE_CODES: dict[str, str] = {
    "R": RECORD,
    "S": STATISTICAL,
    "G": GEOSPATIAL,
    "M": MULTIPLE,
    "O": OTHER_TYPE,
}

OBJECTIVES: tuple[Choice, ...] = (
    Choice("ยุทธศาสตร์ชาติ", "National Strategy"),
    Choice("แผนพัฒนาเศรษฐกิจและสังคมแห่งชาติ", "National Economic and Social Development Plan"),
    Choice("แผนความมั่นคงแห่งชาติ", "National Security Plan"),
    Choice("แผนแม่บทภายใต้ยุทธศาสตร์ชาติ", "Master plans under the National Strategy"),
    Choice("แผนปฏิรูปประเทศ", "National Reform Plan"),
    Choice("แผนระดับที่ 3 (มติครม. 4 ธ.ค. 2560)", "Level-3 plans (Cabinet resolution 4 Dec 2017)"),
    Choice("นโยบายรัฐบาล/ข้อสั่งการนายกรัฐมนตรี", "Government policy / Prime Minister's orders"),
    Choice("มติคณะรัฐมนตรี", "Cabinet resolution"),
    Choice("เพื่อการให้บริการประชาชน", "Public service"),
    Choice("กฎหมายที่เกี่ยวข้อง", "Related law"),
    Choice("พันธกิจหน่วยงาน", "Agency mission"),
    Choice("ดัชนี/ตัวชี้วัดระดับนานาชาติ", "International index / indicator"),
    Choice("ไม่ทราบ", "Unknown"),
    Choice(OTHER, "Other"),
)

UPDATE_FREQUENCY_UNITS: tuple[Choice, ...] = (
    Choice("ไม่ทราบ", "Unknown"),
    Choice("ปี", "Year"),
    Choice("ครึ่งปี", "Half year"),
    Choice("ไตรมาส", "Quarter"),
    Choice("เดือน", "Month"),
    Choice("สัปดาห์", "Week"),
    Choice("วัน", "Day"),
    Choice("วันทำการ", "Working day"),
    Choice("ชั่วโมง", "Hour"),
    Choice("นาที", "Minute"),
    Choice("ตามเวลาจริง", "Real time"),
    Choice("ไม่มีการปรับปรุงหลังจากการจัดเก็บข้อมูล", "Not updated after collection"),
    Choice(OTHER, "Other"),
)

GEO_COVERAGE: tuple[Choice, ...] = (
    Choice("ไม่มี", "None"),
    Choice("โลก", "World"),
    Choice("ทวีป/กลุ่มประเทศในทวีป", "Continent / countries of a continent"),
    Choice("กลุ่มประเทศทางเศรษฐกิจ", "Economic group of countries"),
    Choice("ประเทศ", "Country"),
    Choice("ภาค", "Region"),
    Choice("จังหวัด", "Province"),
    Choice("อำเภอ", "District"),
    Choice("ตำบล", "Subdistrict"),
    Choice("หมู่บ้าน", "Village"),
    Choice("เทศบาล/อบต.", "Municipality / subdistrict administrative organisation"),
    Choice("พิกัด", "Coordinates"),
    Choice("ไม่ทราบ", "Unknown"),
    Choice(OTHER, "Other"),
)

DATA_FORMATS: tuple[Choice, ...] = (
    Choice("Database", "Database"),
    Choice("CSV", "CSV"),
    Choice("XML", "XML"),
    Choice("Image", "Image"),
    Choice("Video", "Video"),
    Choice("Audio", "Audio"),
    Choice("Text", "Text"),
    Choice("JSON", "JSON"),
    Choice("HTML", "HTML"),
    Choice("DOC/DOCX", "DOC/DOCX"),
    Choice("XLS", "XLS/XLSX"),
    Choice("PDF", "PDF"),
    Choice("RDF", "RDF"),
    Choice("NoSQL", "NoSQL"),
    Choice("Arc/Info Coverage", "Arc/Info Coverage"),
    Choice("Shapefile", "Shapefile"),
    Choice("GeoTiff", "GeoTiff"),
    Choice("GML", "GML"),
    Choice("ไม่ทราบ", "Unknown"),
    Choice(OTHER, "Other"),
)

PUBLIC_CATEGORY = "ข้อมูลสาธารณะ"

DATA_CATEGORIES: tuple[Choice, ...] = (
    Choice(PUBLIC_CATEGORY, "Public data"),
    Choice("ข้อมูลใช้ภายใน", "Internal-use data"),
    Choice("ข้อมูลส่วนบุคคล", "Personal data"),
    Choice("ข้อมูลความมั่นคง", "Security data"),
    Choice("ข้อมูลความลับทางราชการ", "Official secret"),
)

DATA_CLASSIFICATIONS: tuple[Choice, ...] = (
    Choice("เปิดเผย", "Open"),
    Choice("ชั้นเผยแพร่ภายในองค์กร", "Internal distribution"),
    Choice("ลับ", "Confidential"),
    Choice("ลับมาก", "Secret"),
    Choice("ลับที่สุด", "Top secret"),
)

# B.3: the GDC form enforces this only in the browser; the server must enforce it too.
CLASSIFICATION_RULE: dict[str, tuple[str, ...]] = {
    PUBLIC_CATEGORY: ("เปิดเผย",),
    "ข้อมูลใช้ภายใน": ("ชั้นเผยแพร่ภายในองค์กร",),
    "ข้อมูลส่วนบุคคล": ("ชั้นเผยแพร่ภายในองค์กร", "ลับ", "ลับมาก"),
    "ข้อมูลความมั่นคง": ("ลับ", "ลับมาก", "ลับที่สุด"),
    "ข้อมูลความลับทางราชการ": ("ลับ", "ลับมาก", "ลับที่สุด"),
}

DATA_SUPPORT: tuple[Choice, ...] = (
    Choice("ไม่มี", "None"),
    Choice("หน่วยงานของรัฐ", "Government agency"),
    Choice("หน่วยงานเอกชน", "Private company"),
    Choice("หน่วยงาน/องค์กรระหว่างประเทศ", "International organisation"),
    Choice("มูลนิธิ/สมาคม", "Foundation / association"),
    Choice("สถาบันการศึกษา", "Educational institution"),
    Choice(OTHER, "Other"),
)

DATA_COLLECT: tuple[Choice, ...] = (
    Choice("ไม่มี", "None"),
    Choice("บุคคล", "Person"),
    Choice("ครัวเรือน/ครอบครัว", "Household / family"),
    Choice("บ้าน/ที่อยู่อาศัย", "House / dwelling"),
    Choice("บริษัท/ห้างร้าน/สถานประกอบการ", "Company / shop / establishment"),
    Choice("อาคาร/สิ่งปลูกสร้าง", "Building / structure"),
    Choice("พื้นที่การเกษตร ประมง ป่าไม้", "Agricultural, fishery or forest area"),
    Choice("สัตว์และพันธุ์พืช", "Animals and plant varieties"),
    Choice("ขอบเขตเชิงภูมิศาสตร์หรือเชิงพื้นที่", "Geographic or spatial boundary"),
    Choice("แหล่งน้ำ เช่น แม่น้ำ อ่างเก็บน้ำ", "Water body (river, reservoir...)"),
    Choice("เส้นทางการเดินทาง เช่น ถนน ทางรถไฟ", "Route (road, railway...)"),
    Choice("ไม่ทราบ", "Unknown"),
    Choice(OTHER, "Other"),
)

DATA_LANGUAGES: tuple[Choice, ...] = (
    Choice("ไทย", "Thai"),
    Choice("อังกฤษ", "English"),
    Choice("จีน", "Chinese"),
    Choice("มลายู", "Malay"),
    Choice("พม่า", "Burmese"),
    Choice("ลาว", "Lao"),
    Choice("เขมร", "Khmer"),
    Choice("ญี่ปุ่น", "Japanese"),
    Choice("เกาหลี", "Korean"),
    Choice("ฝรั่งเศส", "French"),
    Choice("เยอรมัน", "German"),
    Choice("อารบิก", "Arabic"),
    Choice("ไม่ทราบ", "Unknown"),
    Choice(OTHER, "Other"),
)

DISAGGREGATE: tuple[Choice, ...] = (
    Choice("ไม่มี", "None"),
    Choice("เพศ", "Sex"),
    Choice("อายุ/กลุ่มอายุ", "Age / age group"),
    Choice("สถานภาพสมรส", "Marital status"),
    Choice("ศาสนา", "Religion"),
    Choice("ระดับการศึกษา", "Education level"),
    Choice("อาชีพ", "Occupation"),
    Choice("สถานภาพการทำงาน", "Employment status"),
    Choice("อุตสาหกรรม/ประเภทกิจการ", "Industry / type of business"),
    Choice("รายได้", "Income"),
    Choice("ขอบเขตเชิงภูมิศาสตร์หรือเชิงพื้นที่", "Geographic or spatial area"),
    Choice("ผลิตภัณฑ์", "Product"),
    Choice("ไม่ทราบ", "Unknown"),
    Choice(OTHER, "Other"),
)

UNIT_OF_MULTIPLIER: tuple[Choice, ...] = (
    Choice("หน่วย", "Units"),
    Choice("สิบ", "Tens"),
    Choice("ร้อย", "Hundreds"),
    Choice("พัน", "Thousands"),
    Choice("หมื่น", "Ten thousands"),
    Choice("แสน", "Hundred thousands"),
    Choice("ล้าน", "Millions"),
    Choice("สิบล้าน", "Ten millions"),
    Choice("ร้อยล้าน", "Hundred millions"),
    Choice("พันล้าน", "Billions"),
    Choice("หมื่นล้าน", "Ten billions"),
    Choice("แสนล้าน", "Hundred billions"),
    Choice("ล้านล้าน", "Trillions"),
    Choice("ไม่ทราบ", "Unknown"),
    Choice(OTHER, "Other"),
)

# The 13 NSDI framework layers.
GEOGRAPHIC_DATA_SETS: tuple[Choice, ...] = (
    Choice("ชั้นข้อมูลแปลงที่ดิน", "Land parcels"),
    Choice("ชั้นข้อมูลขอบเขตการปกครอง", "Administrative boundaries"),
    Choice("ชั้นข้อมูลเส้นทางคมนาคม", "Transport network"),
    Choice("ชั้นข้อมูลชุมนุม/อาคาร", "Settlements / buildings"),
    Choice("ชั้นข้อมูลป่าไม้", "Forests"),
    Choice("ชั้นข้อมูลการใช้ประโยชน์ที่ดิน", "Land use"),
    Choice("ชั้นข้อมูลแหล่งน้ำ", "Water bodies"),
    Choice("ชั้นข้อมูลอุทกศาสตร์", "Hydrography"),
    Choice("ชั้นข้อมูลหมุดหลักฐานแผนที่", "Geodetic control points"),
    Choice("ชั้นข้อมูลความสูงภูมิประเทศเชิงตัวเลข", "Digital elevation"),
    Choice("ชั้นข้อมูลภาพแผนที่ภูมิประเทศ", "Topographic map images"),
    Choice("ชั้นข้อมูลแผนที่ภาพถ่ายทางอากาศ", "Aerial photo maps"),
    Choice("ชั้นข้อมูลภาพวาดดาวเทียมดัดแก้", "Orthorectified satellite imagery"),
)

EQUIVALENT_SCALES: tuple[Choice, ...] = (
    Choice("1:4,000", "1:4,000"),
    Choice("1:10,000", "1:10,000"),
    Choice("1:25,000", "1:25,000"),
    Choice("1:50,000", "1:50,000"),
    Choice("1:250,000", "1:250,000"),
    Choice(OTHER, "Other"),
)

# resource_cdp of the OPAL fork (push to a City Data Platform).
RESOURCE_CDP: tuple[Choice, ...] = (
    Choice("ใช่", "Yes"),
    Choice("ไม่ใช่", "No"),
)

# B.4: group families, one group type each in the GDC extension.
GROUP_FAMILIES: tuple[Choice, ...] = (
    Choice("category01", "Master plans under the National Strategy", "แผนแม่บทภายใต้ยุทธศาสตร์ชาติ"),
    Choice("category02", "Development issues", "ประเด็นการพัฒนา"),
    Choice("category03", "Physical", "ด้านกายภาพ"),
    Choice("category04", "Economy", "ด้านเศรษฐกิจ"),
    Choice("category05", "Society and security", "ด้านสังคมและความมั่นคง"),
    Choice("category06", "Natural resources and environment", "ด้านทรัพยากรธรรมชาติและสิ่งแวดล้อม"),
    Choice("category07", "Other", "อื่น ๆ"),
)

OTHER_LICENSE = "other"

# Ids are CKAN licence-register style; `aliases` are the titles the GDC form stores as
# license_id, so harvested GDC records map onto our ids.
LICENSES: tuple[License, ...] = (
    License(
        "odc-thai",
        "Open Data Common",
        "สัญญาอนุญาตข้อมูลเปิด (Open Data Common)",
        "",  # no stable public URL of this licence text was found
        "not reviewed",
        True,
        ("Open Data Common",),
    ),
    License(
        "cc-by",
        "Creative Commons Attributions",
        "ครีเอทีฟคอมมอนส์ แบบแสดงที่มา",
        "https://creativecommons.org/licenses/by/4.0/",
        "approved",
        True,
        ("Creative Commons Attributions", "Creative Commons Attribution", "CC Attributions"),
    ),
    License(
        "cc-by-sa",
        "Creative Commons Attribution Share-Alike",
        "ครีเอทีฟคอมมอนส์ แบบแสดงที่มา-อนุญาตแบบเดียวกัน",
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "approved",
        True,
        ("Creative Commons Attribution Share-Alike", "CC BY-SA"),
    ),
    License(
        "cc-nc",
        "Creative Commons Attribution Non-Commercial",
        "ครีเอทีฟคอมมอนส์ แบบแสดงที่มา-ไม่ใช้เพื่อการค้า",
        "https://creativecommons.org/licenses/by-nc/4.0/",
        "rejected",
        False,
        ("Creative Commons Attribution Non-Commercial", "CC Non-Commercial (Any)"),
    ),
    License(
        "cc-by-nc-sa",
        "Creative Commons Attribution Non-Commercial Share-Alike",
        "ครีเอทีฟคอมมอนส์ แบบแสดงที่มา-ไม่ใช้เพื่อการค้า-อนุญาตแบบเดียวกัน",
        "https://creativecommons.org/licenses/by-nc-sa/4.0/",
        "rejected",
        False,
        ("Creative Commons Attribution Non-Commercial Share-Alike",),
    ),
    License(
        "cc-by-nc-nd",
        "Creative Commons Attribution Non-Commercial No-Derivs",
        "ครีเอทีฟคอมมอนส์ แบบแสดงที่มา-ไม่ใช้เพื่อการค้า-ไม่ดัดแปลง",
        "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        "rejected",
        False,
        ("Creative Commons Attribution Non-Commercial No-Derivs",),
    ),
    License(
        "cc-by-nd",
        "Creative Commons Attribution No-Derivs",
        "ครีเอทีฟคอมมอนส์ แบบแสดงที่มา-ไม่ดัดแปลง",
        "https://creativecommons.org/licenses/by-nd/4.0/",
        "rejected",
        False,
        ("Creative Commons Attribution No-Derivs",),
    ),
    License(
        "cc-zero",
        "Creative Commons CCZero",
        "ครีเอทีฟคอมมอนส์ ซีซีศูนย์ (CC0)",
        "https://creativecommons.org/publicdomain/zero/1.0/",
        "approved",
        True,
        ("CC0", "CC0 1.0"),
    ),
    License(OTHER_LICENSE, "Other", "อื่นๆ", "", "not reviewed", False, (OTHER,)),
)

ORGANIZATION_TYPES: tuple[Choice, ...] = (
    Choice("ministry", "Ministry", "กระทรวง"),
    Choice("department", "Department", "กรม"),
    Choice("province", "Province", "จังหวัด"),
    Choice("pao", "Provincial Administrative Organisation", "องค์การบริหารส่วนจังหวัด (อบจ.)"),
    Choice("municipality", "Municipality", "เทศบาล"),
    Choice("city_municipality", "City municipality", "เทศบาลนคร"),
    Choice("town_municipality", "Town municipality", "เทศบาลเมือง"),
    Choice("subdistrict_municipality", "Subdistrict municipality", "เทศบาลตำบล"),
    Choice("sao", "Subdistrict Administrative Organisation", "องค์การบริหารส่วนตำบล (อบต.)"),
    Choice("bma", "Bangkok Metropolitan Administration", "กรุงเทพมหานคร (กทม.)"),
    Choice("pattaya", "Pattaya City", "เมืองพัทยา"),
    Choice("state_enterprise", "State enterprise", "รัฐวิสาหกิจ"),
    Choice("public_organization", "Public organisation", "องค์การมหาชน"),
    Choice("independent_agency", "Independent agency", "องค์กรอิสระ"),
    Choice("other", "Other", "อื่นๆ"),
)

VISIBILITY: tuple[Choice, ...] = (
    Choice("public", "Public", "สาธารณะ"),
    Choice("private", "Private", "ส่วนตัว"),
)

STATES: tuple[Choice, ...] = (
    Choice("draft", "Draft", "ฉบับร่าง"),
    Choice("published", "Published", "เผยแพร่"),
    Choice("withdrawn", "Withdrawn", "ถอนการเผยแพร่"),
)

# DCAT-AP access-right vocabulary (EU publications office "access-right" authority table).
ACCESS_RIGHTS: tuple[Choice, ...] = (
    Choice("public", "Public", "สาธารณะ"),
    Choice("restricted", "Restricted", "จำกัดการเข้าถึง"),
    Choice("non-public", "Non-public", "ไม่เปิดเผย"),
)

_R, _S, _G, _M, _O = RECORD, STATISTICAL, GEOSPATIAL, MULTIPLE, OTHER_TYPE

# Dataset fields the GDC form shows only for some data types; every other field is shown for
# all five. A field not shown for the chosen data type is refused unless it is empty.
DATASET_FIELD_TYPES: dict[str, frozenset[str]] = {
    "data_type_other": frozenset({_O}),
    "data_support": frozenset({_R, _M, _O}),
    "data_support_other": frozenset({_R, _M, _O}),
    "data_collect": frozenset({_R, _M, _O}),
    "data_collect_other": frozenset({_R, _M, _O}),
    "created_date": frozenset({_R, _M, _O}),
    "data_release_calendar": frozenset({_S, _G}),
    "first_year_of_data": frozenset({_S}),
    "last_year_of_data": frozenset({_S}),
    "disaggregate": frozenset({_S}),
    "disaggregate_other": frozenset({_S}),
    "unit_of_measure": frozenset({_S}),
    "unit_of_multiplier": frozenset({_S}),
    "unit_of_multiplier_other": frozenset({_S}),
    "calculation_method": frozenset({_S}),
    "standard": frozenset({_S}),
    "official_statistics": frozenset({_S}),
    "geographic_data_set": frozenset({_G}),
    "equivalent_scale": frozenset({_G}),
    "equivalent_scale_other": frozenset({_G}),
    "west_bound_longitude": frozenset({_G}),
    "east_bound_longitude": frozenset({_G}),
    "north_bound_longitude": frozenset({_G}),
    "south_bound_longitude": frozenset({_G}),
    "positional_accuracy": frozenset({_G}),
    "reference_period": frozenset({_G}),
    "data_release_date": frozenset({_G}),
    "high_value_dataset": frozenset({_R, _M, _O}),
    "reference_data": frozenset({_R, _M, _O}),
}

# The same for resource fields (B.2); the data type is the dataset's.
RESOURCE_FIELD_TYPES: dict[str, frozenset[str]] = {
    "resource_data_collect": frozenset({_R, _M, _O}),
    "resource_data_collect_other": frozenset({_R, _M, _O}),
    "resource_first_year_of_data": frozenset({_S}),
    "resource_last_year_of_data": frozenset({_S}),
    "resource_disaggregate": frozenset({_S}),
    "resource_disaggregate_other": frozenset({_S}),
    "resource_unit_of_measure": frozenset({_S}),
    "resource_unit_of_multiplier": frozenset({_S}),
    "resource_unit_of_multiplier_other": frozenset({_S}),
    "resource_geographic_data_set": frozenset({_G}),
    "resource_equivalent_scale": frozenset({_G}),
    "resource_equivalent_scale_other": frozenset({_G}),
    "resource_positional_accuracy": frozenset({_G}),
    "resource_created_date": frozenset({_R, _G, _M, _O}),
    "resource_data_release_calendar": frozenset({_S}),
    "resource_official_statistics": frozenset({_S}),
    "resource_data_release_date": frozenset({_G}),
}

# field -> (its free-text companion, the value that asks for it)
DATASET_OTHER_COMPANIONS: dict[str, tuple[str, str]] = {
    "data_type": ("data_type_other", OTHER_TYPE),
    "objective": ("objective_other", OTHER),
    "update_frequency_unit": ("update_frequency_unit_other", OTHER),
    "geo_coverage": ("geo_coverage_other", OTHER),
    "data_format": ("data_format_other", OTHER),
    "license_id": ("license_id_other", OTHER_LICENSE),
    "data_support": ("data_support_other", OTHER),
    "data_collect": ("data_collect_other", OTHER),
    "data_language": ("data_language_other", OTHER),
    "disaggregate": ("disaggregate_other", OTHER),
    "unit_of_multiplier": ("unit_of_multiplier_other", OTHER),
    "equivalent_scale": ("equivalent_scale_other", OTHER),
}

RESOURCE_OTHER_COMPANIONS: dict[str, tuple[str, str]] = {
    "resource_data_collect": ("resource_data_collect_other", OTHER),
    "resource_disaggregate": ("resource_disaggregate_other", OTHER),
    "resource_unit_of_multiplier": ("resource_unit_of_multiplier_other", OTHER),
    "resource_equivalent_scale": ("resource_equivalent_scale_other", OTHER),
}


def values(choices: Iterable[_Labelled]) -> tuple[str, ...]:
    """The stored values of a controlled list, in list order."""
    return tuple(c.value for c in choices)


def label(choices: Iterable[_Labelled], value: str, lang: str = "th") -> str:
    """The display label of `value` in `lang` ("th" or "en"); the value itself when unknown."""
    for c in choices:
        if c.value == value:
            if lang == "en":
                return c.en
            return c.th or c.value
    return value


def find_license(value: str) -> License | None:
    """The licence whose id, title or GDC alias is `value` (case-insensitive), if any."""
    wanted = value.strip().casefold()
    for lic in LICENSES:
        names = (lic.id, lic.title, *lic.aliases)
        if any(wanted == n.casefold() for n in names):
            return lic
    return None


def field_shown(field: str, data_type: str, *, resource: bool = False) -> bool:
    """Whether the GDC form shows `field` (a dataset or resource field) for `data_type`."""
    table = RESOURCE_FIELD_TYPES if resource else DATASET_FIELD_TYPES
    shown_for = table.get(field)
    return shown_for is None or data_type in shown_for


def fields_by_data_type(*, resource: bool = False) -> dict[str, frozenset[str]]:
    """For each data type, the data-type-dependent fields shown for it."""
    table = RESOURCE_FIELD_TYPES if resource else DATASET_FIELD_TYPES
    return {
        dt: frozenset(f for f, shown in table.items() if dt in shown) for dt in values(DATA_TYPES)
    }
