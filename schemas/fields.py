"""Field types of the metadata profile: Thai-aware text, dates, BE years, tags, choices."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from schemas import messages as msg
from schemas import vocab

SLUG_RE = r"^[a-z0-9][a-z0-9_-]{1,99}\Z"
ORG_REF_RE = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,99}\Z"
TAG_RE = re.compile(r"[ก-๙\w \-.]+")
FORMAT_RE = r"^[A-Z0-9][A-Z0-9+._/ -]{0,39}\Z"
MIMETYPE_RE = r"^[\w.+-]+/[\w.+-]+(\s*;.*)?\Z"
LANGUAGE_RE = r"^[a-z]{2,3}(-[a-z0-9]{2,8})?\Z"
MAX_TAG_LENGTH = 100
MAX_TAGS = 50
MAX_GROUPS = 100
MAX_RESOURCES = 1000
MAX_TABLE_FIELDS = 1000
MAX_DATE_LENGTH = 40
SHORT, LONG, MARKDOWN = 500, 2000, 20000
BE_MIN, BE_MAX = 2400, 2700


def _too_many(limit: int) -> str:
    return validate.Length.message_max.format(max=limit)


def clean_line(value: str) -> str:
    """One-line text: NFC, SARA AM repaired, zero-width characters dropped, spaces collapsed."""
    from schemas.thai import normalise_text

    return normalise_text(value)


def clean_block(value: str) -> str:
    """Multi-line text (markdown): like `clean_line` but keeps line breaks and inner spacing."""
    import unicodedata

    from schemas.thai import remove_zero_width, repair_sara_am

    return repair_sara_am(remove_zero_width(unicodedata.normalize("NFC", value))).strip()


def is_empty(value: Any) -> bool:
    """Whether a submitted value means "not given"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, (list, tuple, dict)) and not value


def drop_empty(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` without the keys whose value is empty."""
    return {key: value for key, value in data.items() if not is_empty(value)}


class Text(fields.String):
    """A cleaned string with a maximum length; `multiline=True` keeps line breaks."""

    def __init__(self, max_length: int, *, multiline: bool = False, **kwargs: Any) -> None:
        extra = kwargs.pop("validate", None) or []
        extra = list(extra) if isinstance(extra, (list, tuple)) else [extra]
        super().__init__(validate=[validate.Length(max=max_length), *extra], **kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return clean_block(text) if self.multiline else clean_line(text)


def slug_field(**kwargs: Any) -> Text:
    """A CKAN name: 2-100 lower-case ASCII letters, digits, - and _."""
    # The pattern limits the length itself, so a long name gets one message, not two.
    return Text(1000, validate=validate.Regexp(SLUG_RE, error=msg.SLUG), **kwargs)


def choice_field(choices: tuple[Any, ...], **kwargs: Any) -> Text:
    """One value of a controlled list."""
    return Text(SHORT, validate=validate.OneOf(vocab.values(choices)), **kwargs)


def url_field(max_length: int = 1000, **kwargs: Any) -> Text:
    """An absolute http(s) URL."""
    check = validate.URL(schemes={"http", "https"})
    return Text(max_length, validate=check, **kwargs)


def email_field(**kwargs: Any) -> Text:
    """An e-mail address."""
    return Text(254, validate=validate.Email(), **kwargs)


class Flag(fields.Boolean):
    """A boolean; also reads CKAN's "True"/"False" and the Thai labels of the GDC form."""

    truthy = fields.Boolean.truthy | {"ใช่", "ยินยอม"}
    falsy = fields.Boolean.falsy | {"ไม่ใช่", "ไม่ยินยอม"}


class ThaiDate(fields.Field):
    """A date; BE or CE, ISO or Thai forms, Thai digits; loads as a CE `datetime.date`."""

    default_error_messages = {"invalid": "Not a valid date."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        import datetime

        from schemas.thai import ThaiDateError, parse_thai_date

        # The parser quotes its input in its messages; a long input is not a date anyway.
        if not isinstance(value, (str, datetime.date)) or len(str(value)) > MAX_DATE_LENGTH:
            raise self.make_error("invalid")
        try:
            return parse_thai_date(value)
        except ThaiDateError as error:
            raise ValidationError(msg.Bilingual(error.message_en, error.message_th)) from error


class BEYear(fields.Field):
    """A year stored in the Buddhist Era (2567); a CE year (2024) is converted."""

    default_error_messages = {"invalid": msg.YEAR}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        from schemas.thai import parse_be_year

        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.make_error("invalid")
        try:
            year = parse_be_year(value) + 543
        except ValueError as error:
            raise self.make_error("invalid") from error
        if not BE_MIN <= year <= BE_MAX:
            raise self.make_error("invalid")
        return year


class BoundedList(fields.List):
    """A list with at most `max_items` items, counted before any item is read.

    `scalar=True` also reads a single value or a JSON-encoded list string (CKAN scheming stores
    multiple-choice fields as '["a","b"]'); `unique=True` drops repeated items.
    """

    def __init__(
        self, inner: Any, *, max_items: int, scalar: bool = False, unique: bool = False, **kw: Any
    ) -> None:
        super().__init__(inner, **kw)
        self.max_items, self.scalar, self.unique = max_items, scalar, unique

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if self.scalar and isinstance(value, str):
            value = _json_list(value)
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if len(value) > self.max_items:
            raise ValidationError(_too_many(self.max_items))
        items = super()._deserialize(value, attr, data, **kwargs)
        if self.unique:
            items = list(dict.fromkeys(items))
        return items


def _json_list(value: str) -> Any:
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return [text]


def multi_choice(choices: tuple[Any, ...], **kwargs: Any) -> BoundedList:
    """A list of values of a controlled list (GDC multiple choice)."""
    return BoundedList(
        choice_field(choices), max_items=len(choices), scalar=True, unique=True, **kwargs
    )


def _name_of(item: Any) -> Any:
    # CKAN sends tags and groups as [{"name": ...}] and package_show adds id, display_name...
    if isinstance(item, Mapping):
        return item.get("name") or item.get("id")
    return item


class Tags(fields.Field):
    """Keywords: a list of strings, CKAN's [{"name": ...}] or a "a,b,c" tag_string."""

    default_error_messages = {"invalid": "Not a valid list.", "required": msg.TAGS_REQUIRED}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)):
            raise self.make_error("invalid")
        if len(value) > MAX_TAGS:
            raise ValidationError(_too_many(MAX_TAGS))
        tags: list[str] = []
        errors: dict[int, list[str]] = {}
        for index, item in enumerate(value):
            name = _name_of(item)
            if not isinstance(name, str):
                errors[index] = ["Not a valid string."]
                continue
            tag = clean_line(name)
            if not tag:
                continue  # "a,,b" and trailing commas
            if len(tag) > MAX_TAG_LENGTH:
                errors[index] = [_too_many(MAX_TAG_LENGTH)]
            elif not TAG_RE.fullmatch(tag):
                errors[index] = [msg.TAG_CHARS]
            elif tag not in tags:
                tags.append(tag)
        if errors:
            raise ValidationError(errors)
        if not tags:
            raise ValidationError(msg.TAGS_REQUIRED)
        return tags


class Names(BoundedList):
    """A list of CKAN names (groups), also as [{"name": ...}] dicts."""

    def __init__(self, max_items: int, **kwargs: Any) -> None:
        super().__init__(slug_field(), max_items=max_items, unique=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, (list, tuple)):
            value = [_name_of(item) for item in value]
        return super()._deserialize(value, attr, data, **kwargs)


class LicenseId(Text):
    """A licence id of `vocab.LICENSES`; GDC titles such as "Open Data Common" are mapped."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(200, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        found = vocab.find_license(text)
        if found is None:
            ids = ", ".join(vocab.values(vocab.LICENSES))
            raise ValidationError(validate.OneOf.default_message.format(choices=ids))
        return found.id


class Spatial(Text):
    """A place name, or a GeoJSON object (kept as its text)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(100_000, multiline=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, Mapping):
            value = json.dumps(value, ensure_ascii=False)
        text = super()._deserialize(value, attr, data, **kwargs)
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
                raise ValidationError(msg.GEOJSON)
        return text


class TableSchema(fields.Field):
    """A frictionless Table Schema: a dict (or its JSON text) with named `fields`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ValidationError(msg.TABLE_SCHEMA) from error
        if not isinstance(value, Mapping):
            raise ValidationError(msg.TABLE_SCHEMA)
        columns = value.get("fields")
        if not isinstance(columns, list) or not all(
            isinstance(c, Mapping) and isinstance(c.get("name"), str) and c["name"] for c in columns
        ):
            raise ValidationError(msg.TABLE_SCHEMA)
        if len(columns) > MAX_TABLE_FIELDS:
            raise ValidationError(_too_many(MAX_TABLE_FIELDS))
        return dict(value)


class Format(Text):
    """A resource format name, upper-cased (".csv" -> "CSV")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(40, validate=validate.Regexp(FORMAT_RE, error=msg.FORMAT), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = fields.String._deserialize(self, value, attr, data, **kwargs)
        return clean_line(text).lstrip(".").upper()


class ProfileSchema(Schema):
    """Base of the profile schemas: a misspelt field is an error, and empty values (None, "",
    []) count as not given, as CKAN forms send "" for every untouched input."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _drop_empty(self, data: Any, **kwargs: Any) -> Any:
        return drop_empty(data) if isinstance(data, Mapping) else data
