"""The home page in headless Chromium: a visitor browses from organisations to a dataset."""

from __future__ import annotations

import pytest

from catalog import services
from catalog.services import Context
from tests.factories import make_dataset, make_org
from tests.servers import chromium_browser, wsgi_server
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(catalog: services.Catalog, system: Context):
    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน", title_en="Ban Suan Town")
    make_dataset(system, "ban-suan", name="budget-2568", title="งบประมาณรายจ่ายประจำปี 2568")
    with wsgi_server(create_app(catalog.settings, catalog=catalog)) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_visitor_browses_to_a_dataset_and_switches_language(base_url: str, tmp_path) -> None:
    with chromium_browser() as browser:
        page = browser.new_page()
        page.goto(base_url + "/")
        assert page.locator("#organizations").inner_text().strip().startswith("เทศบาลเมืองบ้านสวน")
        page.click("text=งบประมาณรายจ่ายประจำปี 2568")
        page.wait_for_url("**/dataset/budget-2568")
        assert page.locator("h1").inner_text() == "งบประมาณรายจ่ายประจำปี 2568"
        page.click("text=English")
        assert page.locator("h2").inner_text() == "Resources"  # the same page, now in English
        page.goto(base_url + "/")
        assert page.locator("h2").first.inner_text() == "Organisations"
        page.screenshot(path=str(tmp_path / "home.png"))
        assert (tmp_path / "home.png").stat().st_size > 0
