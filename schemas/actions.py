"""Parameters of the public actions, as marshmallow schemas (pure: no database, no Flask).

Each schema reads what a CKAN client sends (JSON values, or strings from a query string or a
form) and loads it into the keyword arguments of the service function registered with it.
CKAN's wire names that are not Python names (``facet.field``) use ``data_key``; CKAN's Solr
syntax for filters (``fq``) and sorts is translated here into Khlang's search filters.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

#: CKAN's cap on rows per search page (``ckan.search.rows_max``).
ROWS_MAX = 1000
#: The largest offset or count accepted: databases store 64-bit integers, and no catalogue
#: comes near this, so anything larger is a mistake answered with a field error.
BIG = 2**31 - 1
#: A count or an offset: 0 .. BIG.
COUNT = validate.Range(min=0, max=BIG)

#: Filter names a client may use in ``fq`` (CKAN's, the GD Catalog's) → Khlang's filter names.
FQ_FIELDS: dict[str, str] = {
    "organization": "organization",
    "tags": "tags",
    "res_format": "res_format",
    "groups": "groups",
    "license_id": "license_id",
    "fiscal_year": "fiscal_year",
    "data_type": "data_type",
    "data_category": "data_category",
    "update_frequency_unit": "update_frequency",
    "update_frequency": "update_frequency",
    "high_value_dataset": "high_value",
    "high_value": "high_value",
}
#: Terms CKAN clients add that hold for every dataset Khlang would return anyway.
FQ_IGNORED = {
    ("capacity", "public"),
    ("state", "active"),
    ("dataset_type", "dataset"),
    ("type", "dataset"),
    ("+dataset_type", "dataset"),
}
FQ_RANGES = {"metadata_modified"}

#: CKAN sort clauses (their first clause decides) → Khlang's sort names.
SORTS: dict[str, str] = {
    "score desc": "relevance",
    "rank desc": "relevance",
    "relevance": "relevance",
    "metadata_modified desc": "modified",
    "modified": "modified",
    "metadata_modified asc": "modified_asc",
    "modified_asc": "modified_asc",
    "metadata_created desc": "newest",
    "newest": "newest",
    "name asc": "name",
    "name": "name",
    "title_string asc": "title_th",
    "title_th": "title_th",
    "title_en": "title_en",
    "views_recent desc": "popularity",
    "views_total desc": "popularity",
    "popularity": "popularity",
}

_FQ_TERM = re.compile(
    r"""\s*(?P<sign>[+-]?)(?P<field>[A-Za-z_][\w.]*):
        (?:"(?P<quoted>(?:[^"\\]|\\.)*)"
          |\((?P<group>[^)]*)\)
          |\[(?P<lo>\S+)\s+TO\s+(?P<hi>\S+)\]
          |(?P<bare>[^\s()"\[\]]+))""",
    re.VERBOSE,
)
_GROUP_VALUE = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s"]+)')


class StringList(fields.Field):
    """A list of strings given as a list, a JSON array in a string, or "a,b" text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise ValidationError("Not a valid JSON list.") from None
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise ValidationError("Not a valid list of strings.")
        return [str(v) for v in value]


def _solr_time(text: str, bound: str) -> datetime | None:
    if text in ("*", "NOW"):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{bound} bound {text!r} is not an ISO date-time, * or NOW."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_fq(fq: str) -> tuple[dict[str, list[str]], datetime | None, datetime | None]:
    """CKAN's ``fq`` (Solr filter syntax, the forms CKAN's UI and harvesters send) as
    (filters, modified_since, modified_until).

    Accepted: ``field:value``, ``field:"quoted value"``, ``field:(a OR "b c")``,
    ``metadata_modified:[2024-01-01T00:00:00Z TO *]``, terms joined by spaces or ``AND``.

    :raises ValidationError: a term this parser does not understand, or an unknown field.
    """
    filters: dict[str, list[str]] = {}
    since = until = None
    rest = fq.strip()
    while rest:
        if rest.startswith("AND ") or rest.startswith("&& "):
            rest = rest.split(" ", 1)[1].lstrip()
            continue
        match = _FQ_TERM.match(rest)
        if match is None:
            raise ValidationError(f"Cannot read the filter near {rest[:40]!r}.")
        rest = rest[match.end() :].lstrip()
        if match["sign"] == "-":
            raise ValidationError("Excluding filters (-field:value) are not supported.")
        field = match["field"]
        if field in FQ_RANGES:
            if match["lo"] is None:
                raise ValidationError(f"{field} takes a range: [from TO to].")
            since = _solr_time(match["lo"], "The lower")
            until = _solr_time(match["hi"], "The upper")
            continue
        if match["lo"] is not None:
            raise ValidationError(f"{field} does not take a range.")
        if match["group"] is not None:
            values = [
                (q or b).replace('\\"', '"')
                for q, b in _GROUP_VALUE.findall(match["group"])
                if (q or b) not in ("OR", "||")
            ]
        else:
            raw = match["quoted"] if match["quoted"] is not None else match["bare"]
            values = [raw.replace('\\"', '"')]
        if (field, values[0] if values else "") in FQ_IGNORED:
            continue
        name = FQ_FIELDS.get(field)
        if name is None:
            known = ", ".join(sorted(FQ_FIELDS) + sorted(FQ_RANGES))
            raise ValidationError(f"Unknown filter field {field!r}; use one of: {known}.")
        filters.setdefault(name, []).extend(values)
    return filters, since, until


def parse_sort(text: str) -> str:
    """CKAN's sort string (``"metadata_modified desc, name asc"``) as a Khlang sort name."""
    first = " ".join(text.strip().lower().split(",")[0].split())
    if not first:
        return "relevance"
    if first not in SORTS:
        raise ValidationError(
            f"Cannot sort by {text!r}; use one of: " + ", ".join(k for k in SORTS if " " in k)
        )
    return SORTS[first]


class NoParams(Schema):
    """An action without parameters."""


class HelpShowParams(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class IdParams(Schema):
    """The id or name of one object (CKAN also accepts ``name_or_id``)."""

    id = fields.String(validate=validate.Length(min=1, max=200))
    name_or_id = fields.String(load_only=True)

    @pre_load
    def _name_or_id(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data = dict(data)
        if not data.get("id") and data.get("name_or_id"):
            data["id"] = data["name_or_id"]
        if not data.get("id"):
            raise ValidationError("Missing value", "id")
        data.pop("name_or_id", None)
        return data


class PageParams(Schema):
    limit = fields.Integer(load_default=None, allow_none=True, validate=COUNT)
    offset = fields.Integer(load_default=0, validate=COUNT)


class CurrentPackageListParams(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=0, max=ROWS_MAX))
    offset = fields.Integer(load_default=0, validate=COUNT)
    page = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 2**20))

    @post_load
    def _page(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        page = data.pop("page")
        if page is not None:  # CKAN: page counts from 1 in steps of limit
            data["offset"] = (page - 1) * data["limit"]
        return data


class PackageSearchParams(Schema):
    """CKAN's package_search parameters, loaded as Khlang's search arguments."""

    q = fields.String(load_default="")
    fq = fields.String(load_default="")
    fq_list = StringList(load_default=list)
    facet = fields.Boolean(load_default=True)
    facet_field = StringList(data_key="facet.field", load_default=list)
    facet_limit = fields.Integer(
        data_key="facet.limit", load_default=50, validate=validate.Range(min=-1, max=BIG)
    )
    facet_mincount = fields.Integer(
        data_key="facet.mincount", load_default=1, validate=validate.Range(min=0)
    )
    rows = fields.Integer(load_default=10, validate=COUNT)
    start = fields.Integer(load_default=0, validate=COUNT)
    sort = fields.String(load_default="score desc, metadata_modified desc")
    include_private = fields.Boolean(load_default=False)
    include_drafts = fields.Boolean(load_default=False)

    @post_load
    def _to_search(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        q = data["q"].strip()
        filters: dict[str, list[str]] = {}
        since = until = None
        for text in [data["fq"], *data["fq_list"]]:
            try:
                more, lo, hi = parse_fq(text)
            except ValidationError as exc:
                raise ValidationError(exc.messages, "fq") from None
            for key, values in more.items():
                filters.setdefault(key, []).extend(values)
            since, until = lo or since, hi or until
        if q in ("*:*", "*"):
            q = ""
        try:
            sort = parse_sort(data["sort"])
        except ValidationError as exc:
            raise ValidationError(exc.messages, "sort") from None
        facet_limit = data["facet_limit"]
        return {
            "q": q,
            "filters": filters,
            "modified_since": since,
            "modified_until": until,
            "facet_fields": data["facet_field"] if data["facet"] else [],
            "facet_limit": facet_limit if facet_limit >= 0 else 10_000,
            "facet_mincount": data["facet_mincount"],
            "rows": min(data["rows"], ROWS_MAX),
            "start": data["start"],
            "sort": sort,
            "include_private": data["include_private"],
            "include_drafts": data["include_drafts"],
        }


class GroupListParams(Schema):
    """organization_list / group_list."""

    all_fields = fields.Boolean(load_default=False)
    sort = fields.String(
        load_default="title asc",
        validate=validate.OneOf(
            ["title asc", "title desc", "name asc", "name desc", "package_count desc",
             "package_count asc", "title", "name", "package_count"]
        ),
    )  # fmt: skip
    limit = fields.Integer(load_default=None, allow_none=True, validate=COUNT)
    offset = fields.Integer(load_default=0, validate=COUNT)
    q = fields.String(load_default="")
    names = StringList(load_default=list, metadata={"wire": ("organizations", "groups")})
    include_dataset_count = fields.Boolean(load_default=True)

    @pre_load
    def _names(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data = dict(data)
        for key in ("organizations", "groups"):
            if key in data:
                data["names"] = data.pop(key)
        return data


class GroupShowParams(IdParams):
    """organization_show / group_show."""

    include_datasets = fields.Boolean(load_default=False)
    include_dataset_count = fields.Boolean(load_default=True)


class TagListParams(Schema):
    query = fields.String(load_default="")
    vocabulary_id = fields.String(load_default=None, allow_none=True)
    all_fields = fields.Boolean(load_default=False)

    @pre_load
    def _q(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data = dict(data)
        if "q" in data and "query" not in data:
            data["query"] = data.pop("q")
        data.pop("q", None)
        return data


class ActivityListParams(IdParams):
    offset = fields.Integer(load_default=0, validate=COUNT)
    limit = fields.Integer(load_default=31, validate=validate.Range(min=1, max=100))
