"""The Flask application: `create_app` only wires settings, catalogue, blueprints and errors.

`khlang serve` (catalog/cli/server.py) calls it once in each server process.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, request

from catalog.services import Catalog
from catalog.settings import Settings, load_settings, read_secret_key


def create_app(settings: Settings | None = None, catalog: Catalog | None = None) -> Flask:
    """Build the web application for `settings` (read from the environment when omitted).

    :raises SettingsError: without SECRET_KEY or the DATA_DIR/secret_key that `khlang init` writes.
    """
    settings = settings or load_settings()
    secret_key = read_secret_key(settings)
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(
        KHLANG=settings,
        SECRET_KEY=secret_key,
        MAX_CONTENT_LENGTH=settings.MAX_UPLOAD_MB * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # Thai stays readable in JSON responses
    app.extensions["khlang"] = catalog or Catalog.open(settings)

    from web import api, browse, errors, http, ratelimit

    # First, as Flask runs after_request hooks last-registered first: compression must see the
    # response every other hook has finished.
    http.init_compression(app)
    http.init_proxies(app, settings)
    ratelimit.init_app(app, settings)
    http.init_cors(app)
    app.register_blueprint(browse.bp)
    api.init_app(app)
    app.context_processor(browse.template_globals)
    errors.init_app(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.args.get("lang") in ("th", "en"):
            response.set_cookie("lang", request.args["lang"], samesite="Lax", max_age=31536000)
        return response

    return app
