"""CKAN's Action API, served from the action registry: ``/api/3/action/<name>``.

Request parsing and envelopes follow CKAN's own views (../shared/reference/ckan-action-api.md):
a JSON body, form fields or (for side-effect-free actions) query parameters; the result in
``{help, success, result}``. Errors become CKAN's error envelope in `web.errors`.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from catalog.services.registry import get_action
from catalog.services.site import catalogue_changes
from web.api.cache import Answer, ResponseCache
from web.context import context

bp = Blueprint("api_ckan", __name__)
API_VERSION = 3
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,3}$")


def help_url(name: str) -> str:
    """The help link of an action, on the host the request came to."""
    return f"{request.host_url}api/3/action/help_show?name={name}"


def json_response(body: Any, status: int = 200, callback: str | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if callback:
        # JSONP for old browser clients; the callback name is checked, never echoed raw.
        return Response(f"{callback}({text});", status, mimetype="application/javascript")
    return Response(text, status, mimetype="application/json")


def envelope(name: str, result: Any) -> dict[str, Any]:
    return {"help": help_url(name), "success": True, "result": result}


def _multi(data: MultiDict[str, str]) -> dict[str, Any]:
    # Repeated keys become lists, as CKAN reads them.
    return {k: (v[0] if len(v) == 1 else v) for k, v in data.lists()}


def request_data(side_effect_free: bool) -> dict[str, Any]:
    """The action's parameters from a JSON body, form fields or the query string."""
    if request.method == "POST":
        body = request.get_data(cache=True)
        if request.form:
            return _multi(request.form)
        if body.strip():
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadRequest(f"Bad request: JSON Error: {exc}") from None
            if not isinstance(data, dict):
                raise BadRequest("Bad request: JSON Error: Request data JSON decoded to a non-dict")
            return data
        return _multi(request.args) if side_effect_free else {}
    if not side_effect_free:
        raise BadRequest(
            "Bad request: JSON Error: Invalid request. Please use POST method for your request"
        )
    args = _multi(request.args)
    args.pop("callback", None)
    args.pop("_", None)  # jQuery's cache buster
    return args


@bp.route("/api", methods=["GET"])
@bp.route("/api/<int:version>", methods=["GET"])
def api_version(version: int = API_VERSION) -> Response:
    return json_response({"version": API_VERSION})


@bp.route("/api/action/<name>", methods=["GET", "POST"])
@bp.route("/api/<int:version>/action/<name>", methods=["GET", "POST"])
def call(name: str, version: int = API_VERSION) -> Response:
    found = get_action(name)
    data = request_data(found.side_effect_free)
    callback = request.args.get("callback") if request.method == "GET" else None
    if callback and not _CALLBACK.match(callback):
        raise BadRequest("Bad request: callback is not a valid JavaScript function name")
    ctx = context()
    if callback:  # JSONP runs in any page's context: answer as an anonymous visitor
        ctx = replace(ctx, user=None)
    cache: ResponseCache | None = current_app.extensions.get("khlang_api_cache")
    key = changes = None
    if cache is not None and found.side_effect_free and ctx.user is None and not callback:
        key = cache.key(name, data, ctx.lang, ctx.site_url)
        changes = catalogue_changes(ctx)
        answer = cache.get(key, changes)
        if answer is not None:
            return _answer(Response(answer.body, mimetype="application/json"), answer)
    result = found.call(ctx, data)
    response = json_response(envelope(name, result), callback=callback)
    if not found.side_effect_free:
        return response
    # Readers that poll (harvesters, dashboards) get a 304 when nothing changed.
    response.add_etag()
    modified = None
    if isinstance(result, dict) and isinstance(result.get("metadata_modified"), str):
        modified = datetime.fromisoformat(result["metadata_modified"])
    answer = Answer(changes or 0, response.get_data(), response.get_etag()[0] or "", modified)
    if key is not None and changes is not None:
        cache.put(key, answer)  # type: ignore[union-attr]
    return _answer(response, answer)


def _answer(response: Response, answer: Answer) -> Response:
    response.set_etag(answer.etag)
    if answer.last_modified is not None:
        response.last_modified = answer.last_modified
    if request.method == "GET":
        response.make_conditional(request)
    return response


def init_cache(app: Flask, megabytes: int) -> None:
    """Keep anonymous read answers in this process (see web/api/cache.py); 0: no cache."""
    if megabytes:
        app.extensions["khlang_api_cache"] = ResponseCache(megabytes * 1024 * 1024)
