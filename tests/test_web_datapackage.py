"""Data Packages: each published tabular dataset validates with the real frictionless library,
fetched from a real HTTP server; nothing private is described or served."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from catalog import services
from catalog.demo import load_demo
from catalog.services import Context
from tests.feeds_support import hidden_and_shown, hidden_markers
from tests.servers import wsgi_server
from tests.test_web_dcat import app, client  # noqa: F401 (fixtures)


def test_demo_data_packages_validate_with_frictionless_over_http(
    app: Flask,  # noqa: F811
    system: Context,
) -> None:
    from frictionless import Package, validate

    load_demo(system)
    tabular = [
        name
        for name in services.package_list(system)
        if any(r["schema"] for r in services.package_show(system, name)["resources"])
    ]
    assert len(tabular) >= 5
    with wsgi_server(app) as base:
        for name in tabular:
            report = validate(f"{base}/dataset/{name}/datapackage.json")
            problems = [(t.name, e.type, e.note) for t in report.tasks for e in t.errors]
            assert report.valid, (name, problems[:5], [e.note for e in report.errors][:5])
        package = Package(f"{base}/dataset/tharawadi-city-budget-2568/datapackage.json")
        rows = package.resources[0].read_rows()
        assert rows and all(row.valid for row in rows)


def test_private_datasets_and_files_have_no_data_package(
    client: FlaskClient,  # noqa: F811
    system: Context,
) -> None:
    data = hidden_and_shown(system)
    missing = client.get("/dataset/no-such-dataset/datapackage.json")
    assert missing.status_code == 404
    for ds in data["hidden"].values():
        for key in (ds["name"], ds["id"]):
            response = client.get(f"/dataset/{key}/datapackage.json")
            assert response.status_code == 404
            assert response.get_data() == missing.get_data()


@pytest.mark.parametrize("private", [True, False])
def test_normalised_csv_is_served_only_for_public_resources(
    client: FlaskClient,  # noqa: F811
    system: Context,
    private: bool,
) -> None:
    load_demo(system)
    ds = services.package_show(system, "tharawadi-city-budget-2568")
    res = next(r for r in ds["resources"] if r["schema"])
    url = f"/dataset/{ds['id']}/resource/{res['id']}/normalised.csv"
    if private:
        services.resource_patch(system, res["id"], {"private": True})
        assert client.get(url).status_code == 404
        body = client.get(f"/dataset/{ds['name']}/datapackage.json").get_data(as_text=True)
        assert res["id"] not in body
    else:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.get_data(as_text=True).splitlines()[0].count(",") >= 2
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_hidden_markers_are_not_in_a_public_package(client: FlaskClient, system: Context) -> None:  # noqa: F811
    data = hidden_and_shown(system)
    ds = services.package_show(system, data["shown"]["name"])
    # A file uploaded by hand has no Table Schema: no tabular resource, no package.
    assert not any(r["schema"] for r in ds["resources"])
    response = client.get(f"/dataset/{ds['name']}/datapackage.json")
    assert response.status_code == 404
    for marker in hidden_markers(data):
        assert marker not in response.get_data(as_text=True)
