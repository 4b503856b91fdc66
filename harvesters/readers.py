"""Reads a table file as rows, whatever its format, for the preparation step:
:func:`read_table` streams CSV/TSV through ``open_text``, XLSX through openpyxl's read-only
mode, and a top-level JSON array one element at a time (ijson is not installed; the standard
decoder decodes element by element). A JSON document whose array is picked with
``json_path`` is read whole, up to ``max_json_bytes`` characters.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from harvesters.base import HarvestError
from harvesters.normalise import EncodingError, open_text

JSON_KEY_SCAN = 1000
MAX_JSON_BYTES = 64 << 20
JSON_CHUNK = 64 * 1024
EXTENSIONS = {"csv": "csv", "txt": "csv", "tsv": "tsv", "tab": "tsv", "xlsx": "xlsx"}
EXTENSIONS |= {"xlsm": "xlsx", "json": "json"}
_ENCODINGS: Mapping[Any, str | None] = {
    None: None,
    "auto": None,
    "utf-8": "utf-8-sig",  # a BOM is tolerated
    "cp874": "cp874",
    "tis-620": "cp874",  # cp874 is a superset of TIS-620
}
Rows = Iterator[tuple[int, list[Any]]]


# -- reading table files ------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A file-level finding, e.g. no header row or a schema field missing from the file.

    :param level: ``error`` (the table cannot be published as is) or ``warning``.
    """

    code: str
    level: str
    message_en: str
    message_th: str
    row: int | None = None


@dataclass
class TableRows:
    """A table file opened for reading.

    :param rows: (row number in the file, cells) for every row, preamble and header included;
        call :meth:`close` to stop early.
    :param labels: the column labels when the format has them apart from the rows (the keys
        of JSON objects); None when the header is among the rows.
    :param problems: warnings found while reading (filled as the rows are read).
    """

    rows: Rows
    labels: list[str] | None
    encoding: str | None
    sheet: str | None
    problems: list[Problem] = field(default_factory=list)
    release: Callable[[], None] | None = None

    def close(self) -> None:
        """Stop reading: close the rows and release the workbook or spooled copy."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self.release is not None:
            self.release()


def _error(name: str, en: str, th: str) -> HarvestError:
    return HarvestError(f"{name}: {en}", f"{name}: {th}")


# -- readers: each yields (source row number, cells) ---------------------------------------


def _open(stream: BinaryIO, name: str, encoding: Any) -> tuple[TextIO, str]:
    if encoding not in _ENCODINGS:
        raise _error(name, f"unknown encoding {encoding!r}", f"ไม่รู้จักการเข้ารหัส {encoding!r}")
    try:
        return open_text(stream, _ENCODINGS[encoding])
    except EncodingError as exc:
        raise _error(
            name,
            f"cannot read the text at byte offset {exc.offset}: {exc}",
            f"อ่านข้อความไม่ได้ที่ไบต์ที่ {exc.offset}: ไม่ใช่ UTF-8 หรือ TIS-620 ({exc.reason})",
        ) from None


def _csv_rows(text: TextIO, name: str, encoding: str, delimiter: str) -> Rows:
    n = 0
    try:
        for n, row in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            yield n, row
    except UnicodeDecodeError as exc:
        where, where_th = f"after row {n}", f"หลังแถวที่ {n}"
        try:  # the failing chunk ends where the binary stream now is
            offset = text.buffer.tell() - len(exc.object) + exc.start
            where, where_th = f"at byte offset {offset}", f"ที่ไบต์ที่ {offset}"
        except (OSError, ValueError, AttributeError):
            pass
        raise _error(
            name,
            f"the text {where} is not valid {encoding} ({exc.reason})",
            f"ข้อความ{where_th} ไม่ได้เข้ารหัสเป็น {encoding}",
        ) from None
    except csv.Error as exc:
        raise _error(
            name, f"row {n + 1} cannot be read: {exc}", f"อ่านแถวที่ {n + 1} ไม่ได้: {exc}"
        ) from None


def _xlsx_rows(
    stream: BinaryIO, name: str, sheet: Any, workdir: Path
) -> tuple[Rows, str, Callable[[], None]]:
    """(rows, sheet title, release) of a worksheet; ``release`` closes the workbook and
    removes the spooled copy, and may be called more than once."""
    import openpyxl

    spool: Path | None = None
    source: Any = stream
    if not stream.seekable():  # zip files need seeking: keep a local copy
        handle, spool_name = tempfile.mkstemp(suffix=".xlsx", dir=workdir)
        spool = Path(spool_name)
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(stream, out)
        source = spool
    book: Any = None

    def release() -> None:
        if book is not None:
            book.close()
        if spool is not None:
            spool.unlink(missing_ok=True)

    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, XML errors...: all mean "not an XLSX"
        release()
        raise _error(
            name,
            f"not a readable XLSX workbook ({type(exc).__name__}: {exc})",
            "ไม่ใช่ไฟล์ XLSX ที่อ่านได้ (ไฟล์อาจเสียหรือเป็นรูปแบบอื่น เช่น XLS)",
        ) from None
    names = book.sheetnames
    if sheet is None and book.worksheets:
        ws = book.worksheets[0]
    elif isinstance(sheet, int) and 1 <= sheet <= len(names):
        ws = book[names[sheet - 1]]
    elif sheet in names:
        ws = book[sheet]
    else:
        release()
        raise _error(
            name,
            f"no sheet {sheet!r}; the sheets are {', '.join(names)}",
            f"ไม่พบชีต {sheet!r} ชีตที่มีคือ {', '.join(names)}",
        )
    if not hasattr(ws, "reset_dimensions"):
        release()
        raise _error(name, f"sheet {ws.title!r} is a chart", f"ชีต {ws.title!r} เป็นแผนภูมิ")
    # Some writers declare a wrong sheet size (e.g. "A1"); read every row that is there.
    ws.reset_dimensions()

    def rows() -> Rows:
        n = 0
        try:
            for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
                yield n, list(row)
        except HarvestError:
            raise
        except Exception as exc:
            raise _error(
                name,
                f"sheet {ws.title!r}, row {n + 1} cannot be read: {exc}",
                f"ชีต {ws.title!r} อ่านแถวที่ {n + 1} ไม่ได้: {exc}",
            ) from None
        finally:
            release()

    return rows(), ws.title, release


def _json_error(name: str, what: str, what_th: str, line: int, offset: int) -> HarvestError:
    return _error(
        name,
        f"not valid JSON at line {line} (character {offset}): {what}",
        f"JSON ไม่ถูกต้องที่บรรทัด {line} (ตัวอักษรที่ {offset}): {what_th}",
    )


def _json_elements(text: TextIO, name: str) -> Iterator[Any]:
    """The elements of a top-level JSON array, decoded one at a time."""
    decoder = json.JSONDecoder()
    buf, pos, base, lines, size = "", 0, 0, 0, JSON_CHUNK

    def more() -> bool:
        nonlocal buf, pos, base, lines, size
        chunk = text.read(size)
        if not chunk:
            return False
        lines += buf.count("\n", 0, pos)
        base += pos
        buf, pos = buf[pos:] + chunk, 0
        return True

    def skip() -> bool:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf) or not more():
                return pos < len(buf)

    def fail(what: str, what_th: str, at: int) -> HarvestError:
        return _json_error(name, what, what_th, lines + buf.count("\n", 0, at) + 1, base + at)

    if not skip():
        raise _error(name, "the file is empty", "ไฟล์ว่างเปล่า")
    if buf[pos] != "[":
        raise _not_an_array(name, buf[pos], text, buf[pos:])
    pos += 1
    expect = "first"
    while True:
        if not skip():
            raise fail("the array is not closed", "ไม่มีเครื่องหมาย ] ปิดท้าย", pos)
        if buf[pos] == "]" and expect != "value":
            return
        if expect == "next":
            if buf[pos] != ",":
                raise fail("expected ',' or ']'", "ต้องมีเครื่องหมาย , หรือ ]", pos)
            pos, expect = pos + 1, "value"
            continue
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            # An element cut at the end of the buffer: read more and decode it again.
            cut = exc.pos >= len(buf) - 1 or exc.msg.startswith("Unterminated string")
            if cut and more():
                size = min(size * 2, 16 << 20)
                continue
            raise fail(exc.msg, exc.msg, exc.pos) from None
        if end == len(buf) and more():  # a number may go on in the next chunk
            continue
        size = JSON_CHUNK
        pos, expect = end, "next"
        yield value


def _not_an_array(name: str, first: str, text: TextIO, start: str) -> HarvestError:
    hint = hint_th = ""
    if first == "{":
        rest = text.read(MAX_JSON_BYTES)
        try:
            doc = json.loads(start + rest)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            keys = [k for k, v in doc.items() if isinstance(v, list)]
            if keys:
                hint = f"; set json_path to one of its arrays: {', '.join(keys)}"
                hint_th = f" กรุณากำหนด json_path เป็นชื่ออาร์เรย์ในไฟล์: {', '.join(keys)}"
    return _error(
        name,
        f"not a JSON array of rows (it starts with {first!r}){hint}",
        f"ไม่ใช่ JSON แบบอาร์เรย์ของแถว (ขึ้นต้นด้วย {first!r}){hint_th}",
    )


def _json_at_path(text: TextIO, name: str, json_path: str, max_bytes: int) -> list[Any]:
    body = text.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise _error(
            name,
            f"a JSON file read with json_path may hold at most {max_bytes:,} characters",
            f"ไฟล์ JSON ที่ใช้ json_path ต้องมีขนาดไม่เกิน {max_bytes:,} ตัวอักษร",
        )
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        raise _json_error(name, exc.msg, exc.msg, exc.lineno, exc.pos) from None
    for part in json_path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            keys = ", ".join(map(str, doc)) if isinstance(doc, dict) else type(doc).__name__
            raise _error(
                name,
                f"json_path {json_path!r}: no {part!r} here (found: {keys})",
                f"json_path {json_path!r}: ไม่พบ {part!r} (ที่มีคือ {keys})",
            )
    if not isinstance(doc, list):
        raise _error(
            name,
            f"json_path {json_path!r} leads to a {type(doc).__name__}, not an array",
            f"json_path {json_path!r} ไม่ได้ชี้ไปที่อาร์เรย์",
        )
    return doc


def _json_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _json_rows(
    elements: Iterator[Any], name: str, problems: list[Problem]
) -> tuple[Rows, list[str] | None]:
    """Rows from array elements: objects give their keys as labels; arrays are plain rows."""
    head = list(islice(elements, JSON_KEY_SCAN))
    if not head:
        return iter(()), []
    kind = dict if isinstance(head[0], dict) else list
    for n, element in enumerate(head, start=1):
        if not isinstance(element, kind):
            raise _json_element_error(name, n, element)
    if kind is list:

        def lists() -> Rows:
            for n, element in enumerate(chain(head, elements), start=1):
                if not isinstance(element, list):
                    raise _json_element_error(name, n, element)
                yield n, [_json_cell(v) for v in element]

        return lists(), None
    keys = list(dict.fromkeys(k for element in head for k in element))

    def rows() -> Rows:
        known, reported = set(keys), False
        for n, element in enumerate(chain(head, elements), start=1):
            if not isinstance(element, dict):
                raise _json_element_error(name, n, element)
            if not reported and not known.issuperset(element):
                reported = True
                new = ", ".join(sorted(set(element) - known))
                problems.append(
                    Problem(
                        "unknown-keys",
                        "warning",
                        f"element {n} has keys not seen in the first {JSON_KEY_SCAN} "
                        f"elements; their values were left out: {new}",
                        f"ข้อมูลลำดับที่ {n} มีคีย์ที่ไม่พบใน {JSON_KEY_SCAN} รายการแรก "
                        f"ค่าเหล่านี้จึงไม่ถูกนำเข้า: {new}",
                        n,
                    )
                )
            yield n, [_json_cell(element.get(k)) for k in keys]

    return rows(), keys


def _json_element_error(name: str, n: int, element: Any) -> HarvestError:
    return _error(
        name,
        f"array element {n} is a {type(element).__name__}; every element must be an object "
        "(or every one an array)",
        f"ข้อมูลลำดับที่ {n} ไม่ใช่ออบเจกต์ ทุกรายการต้องเป็นออบเจกต์ (หรือเป็นอาร์เรย์ทั้งหมด)",
    )


def read_table(
    stream: BinaryIO, *, name: str, fmt: str | None, options: Mapping[str, Any], workdir: Path
) -> TableRows:
    """Open a CSV, TSV, XLSX or JSON file as rows (see :class:`TableRows`).

    :param fmt: csv, tsv, xlsx or json; None guesses it from ``name``.
    :param options: ``encoding``, ``sheet``, ``json_path``, ``max_json_bytes`` are used.
    :param workdir: where an XLSX from an unseekable stream is spooled.
    :raises HarvestError: naming the file, for a file that cannot be opened as a table.
    """
    fmt = guess_format(name, fmt)
    problems: list[Problem] = []
    if fmt == "xlsx":
        rows, sheet, release = _xlsx_rows(stream, name, options.get("sheet"), workdir)
        return TableRows(rows, None, None, sheet, problems, release)
    text, encoding = _open(stream, name, options.get("encoding"))
    if fmt in ("csv", "tsv"):
        rows = _csv_rows(text, name, encoding, "\t" if fmt == "tsv" else ",")
        return TableRows(rows, None, encoding, None, problems)
    if options.get("json_path"):
        max_bytes = int(options.get("max_json_bytes") or MAX_JSON_BYTES)
        elements: Iterator[Any] = iter(_json_at_path(text, name, options["json_path"], max_bytes))
    else:
        elements = _json_elements(text, name)
    rows, labels = _json_rows(elements, name, problems)
    return TableRows(rows, labels, encoding, None, problems)


def guess_format(name: str, fmt: str | None = None) -> str:
    """``csv``, ``tsv``, ``xlsx`` or ``json`` from ``fmt`` or the file name's extension."""
    wanted = (fmt or (name.rsplit(".", 1)[-1] if "." in name else "")).lower().lstrip(".")
    if wanted in EXTENSIONS:
        return EXTENSIONS[wanted]
    if wanted == "xls":
        raise _error(
            name,
            "the old Excel .xls format is not supported; save the file as .xlsx",
            "ไม่รองรับไฟล์ Excel รุ่นเก่า (.xls) กรุณาบันทึกเป็น .xlsx",
        )
    raise _error(
        name,
        f"unknown table format {wanted!r}; use csv, tsv, xlsx or json",
        f"ไม่รู้จักรูปแบบตาราง {wanted!r} ใช้ได้เฉพาะ csv, tsv, xlsx หรือ json",
    )
