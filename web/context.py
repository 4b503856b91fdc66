"""The request's service context, built once per request: who calls, in which language."""

from __future__ import annotations

from flask import current_app, g, request

from catalog import services
from catalog.services import Catalog, Context


def catalog() -> Catalog:
    """The running catalogue the app was built with."""
    return current_app.extensions["khlang"]


def api_token() -> str | None:
    """The API token of the request: ``Authorization`` (optionally ``Bearer``) or the
    ``X-CKAN-API-Key`` header that CKAN clients such as ckanapi send."""
    raw = request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key") or ""
    raw = raw.strip()
    if raw.lower().startswith("bearer "):
        raw = raw[7:].strip()
    return raw or None


def context() -> Context:
    """The service context of this request (built on first use, then reused)."""
    if "khlang_context" not in g:
        from web.i18n import lang

        cat = catalog()
        user = None
        token = api_token()
        if token:
            user = services.user_for_token(Context(cat, system=True), token)
            if user is None:
                raise services.NotAuthorized("Access denied: the API token is not valid")
        g.khlang_context = Context(
            cat, user=user, lang=lang(), base_url=request.host_url.rstrip("/")
        )
    return g.khlang_context
