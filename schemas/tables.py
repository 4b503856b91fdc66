"""The one module that talks to frictionless: Table Schemas, their checks and validation findings.

Everything else in Khlang calls frictionless only through this module, so a change of
frictionless' API lands here and nowhere else.

Row numbers follow frictionless' convention: the header is row 1, so the first data row is
row 2, and every record of the CSV file counts (blank lines too). A record whose quoted cell
spans several lines is still one row.

Findings are data: compare them on ``(row, field, type)``, never on message strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frictionless
from frictionless import Dialect, Resource, Schema, formats

BUILTIN_SCHEMAS = ("budget", "project_progress", "regulation")
"""Names of the Table Schemas that ship with Khlang (schemas/table_schemas/<name>.json)."""

DEFAULT_LIMIT_ERRORS = 1000
"""frictionless stops validating after this many errors unless told otherwise."""

_SCHEMA_DIR = Path(__file__).resolve().parent / "table_schemas"

CellReader = Callable[[Any], tuple[Any, dict[str, str] | None]]
"""frictionless' own cell reader: raw cell -> (typed value or None, notes or None)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a table, in the same terms as frictionless' report.

    :param row: row number as frictionless counts rows: the header is row 1 and the first
        data row is row 2; header findings are on row 1; None for whole-file findings
        (``source-error``, ``encoding-error``).
    :param field: field name, or None when the finding is not about one field.
    :param type: frictionless' kebab-case error type, e.g. ``type-error``.
    :param message_en: English message for people.
    :param message_th: Thai message for people.
    :param value: the cell text as read ("" for an absent cell), the typed value's text for
        ``unique-error``, the label for label findings, None for row and file findings.
    :param position: 1-based column position, when there is one.
    :param note: frictionless' note, e.g. ``constraint "minimum" is "0"``.
    """

    row: int | None
    field: str | None
    type: str
    message_en: str
    message_th: str
    value: str | None = None
    position: int | None = None
    note: str = ""

    def key(self) -> tuple[int | None, str | None, str]:
        """The ``(row, field, type)`` triple findings are compared on."""
        return (self.row, self.field, self.type)


# Messages --------------------------------------------------------------------------------

_TYPE_NAMES_TH = {
    "integer": "จำนวนเต็ม",
    "number": "ตัวเลข",
    "boolean": "ค่าจริง/เท็จ",
    "date": "วันที่ (รูปแบบ ปปปป-ดด-วว เป็น ค.ศ.)",
    "datetime": "วันเวลา",
    "time": "เวลา",
    "year": "ปี",
    "string": "ข้อความ",
    "string/uri": "ที่อยู่ URI (เช่น https://...)",
    "string/email": "ที่อยู่อีเมล",
}

_CONSTRAINTS_EN = {
    "required": "a value is required",
    "minimum": "must be at least {limit}",
    "maximum": "must be at most {limit}",
    "exclusiveMinimum": "must be greater than {limit}",
    "exclusiveMaximum": "must be less than {limit}",
    "enum": "must be one of {limit}",
    "pattern": "must match the pattern {limit}",
    "minLength": "must be at least {limit} characters long",
    "maxLength": "must be at most {limit} characters long",
}

_CONSTRAINTS_TH = {
    "required": "ต้องมีค่า ห้ามเว้นว่าง",
    "minimum": "ต้องไม่น้อยกว่า {limit}",
    "maximum": "ต้องไม่เกิน {limit}",
    "exclusiveMinimum": "ต้องมากกว่า {limit}",
    "exclusiveMaximum": "ต้องน้อยกว่า {limit}",
    "enum": "ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้ {limit}",
    "pattern": "ต้องตรงกับรูปแบบ {limit}",
    "minLength": "ต้องยาวอย่างน้อย {limit} ตัวอักษร",
    "maxLength": "ต้องยาวไม่เกิน {limit} ตัวอักษร",
}

# One template per error type: (English, Thai). Placeholders: row, field, value, position, note.
MESSAGES: dict[str, tuple[str, str]] = {
    "type-error": (
        'Row {row}, field "{field}": "{value}" is not a valid {type_en}',
        'แถวที่ {row} คอลัมน์ "{field}": ค่า "{value}" ไม่ถูกต้อง ต้องเป็น{type_th}',
    ),
    "constraint-error": (
        'Row {row}, field "{field}": "{value}" breaks a rule: {rule_en}',
        'แถวที่ {row} คอลัมน์ "{field}": ค่า "{value}" ไม่ผ่านเงื่อนไข: {rule_th}',
    ),
    "missing-cell": (
        'Row {row} has no cell for field "{field}" (column {position})',
        'แถวที่ {row} ไม่มีข้อมูลของคอลัมน์ "{field}" (คอลัมน์ที่ {position})',
    ),
    "extra-cell": (
        'Row {row} has an extra cell "{value}" in column {position}, beyond the header',
        'แถวที่ {row} มีข้อมูลเกินมา "{value}" ในคอลัมน์ที่ {position} ซึ่งไม่มีหัวคอลัมน์',
    ),
    "blank-row": (
        "Row {row} is completely blank",
        "แถวที่ {row} เป็นแถวว่างทั้งแถว",
    ),
    "primary-key": (
        "Row {row} breaks the primary key: {note}",
        "แถวที่ {row} มีคีย์หลักซ้ำหรือว่าง: {note_th}",
    ),
    "unique-error": (
        'Row {row}, field "{field}": "{value}" must be unique: {note}',
        'แถวที่ {row} คอลัมน์ "{field}": ค่า "{value}" ต้องไม่ซ้ำกัน: {note_th}',
    ),
    "foreign-key": (
        "Row {row} breaks a foreign key: {note}",
        "แถวที่ {row} อ้างอิงค่าที่ไม่มีอยู่ในตารางอ้างอิง: {note}",
    ),
    "extra-label": (
        'The header has an extra column "{value}" at position {position}',
        'หัวตารางมีคอลัมน์เกิน "{value}" ที่ตำแหน่ง {position}',
    ),
    "missing-label": (
        'The header lacks the column "{field}" (position {position})',
        'หัวตารางขาดคอลัมน์ "{field}" (ตำแหน่งที่ {position})',
    ),
    "blank-label": (
        'The header label at position {position} (field "{field}") is blank',
        'หัวคอลัมน์ที่ตำแหน่ง {position} (คอลัมน์ "{field}") เว้นว่างไว้',
    ),
    "duplicate-label": (
        'The header label "{value}" at position {position} is duplicated: {note}',
        'หัวคอลัมน์ "{value}" ที่ตำแหน่ง {position} ซ้ำกับคอลัมน์อื่น: {note_th}',
    ),
    "incorrect-label": (
        'The header label "{value}" at position {position} should be "{field}"',
        'หัวคอลัมน์ "{value}" ที่ตำแหน่ง {position} ควรเป็น "{field}"',
    ),
    "blank-header": (
        "The header row is blank",
        "แถวหัวตารางว่างเปล่า",
    ),
    "source-error": (
        "The file cannot be read as a table: {note}",
        "ไม่สามารถอ่านไฟล์เป็นตารางได้: {note}",
    ),
    "encoding-error": (
        "The file is not valid UTF-8: {note}",
        "ไฟล์ไม่ได้เข้ารหัสเป็น UTF-8 ที่ถูกต้อง: {note}",
    ),
}
_GENERIC = ("{type} in row {row}: {note}", "พบปัญหา {type} ในแถวที่ {row}: {note}")

_CONSTRAINT_NOTE = re.compile(r'^constraint "(\w+)" is "(.*)"$', re.DOTALL)
_TYPE_NOTE = re.compile(r'^type is "([\w-]+)/([\w-]+)"$')
_POSITION_NOTE = re.compile(r"position \"?([\d, ]+)\"?")


def _note_th(note: str) -> str:
    if note == 'cells composing the primary keys are all "None"':
        return "คอลัมน์ของคีย์หลักว่างทั้งหมด"
    found = _POSITION_NOTE.search(note)
    if found:
        return f"ซ้ำกับแถวหรือตำแหน่งที่ {found.group(1)}"
    return note


def _type_names(note: str) -> tuple[str, str]:
    found = _TYPE_NOTE.match(note)
    if not found:
        return "value", "ค่า"
    ftype, fformat = found.groups()
    full = ftype if fformat == "default" else f"{ftype}/{fformat}"
    en = ftype if fformat == "default" else f"{ftype} ({fformat})"
    return en, _TYPE_NAMES_TH.get(full, _TYPE_NAMES_TH.get(ftype, full))


def _rules(note: str) -> tuple[str, str]:
    found = _CONSTRAINT_NOTE.match(note)
    if not found:
        return note, note
    name, limit = found.groups()
    en = _CONSTRAINTS_EN.get(name, name + " {limit}").format(limit=limit)
    th = _CONSTRAINTS_TH.get(name, name + " {limit}").format(limit=limit)
    return en, th


def make_finding(
    type: str,
    row: int | None,
    field: str | None = None,
    value: str | None = None,
    *,
    position: int | None = None,
    note: str = "",
) -> Finding:
    """Build a :class:`Finding` with its English and Thai messages.

    Both validation engines (frictionless' and :mod:`harvesters.validate`) build findings
    here, so equal facts give equal findings, messages included.
    """
    type_en, type_th = _type_names(note)
    rule_en, rule_th = _rules(note)
    values = {
        "row": row,
        "field": field or "",
        "value": "" if value is None else value,
        "position": position or "",
        "note": note,
        "note_th": _note_th(note),
        "type": type,
        "type_en": type_en,
        "type_th": type_th,
        "rule_en": rule_en,
        "rule_th": rule_th,
    }
    en, th = MESSAGES.get(type, _GENERIC)
    return Finding(
        row=row,
        field=field,
        type=type,
        message_en=en.format(**values),
        message_th=th.format(**values),
        value=value,
        position=position,
        note=note,
    )


# Table Schemas -----------------------------------------------------------------------------


def load_table_schema(name_or_path: str | Path) -> dict[str, Any]:
    """Load a Table Schema descriptor.

    :param name_or_path: a built-in name (see :data:`BUILTIN_SCHEMAS`) or the path of an
        agency's own Table Schema JSON file.
    :raises ValueError: when the name is unknown or the file is not a valid Table Schema.
    """
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_SCHEMAS:
        path = _SCHEMA_DIR / f"{name_or_path}.json"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(BUILTIN_SCHEMAS)
            raise ValueError(f"no Table Schema named or at {name_or_path!r} (built-in: {known})")
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not JSON: {exc}") from exc
    problems = check_table_schema(descriptor)
    if problems:
        raise ValueError(f"{path.name} is not a valid Table Schema: " + "; ".join(problems))
    return descriptor


def check_table_schema(descriptor: Any) -> list[str]:
    """Return frictionless' metadata errors for a Table Schema descriptor (empty when valid).

    Extra keys such as ``title_en`` and ``description_en`` are allowed.
    """
    if not isinstance(descriptor, dict):
        return ["a Table Schema must be a JSON object"]
    report = Schema.validate_descriptor(descriptor)
    return [error.message for error in report.errors]


# Rules for other engines ---------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRules:
    """What frictionless will check for one field, resolved from a Table Schema.

    :param constraints: the field's constraints with their descriptor values, in the order
        frictionless checks them (``unique`` is not here: see :attr:`unique`).
    :param read: frictionless' own cell reader for this field (exact semantics; slow).
    """

    name: str
    type: str
    format: str
    missing_values: tuple[str, ...]
    constraints: tuple[tuple[str, Any], ...]
    unique: bool
    true_values: tuple[str, ...]
    false_values: tuple[str, ...]
    decimal_char: str
    read: CellReader


@dataclass(frozen=True)
class TableRules:
    """A Table Schema resolved the way frictionless reads it."""

    fields: tuple[FieldRules, ...]
    primary_key: tuple[str, ...]
    fields_match: str
    foreign_keys: bool


def _field_rules(field: Any, schema: Schema) -> FieldRules:
    missing = field.missing_values
    if not field.has_defined("missing_values"):
        missing = schema.missing_values
    constraints = tuple(
        (name, field.constraints[name])
        for name in field.supported_constraints
        if field.constraints.get(name) is not None
    )
    return FieldRules(
        name=field.name,
        type=field.type,
        format=field.format,
        missing_values=tuple(missing),
        constraints=constraints,
        unique=bool(field.constraints.get("unique")),
        true_values=tuple(getattr(field, "true_values", ())),
        false_values=tuple(getattr(field, "false_values", ())),
        decimal_char=getattr(field, "decimal_char", "."),
        read=field.create_cell_reader(),
    )


def table_rules(descriptor: dict[str, Any]) -> TableRules:
    """Resolve a Table Schema into the rules frictionless applies to each cell and row."""
    schema = Schema.from_descriptor(descriptor)
    return TableRules(
        fields=tuple(_field_rules(field, schema) for field in schema.fields),
        primary_key=tuple(schema.primary_key),
        fields_match=schema.fields_match,
        foreign_keys=bool(schema.foreign_keys),
    )


def any_field_rules(name: str) -> FieldRules:
    """Rules of the ``any`` field frictionless invents for a header label the schema lacks.

    Such a field is not part of the schema, so the schema's ``missingValues`` do not apply:
    only "" is missing.
    """
    field = frictionless.Field.from_descriptor({"name": name, "type": "any"})
    return _field_rules(field, Schema())


# Validation with frictionless --------------------------------------------------------------


def _csv_dialect() -> Dialect:
    # Pin the dialect: the CSV sniffer can guess ";" or skipinitialspace on Thai text, and
    # frictionless moves the header to a later row when row 1 is narrower or wider than most.
    control = formats.CsvControl(
        delimiter=",",
        quote_char='"',
        double_quote=True,
        escape_char=None,
        skip_initial_space=False,
    )
    return Dialect(header=True, header_rows=[1], controls=[control])


def _finding_from_error(error: Any) -> Finding:
    row = getattr(error, "row_number", None)
    if row is None:
        numbers = getattr(error, "row_numbers", None)
        row = numbers[0] if numbers else None
    field = getattr(error, "field_name", None) or None
    position = getattr(error, "field_number", None)
    if error.type in ("blank-row", "primary-key", "foreign-key"):
        value, position = None, None
    elif hasattr(error, "cell"):
        value = error.cell
    elif hasattr(error, "label"):
        value = error.label
    else:
        value = None
    return make_finding(error.type, row, field, value, position=position, note=error.note)


def frictionless_validate(
    path: str | Path,
    schema: dict[str, Any],
    *,
    limit_errors: int | None = None,
) -> list[Finding]:
    """Validate a UTF-8 CSV file with frictionless' own ``validate`` and return its findings.

    The CSV dialect is pinned to RFC 4180 (comma, double quote) with the header on row 1,
    and the encoding to UTF-8 (a BOM is allowed), as the harvester writes normalised files
    that way; frictionless would otherwise guess them from the first rows.

    :param limit_errors: stop after this many findings, as frictionless does (it defaults to
        :data:`DEFAULT_LIMIT_ERRORS`); None lifts the limit.
    """
    path = Path(path)
    # frictionless refuses absolute paths unless they sit under its basepath.
    resource = Resource(
        path=path.name,
        basepath=str(path.resolve().parent),
        format="csv",
        encoding="utf-8",
        dialect=_csv_dialect(),
        schema=Schema.from_descriptor(schema),
    )
    report = resource.validate(limit_errors=limit_errors or 0)
    findings = [_finding_from_error(error) for task in report.tasks for error in task.errors]
    # frictionless prints an absent cell as "None" in the required-constraint error that goes
    # with its missing-cell error; say "" like the missing-cell error does.
    absent = {(f.row, f.field) for f in findings if f.type == "missing-cell"}
    return [
        make_finding(f.type, f.row, f.field, "", position=f.position, note=f.note)
        if f.type == "constraint-error" and (f.row, f.field) in absent
        else f
        for f in findings
    ]
