"""The open APIs: CKAN's Action API, the datastore, DCAT, data.json, Data Packages, OpenAPI."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from web.api import ckan, datastore, dcat, openapi

    for module in (ckan, datastore, dcat, openapi):
        app.register_blueprint(module.bp)
    ckan.init_cache(app, app.config["KHLANG"].API_CACHE_MB)


def is_api_request(path: str) -> bool:
    """Whether a path belongs to the CKAN API, whose errors use CKAN's JSON envelope."""
    return path == "/api" or path.startswith("/api/")
