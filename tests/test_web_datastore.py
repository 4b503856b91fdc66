"""The datastore over HTTP: CKAN's /api/3/action/datastore_search (GET and POST) and
datastore_info, and the streamed dumps at /datastore/dump/<id>; one test with the Parquet
file in S3 (moto's server)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from catalog import services
from catalog.services import Catalog, Context
from catalog.settings import load_settings
from tests.test_catalog_datastore import harvest_table, people, table_id  # noqa: F401  (fixtures)
from web import create_app


@pytest.fixture
def app(catalog: Catalog) -> Flask:
    return create_app(catalog.settings, catalog=catalog)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def ids(body: dict[str, Any]) -> list[int]:
    return [r["_id"] for r in body["result"]["records"]]


def test_search_by_get_with_query_parameters(client: FlaskClient, table_id: str) -> None:  # noqa: F811
    answer = client.get(
        "/api/3/action/datastore_search",
        query_string={
            "resource_id": table_id,
            "q": "ถนน",
            "filters": json.dumps({"fiscal_year": "2567"}),
            "fields": "_id,รายการ",
            "sort": "_id desc",
            "include_total": "false",
        },
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["success"] is True
    assert ids(body) == [2, 1]
    assert body["result"]["records"][0] == {"_id": 2, "รายการ": "ซ่อมแซมถนนลูกรัง"}
    assert "total" not in body["result"]
    info = client.get("/api/3/action/datastore_info", query_string={"id": table_id}).get_json()
    assert info["result"]["meta"]["count"] == 4


def test_search_by_post_with_json(client: FlaskClient, table_id: str) -> None:  # noqa: F811
    answer = client.post(
        "/api/3/action/datastore_search",
        json={
            "resource_id": table_id,
            "filters": {"agency": ["กรมทางหลวง"]},
            "sort": ["amount desc"],
            "limit": 1,
            "records_format": "lists",
        },
    )
    body = answer.get_json()
    assert answer.status_code == 200 and body["result"]["total"] == 2
    assert body["result"]["records"] == [
        [
            1,
            "ก่อสร้างถนนคอนกรีตเสริมเหล็ก",
            "กรมทางหลวง",
            1200000.5,
            2567,
            "2024-01-15",
            '=HYPERLINK("http://evil.example")',
        ]
    ]


def test_errors_are_ckans(client: FlaskClient, table_id: str, people: dict) -> None:  # noqa: F811
    answer = client.post(
        "/api/3/action/datastore_search",
        json={"resource_id": table_id, "fields": ["amount", '"; DROP TABLE resource; --']},
    )
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["__type"] == "Validation Error"
    assert error["fields"] == ['field ""; DROP TABLE resource; --" not in table']
    bad = client.get(
        "/api/3/action/datastore_search", query_string={"resource_id": table_id, "limit": "-1"}
    )
    assert bad.status_code == 409 and "limit" in bad.get_json()["error"]
    missing = client.get("/api/3/action/datastore_search", query_string={"resource_id": "nope"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["__type"] == "Not Found Error"

    services.resource_patch(people["publisher"], table_id, {"private": True})
    hidden = client.get("/api/3/action/datastore_search", query_string={"resource_id": table_id})
    assert hidden.status_code == 404
    assert client.get(f"/datastore/dump/{table_id}").status_code == 404


def test_dumps_stream_with_validators(client: FlaskClient, table_id: str) -> None:  # noqa: F811
    answer = client.get(f"/datastore/dump/{table_id}")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv" and answer.is_streamed
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    zipped = client.get(
        f"/datastore/dump/{table_id}", headers={"Accept-Encoding": "gzip"}, buffered=False
    )
    # Compressed and still streamed: no length counted first (that would hold it in memory).
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Length" not in zipped.headers
    assert gzip.decompress(zipped.get_data()) == answer.get_data()
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    body = answer.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1][0] == "ก่อสร้างถนนคอนกรีตเสริมเหล็ก" and rows[1][5].startswith("'=")

    etag = answer.headers["ETag"]
    again = client.get(f"/datastore/dump/{table_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(
        f"/datastore/dump/{table_id}",
        headers={"If-Modified-Since": answer.headers["Last-Modified"]},
    )
    assert since.status_code == 304

    xlsx = client.get(f"/datastore/dump/{table_id}?format=xlsx")
    assert xlsx.headers["ETag"] != etag
    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active
    assert next(sheet.iter_rows(min_row=2, values_only=True))[0] == "ก่อสร้างถนนคอนกรีตเสริมเหล็ก"

    data = json.loads(client.get(f"/datastore/dump/{table_id}?format=json").get_data())
    assert [r["fiscal_year"] for r in data] == [2567, 2567, 2568, 2568]
    assert client.get(f"/datastore/dump/{table_id}?format=exe").status_code == 400


@pytest.fixture
def s3_catalog(tmp_path: Path, database_url: str, s3_endpoint: str) -> Iterator[Catalog]:
    bucket = f"khlang-ds-{uuid.uuid4().hex[:12]}"
    settings = load_settings(
        overrides={
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "STORAGE_URL": f"s3://{bucket}/catalogue",
            "S3_ENDPOINT_URL": s3_endpoint,
            "SECRET_KEY": "khlang-test-secret",
        },
        environ={},
        config_file=None,
    )
    cat = Catalog.open(settings)
    cat.storage.ensure_bucket()  # type: ignore[attr-defined]
    try:
        yield cat
    finally:
        cat.close()


@pytest.mark.s3
def test_a_parquet_file_in_s3_is_searched_and_dumped(s3_catalog: Catalog, tmp_path: Path) -> None:
    from tests.factories import make_org, make_user

    system = Context(s3_catalog, system=True, lang="en")
    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน")
    services.member_create(system, "ban-suan", make_user(system, "publisher"), "editor")
    resource_id = harvest_table(Context(s3_catalog, user="publisher"), tmp_path)
    client = create_app(s3_catalog.settings, catalog=s3_catalog).test_client()

    found = client.get(
        "/api/3/action/datastore_search",
        query_string={"resource_id": resource_id, "q": "ถนน", "sort": "amount"},
    ).get_json()["result"]
    assert [r["_id"] for r in found["records"]] == [2, 1] and found["total"] == 2

    parquet = client.get(f"/datastore/dump/{resource_id}?format=parquet")
    table = pq.read_table(io.BytesIO(parquet.get_data()))
    assert table.num_rows == 4 and table.column("รายการ")[0].as_py() == "ก่อสร้างถนนคอนกรีตเสริมเหล็ก"
