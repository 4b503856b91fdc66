"""Every error mapped once: an HTML page, or CKAN's error envelope under /api/.

Services raise typed errors (`NotFound`, `NotAuthorized`, `ValidationFailed`, ...); nothing else
in `web/` catches them. Messages are given in the request's language (Thai or English).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from catalog.services import NotAuthorized, NotFound, ServiceError, ValidationFailed
from catalog.services.errors import SearchQueryError
from catalog.services.registry import UnknownAction
from web.i18n import gettext, lang

#: CKAN's `__type` and HTTP status of each service error.
CKAN_ERRORS: dict[type[ServiceError], tuple[str, int]] = {
    NotFound: ("Not Found Error", 404),
    NotAuthorized: ("Authorization Error", 403),
    ValidationFailed: ("Validation Error", 409),
    SearchQueryError: ("Search Query Error", 400),
}
_PAGE_KEYS = {400: "bad_request", 403: "forbidden", 404: "not_found", 409: "bad_request"}


def wants_envelope() -> bool:
    from web.api import is_api_request

    return is_api_request(request.path)


def _api(body: Any, status: int) -> Response:
    from web.api.ckan import json_response

    return json_response(body, status)


def _api_error(type_: str, status: int, **error: Any) -> Response:
    from web.api.ckan import help_url

    name = request.view_args.get("name", "") if request.view_args else ""
    return _api(
        {
            "help": help_url(name or "help_show"),
            "success": False,
            "error": {"__type": type_, **error},
        },
        status,
    )


def _page(status: int, detail: str = "") -> tuple[str, int]:
    key = _PAGE_KEYS.get(status, "server_error" if status >= 500 else "bad_request")
    return render_template("error.html", status=status, title=gettext(key), detail=detail), status


def service_error(exc: ServiceError) -> Response | tuple[str, int]:
    type_, status = next(
        (v for k, v in CKAN_ERRORS.items() if isinstance(exc, k)), ("Internal Server Error", 500)
    )
    if isinstance(exc, ValidationFailed):
        errors = exc.localised_errors(lang())
        if wants_envelope():
            return _api_error(type_, status, **{str(k): v for k, v in errors.items()})
        return _page(400, "; ".join(f"{k}: {v}" for k, v in errors.items()))
    message = exc.localised(lang())
    if wants_envelope():
        return _api_error(type_, status, message=message)
    return _page(status)


def unknown_action(exc: UnknownAction) -> Response | tuple[str, int]:
    # CKAN answers a bare JSON string here, not an envelope.
    return _api(f"Bad request: {exc.message}", 400)


def http_error(exc: HTTPException) -> Response | tuple[str, int]:
    status = exc.code or 500
    if wants_envelope():
        if status == 400 and exc.description and exc.description.startswith("Bad request"):
            return _api(exc.description, 400)  # CKAN's bare string for malformed requests
        type_ = {404: "Not Found Error", 403: "Authorization Error"}.get(status, exc.name)
        response = _api_error(type_, status, message=exc.description or exc.name)
        for header in ("Allow", "Retry-After"):
            if header in exc.get_headers():
                response.headers[header] = dict(exc.get_headers())[header]
        return response
    page, _ = _page(status)
    return page, status


def init_app(app: Flask) -> None:
    app.register_error_handler(UnknownAction, unknown_action)
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(HTTPException, http_error)

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Response | tuple[str, int]:
        app.logger.exception("unhandled error")
        if wants_envelope():
            return _api_error("Internal Server Error", 500, message="Internal Server Error")
        return _page(500)
