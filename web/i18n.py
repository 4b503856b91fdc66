"""The UI's message catalogue (Thai and English) and the choice of language per request."""

from __future__ import annotations

from flask import current_app, g, request

MESSAGES: dict[str, dict[str, str]] = {
    "organizations": {"th": "หน่วยงาน", "en": "Organisations"},
    "datasets": {"th": "ชุดข้อมูล", "en": "Datasets"},
    "recent_datasets": {"th": "ชุดข้อมูลล่าสุด", "en": "Recent datasets"},
    "dataset_count": {"th": "ชุดข้อมูล {n} ชุด", "en": "{n} datasets"},
    "no_datasets": {"th": "ยังไม่มีชุดข้อมูล", "en": "No datasets yet"},
    "resources": {"th": "ทรัพยากร", "en": "Resources"},
    "download": {"th": "ดาวน์โหลด", "en": "Download"},
    "publisher": {"th": "หน่วยงานเจ้าของข้อมูล", "en": "Publisher"},
    "license": {"th": "สัญญาอนุญาต", "en": "Licence"},
    "fiscal_year": {"th": "ปีงบประมาณ", "en": "Fiscal year"},
    "tags": {"th": "คำสำคัญ", "en": "Tags"},
    "modified": {"th": "ปรับปรุงล่าสุด", "en": "Last modified"},
    "version": {"th": "รุ่นที่", "en": "Version"},
    "not_found": {"th": "ไม่พบหน้าที่ต้องการ", "en": "Page not found"},
    "forbidden": {"th": "ไม่มีสิทธิ์เข้าถึง", "en": "Access denied"},
    "bad_request": {"th": "คำขอไม่ถูกต้อง", "en": "Bad request"},
    "server_error": {"th": "เกิดข้อผิดพลาดภายในระบบ", "en": "Internal server error"},
    "back_home": {"th": "กลับหน้าแรก", "en": "Back to the home page"},
    "switch_language": {"th": "English", "en": "ภาษาไทย"},
    "private": {"th": "ไม่เปิดเผย", "en": "Private"},
    "metadata_only": {"th": "มีเฉพาะคำอธิบายข้อมูล", "en": "Metadata only"},
    "children": {"th": "หน่วยงานในสังกัด", "en": "Sub-organisations"},
    "parent": {"th": "สังกัด", "en": "Part of"},
    "api_title": {"th": "API สำหรับนักพัฒนา", "en": "API for developers"},
    "api_intro": {
        "th": "ทุกคำสั่งตอบที่ /api/3/action/<ชื่อคำสั่ง> ทั้ง GET และ POST ในรูปแบบเดียวกับ CKAN "
        "จึงใช้กับเครื่องมือของ CKAN เช่น ckanapi ได้ทันที",
        "en": "Every action answers at /api/3/action/<name>, by GET or POST, in CKAN's format, "
        "so CKAN tools such as ckanapi work unchanged.",
    },
    "api_actions": {"th": "คำสั่งทั้งหมด", "en": "All actions"},
    "api_openapi": {
        "th": "เอกสาร OpenAPI สำหรับสร้างโปรแกรมเรียกใช้อัตโนมัติ",
        "en": "the OpenAPI document, for generating clients",
    },
    "api_parameters": {"th": "พารามิเตอร์", "en": "Parameters"},
    "api_returns": {"th": "ผลลัพธ์", "en": "Returns"},
    "api_raises": {"th": "ข้อผิดพลาด", "en": "Errors"},
    "api_permission": {"th": "สิทธิ์ที่ต้องมี", "en": "Permission"},
}


def lang() -> str:
    """The request's language: ?lang=, then the cookie, then the site default."""
    if "lang" not in g:
        asked = request.args.get("lang") or request.cookies.get("lang")
        g.lang = asked if asked in ("th", "en") else current_app.config["KHLANG"].DEFAULT_LANGUAGE
    return g.lang


def gettext(key: str, **values: object) -> str:
    entry = MESSAGES.get(key)
    text = entry[lang()] if entry else key
    return text.format(**values) if values else text


def localized(obj: dict, field: str) -> str:
    """`title_en` when the page is in English and it is filled, else the Thai `title`."""
    if lang() == "en" and obj.get(f"{field}_en"):
        return obj[f"{field}_en"]
    return obj.get(field) or ""
