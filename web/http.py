"""HTTP manners shared by every response: compression, CORS on the open read APIs, proxies.

ETags and Last-Modified belong to the views that know their documents (werkzeug's `set_etag`
and `make_conditional`); this module only makes sure compression keeps them answering 304s.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_compress import Compress
from werkzeug.middleware.proxy_fix import ProxyFix

from catalog.settings import Settings

#: Text formats worth compressing. Parquet, XLSX, ZIP and images are compressed already and
#: are left alone by not being listed.
COMPRESSIBLE = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/tab-separated-values",
    "text/xml",
    "text/javascript",
    "text/turtle",
    "text/n3",
    "application/javascript",
    "application/json",
    "application/ld+json",
    "application/geo+json",
    "application/schema+json",
    "application/x-ndjson",
    "application/xml",
    "application/rdf+xml",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/yaml",
    "application/vnd.oai.openapi+json",
    "image/svg+xml",
]

#: Documents anyone may read from a script on another site: the APIs, the DCAT catalogue and
#: dataset documents, data.json, Data Packages and datastore dumps.
READ_PATHS = re.compile(
    r"^/(?:api(?:/.*)?"
    r"|catalog\.[A-Za-z0-9]+"
    r"|data\.json"
    r"|dataset/[^/]+\.(?:ttl|jsonld|rdf|xml|nt|n3)"
    r"|dataset/[^/]+/datapackage\.json"
    r"|datastore/dump/.+)$"
)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: Response headers a cross-origin script may read besides the CORS-safelisted ones.
_EXPOSED = "ETag, Retry-After, Content-Disposition, Link"
#: Request headers a cross-origin script may send on a read (conditional requests, a token).
_ALLOWED_REQUEST_HEADERS = "Authorization, If-None-Match, If-Modified-Since, Range"


def init_compression(app: Flask) -> Compress:
    """Compress text responses (gzip or Brotli as the client asks), streams included.

    Register this before every other after_request hook: Flask runs them in reverse order, so
    compression then sees the finished response.
    """
    app.config.update(
        COMPRESS_REGISTER=False,  # our hook below decides, then hands over to flask-compress
        COMPRESS_MIMETYPES=COMPRESSIBLE,
        # gzip first: every client, proxy and cache understands it, and it is cheap per request.
        COMPRESS_ALGORITHM=["gzip", "br", "deflate"],
        # Streamed responses (downloads, dumps) are compressed chunk by chunk and keep streaming.
        COMPRESS_STREAMS=True,
        COMPRESS_ALGORITHM_STREAMING=["gzip", "deflate"],
    )
    compress = Compress()
    compress.init_app(app)

    @app.after_request
    def compress_response(response: Response) -> Response:
        if response.status_code == 206 or "Content-Range" in response.headers:
            # A byte range counts bytes of the stored file; compressing it would corrupt it.
            return response
        already = "Content-Encoding" in response.headers
        response = compress.after_request(response)
        if already or "Content-Encoding" not in response.headers:
            return response
        # Ranges of the compressed bytes are not served; say so rather than mislead a resuming
        # download manager.
        response.headers.pop("Accept-Ranges", None)
        if response.is_streamed and request.method in ("GET", "HEAD"):
            # flask-compress answers If-None-Match with the ":gzip" ETag itself, but not for
            # streamed responses (send_file downloads, dumps): without this, a client that
            # holds the compressed ETag would download the whole file again.
            response.make_conditional(request)
        return response

    return compress


def init_cors(app: Flask) -> None:
    """`Access-Control-Allow-Origin: *` on safe requests to the open read documents.

    A small hook rather than flask-cors: flask-cors puts its headers on every method of a
    matching path, and CKAN's write actions (POST /api/3/action/package_create) share the read
    actions' paths. No credentials are allowed, so a browser never sends a visitor's session
    cookie along; private data stays private.
    """

    @app.after_request
    def cors(response: Response) -> Response:
        if request.method not in _SAFE_METHODS or not READ_PATHS.match(request.path):
            return response
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            if "Access-Control-Request-Method" in request.headers:  # a preflight
                response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = _ALLOWED_REQUEST_HEADERS
                response.headers["Access-Control-Max-Age"] = "86400"
        else:
            response.headers["Access-Control-Expose-Headers"] = _EXPOSED
        return response


def init_proxies(app: Flask, settings: Settings) -> None:
    """Trust X-Forwarded-* from PROXY_HOPS reverse proxies, so limits count real clients."""
    if settings.PROXY_HOPS:
        hops = settings.PROXY_HOPS
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
