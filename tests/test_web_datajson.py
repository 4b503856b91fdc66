"""/data.json: the public catalogue in DCAT-US 1.1 shape, valid against the official schema."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from catalog import services
from catalog.demo import load_demo
from catalog.services import Context
from tests.feeds_support import SHARED, hidden_and_shown, hidden_markers
from tests.test_web_dcat import app, client  # noqa: F401 (fixtures)


def validator() -> Draft4Validator:
    """catalog.json with the schemas it refers to (dataset, distribution, vcard, organization)
    registered under their own ids, so nothing is fetched."""
    folder = SHARED / "dcat-us"
    registry = Registry()
    for name in ("catalog", "dataset", "distribution", "organization", "vcard"):
        schema = json.loads((folder / f"{name}.json").read_text())
        resource = Resource.from_contents(schema, default_specification=DRAFT4)
        registry = registry.with_resource(schema["id"].rstrip("#"), resource)
    catalog_schema = json.loads((folder / "catalog.json").read_text())
    return Draft4Validator(catalog_schema, registry=registry)


def errors(document: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(document)]


def test_demo_data_json_is_valid_dcat_us(client: FlaskClient, system: Context) -> None:  # noqa: F811
    load_demo(system)
    document = client.get("/data.json").get_json()

    assert errors(document) == []
    assert len(document["dataset"]) == services.dataset_count(system)
    budget = services.package_show(system, "tharawadi-city-budget-2568")
    entry = next(d for d in document["dataset"] if d["identifier"].endswith(budget["id"]))
    assert entry["title"] == budget["title"]  # Thai as written
    assert entry["accrualPeriodicity"] == "R/P1Y"
    assert entry["isPartOf"].startswith("http://localhost/dataset-series/")
    assert any(d.get("downloadURL", "").endswith("normalised.csv") for d in entry["distribution"])


def test_private_draft_and_withdrawn_datasets_and_private_files_never_appear(
    client: FlaskClient,  # noqa: F811
    system: Context,
) -> None:
    data = hidden_and_shown(system)
    response = client.get("/data.json")
    body = response.get_data(as_text=True)

    assert errors(json.loads(body)) == []
    for marker in hidden_markers(data):
        assert marker not in body
    assert len(json.loads(body)["dataset"]) == 2
    again = client.get("/data.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_an_empty_catalogue_is_still_a_valid_document(client: FlaskClient) -> None:  # noqa: F811
    document = client.get("/data.json").get_json()
    assert document["dataset"] == [] and errors(document) == []
