"""The maintained synonym table for Thai public-sector search.

Each group lists spellings that mean the same thing. The analyzer indexes one shared key for every
member it finds, so a query for any member finds documents that use any other (อบจ. finds
องค์การบริหารส่วนจังหวัด and the reverse). Members are written the way people type them; dots in
abbreviations, case and spacing are normalised by the analyzer. A member may have several words
("ร่าง พ.ร.บ.", "provincial administrative organization").

Keep groups tight: a member that is also an ordinary word elsewhere (like ทน. for เทศบาลนคร, which
is also the verb "endure") would pull unrelated datasets into results, so such members are left
out on purpose.

Maintainers: add a group, run tests/test_search_thai.py and tests/test_search_relevance.py.
"""

from __future__ import annotations

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    # Local government
    (
        "อบจ.",
        "องค์การบริหารส่วนจังหวัด",
        "provincial administrative organization",
        "provincial administrative organisation",
        "PAO",
    ),
    (
        "อบต.",
        "องค์การบริหารส่วนตำบล",
        "subdistrict administrative organization",
        "subdistrict administrative organisation",
        "tambon administrative organization",
        "SAO",
    ),
    ("อปท.", "องค์กรปกครองส่วนท้องถิ่น", "local administrative organization"),
    ("ทต.", "เทศบาลตำบล", "subdistrict municipality", "tambon municipality"),
    ("ทม.", "เทศบาลเมือง", "town municipality"),
    ("เทศบาลนคร", "city municipality"),
    ("เทศบาล", "municipality", "municipal"),
    ("กทม.", "กรุงเทพมหานคร", "กรุงเทพฯ", "กรุงเทพ", "bangkok", "BMA"),
    # Provinces with common short or English names
    ("อยุธยา", "พระนครศรีอยุธยา", "ayutthaya", "ayuthaya"),
    ("โคราช", "นครราชสีมา", "korat", "nakhon ratchasima"),
    ("เชียงใหม่", "chiang mai", "chiangmai"),
    ("ขอนแก่น", "khon kaen"),
    ("ภูเก็ต", "phuket"),
    # Law and budget vocabulary
    ("พ.ร.บ.", "พระราชบัญญัติ"),
    ("ร่างกฎหมาย", "ร่าง พ.ร.บ.", "ร่างพระราชบัญญัติ", "draft bill", "bill"),
    ("ข้อบัญญัติ", "เทศบัญญัติ", "local ordinance", "ordinance", "bylaw"),
    # งบ alone is how people write งบประมาณ in budget line items (งบลงทุน, งบกลาง).
    ("งบประมาณ", "งบ", "budget"),
    ("ปีงบประมาณ", "ปีงบ", "fiscal year", "FY"),
    ("จัดซื้อจัดจ้าง", "procurement"),
    ("ความคืบหน้า", "ความก้าวหน้า", "progress"),
    ("ครม.", "คณะรัฐมนตรี", "cabinet"),
    ("สตง.", "สำนักงานการตรวจเงินแผ่นดิน", "state audit office"),
    ("รพ.สต.", "โรงพยาบาลส่งเสริมสุขภาพตำบล", "health promoting hospital"),
    ("รพ.", "โรงพยาบาล", "hospital"),
    ("สพฐ.", "สำนักงานคณะกรรมการการศึกษาขั้นพื้นฐาน", "office of the basic education commission"),
    ("ผู้สูงอายุ", "elderly", "older persons"),
    ("เบี้ยยังชีพ", "living allowance"),
)

#: Words missing from PyThaiNLP's dictionary that must stay whole when segmenting Thai text:
#: abbreviations (written without dots, as the analyzer sees them) and common compounds.
EXTRA_WORDS: tuple[str, ...] = (
    "อบจ",
    "อบต",
    "อปท",
    "ทต",
    "ทม",
    "กทม",
    "พรบ",
    "ครม",
    "สตง",
    "รพสต",
    "สพฐ",
    "ปภ",
    "กฟภ",
    "กปภ",
    "ปีงบ",
    "งบลงทุน",
    "เบี้ยยังชีพ",
    "เสริมเหล็ก",
)
