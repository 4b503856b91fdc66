"""Code lists behind the DCAT-AP output: EU authority tables and Khlang's GD Catalog namespace.

DCAT-AP 3 expects values from the EU Publications Office authority tables for formats,
languages, frequencies, access rights and (where one exists) licences. The mappings here are
from our stored values (GD Catalog Thai labels, CKAN-style ids) to those codes; a value with
no code maps to None and is left out of the DCAT property (it stays in the Khlang namespace).

GD Catalog fields that DCAT and DCT have no property for are written in the `GDC` namespace;
docs/dcat.md lists every one of them.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = URIRef(f"{EU_AUTHORITY}file-type")
LANGUAGE = URIRef(f"{EU_AUTHORITY}language")
FREQUENCY = URIRef(f"{EU_AUTHORITY}frequency")
ACCESS_RIGHT = URIRef(f"{EU_AUTHORITY}access-right")
LICENCE = URIRef(f"{EU_AUTHORITY}licence")

#: Khlang's namespace for the GD Catalog fields DCAT-AP has no property for (docs/dcat.md).
GDC = Namespace("https://w3id.org/khlang/gdc#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")

# Our format names (schemas.ckan.format_from) -> EU file-type codes. Formats without a code
# (e.g. an agency's own "DATABASE") get no dct:format: DCAT-AP refuses non-EU file types.
FILE_TYPES: dict[str, str | None] = {
    "CSV": "CSV",
    "TSV": "TSV",
    "XLS": "XLS",
    "XLSX": "XLSX",
    "ODS": "ODS",
    "JSON": "JSON",
    "JSON-LD": "JSON_LD",
    "GEOJSON": "GEOJSON",
    "XML": "XML",
    "HTML": "HTML",
    "PDF": "PDF",
    "DOC": "DOC",
    "DOCX": "DOCX",
    "TXT": "TXT",
    "RDF": "RDF_XML",
    "TTL": "RDF_TURTLE",
    "ZIP": "ZIP",
    "KML": "KML",
    "KMZ": "KMZ",
    "SHP": "SHP",
    "GML": "GML",
    "TIFF": "TIFF",
    "GEOTIFF": "GEOTIFF",
    "JPEG": "JPEG",
    "JPG": "JPEG",
    "PNG": "PNG",
    "PPT": "PPT",
    "PPTX": "PPTX",
    "ODT": "ODT",
    "API": None,  # a web service, not a file type
}

# Stored language codes (ISO 639-1, the `language` field) and GD Catalog data_language labels
# -> EU language codes (ISO 639-3 style).
LANGUAGES: dict[str, str] = {
    "th": "THA",
    "en": "ENG",
    "zh": "ZHO",
    "ms": "MSA",
    "my": "MYA",
    "lo": "LAO",
    "km": "KHM",
    "ja": "JPN",
    "ko": "KOR",
    "fr": "FRA",
    "de": "DEU",
    "ar": "ARA",
    "ไทย": "THA",
    "อังกฤษ": "ENG",
    "จีน": "ZHO",
    "มลายู": "MSA",
    "พม่า": "MYA",
    "ลาว": "LAO",
    "เขมร": "KHM",
    "ญี่ปุ่น": "JPN",
    "เกาหลี": "KOR",
    "ฝรั่งเศส": "FRA",
    "เยอรมัน": "DEU",
    "อารบิก": "ARA",
}
LANGUAGE_LABELS: dict[str, str] = {
    "THA": "Thai",
    "ENG": "English",
    "ZHO": "Chinese",
    "MSA": "Malay",
    "MYA": "Burmese",
    "LAO": "Lao",
    "KHM": "Khmer",
    "JPN": "Japanese",
    "KOR": "Korean",
    "FRA": "French",
    "DEU": "German",
    "ARA": "Arabic",
}

# GD Catalog update_frequency_unit -> EU frequency code for an interval of 1. The GD interval
# is "times per unit" (ความถี่น้อยที่สุด), so 2 per year is ANNUAL_2 (semi-annual).
FREQUENCIES: dict[str, str] = {
    "ปี": "ANNUAL",
    "ครึ่งปี": "ANNUAL_2",
    "ไตรมาส": "QUARTERLY",
    "เดือน": "MONTHLY",
    "สัปดาห์": "WEEKLY",
    "วัน": "DAILY",
    "วันทำการ": "DAILY",
    "ชั่วโมง": "HOURLY",
    "นาที": "CONT",
    "ตามเวลาจริง": "CONT",
    "ไม่มีการปรับปรุงหลังจากการจัดเก็บข้อมูล": "NEVER",
    "ไม่ทราบ": "UNKNOWN",
    "อื่นๆ": "OTHER",
}
# (unit, times per unit) -> code, where the EU table has one.
FREQUENCY_MULTIPLES: dict[tuple[str, int], str] = {
    ("ปี", 2): "ANNUAL_2",
    ("ปี", 3): "ANNUAL_3",
    ("ปี", 4): "QUARTERLY",
    ("ปี", 12): "MONTHLY",
    ("เดือน", 2): "MONTHLY_2",
    ("เดือน", 3): "MONTHLY_3",
    ("สัปดาห์", 2): "WEEKLY_2",
    ("สัปดาห์", 3): "WEEKLY_3",
    ("วัน", 2): "DAILY_2",
}
FREQUENCY_LABELS: dict[str, str] = {
    "ANNUAL": "annual",
    "ANNUAL_2": "semiannual",
    "ANNUAL_3": "three times a year",
    "QUARTERLY": "quarterly",
    "MONTHLY": "monthly",
    "MONTHLY_2": "semimonthly",
    "MONTHLY_3": "three times a month",
    "WEEKLY": "weekly",
    "WEEKLY_2": "semiweekly",
    "WEEKLY_3": "three times a week",
    "DAILY": "daily",
    "DAILY_2": "twice a day",
    "HOURLY": "hourly",
    "CONT": "continuous",
    "NEVER": "never",
    "UNKNOWN": "unknown",
    "OTHER": "other",
}

# Our licence ids -> EU licence authority codes (only exact version matches: our cc-* ids are
# the 4.0 licences).
LICENCES: dict[str, str] = {
    "cc-by": "CC_BY_4_0",
    "cc-by-sa": "CC_BYSA_4_0",
    "cc-nc": "CC_BYNC_4_0",
    "cc-by-nc-sa": "CC_BYNCSA_4_0",
    "cc-by-nc-nd": "CC_BYNCND_4_0",
    "cc-by-nd": "CC_BYND_4_0",
    "cc-zero": "CC0",
}

ACCESS_RIGHTS: dict[str, str] = {
    "public": "PUBLIC",
    "restricted": "RESTRICTED",
    "non-public": "NON_PUBLIC",
}
ACCESS_RIGHT_LABELS: dict[str, str] = {
    "PUBLIC": "public",
    "RESTRICTED": "restricted",
    "NON_PUBLIC": "non-public",
}


def file_type(format_name: str) -> str | None:
    """The EU file-type code of one of our format names, or None."""
    return FILE_TYPES.get(format_name.strip().upper()) or None


def frequency(unit: str, interval: int | None) -> str | None:
    """The EU frequency code of a GD Catalog update frequency, or None."""
    if interval and interval > 1:
        return FREQUENCY_MULTIPLES.get((unit, interval)) or FREQUENCIES.get(unit)
    return FREQUENCIES.get(unit)
