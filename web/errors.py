"""Service errors mapped once to HTML pages (the APIs map them to their own envelopes)."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from catalog.services import NotAuthorized, NotFound, ValidationFailed
from web.i18n import gettext


def _page(status: int, key: str, detail: str = "") -> tuple[str, int]:
    return render_template("error.html", status=status, title=gettext(key), detail=detail), status


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> tuple[str, int]:
        return _page(404, "not_found")

    @app.errorhandler(NotAuthorized)
    def not_authorized(exc: NotAuthorized) -> tuple[str, int]:
        return _page(403, "forbidden")

    @app.errorhandler(ValidationFailed)
    def invalid(exc: ValidationFailed) -> tuple[str, int]:
        return _page(400, "bad_request", "; ".join(exc.errors))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        key = {404: "not_found", 403: "forbidden"}.get(exc.code or 500, "bad_request")
        return _page(exc.code or 500, key)

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> tuple[str, int]:
        app.logger.exception("unhandled error")
        return _page(500, "server_error")
