"""The vectorised preparation gives exactly what prepare_table gives: same CSV bytes, same
counts, row map, totals and blank rows, normalisation report and PDPA report.

Generated raw files carry every quirk seen in Thai sources (Thai digits, BE dates in several
spellings, amounts with separators and บาท, totals and blank rows, decomposed SARA AM,
zero-width characters, personal data, cp874, quoted cells with commas and line breaks), and
the real sample files go through both paths too.

The reference is prepare_table reading an unseekable stream, which the fast path refuses, so
it stays the row-by-row path even once prepare_table dispatches to the fast one.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from typing import Any

import pytest

from harvesters.base import HarvestError
from harvesters.fastprepare import can_prepare_fast, try_prepare_fast
from harvesters.prepare import PreparedTable, prepare_table
from harvesters.validate import validate_csv
from schemas.tables import load_table_schema
from tests.realdata import REAL
from tests.servers import unavailable
from tests.test_harvesters_prepare import BUDGET_ACT as PREPARE_BUDGET_ACT

COMPARED = (
    *("fields", "rows_written", "source_rows", "encoding", "header", "totals_rows"),
    *("blank_rows", "normalisation", "pii", "row_map", "problems", "columns", "masked_cells"),
)


class Unseekable(io.RawIOBase):
    """A pipe-like stream: readable once, no seeking."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def prepare_both(
    raw: bytes, tmp_path: Path, schema: Any, name: str = "table.csv", **options: Any
) -> tuple[PreparedTable | None, PreparedTable]:
    if isinstance(schema, str):
        schema = load_table_schema(schema)
    kwargs = {"name": name, "fmt": None, "table_schema": schema, "options": options}
    fast = try_prepare_fast(io.BytesIO(raw), workdir=tmp_path, validate=True, **kwargs)
    slow = prepare_table(io.BufferedReader(Unseekable(raw)), workdir=tmp_path, **kwargs)
    if fast is not None and fast.checked is not None:
        # validated on the way: the same findings as validating the file it wrote
        on_file = validate_csv(fast.csv_path, schema)
        assert fast.checked.findings == on_file.findings
        assert (fast.checked.row_count, fast.checked.truncated) == (
            on_file.row_count,
            on_file.truncated,
        )
    return fast, slow


def assert_same(fast: PreparedTable | None, slow: PreparedTable) -> None:
    assert fast is not None, "the fast path gave up on this file"
    assert fast.csv_path != slow.csv_path
    assert fast.csv_path.read_bytes() == slow.csv_path.read_bytes()
    for name in COMPARED:
        assert getattr(fast, name) == getattr(slow, name), name
    assert fast.pii.as_list() == slow.pii.as_list()  # same order too
    assert slow.checked is None  # only when asked


# -- generated raw files ------------------------------------------------------------------------

WORDS = [
    *("กรมทางหลวง", "สำนักงานเขตพื้นที่การศึกษา", "องค์การบริหารส่วนตำบลหนองหาร", "งบลงทุน"),
    *("งบดำเนินงาน", "ค่าครุภัณฑ์", "ก่อสร้างถนนคอนกรีตเสริมเหล็ก", "จังหวัดเชียงใหม่", "ผู้รับจ้าง"),
    *("โครงการที่ ๑๒", "ร่วมกับ อบต.", "Road works, phase 2", 'ป้าย "ระวัง"', "ต่ำ", "น้ำ"),
]
# Damage done by PDF converters and word processors, applied to the words above.
DAMAGE = [
    lambda w: w.replace("ำ", "\u0e4d\u0e32"),  # nikhahit + sara aa
    lambda w: w.replace("ำ", "\u0e32\u0e4d"),  # reordered
    lambda w: w.replace("่ำ", "ำ่"),  # SARA AM before the tone mark
    lambda w: w.replace("ู้", "\u0e49\u0e39"),  # tone mark before sara uu (not NFC)
    lambda w: "\u200b".join(w.split(" ")) + "\u200b",
    lambda w: f"  {w}\t",
    lambda w: w.replace(" ", "\u00a0"),
    lambda w: w.replace(" ", "\n"),
    lambda w: w + ", " + w,
    lambda w: "\ufeff" + w,
    lambda w: w + " café",  # NFD accent
]
AMOUNTS = [
    *("1,234,567.00", "78,459,000", "1234", "0", "0.50", "฿1,234", "฿ 1,234.50", "1,234 บาท"),
    *("1,234บาท", "๑,๒๓๔.๕๐", "๑๒๓ บาท", "(1,234)", "-1,234.5", "−5", "1,234.-", "-", ""),
    *("-0", "-0.00", "007", "1e3", "12,34", " 1,234 ", "0.0000001", "1 234", "ล้านบาท"),
    *("123456789012345678901234567890", "-123456789012345678901234567890.5", ".5", "-.5"),
    *("-12,345,678,901,234,567.123456789", "1,234.5678901234", "฿-5", "5 .-", "1,234.-บาท"),
]
YEARS = ["2567", "๒๕๖๗", "พ.ศ. 2567", "ปีงบประมาณ 2566", "2024", " 2567 ", "25x", "", "2567.0"]
YEARS += ["ค.ศ. 2024", "67", "2,567"]
DATES = [
    *("2024-01-15", "2567-01-15", "15/01/2567", "15 ม.ค. 2567", "๑๕ มกราคม ๒๕๖๗", "1/2/2024"),
    *("วันที่ 1 ก.พ. 67", "2024-02-30", "15/1/2567 0:00", "15/1/2567 10:30", "", "31 ธ.ค. 66"),
    *("15 มกรา 2567", "2567-13-01", "15-01-2567", "15.01.2567", "29 ก.พ. 2567"),
]
BOOLEANS = ["true", "ใช่", "TRUE", " true", "ไม่ใช่", "", "0", "ผูกพัน"]
TOTALS = ["รวม", "รวมทั้งสิ้น", "Total", "ร วม", "ยอดรวม:", "รวมทงสน", "Subtotal", "ร่วม"]
BLANKS = ["", " ", "\u200b", "\t", "\u00a0 \u3000"]


def national_id(rnd: random.Random) -> str:
    digits = [rnd.randint(1, 9)] + [rnd.randint(0, 9) for _ in range(11)]
    total = sum(d * w for d, w in zip(digits, range(13, 1, -1), strict=True))
    digits.append((11 - total % 11) % 10)
    text = "".join(map(str, digits))
    return rnd.choice([text, f"{text[0]}-{text[1:5]}-{text[5:10]}-{text[10:12]}-{text[12]}"])


def personal(rnd: random.Random) -> str:
    return rnd.choice(
        [
            national_id(rnd),
            "081-234-5678",
            "โทร. 02 123 4567",
            "+66 81 234 5678",
            "๐๘๑-๒๓๔-๕๖๗๘",
            "ติดต่อ somchai.j@example.go.th",
            "1234567890123",  # 13 digits that fail the checksum
            "เลขที่สัญญา 12/2567 ลงวันที่ 1 มกราคม 2567",
        ]
    )


def text_value(rnd: random.Random, cp874: bool) -> str:
    word = rnd.choice(WORDS)
    roll = rnd.random()
    if roll < 0.25:
        word = rnd.choice(DAMAGE[:9] if cp874 else DAMAGE)(word)
    elif roll < 0.3:
        word = personal(rnd)
    elif roll < 0.32:
        word = rnd.choice(TOTALS) + " " + "ยาว" * 25  # a long cell is never a totals label
    return word


def value(rnd: random.Random, spec: dict[str, Any], cp874: bool) -> str:
    kind = spec.get("type")
    if kind == "integer":
        return rnd.choice(YEARS) if "year" in spec["name"] else rnd.choice(["12", "๑๒", "1,200"])
    if kind == "number":
        return rnd.choice(AMOUNTS) if rnd.random() < 0.5 else f"{rnd.randrange(10**9) / 100:,.2f}"
    if kind == "date":
        return rnd.choice(DATES)
    if kind == "boolean":
        return rnd.choice(BOOLEANS)
    if spec.get("constraints", {}).get("enum") and rnd.random() < 0.7:
        return rnd.choice(spec["constraints"]["enum"])
    return text_value(rnd, cp874)


def raw_file(
    seed: int,
    schema: str,
    rows: int,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\n",
    preamble: bool = False,
    extra_width: int = 0,
) -> bytes:
    """A raw table for ``schema``: labels in a shuffled order (names, Thai titles, unknown
    columns), data rows with quirks, blank and totals rows; encoded as asked."""
    rnd = random.Random(seed)
    cp874 = encoding == "cp874"
    specs = [dict(s) for s in load_table_schema(schema)["fields"]]
    rnd.shuffle(specs)
    labels = [s["title"] if rnd.random() < 0.4 and s.get("title") else s["name"] for s in specs]
    specs.append({"name": "หมายเหตุอื่น", "type": "string"})
    labels.append("หมายเหตุอื่น")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    if preamble:
        writer.writerow(["รายงานงบประมาณรายจ่าย ประจำปีงบประมาณ ๒๕๖๗"])
        writer.writerow([])
        writer.writerow(["", "หน่วย : บาท"])
    writer.writerow(labels + [""] * extra_width)
    for _ in range(rows):
        roll = rnd.random()
        if roll < 0.02:
            blanks = ["", " ", "\t", "\u00a0"] if cp874 else BLANKS
            writer.writerow([rnd.choice(blanks) for _ in range(len(labels) + extra_width)])
            continue
        cells = [value(rnd, s, cp874) for s in specs]
        if roll < 0.04:
            cells[rnd.randrange(len(cells))] = rnd.choice(TOTALS)
        extra = [rnd.choice(["", "", " ", "x", "a,b"]) for _ in range(extra_width)]
        writer.writerow(cells + extra)
    return out.getvalue().encode(encoding, errors="replace")  # cp874 lacks a few characters


GENERATED = [
    # seed, schema, rows, raw_file options, prepare options
    (1, "budget", 400, {}, {}),
    (2, "project_progress", 300, {"newline": "\r\n"}, {}),
    (3, "regulation", 300, {"preamble": True}, {}),
    (4, "budget", 300, {"encoding": "cp874"}, {}),
    (5, "project_progress", 300, {"encoding": "utf-8-sig"}, {"encoding": "utf-8"}),
    (6, "budget", 300, {"delimiter": "\t"}, {}),
    (7, "regulation", 300, {"extra_width": 2}, {}),
    (8, "budget", 300, {"extra_width": 2}, {"extra_columns": "drop"}),
    (9, "project_progress", 300, {}, {"pii": {"allow": ["contractor", "x"], "mask": ["location"]}}),
    (10, "budget", 300, {"encoding": "cp874"}, {"encoding": "tis-620"}),
    (11, "budget", 12_000, {}, {}),  # more than one group of rows
]


@pytest.mark.parametrize(("seed", "schema", "rows", "shape", "options"), GENERATED)
def test_generated_raw_files_are_prepared_as_prepare_table_does(
    tmp_path: Path, seed: int, schema: str, rows: int, shape: dict, options: dict
) -> None:
    raw = raw_file(seed, schema, rows, **shape)
    name = "table.tsv" if shape.get("delimiter") == "\t" else "table.csv"
    fast, slow = prepare_both(raw, tmp_path, schema, name=name, **options)

    assert_same(fast, slow)
    assert slow.rows_written > 0 and slow.totals_rows and slow.blank_rows
    # Cells beyond the header read back as extra cells: then the file is validated instead.
    assert (fast.checked is None) == (bool(shape.get("extra_width")) and not options)
    if fast.checked is not None and schema == "budget":
        assert fast.checked.findings  # the generated quirks include invalid values


def test_the_generated_files_hold_the_quirks_they_are_meant_to(tmp_path: Path) -> None:
    raw = raw_file(1, "budget", 400)
    fast, slow = prepare_both(raw, tmp_path, "budget")

    kinds = {entry["kind"] for entry in slow.normalisation}
    assert {"thai-digits", "sara-am", "amount", "whitespace", "zero-width", "unicode-nfc"} <= kinds
    assert {"ce-year", "year-format"} <= kinds  # BE-year fields
    assert {kind for _, kind in slow.pii.counts} == {"national-id", "phone", "email"}
    assert len(slow.totals_rows) > 3 and slow.blank_rows > 3
    assert_same(fast, slow)


def test_dates_and_integers_take_the_same_paths(tmp_path: Path) -> None:
    schema = {
        "fields": [
            {"name": "no", "type": "integer"},
            {"name": "signed", "type": "date"},
            {"name": "citizen_id", "type": "integer"},
            {"name": "total", "type": "number"},
            {"name": "year", "type": "year"},
        ]
    }
    rnd = random.Random(3)
    lines = ["no,signed,citizen_id,total,year"]
    for n in range(2000):
        ident = national_id(rnd).replace("-", "") if n % 3 else str(rnd.randrange(10**13))
        lines.append(
            f'"{rnd.choice(["1", "๒", "-0", "007", "1,000", "1.0", "1.5", ""])}",'
            f'"{rnd.choice(DATES)}",{ident},"{rnd.choice(AMOUNTS)}","{rnd.choice(YEARS)}"'
        )
    fast, slow = prepare_both("\n".join(lines).encode(), tmp_path, schema)

    assert ("citizen_id", "national-id") in slow.pii.counts
    assert_same(fast, slow)


# -- every whitespace, zero-width and Thai character ------------------------------------------


def test_every_whitespace_character_is_blank_and_collapsed_as_in_python(tmp_path: Path) -> None:
    # \r and \n end records; they are tested inside quoted cells above
    spaces = [chr(c) for c in range(0x3100) if chr(c).isspace() and chr(c) not in "\r\n"]
    spaces += ["\u200b", "\ufeff"]
    others = [chr(c) for c in range(0x20, 0x3100) if not chr(c).isspace()]
    others = [c for c in others if not 0xD800 <= ord(c) <= 0xDFFF and c not in '",\r\n']
    schema = {"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]}
    rows = [["a", "b"]]
    rows += [[s, s * 2] for s in spaces]  # blank rows
    rows += [[f"x{s}y", f"{s}x"] for s in spaces]  # collapsed
    rows += [[c, f"x{c}"] for c in others]  # neither
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    fast, slow = prepare_both(out.getvalue().encode(), tmp_path, schema)

    assert slow.blank_rows == len(spaces)
    assert_same(fast, slow)


def test_every_pair_of_thai_characters_is_cleaned_as_in_python(tmp_path: Path) -> None:
    thai = [chr(c) for c in range(0x0E01, 0x0E5C)] + ["a", " ", "1"]
    pairs = [a + b for a in thai for b in thai]
    schema = {"fields": [{"name": f"c{j}", "type": "string"} for j in range(16)]}
    lines = [",".join(f"c{j}" for j in range(16))]
    lines += [",".join(f"ก{p}" for p in pairs[i : i + 16]) for i in range(0, len(pairs), 16)]
    lines[-1] += "," * (16 - lines[-1].count(",") - 1)
    fast, slow = prepare_both("\n".join(lines).encode(), tmp_path, schema)

    assert {"sara-am", "unicode-nfc", "whitespace"} <= {e["kind"] for e in slow.normalisation}
    assert_same(fast, slow)


# -- the real sample files ----------------------------------------------------------------------

BUDGET_ACT = {"columns": PREPARE_BUDGET_ACT["columns"]}  # extra columns kept
REAL_CSV = [
    "budget/th_budget_act_2565_vol3-17_napatswift.csv",
    "budget/th_budget_act_2565_vol3-17_pdfplumber_raw.csv",
    "budget/th_budget_act_2565_output_example_v2.csv",
    "projects/th_budget_act_2565_vol3-13-1_provinces_napatswift.csv",
]
REAL_OPTIONS = [
    ("budget", BUDGET_ACT),
    ("budget", {**BUDGET_ACT, "extra_columns": "drop"}),
    ("project_progress", {"pii": {"mask": ["location"]}}),
]


@pytest.mark.parametrize("relative", REAL_CSV)
@pytest.mark.parametrize(("schema", "options"), REAL_OPTIONS)
def test_real_files_are_prepared_as_prepare_table_does(
    tmp_path: Path, relative: str, schema: str, options: dict
) -> None:
    path = REAL / relative
    if not path.exists():
        unavailable(f"real sample file {relative} is missing")
    fast, slow = prepare_both(path.read_bytes(), tmp_path, schema, name=path.name, **options)

    assert_same(fast, slow)


def test_a_real_file_transcoded_to_cp874_is_prepared_as_prepare_table_does(tmp_path: Path) -> None:
    path = REAL / "projects/th_budget_act_2565_vol3-13-1_provinces_napatswift.csv"
    if not path.exists():
        unavailable("real sample file projects/...provinces_napatswift.csv is missing")
    raw = path.read_text(encoding="utf-8").encode("cp874", errors="replace")
    fast, slow = prepare_both(raw, tmp_path, "budget", name=path.name, **BUDGET_ACT)

    assert slow.encoding == "cp874"
    assert_same(fast, slow)


# -- what the fast path leaves to prepare_table --------------------------------------------------

HEADER = "fiscal_year,agency,amount\n"
GIVE_UP = {
    "ragged rows": HEADER + '2567,กรมทางหลวง,"1,000"\n2567,กรมทางหลวง\n',
    "lone CR in the header": "fiscal_year,agency\ramount\n2567,ก,1\n",
    "no header": "1,2\n3,4\n",
    "empty file": "",
    "only empty lines": HEADER + "\n\n",
    "a data record starting with U+FEFF": HEADER + "\ufeff2567,กรมทางหลวง,1\n",
}


@pytest.mark.parametrize("case", sorted(GIVE_UP))
def test_files_the_fast_path_leaves_get_prepare_tables_result(tmp_path: Path, case: str) -> None:
    raw = GIVE_UP[case].encode()
    fast, slow = prepare_both(raw, tmp_path, "budget")
    assert fast is None

    schema = load_table_schema("budget")
    dispatched = prepare_table(
        io.BytesIO(raw), name="t.csv", fmt=None, table_schema=schema, options={}, workdir=tmp_path
    )
    assert dispatched.csv_path.read_bytes() == slow.csv_path.read_bytes()
    for name in COMPARED:
        assert getattr(dispatched, name) == getattr(slow, name), name


def test_bytes_that_are_not_text_fail_as_in_prepare_table(tmp_path: Path) -> None:
    raw = (HEADER + "2567,กรมทางหลวง,1\n" * 5000).encode() + b"2567,\xff\xfe,1\n"
    stream = io.BytesIO(raw)
    kwargs = {"name": "t.csv", "fmt": None, "table_schema": load_table_schema("budget")}
    with pytest.raises(HarvestError) as slow:
        prepare_table(io.BytesIO(raw), options={}, workdir=tmp_path, **kwargs)
    with pytest.raises(HarvestError) as fast:
        prepare_table(stream, options={}, workdir=tmp_path, **kwargs)

    assert str(fast.value) == str(slow.value)
    assert list(tmp_path.iterdir()) == []  # no partial output left behind


BAD_BYTES = {
    # far past the first groups of rows: found on the joining thread, not by the reader
    "in a data row": (HEADER + "2567,กรมทางหลวง,1\n" * 30_000).encode() + b"2567,\xe0\xb8,1\n",
    # a column of distinct clean texts is written as read, never decoded by Python
    "in a free-text column": (
        "fiscal_year,item,amount\n" + "".join(f"2567,รายการ {i},1\n" for i in range(30_000))
    ).encode()
    + b"2567,\xe0\xb8 x,1\n",
    "in a totals row": (HEADER + "2567,กรมทางหลวง,1\n" * 3).encode()
    + b"\xe0\xb8\xa3\xe0\xb8\xa7\xe0\xb8\xa1\xff,,5\n",
    "in a blank row's cell": (HEADER + "2567,กรมทางหลวง,1\n").encode() + b",,\xc0\n",
}


@pytest.mark.parametrize("case", sorted(BAD_BYTES))
def test_invalid_utf8_anywhere_sends_the_file_to_prepare_table(tmp_path: Path, case: str) -> None:
    raw = BAD_BYTES[case]
    stream = io.BytesIO(raw)
    schema = load_table_schema("budget")
    kwargs = {"name": "t.csv", "fmt": "csv", "table_schema": schema, "workdir": tmp_path}
    assert try_prepare_fast(stream, options={"encoding": "utf-8"}, validate=True, **kwargs) is None
    assert stream.tell() == 0 and not stream.closed
    assert list(tmp_path.iterdir()) == []  # the partial output is gone
    with pytest.raises(HarvestError, match="UTF-8|utf-8"):
        prepare_table(stream, options={"encoding": "utf-8"}, **kwargs)


def test_the_fast_path_is_for_delimited_text_in_known_encodings(tmp_path: Path) -> None:
    assert can_prepare_fast("csv", {}) and can_prepare_fast("TSV", {"encoding": "tis-620"})
    assert can_prepare_fast("txt", {"encoding": "auto"})
    assert not can_prepare_fast("xlsx", {}) and not can_prepare_fast("json", {})
    assert not can_prepare_fast("csv", {"encoding": "latin-1"})
    raw = (HEADER + '2567,กรมทางหลวง,"1,000"\n').encode()
    stream = io.BufferedReader(Unseekable(raw))
    kwargs = {"fmt": None, "table_schema": load_table_schema("budget"), "options": {}}
    assert try_prepare_fast(stream, name="t.csv", workdir=tmp_path, **kwargs) is None
    assert stream.read() == raw  # untouched
    assert try_prepare_fast(io.BytesIO(raw), name="t.json", workdir=tmp_path, **kwargs) is None
