"""The OpenAPI document: generated from the registry, valid, and true to what the server answers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from catalog import services
from catalog.services import Catalog, Context
from catalog.services.registry import actions
from tests.factories import make_dataset, make_org
from tests.servers import wsgi_server
from web import create_app


@pytest.fixture
def client(catalog: Catalog) -> FlaskClient:
    return create_app(catalog.settings, catalog=catalog).test_client()


def test_the_document_is_valid_and_lists_every_action(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").json
    validate(document)
    paths = document["paths"]
    for name, found in actions().items():
        operations = paths[f"/api/3/action/{name}"]
        assert "post" in operations
        assert ("get" in operations) == found.side_effect_free
        assert operations["post"]["summary"] == found.summary
    search = paths["/api/3/action/package_search"]["get"]
    assert {"q", "fq", "facet.field", "rows", "start", "sort"} <= {
        p["name"] for p in search["parameters"]
    }
    result = search["responses"]["200"]["content"]["application/json"]["schema"]
    assert result["properties"]["result"] == {"$ref": "#/components/schemas/PackageSearchDict"}


def test_the_docs_page_is_served_locally_in_both_languages(client: FlaskClient) -> None:
    thai = client.get("/api/docs").get_data(as_text=True)
    assert "API สำหรับนักพัฒนา" in thai and 'id="package_search"' in thai
    assert "<dt><code>fq</code></dt>" in thai  # each parameter with its help
    assert "<code>organization:ban-suan</code>" in thai
    assert 'src="http' not in thai and 'href="http' not in thai  # nothing from elsewhere
    english = client.get("/api/docs?lang=en").get_data(as_text=True)
    assert "API for developers" in english


# --- schemathesis against a running server ----------------------------------------------


@pytest.fixture
def api_server(catalog: Catalog, system: Context) -> Iterator[str]:
    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน", title_en="Ban Suan Town")
    ds = make_dataset(system, "ban-suan", name="budget-2568", groups=[])
    services.resource_create(
        system,
        {"package_id": ds["name"], "name": "ไฟล์งบประมาณ", "format": "CSV"},
        io.BytesIO("รายการ,จำนวนเงิน\nค่าจ้าง,1000\n".encode()),
        "งบประมาณ.csv",
    )
    make_dataset(
        system,
        "ban-suan",
        name="internal",
        data_category="ข้อมูลใช้ภายใน",
        data_classification="ชั้นเผยแพร่ภายในองค์กร",
        private=True,
    )
    settings_ = catalog.settings.replace(RATE_LIMIT_PER_MINUTE=100_000)
    with wsgi_server(create_app(settings_, catalog=catalog)) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_request_makes_the_server_fail_or_contradict_the_document(api_server: str) -> None:
    # schemathesis's own pytest fixture loader does not run on this pytest, so each operation
    # of the document is driven here through its Hypothesis strategy, bounded in examples.
    schema = schemathesis.openapi.from_url(api_server + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 2 * len(actions()) - 1
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            # Never a 5xx, and every answer is one the document describes.
            case.call_and_validate()

        check()
