"""The OpenAPI 3 document of the Action API, generated from the action registry.

Each action becomes ``/api/3/action/<name>``: GET with query parameters (for side-effect-free
actions) and POST with a JSON body, both from the action's marshmallow schema (through
apispec); the 200 response is CKAN's envelope around the JSON schema of the function's
annotated return type (TypedDicts, lists, unions). ``/api/docs`` shows it as a page.
"""

from __future__ import annotations

import re
import types
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, render_template
from markupsafe import Markup, escape

from catalog.services.registry import PERMISSIONS, Action, actions
from schemas.actions import StringList

bp = Blueprint("api_openapi", __name__)
OPENAPI_VERSION = "3.0.3"
_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    Any: {},
}


class _Schemas:
    """JSON schemas of Python types; each TypedDict becomes a named component."""

    def __init__(self, spec: APISpec) -> None:
        self.spec = spec
        self.done: set[str] = set()

    def of(self, hint: Any) -> dict[str, Any]:
        if hint in _SCALARS:
            return dict(_SCALARS[hint])
        if hint is type(None):
            return {"nullable": True}
        if is_typeddict(hint):
            return self._typeddict(hint)
        origin, args = get_origin(hint), get_args(hint)
        if origin in (Union, types.UnionType):
            options = [a for a in args if a is not type(None)]
            schema = (
                self.of(options[0]) if len(options) == 1 else {"anyOf": list(map(self.of, options))}
            )
            if len(options) < len(args):
                schema = {**schema, "nullable": True} if "$ref" not in schema else {
                    "allOf": [schema], "nullable": True
                }  # fmt: skip
            return schema
        if origin in (list, tuple, set, frozenset):
            return {"type": "array", "items": self.of(args[0]) if args else {}}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.of(args[1]) if args else {}}
        if origin is Literal:
            return {"enum": list(args)}
        if hint is dict:
            return {"type": "object"}
        if hint is list:
            return {"type": "array", "items": {}}
        return {}

    def _typeddict(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.done:
            self.done.add(name)
            hints = get_type_hints(cls)
            properties = {key: self.of(value) for key, value in hints.items()}
            schema: dict[str, Any] = {"type": "object", "properties": properties}
            required = sorted(getattr(cls, "__required_keys__", ()))
            if required:
                schema["required"] = required
            doc = (cls.__doc__ or "").strip()
            if doc and not doc.startswith(name + "("):
                schema["description"] = doc
            self.spec.components.schema(name, schema)
        return {"$ref": f"#/components/schemas/{name}"}


def _envelope(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["help", "success", "result"],
        "properties": {
            "help": {"type": "string"},
            "success": {"type": "boolean", "enum": [True]},
            "result": result,
        },
    }


_ERROR = {
    "type": "object",
    "required": ["help", "success", "error"],
    "properties": {
        "help": {"type": "string"},
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["__type"],
            "properties": {"__type": {"type": "string"}, "message": {"type": "string"}},
            "additionalProperties": True,
        },
    },
}
_ERRORS = {
    "400": "The request cannot be read (malformed JSON, a bad search query).",
    "403": "The API token is not valid, or the caller may not call this action.",
    "404": "No such object, or one the caller may not see.",
    "409": "A parameter is missing or invalid: field names with their messages.",
    "429": "Too many requests from this client; wait for Retry-After seconds.",
}


def _operation(spec: APISpec, schemas: _Schemas, found: Action, method: str) -> dict[str, Any]:
    params_name = found.params.__name__
    operation: dict[str, Any] = {
        "operationId": f"{found.name}_{method}",
        "summary": found.summary,
        "description": found.doc + f"\n\nPermission: {PERMISSIONS[found.permission]}",
        "tags": [found.name.split("_", 1)[0]],
        "responses": {
            "200": {
                "description": "The action's result in CKAN's envelope.",
                "content": {
                    "application/json": {"schema": _envelope(schemas.of(found.result_type))}
                },
            },
            **{
                code: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
                for code, text in _ERRORS.items()
            },
        },
    }
    if method == "get":
        operation["parameters"] = [{"in": "query", "schema": found.params}]
    else:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": params_name}},
        }
    return operation


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every registered action (built once per process)."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Khlang Action API (CKAN-compatible)",
        version="3",
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={
            "description": "The CKAN Action API of a Khlang open-data catalogue "
            "(คลังข้อมูลเปิด). Every action answers on /api/action/<name> and "
            "/api/3/action/<name>; CKAN clients such as ckanapi work unchanged.",
        },
        components={
            "securitySchemes": {
                "apiToken": {"type": "apiKey", "in": "header", "name": "Authorization"}
            }
        },
    )
    # Our list field takes a list, a JSON array in a string or "a,b" text: an array of strings.
    plugin.converter.field_mapping[StringList] = ("array", None)
    plugin.converter.add_attribute_function(_string_items)
    schemas = _Schemas(spec)
    for found in actions().values():
        if found.params.__name__ not in spec.components.schemas:
            spec.components.schema(found.params.__name__, schema=found.params)
        operations = {"post": _operation(spec, schemas, found, "post")}
        if found.side_effect_free:
            operations["get"] = _operation(spec, schemas, found, "get")
        spec.path(path=f"/api/3/action/{found.name}", operations=operations)
    return spec.to_dict()


def _string_items(self: Any, field: Any, **kwargs: Any) -> dict[str, Any]:
    return {"items": {"type": "string"}} if isinstance(field, StringList) else {}


@bp.get("/api/openapi.json")
def document() -> Response:
    from web.api.ckan import json_response

    return json_response(openapi_document())


@bp.get("/api/docs")
def docs_page() -> str:
    """A browsable list of the actions, their parameters and results, served by Khlang."""
    return render_template(
        "api/docs.html",
        actions=[(found, found.help_parts()) for found in actions().values()],
        permissions=PERMISSIONS,
    )


_LITERAL = re.compile(r"``(.+?)``")


@bp.app_template_filter("literals")
def literals(text: str) -> Markup:
    """Docstring text as HTML: escaped, with ``literal`` spans shown as code."""
    escaped = str(escape(text))
    return Markup(_LITERAL.sub(r"<code>\1</code>", escaped))


__all__ = ["bp", "openapi_document"]
