"""Parameters of the datastore actions (datastore_search, datastore_info), as marshmallow
schemas that read CKAN's wire forms: JSON values, or strings from a query string (``filters``
as a JSON object, ``fields`` as ``"a,b"``, ``include_total`` as ``"false"``)."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, pre_load, validate
from marshmallow import fields as m

#: Values a filter may hold: what JSON and a query string can carry.
_SCALARS = (str, int, float, bool, type(None))


def _json_object(value: Any, name: str) -> Any:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            raise ValidationError(f"{name} is not valid JSON") from None
    return value


class Filters(m.Field):
    """``{field: value}`` or ``{field: [values]}``, or the same as a JSON string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        value = _json_object(value, "filters")
        if not isinstance(value, dict):
            raise ValidationError("filters must be a JSON object of field: value")
        for key, item in value.items():
            items = item if isinstance(item, list) else [item]
            if not all(isinstance(v, _SCALARS) for v in items):
                raise ValidationError(
                    f'field "{key}": a filter value must be a string, a number, true, false or null'
                )
        return {str(k): v for k, v in value.items()}


class Query(m.Field):
    """Words (a string), or ``{field: words}`` (an object or its JSON)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        value = _json_object(value, "q")
        if isinstance(value, dict):
            if not all(isinstance(v, (str, int, float)) for v in value.values()):
                raise ValidationError("q must map fields to words")
            return {str(k): str(v) for k, v in value.items()}
        if not isinstance(value, str):
            raise ValidationError("q must be a string or an object of field: words")
        return value


class NameList(m.Field):
    """A list of strings, or one comma-separated string (``"a, b"``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError("must be a list of names or a comma-separated string")
        return [v.strip() for v in value if v.strip()]


class DatastoreSearchParams(Schema):
    resource_id = m.String(required=True, validate=validate.Length(min=1, max=100))
    filters = Filters(load_default=None)
    q = Query(load_default=None)
    fields = NameList(load_default=None)
    sort = NameList(load_default=None)
    limit = m.Integer(load_default=100, validate=validate.Range(min=0))
    offset = m.Integer(load_default=0, validate=validate.Range(min=0))
    distinct = m.Boolean(load_default=False)
    include_total = m.Boolean(load_default=True)
    records_format = m.String(
        load_default="objects", validate=validate.OneOf(["objects", "lists", "csv", "tsv"])
    )

    @pre_load
    def _id_alias(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # CKAN accepts `id` for the resource too.
        if "resource_id" not in data and "id" in data:
            data = {**data, "resource_id": data["id"]}
        return data


class DatastoreInfoParams(Schema):
    id = m.String(required=True, validate=validate.Length(min=1, max=100))

    @pre_load
    def _resource_id_alias(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "id" not in data and "resource_id" in data:
            data = {**data, "id": data["resource_id"]}
        return data
