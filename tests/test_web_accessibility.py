"""axe-core in headless Chromium finds no accessibility violations on the pages this release
serves, in Thai and in English (the API docs, a dataset page, the not-found page)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog import services
from catalog.services import Context
from tests.factories import make_dataset, make_org
from tests.servers import chromium_browser, wsgi_server
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(catalog: services.Catalog, system: Context) -> Iterator[str]:
    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน", title_en="Ban Suan Town")
    make_dataset(system, "ban-suan", name="budget-2568", title="งบประมาณรายจ่ายประจำปี 2568")
    with wsgi_server(create_app(catalog.settings, catalog=catalog)) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_have_no_accessibility_violations(base_url: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = {}
    with chromium_browser() as browser:
        for path in ("/api/docs", "/dataset/budget-2568", "/dataset/nope"):
            for lang in ("th", "en"):
                for width in (1280, 360):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(f"{base_url}{path}?lang={lang}")
                    violations = axe.run(page).response["violations"]
                    found[(path, lang, width)] = [v["id"] for v in violations]
                    page.close()
    assert found == {key: [] for key in found}
