"""CKAN's datastore dump: ``/datastore/dump/<resource_id>?format=csv|json|xlsx|parquet``.

The service (catalog.services.datastore.datastore_dump) checks who may read the table and
makes the file as a stream of chunks; this view only wraps it in a streamed response with its
validators, so a client holding the same version gets 304 without a row being read.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from catalog.services.datastore import datastore_dump
from catalog.storage.s3 import content_disposition
from web.context import context

bp = Blueprint("api_datastore", __name__)


@bp.route("/datastore/dump/<resource_id>", methods=["GET", "HEAD"])
def dump(resource_id: str) -> Response:
    found = datastore_dump(context(), resource_id, request.args.get("format", "csv").lower())
    # content_type, not mimetype: the service gives the charset already (Flask would add one).
    response = Response(found.chunks, content_type=found.mimetype, direct_passthrough=True)
    # Compression swaps the body for a gzip stream; without this, Werkzeug's make_conditional
    # would then turn it into a list to count its length: the whole dump in memory.
    response.implicit_sequence_conversion = False
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    response.set_etag(found.etag)
    if found.last_modified is not None:
        response.last_modified = found.last_modified
    # A 304 or a HEAD sends no body: the generator is closed without reading a row.
    return response.make_conditional(request)
