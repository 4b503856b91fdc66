"""HTTP manners every response shares: compression that keeps ETags and 304s, CORS on reads."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from flask import Flask, Response, request, send_file
from flask.testing import FlaskClient

from catalog import services
from web import create_app

ROWS = [{"รายการ": f"ค่าจ้างเหมา {i}", "จำนวนเงิน": i * 1000} for i in range(200)]
CSV = ("รายการ,จำนวนเงิน\n" + "".join(f"ค่าจ้าง {i},{i}\n" for i in range(2000))).encode()


@pytest.fixture
def app(catalog: services.Catalog) -> Flask:
    app = create_app(catalog.settings, catalog=catalog)

    # Documents shaped like the DCAT and dump responses: a validator set by the view itself.
    @app.get("/api/test/document")
    def document() -> Response:
        response = Response(json.dumps(ROWS, ensure_ascii=False), mimetype="application/json")
        response.set_etag("v1")
        return response.make_conditional(request)

    @app.get("/datastore/dump/test.csv")
    def dump() -> Response:
        response = send_file(io.BytesIO(CSV), mimetype="text/csv", etag="dump-v1")
        return response.make_conditional(request, accept_ranges=True)

    @app.get("/api/test/archive.zip")
    def archive() -> Response:
        return send_file(io.BytesIO(CSV), mimetype="application/zip", download_name="a.zip")

    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_compressed_document_still_answers_304(client: FlaskClient) -> None:
    first = client.get("/api/test/document", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(first.data)) == ROWS
    etag = first.headers["ETag"]
    again = client.get(
        "/api/test/document", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/api/test/document")
    assert "Content-Encoding" not in plain.headers and json.loads(plain.data) == ROWS
    assert (
        client.get(
            "/api/test/document", headers={"If-None-Match": plain.headers["ETag"]}
        ).status_code
        == 304
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_streamed_dump_is_compressed_as_it_goes_and_answers_304(client: FlaskClient) -> None:
    first = client.get("/datastore/dump/test.csv", headers={"Accept-Encoding": "gzip"})
    assert first.is_streamed and first.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(first.data) == CSV
    assert "Accept-Ranges" not in first.headers  # ranges of compressed bytes are not offered
    again = client.get(
        "/datastore/dump/test.csv",
        headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    part = client.get(
        "/datastore/dump/test.csv", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"}
    )
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    assert part.data == CSV[:100]  # a range of the file as stored


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_compressed_formats_are_sent_as_they_are(client: FlaskClient) -> None:
    response = client.get("/api/test/archive.zip", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert response.data == CSV


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reads_are_open_to_other_sites_and_writes_are_not(client: FlaskClient) -> None:
    origin = {"Origin": "https://data.example.org"}
    read = client.get("/api/3/action/status_show", headers=origin)
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in read.headers
    assert (
        client.get("/datastore/dump/test.csv", headers=origin).headers[
            "Access-Control-Allow-Origin"
        ]
        == "*"
    )
    preflight = client.options(
        "/api/3/action/package_search",
        headers={**origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    write = client.post("/api/3/action/package_create", json={"name": "x"}, headers=origin)
    assert "Access-Control-Allow-Origin" not in write.headers
    page = client.get("/", headers=origin)
    assert "Access-Control-Allow-Origin" not in page.headers  # pages carry session cookies


def test_behind_a_trusted_proxy_limits_count_the_forwarded_client(
    catalog: services.Catalog,
) -> None:
    settings = catalog.settings.replace(RATE_LIMIT_PER_MINUTE=1, PROXY_HOPS=1)
    client = create_app(settings, catalog=catalog).test_client()
    assert client.get("/", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
    assert client.get("/", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    assert client.get("/", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_limit_of_zero_turns_limiting_off(catalog: services.Catalog) -> None:
    app = create_app(catalog.settings.replace(RATE_LIMIT_PER_MINUTE=0), catalog=catalog)
    client = app.test_client()
    assert {client.get("/").status_code for _ in range(5)} == {200}
