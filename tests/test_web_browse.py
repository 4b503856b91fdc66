"""The minimal public pages: home, dataset, organisation, downloads; Thai and English."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catalog import services
from catalog.services import Context
from catalog.settings import SettingsError
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
    assert client.get("/dataset/internal").status_code == 404  # exactly like a missing one
    assert "/dataset/internal" not in client.get("/").get_data(as_text=True)
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_clients_over_the_rate_limit_are_told_to_wait(catalog: services.Catalog) -> None:
    settings = catalog.settings.replace(RATE_LIMIT_PER_MINUTE=3)
    client = create_app(settings, catalog=catalog).test_client()
    statuses = [client.get(path).status_code for path in ("/dataset/nope", "/", "/no-such-page")]
    assert statuses == [404, 200, 404]  # one count per client for the whole site
    response = client.get("/api/3/action/status_show")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    error = response.get_json()["error"]
    assert error["__type"] == "Rate Limit" and "โปรดลองใหม่" in error["message"]
    assert client.get("/dataset/nope").status_code == 429  # pages too, not only the API
    other = create_app(settings, catalog=catalog).test_client()  # another process, same store
    assert other.get("/").status_code == 429
    response = other.get("/", environ_overrides={"REMOTE_ADDR": "127.0.0.2"})
    assert response.status_code == 200  # another client is not affected


def test_the_web_app_needs_the_secret_key_khlang_init_writes(catalog: services.Catalog) -> None:
    settings = catalog.settings.replace(SECRET_KEY="")  # neither set nor written by `init`
    with pytest.raises(SettingsError, match="khlang init"):
        create_app(settings, catalog=catalog)
    (settings.data_dir / "secret_key").write_text("from-init\n")
    assert create_app(settings, catalog=catalog).secret_key == "from-init"


def test_download_through_another_datasets_path_is_refused(
    client: FlaskClient, system: Context, published: dict
) -> None:
    other = make_dataset(system, "ban-suan", name="other")
    shown = services.package_show(system, "budget-2568")
    res = shown["resources"][0]
    assert (
        client.get(f"/dataset/{other['id']}/resource/{res['id']}/download/x.csv").status_code == 404
    )
