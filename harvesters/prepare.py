"""Turn a harvested CSV, TSV, XLSX or JSON file into a normalised UTF-8 CSV for validation.

The output has the Table Schema's fields as its header, in schema order, then any source
columns the schema lacks (so the validator reports them), and one record per data row. On the
way every value is cleaned and typed by :class:`harvesters.normalise.Normaliser` (SARA AM,
Thai digits, BE dates to ISO, amounts), blank rows are dropped, totals rows are set aside and
personal data is looked for. Nothing is changed silently: the returned :class:`PreparedTable`
reports each change and maps every CSV row back to its row in the original file, because the
publisher opens their file, not ours.

Rows stream through in constant memory (see :func:`harvesters.readers.read_table`), except a
JSON document whose array is picked with ``json_path``, which is read whole up to a cap.

Row numbers in the original file: CSV records (the first line is row 1; a quoted cell spanning
lines is one record, as a spreadsheet shows it), worksheet rows for XLSX, 1-based array
elements for JSON.
"""

from __future__ import annotations

import csv
import datetime
import os
import re
import tempfile
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

from harvesters.normalise import (
    HeaderGuess,
    HeaderNotFound,
    Normaliser,
    find_header,
    is_blank_row,
    is_totals_row,
)
from harvesters.pii import PiiReport, scan_rows
from harvesters.readers import Problem, TableRows, read_table
from schemas.thai import (
    ThaiValueError,
    normalise_text,
    parse_year_era,
    strip_thai_marks,
    thai_digits_to_arabic,
)

__all__ = ["PreparedTable", "Problem", "prepare_table", "is_be_year_field", "text_of"]

HEADER_SCAN = 30
_YEAR_NAME = re.compile(r"(^|_)year$")
# Table Schema type -> Normaliser type; other types are cleaned as text.
_NORMALISER_TYPES = {"date": "date", "number": "number", "integer": "integer", "year": "year"}


@dataclass
class PreparedTable:
    """The normalised CSV and everything the harvest report needs to explain it.

    :param fields: the CSV header: schema fields in order, then the extra source columns.
    :param source_rows: data rows read below the header (= rows_written + blank_rows +
        len(totals_rows)).
    :param header: where the header was (None when none was found; for JSON objects the keys,
        with no header rows).
    :param columns: source label -> CSV column it was written to.
    :param normalisation: Normaliser.report() plus BE-year entries; rows are source rows.
    :param pii: the PDPA scan of the written rows; finding rows are source rows. Allowed and
        masked columns are not scanned; ``masked_cells`` counts what was masked.
    :param row_map: source row number of each written row, in order.
    """

    csv_path: Path
    fields: list[str]
    rows_written: int
    source_rows: int
    encoding: str | None
    header: HeaderGuess | None
    totals_rows: list[int]
    blank_rows: int
    normalisation: list[dict[str, Any]]
    pii: PiiReport
    row_map: array
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    masked_cells: dict[str, int] = field(default_factory=dict)
    sheet: str | None = None
    #: sha256 and size of the CSV when the writer hashed it on the way (the vectorised path).
    csv_sha256: str | None = None
    csv_size: int | None = None
    #: validate_csv's result for the CSV, when prepare_table was asked to validate and could.
    checked: Any = None

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not any(p.level == "error" for p in self.problems)

    def source_row(self, csv_row: int) -> int | None:
        """The row in the original file of a CSV row numbered as the validator numbers them
        (header = 1, first data row = 2); None for the header or a row out of range."""
        index = csv_row - 2
        return self.row_map[index] if 0 <= index < len(self.row_map) else None


# -- header and columns ---------------------------------------------------------------------


def _label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalise_text(str(value))


def _explicit_header(rows: list[list[Any]], index: int, count: int) -> HeaderGuess:
    top = [_label(v) for v in rows[index]]
    if count == 2 and index + 1 < len(rows):
        below = [_label(v) for v in rows[index + 1]]
        labels, current = [], ""
        for j in range(max(len(top), len(below))):
            upper = top[j] if j < len(top) else ""
            lower = below[j] if j < len(below) else ""
            current = upper or current
            prefix = upper or current
            labels.append(f"{prefix} {lower}" if prefix and lower else (lower or upper))
        top = labels
    while top and not top[-1]:
        top.pop()
    return HeaderGuess(index, count, top)


def _find_header(
    rows: list[list[Any]], header_row: Any, header_rows: int | None, fields: list[str]
) -> HeaderGuess | None:
    if header_row == "none":
        return HeaderGuess(0, 0, list(fields))
    if header_row in (None, "auto"):
        try:
            guess = find_header(rows, HEADER_SCAN)
        except HeaderNotFound:
            return None
        if header_rows and header_rows != guess.n_header_rows:
            guess = _explicit_header(rows, guess.header_row_index, header_rows)
        return guess
    index = int(header_row) - 1
    return _explicit_header(rows, index, header_rows or 1) if index < len(rows) else None


def is_be_year_field(spec: Mapping[str, Any]) -> bool:
    """Whether a Table Schema field holds Buddhist Era years: an integer or year field named
    ``year``/``*_year`` or with a minimum from 2400, unless its maximum is below 2400."""
    if spec.get("type") not in ("integer", "year"):
        return False
    limits = spec.get("constraints") or {}
    if isinstance(limits.get("maximum"), int) and limits["maximum"] < 2400:
        return False
    minimum = limits.get("minimum")
    return bool(_YEAR_NAME.search(spec["name"])) or (isinstance(minimum, int) and minimum >= 2400)


@dataclass
class _Plan:
    names: list[str]  # CSV header
    sources: list[int]  # source column index of each CSV column
    columns: dict[str, str]


def _match_key(label: str) -> str:
    # Labels from lossy PDF conversions lose or split off vowels and tone marks (จงหวด,
    # "จงั หวดั"): compare without marks, spaces and case.
    return "".join(strip_thai_marks(normalise_text(label)).split()).casefold()


def _plan(
    labels: list[str], schema: Mapping[str, Any], options: Mapping[str, Any], problems: list
) -> _Plan:
    specs = list(schema.get("fields") or [])
    names = [s["name"] for s in specs]
    rename = {normalise_text(str(k)): v for k, v in (options.get("columns") or {}).items()}
    match: dict[str, str] = {}
    for spec in specs:  # titles first, so that a field's own name wins over another's title
        for title in (spec.get("title"), spec.get("title_en")):
            if isinstance(title, str) and title.strip():
                match[_match_key(title)] = spec["name"]
    match |= {_match_key(n): n for n in names}
    targets: dict[int, str] = {}
    for j, label in enumerate(labels):
        if label not in rename:
            targets[j] = label or f"column_{j + 1}"
        elif rename[label]:
            targets[j] = str(rename[label])
        # else: mapped to null, dropped on purpose
    # Columns the config maps explicitly claim their field before automatic matches do.
    assigned: dict[str, int] = {}
    columns: dict[str, str] = {}
    for j in sorted(targets, key=lambda j: (labels[j] not in rename, j)):
        target = targets[j]
        name = target if target in names else match.get(_match_key(target))
        if name is not None and name not in assigned:
            assigned[name] = j
            columns[labels[j] or target] = name
    used = set(assigned.values())
    extras = []
    if options.get("extra_columns") != "drop":
        extras = [(j, t) for j, t in targets.items() if j not in used]
    taken = set(names)
    out_extras = []
    for j, wanted in extras:
        unique, suffix = wanted, 2
        while unique in taken:
            unique, suffix = f"{wanted}_{suffix}", suffix + 1
        taken.add(unique)
        out_extras.append((j, unique))
        columns[labels[j] or unique] = unique
    for spec in specs if labels else ():
        if spec["name"] not in assigned:
            required = bool((spec.get("constraints") or {}).get("required"))
            problems.append(
                Problem(
                    "missing-column",
                    "error" if required else "warning",
                    f"the file has no column for field {spec['name']!r}; it is left empty",
                    f"ไฟล์ไม่มีคอลัมน์สำหรับ {spec['name']!r} จึงเว้นว่างไว้",
                )
            )
    for label in rename:
        if label not in labels:
            problems.append(
                Problem(
                    "column-not-found",
                    "warning",
                    f"columns maps {label!r}, but the file has no such column",
                    f"ตั้งค่า columns ระบุ {label!r} แต่ไม่พบคอลัมน์นี้ในไฟล์",
                )
            )
    sources = [assigned.get(n, -1) for n in names] + [j for j, _ in out_extras]
    return _Plan(names + [n for _, n in out_extras], sources, columns)


# -- cells ------------------------------------------------------------------------------------


def text_of(value: Any) -> str:
    """How a normalised value is written to the CSV."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def mask_cell(value: str) -> str:
    """A masked column's cell: each ID, phone or e-mail found in it masked; any other text
    reduced to its first character with every other letter or digit as ``x``."""
    if not value:
        return value
    found = scan_rows([{"cell": value}]).findings
    if found:
        return " ".join(f.masked for f in found)
    return value[0] + "".join("x" if ch.isalnum() else ch for ch in value[1:])


class _YearChanges:
    """Report entries, shaped like Normaliser.report(), for BE-year fields: ``ce-year`` (a CE
    year written as BE), ``year-format`` (พ.ศ. or ปีงบประมาณ dropped) and ``thai-digits``."""

    def __init__(self, max_examples: int = 5) -> None:
        self.tallies: dict[tuple[str, str], dict[str, Any]] = {}
        self.max_examples = max_examples

    def be_year(self, column: str, value: Any, row: int) -> Any:
        if value is None or value == "":
            return value
        text = thai_digits_to_arabic(value) if isinstance(value, str) else value
        try:
            year, era = parse_year_era(text)
        except (ThaiValueError, TypeError):
            return value  # left for the validator to report
        result = year + 543
        if text != value:
            self._note(column, "thai-digits", row, value, result)
        if era == "CE":
            self._note(column, "ce-year", row, value, result)
        elif str(text).strip() != str(result):  # e.g. "พ.ศ. 2567" or "ปีงบประมาณ 2567"
            self._note(column, "year-format", row, value, result)
        return result

    def _note(self, column: str, kind: str, row: int, original: Any, new: Any) -> None:
        entry = self.tallies.setdefault(
            (column, kind), {"column": column, "kind": kind, "count": 0, "examples": []}
        )
        entry["count"] += 1
        if len(entry["examples"]) < self.max_examples:
            example = {"row": row, "column": column, "original": text_of(original)}
            entry["examples"].append({**example, "normalised": new})


# -- the pipeline -----------------------------------------------------------------------------


def prepare_table(
    stream: BinaryIO,
    *,
    name: str,
    fmt: str | None,
    table_schema: Mapping[str, Any],
    options: Mapping[str, Any],
    workdir: Path,
    validate: bool = False,
) -> PreparedTable:
    """Write ``stream`` (a CSV, TSV, XLSX or JSON array file) as a normalised UTF-8 CSV in
    ``workdir``, ready for :func:`harvesters.validate.validate_csv`. The stream is read to the
    end and closed.

    :param name: the file name, used in messages and to guess the format.
    :param fmt: ``csv``, ``tsv``, ``xlsx`` or ``json``; None or "" guesses from ``name``.
    :param options: a resource's read options: ``encoding`` (auto, utf-8, cp874, tis-620),
        ``sheet`` (name or 1-based number), ``header_row`` (auto, none or a 1-based row),
        ``header_rows`` (1 or 2), ``columns`` (source label -> field name, or None to drop
        the column), ``extra_columns`` (keep or drop), ``pii`` ({allow: [...], mask: [...]},
        CSV column names), ``json_path`` (dotted path of the array in a JSON document),
        ``max_json_bytes``.
    :param validate: also validate the rows against ``table_schema`` as they are written, when
        the vectorised path can (``checked`` of the result; else None: validate the file).
    :raises HarvestError: when the file cannot be read at all (encoding, corrupt XLSX, bad
        JSON, not an array), naming the file and the row or offset when known.
    """
    from harvesters.fastprepare import can_prepare_fast, try_prepare_fast
    from harvesters.readers import guess_format

    # Delimited text goes through the vectorised path when it can promise the same output;
    # it declines (and rewinds) for anything unusual, and the row-by-row path below runs.
    if can_prepare_fast(guess_format(name, fmt), options):
        done = try_prepare_fast(
            stream,
            name=name,
            fmt=fmt,
            table_schema=table_schema,
            options=options,
            workdir=workdir,
            validate=validate,
        )
        if done is not None:
            stream.close()
            return done
    source = read_table(stream, name=name, fmt=fmt, options=options, workdir=workdir)
    try:
        return _write(source, name, table_schema, options, workdir)
    finally:
        source.close()
        stream.close()


def _header(
    source: TableRows, fields: list[str], options: Mapping[str, Any], problems: list[Problem]
) -> tuple[HeaderGuess | None, Iterator[tuple[int, list[Any]]]]:
    """The header and the data rows below it."""
    if source.labels is not None:
        return HeaderGuess(0, 0, [_label(k) for k in source.labels]), source.rows
    row_no = options.get("header_row")
    scan = HEADER_SCAN + 2 if row_no in (None, "auto", "none") else int(row_no) + 1
    first = list(islice(source.rows, scan))
    header = _find_header([r for _, r in first], row_no, options.get("header_rows"), fields)
    if header is not None:
        return header, chain(first[header.data_start :], source.rows)
    if not first:
        problems.append(Problem("empty-file", "error", "the file is empty", "ไฟล์ว่างเปล่า"))
    else:
        where = f"row {row_no}" if isinstance(row_no, int) else f"the first {HEADER_SCAN} rows"
        where_th = f"แถวที่ {row_no}" if isinstance(row_no, int) else f"{HEADER_SCAN} แถวแรก"
        problems.append(
            Problem(
                "no-header",
                "error",
                f"no header row found in {where}; set header_row in the config",
                f"ไม่พบแถวหัวตารางใน{where_th} กรุณากำหนด header_row ในไฟล์ตั้งค่า",
            )
        )
    return None, iter(())


def _write(
    source: TableRows,
    name: str,
    table_schema: Mapping[str, Any],
    options: Mapping[str, Any],
    workdir: Path,
) -> PreparedTable:
    problems = source.problems
    specs = list(table_schema.get("fields") or [])
    header, data = _header(source, [s["name"] for s in specs], options, problems)
    plan = _plan(header.columns if header else [], table_schema, options, problems)
    years = [s["name"] for s in specs if is_be_year_field(s)]
    types = {
        s["name"]: _NORMALISER_TYPES[s.get("type")]
        for s in specs
        if s.get("type") in _NORMALISER_TYPES and s["name"] not in years
    }
    normaliser = Normaliser(types, keep_original_dates=False)
    year_changes = _YearChanges()
    pii_opts = options.get("pii") or {}
    masked = [c for c in pii_opts.get("mask", ()) if c in plan.names]
    for column in [*pii_opts.get("allow", ()), *pii_opts.get("mask", ())] if header else ():
        if column not in plan.names:
            problems.append(
                Problem(
                    "pii-column-not-found",
                    "warning",
                    f"pii names the column {column!r}, but the table has no such column",
                    f"ตั้งค่า pii ระบุคอลัมน์ {column!r} แต่ไม่พบคอลัมน์นี้ในตาราง",
                )
            )
    masked_cells = dict.fromkeys(masked, 0)
    masked_at = [(plan.names.index(c), c) for c in masked]
    width = len(header.columns) if header else 0
    keep_overflow = options.get("extra_columns") != "drop"
    row_map = array("I")
    totals: list[int] = []
    counts = {"source": 0, "blank": 0}
    handle, out_name = tempfile.mkstemp(prefix=_stem(name) + "-", suffix=".csv", dir=workdir)
    csv_path = Path(out_name)

    def written() -> Iterator[dict[str, Any]]:
        # The PDPA scan pulls rows from here, so one pass reads, writes and scans.
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(plan.names)
            for n, cells in data:
                counts["source"] += 1
                if is_blank_row(cells):
                    counts["blank"] += 1
                    continue
                if _may_be_totals(cells) and is_totals_row(cells):
                    totals.append(n)
                    continue
                cells = ["true" if c is True else "false" if c is False else c for c in cells]
                values = {
                    column: cells[j] if 0 <= j < len(cells) else None
                    for column, j in zip(plan.names, plan.sources, strict=True)
                }
                clean = normaliser.row(values, row=n)
                for column in years:
                    clean[column] = year_changes.be_year(column, clean[column], n)
                texts = [text_of(clean[c]) for c in plan.names]
                for i, column in masked_at:
                    if texts[i]:
                        texts[i] = mask_cell(texts[i])
                        masked_cells[column] += 1
                overflow = [text_of(c) for c in cells[width:]] if keep_overflow else []
                while overflow and not overflow[-1].strip():
                    overflow.pop()
                writer.writerow(texts + overflow)
                row_map.append(n)
                yield clean

    allowed = frozenset(pii_opts.get("allow", ())) | frozenset(masked)
    try:
        pii = scan_rows(written(), allowed=allowed, start=2)
    except BaseException:
        csv_path.unlink(missing_ok=True)
        raise
    pii.findings = [replace(f, row=row_map[f.row - 2]) for f in pii.findings]
    return PreparedTable(
        csv_path=csv_path,
        fields=plan.names,
        rows_written=len(row_map),
        source_rows=counts["source"],
        encoding=source.encoding,
        header=header,
        totals_rows=totals,
        blank_rows=counts["blank"],
        normalisation=normaliser.report() + list(year_changes.tallies.values()),
        pii=pii,
        row_map=row_map,
        problems=problems,
        columns=plan.columns,
        masked_cells=masked_cells,
        sheet=source.sheet,
    )


def _may_be_totals(cells: list[Any]) -> bool:
    # Fast path for is_totals_row, which only looks at cells of up to 60 characters: every
    # totals label (รวม..., ยอดรวม, total, subtotal) contains one of these once spaces and
    # zero-width spaces are gone, even after a lossy PDF conversion (which drops or splits off
    # vowels and tone marks, but keeps the consonants ร ว ม).
    for c in cells:
        if isinstance(c, str) and len(c) <= 60:
            key = c.replace(" ", "").replace("\u200b", "")
            if "รวม" in key or "otal" in key or "OTAL" in key:
                return True
    return False


def _stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(name).stem).strip("-")
    return stem[:40] or "table"
