"""Bilingual (English/Thai) field-error messages.

Marshmallow reports errors as English strings, often formatted from a template
("Longer than maximum length 500."). `MESSAGES` pairs every English template our schemas can
emit with a Thai one; `translate` recognises a formatted English message by matching it against
the templates (each compiled to a regex with named groups) and renders the Thai template with
the same values. Errors that already know their Thai text (`Bilingual`, e.g. from the Thai date
parser) carry it along. Unknown messages pass through unchanged.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from typing import Any

# --- our own messages (English templates; the Thai ones are in MESSAGES) ---
SLUG = (
    "Must be 2 to 100 characters: lower-case letters a-z, digits 0-9, '-' and '_', "
    "starting with a letter or digit."
)
TAG_CHARS = "A tag may contain only letters (Thai or Latin), digits, spaces, '-', '_' and '.'."
TAGS_REQUIRED = "Give at least one tag."
OTHER_REQUIRED = "Required when {field} is {value}."
OTHER_UNUSED = "Only used when {field} is {value}."
NOT_FOR_DATA_TYPE = "Not used for data type {data_type}."
CLASSIFICATION = "Not allowed for data category {category}; use one of: {allowed}."
NOT_PUBLIC = (
    "A dataset of the non-public data category {category} cannot be published publicly; "
    "set private to true."
)
NOT_BEFORE = "Must not be before {other}."
NOT_LESS = "Must not be less than {other}."
YEAR = (
    "Not a valid year: give a Buddhist Era year from 2400 to 2700 (e.g. 2567) "
    "or a Christian Era year from 1857 to 2157."
)
TABLE_SCHEMA = "Not a valid Table Schema: it needs a list of fields, each with a name."
GEOJSON = "Not valid GeoJSON: give a place name or a GeoJSON object with a type."
FORMAT = "Not a valid format: use a short format name such as CSV, XLSX, JSON or PDF."
MIMETYPE = "Not a valid media type (e.g. text/csv)."
ORG_REF = "Not a valid organization name or id."
LANGUAGE = "Not a valid language code: use an ISO 639 code such as th or en."
PHONE = "Not a valid phone number."
URL_OR_UPLOAD = "Give a URL or upload a file."

# (English template, Thai template). Placeholders are str.format fields; both sides use the
# same names. Marshmallow's own defaults come first, then ours.
MESSAGES: tuple[tuple[str, str], ...] = (
    ("Missing data for required field.", "ต้องระบุข้อมูลในช่องนี้"),
    ("Field may not be null.", "ช่องนี้ต้องไม่เป็นค่าว่าง (null)"),
    ("Invalid value.", "ค่าไม่ถูกต้อง"),
    ("Invalid input type.", "ชนิดของข้อมูลที่ส่งมาไม่ถูกต้อง"),
    ("Invalid type.", "ชนิดข้อมูลไม่ถูกต้อง"),
    ("Unknown field.", "ไม่รู้จักช่องข้อมูลนี้"),
    ("Not a valid string.", "ต้องเป็นข้อความ"),
    ("Not a valid utf-8 string.", "ต้องเป็นข้อความ UTF-8 ที่ถูกต้อง"),
    ("Not a valid integer.", "ต้องเป็นจำนวนเต็ม"),
    ("Not a valid number.", "ต้องเป็นตัวเลข"),
    ("Number too large.", "ตัวเลขมีค่ามากเกินไป"),
    (
        "Special numeric values (nan or infinity) are not permitted.",
        "ไม่อนุญาตให้ใช้ค่าตัวเลขพิเศษ (nan หรือ infinity)",
    ),
    ("Not a valid boolean.", "ต้องเป็นค่าจริงหรือเท็จ (true หรือ false)"),
    ("Not a valid date.", "วันที่ไม่ถูกต้อง"),
    ("Not a valid list.", "ต้องเป็นรายการ (list)"),
    ("Not a valid mapping type.", "ต้องเป็นออบเจกต์ (คู่ชื่อและค่า)"),
    ("Not a valid URL.", "URL ไม่ถูกต้อง"),
    ("Not a valid email address.", "อีเมลไม่ถูกต้อง"),
    ("Longer than maximum length {max}.", "ยาวเกินกำหนด (ไม่เกิน {max})"),
    ("Shorter than minimum length {min}.", "สั้นกว่ากำหนด (อย่างน้อย {min})"),
    ("Length must be between {min} and {max}.", "ความยาวต้องอยู่ระหว่าง {min} ถึง {max}"),
    ("Length must be {equal}.", "ความยาวต้องเท่ากับ {equal}"),
    ("Must be one of: {choices}.", "ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: {choices}"),
    ("String does not match expected pattern.", "ข้อความไม่ตรงตามรูปแบบที่กำหนด"),
    ("Must be greater than or equal to {min}.", "ต้องมากกว่าหรือเท่ากับ {min}"),
    ("Must be greater than {min}.", "ต้องมากกว่า {min}"),
    ("Must be less than or equal to {max}.", "ต้องน้อยกว่าหรือเท่ากับ {max}"),
    ("Must be less than {max}.", "ต้องน้อยกว่า {max}"),
    (
        "Must be greater than or equal to {min} and less than or equal to {max}.",
        "ต้องมีค่าตั้งแต่ {min} ถึง {max}",
    ),
    (
        "Must be greater than {min} and less than or equal to {max}.",
        "ต้องมากกว่า {min} และไม่เกิน {max}",
    ),
    (
        "Must be greater than or equal to {min} and less than {max}.",
        "ต้องมีค่าตั้งแต่ {min} แต่น้อยกว่า {max}",
    ),
    ("Must be greater than {min} and less than {max}.", "ต้องมากกว่า {min} และน้อยกว่า {max}"),
    (
        SLUG,
        "ต้องยาว 2 ถึง 100 ตัวอักษร ใช้ได้เฉพาะอักษรอังกฤษตัวพิมพ์เล็ก a-z ตัวเลข 0-9 "
        "เครื่องหมาย '-' และ '_' และต้องขึ้นต้นด้วยตัวอักษรหรือตัวเลข",
    ),
    (
        TAG_CHARS,
        "คำสำคัญใช้ได้เฉพาะตัวอักษร (ไทยหรืออังกฤษ) ตัวเลข ช่องว่าง และเครื่องหมาย '-' '_' '.'",
    ),
    (TAGS_REQUIRED, "ต้องระบุคำสำคัญอย่างน้อยหนึ่งคำ"),
    (OTHER_REQUIRED, "ต้องระบุเมื่อ {field} เป็น {value}"),
    (OTHER_UNUSED, "ใช้เฉพาะเมื่อ {field} เป็น {value} เท่านั้น"),
    (NOT_FOR_DATA_TYPE, "ไม่ใช้กับชุดข้อมูลประเภท {data_type}"),
    (CLASSIFICATION, "ไม่อนุญาตสำหรับหมวดหมู่ข้อมูล {category} ใช้ได้เฉพาะ: {allowed}"),
    (
        NOT_PUBLIC,
        "ชุดข้อมูลในหมวดหมู่ {category} ซึ่งไม่ใช่ข้อมูลสาธารณะ ไม่สามารถเผยแพร่ต่อสาธารณะได้ "
        "ต้องตั้งค่า private เป็น true",
    ),
    (NOT_BEFORE, "ต้องไม่อยู่ก่อน {other}"),
    (NOT_LESS, "ต้องไม่น้อยกว่า {other}"),
    (
        YEAR,
        "ปีไม่ถูกต้อง: ให้ระบุปีพุทธศักราช 2400 ถึง 2700 (เช่น 2567) หรือปีคริสต์ศักราช 1857 ถึง 2157",
    ),
    (TABLE_SCHEMA, "Table Schema ไม่ถูกต้อง: ต้องมีรายการ fields และทุก field ต้องมี name"),
    (GEOJSON, "GeoJSON ไม่ถูกต้อง: ให้ระบุชื่อสถานที่ หรือออบเจกต์ GeoJSON ที่มี type"),
    (FORMAT, "รูปแบบไฟล์ไม่ถูกต้อง: ใช้ชื่อรูปแบบสั้น ๆ เช่น CSV, XLSX, JSON หรือ PDF"),
    (MIMETYPE, "ชนิดสื่อ (media type) ไม่ถูกต้อง (เช่น text/csv)"),
    (ORG_REF, "ชื่อหรือรหัสหน่วยงานไม่ถูกต้อง"),
    (LANGUAGE, "รหัสภาษาไม่ถูกต้อง: ใช้รหัส ISO 639 เช่น th หรือ en"),
    (PHONE, "หมายเลขโทรศัพท์ไม่ถูกต้อง"),
    (URL_OR_UPLOAD, "ต้องระบุ URL หรืออัปโหลดไฟล์"),
    # Raised by catalog.services; kept here so that one table translates every field error.
    ("That URL is already in use.", "URL นี้ถูกใช้แล้ว"),
    ("That login name is not available.", "ชื่อผู้ใช้นี้ไม่สามารถใช้ได้"),
    ("Organization does not exist.", "ไม่มีหน่วยงานนี้"),
    ("User does not exist.", "ไม่มีผู้ใช้นี้"),
    ("Group {name} does not exist.", "ไม่มีกลุ่ม {name}"),
    ("An organization cannot be its own ancestor.", "หน่วยงานเป็นหน่วยงานแม่ของตัวเองไม่ได้"),
    ("File could not be stored: {reason}", "ไม่สามารถจัดเก็บไฟล์ได้: {reason}"),
    ("Not found: {what}", "ไม่พบ: {what}"),
    ("Access denied: {what}", "ไม่มีสิทธิ์เข้าถึง: {what}"),
)

# Placeholders that only ever hold a number; matching them narrowly keeps
# "Must be greater than {min}." from swallowing "Must be greater than or equal to 5.".
_NUMERIC = {"min", "max", "equal"}


class Bilingual(str):
    """An English message that also carries its Thai text (`.th`).

    It is a `str`, so marshmallow, JSON encoders and tests treat it as the English message.
    """

    th: str

    def __new__(cls, en: str, th: str) -> Bilingual:
        obj = super().__new__(cls, en)
        obj.th = th
        return obj

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        # copy/pickle rebuild through __new__, which needs both texts
        return (str(self), self.th)


def _template_regex(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in seen:
            parts.append(f"(?P={name})")
            continue
        seen.add(name)
        body = r"-?[0-9][0-9.,eE+-]*|None" if name in _NUMERIC else ".+?"
        parts.append(f"(?P<{name}>{body})")
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def _literal_length(template: str) -> int:
    return sum(len(lit) for lit, *_ in string.Formatter().parse(template))


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    # Most specific (longest literal text) first, so a short template never wins over a longer one.
    ordered = sorted(MESSAGES, key=lambda pair: -_literal_length(pair[0]))
    return tuple((_template_regex(en), th) for en, th in ordered)


def thai_template(message: str) -> str | None:
    """The Thai template whose English template matches `message`, or None."""
    for regex, th in _compiled():
        if regex.match(message):
            return th
    return None


def translate(message: str, lang: str) -> str:
    """`message` (an English error message) in `lang` ("en" or "th").

    Unknown messages and unknown languages return the message unchanged.
    """
    if not isinstance(message, str):
        return message
    if lang != "th":
        return str(message)  # a plain str, also for Bilingual
    th = getattr(message, "th", None)
    if th:
        return th
    for regex, template in _compiled():
        found = regex.match(message)
        if found:
            return template.format_map(found.groupdict())
    return message


def localise_errors(errors: Any, lang: str) -> Any:
    """A copy of a marshmallow error structure with every message translated into `lang`.

    Handles nested dicts (nested schemas, list items keyed by index) and lists of messages.
    """
    if isinstance(errors, dict):
        return {key: localise_errors(value, lang) for key, value in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [localise_errors(value, lang) for value in errors]
    if isinstance(errors, str):
        return translate(errors, lang)
    return errors
