"""The minimal public pages: home, dataset, organisation, downloads; Thai and English."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catalog import services
from catalog.services import Context
from tests.factories import make_dataset, make_org
from web import create_app


@pytest.fixture
def app(catalog: services.Catalog) -> Flask:
    return create_app(catalog.settings, catalog=catalog)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def published(system: Context) -> dict:
    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน", title_en="Ban Suan Town")
    ds = make_dataset(
        system, "ban-suan", name="budget-2568", title="งบประมาณ <script>alert(1)</script> 2568"
    )
    services.resource_create(
        system,
        {"package_id": ds["name"], "name": "ไฟล์งบประมาณ"},
        io.BytesIO("รายการ,จำนวนเงิน\nค่าจ้าง,1000\n".encode()),
        "งบประมาณ.csv",
    )
    return ds


def test_home_lists_organisations_and_datasets_in_thai(
    client: FlaskClient, published: dict
) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "เทศบาลเมืองบ้านสวน" in page
    assert "/dataset/budget-2568" in page
    assert "<script>alert(1)</script>" not in page  # titles are escaped
    assert "&lt;script&gt;" in page
    assert 'lang="th"' in page


def test_english_is_one_click_away_and_remembered(client: FlaskClient, published: dict) -> None:
    response = client.get("/?lang=en")
    page = response.get_data(as_text=True)
    assert "Ban Suan Town" in page and "Organisations" in page
    assert "lang=en" in response.headers["Set-Cookie"]
    assert "Organisations" in client.get("/").get_data(as_text=True)


def test_dataset_page_and_download_keep_thai_bytes(client: FlaskClient, published: dict) -> None:
    page = client.get("/dataset/budget-2568").get_data(as_text=True)
    assert "ไฟล์งบประมาณ" in page
    shown = services.package_show(Context(client.application.extensions["khlang"]), "budget-2568")
    url = shown["resources"][0]["url"]
    path = url.split("://", 1)[-1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 200
    assert response.data == "รายการ,จำนวนเงิน\nค่าจ้าง,1000\n".encode()
    assert "attachment" in response.headers["Content-Disposition"]


def test_missing_and_private_pages(client: FlaskClient, system: Context, published: dict) -> None:
    assert client.get("/dataset/nope").status_code == 404
    make_dataset(
        system,
        "ban-suan",
        name="internal",
        data_category="ข้อมูลใช้ภายใน",
        data_classification="ชั้นเผยแพร่ภายในองค์กร",
        private=True,
    )
    assert client.get("/dataset/internal").status_code == 403
    assert "/dataset/internal" not in client.get("/").get_data(as_text=True)
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_clients_over_the_rate_limit_are_told_to_wait(catalog: services.Catalog) -> None:
    app = create_app(catalog.settings.replace(RATE_LIMIT_PER_MINUTE=3), catalog=catalog)
    client = app.test_client()
    statuses = [client.get("/dataset/nope").status_code for _ in range(4)]
    assert statuses[:3] == [404, 404, 404]
    assert statuses[3] == 429
    other = app.test_client()
    response = other.get("/", environ_overrides={"REMOTE_ADDR": "127.0.0.2"})
    assert response.status_code == 200  # another client is not affected


def test_download_through_another_datasets_path_is_refused(
    client: FlaskClient, system: Context, published: dict
) -> None:
    other = make_dataset(system, "ban-suan", name="other")
    shown = services.package_show(system, "budget-2568")
    res = shown["resources"][0]
    assert (
        client.get(f"/dataset/{other['id']}/resource/{res['id']}/download/x.csv").status_code == 404
    )
