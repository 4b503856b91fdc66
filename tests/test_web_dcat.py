"""DCAT-AP 3 documents: the paged, streamed catalogue and one dataset, in Turtle, JSON-LD and
RDF/XML; valid against the official DCAT-AP shapes; never showing what is not public."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

from catalog import services
from catalog.demo import load_demo
from catalog.services import Context
from tests.factories import make_dataset, make_org
from tests.feeds_support import hidden_and_shown, hidden_markers, shacl_violations
from web import create_app

HYDRA = "http://www.w3.org/ns/hydra/core#"
DCAT3 = "http://www.w3.org/ns/dcat#"
RDF_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}

# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib.*")


@pytest.fixture
def app(catalog: services.Catalog) -> Flask:
    return create_app(catalog.settings, catalog=catalog)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def fetch_graph(client: FlaskClient, url: str, fmt: str = "ttl") -> Graph:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return Graph().parse(data=response.get_data(as_text=True), format=RDF_FORMATS[fmt])


def datasets_in(graph: Graph) -> set[str]:
    return {str(node) for node in graph.subjects(RDF.type, DCAT.Dataset)}


def test_demo_catalogue_conforms_to_dcat_ap_in_every_format(
    client: FlaskClient, system: Context
) -> None:
    load_demo(system)
    public = services.dataset_count(system)
    graphs = {fmt: fetch_graph(client, f"/catalog.{fmt}", fmt) for fmt in RDF_FORMATS}

    for graph in graphs.values():
        assert len(datasets_in(graph)) == public
    assert len(graphs["ttl"]) == len(graphs["jsonld"]) == len(graphs["rdf"])
    assert shacl_violations(graphs["ttl"]) == []
    # The demo's two Tharawadi city budgets (BE 2567 and 2568) are one annual series.
    turtle = graphs["ttl"]
    series = set(turtle.subjects(RDF.type, URIRef(DCAT3 + "DatasetSeries")))
    members = {
        str(turtle.value(ds, URIRef("http://purl.org/dc/terms/identifier")))
        for s in series
        for ds in turtle.subjects(URIRef(DCAT3 + "inSeries"), s)
    }
    budgets = {
        services.package_show(system, f"tharawadi-city-budget-{y}")["id"] for y in (2567, 2568)
    }
    assert budgets <= members
    # The private demo dataset is not there.
    audit = services.package_show(system, "local-internal-audit-findings")
    assert not any(audit["id"] in node for node in datasets_in(turtle))


def test_edge_cases_conform_and_hidden_datasets_never_show(
    client: FlaskClient, system: Context
) -> None:
    data = hidden_and_shown(system)

    for fmt in RDF_FORMATS:
        body = client.get(f"/catalog.{fmt}").get_data(as_text=True)
        for marker in hidden_markers(data):
            assert marker not in body, (fmt, marker)
    graph = fetch_graph(client, "/catalog.ttl")
    assert len(datasets_in(graph)) == 2  # the public one and the Thai-only one without files
    assert shacl_violations(graph) == []
    thai = fetch_graph(client, "/dataset/ban-suan-roads.ttl")
    assert shacl_violations(thai) == []
    node = URIRef(f"http://localhost/dataset/{data['thai_only']['id']}")
    titles = list(thai.objects(node, URIRef("http://purl.org/dc/terms/title")))
    assert [t.language for t in titles] == ["th"]


@pytest.mark.parametrize("which", ["private", "draft", "withdrawn"])
@pytest.mark.parametrize("fmt", sorted(RDF_FORMATS))
def test_a_hidden_dataset_answers_404_exactly_like_a_missing_one(
    client: FlaskClient, system: Context, which: str, fmt: str
) -> None:
    data = hidden_and_shown(system)
    hidden = data["hidden"][which]

    for url in (f"/dataset/{hidden['name']}.{fmt}", f"/dataset/{hidden['id']}.{fmt}"):
        response = client.get(url)
        missing = client.get(f"/dataset/no-such-dataset.{fmt}")
        assert response.status_code == missing.status_code == 404
        assert response.get_data() == missing.get_data()
    # Asking the dataset page for RDF does not reveal it either.
    negotiated = client.get(f"/dataset/{hidden['name']}", headers={"Accept": "text/turtle"})
    assert negotiated.status_code == 404


def test_the_dataset_document_drops_private_files(client: FlaskClient, system: Context) -> None:
    data = hidden_and_shown(system)
    for fmt in RDF_FORMATS:
        body = client.get(f"/dataset/{data['shown']['name']}.{fmt}").get_data(as_text=True)
        assert data["secret_file"]["id"] not in body and "secret-file" not in body
        assert data["shown"]["id"] in body


def test_pages_link_first_next_previous_last_and_count_everything(
    client: FlaskClient, system: Context
) -> None:
    make_org(system, "ban-suan")
    for n in range(5):
        make_dataset(system, "ban-suan", name=f"page-test-{n}")

    seen: set[str] = set()
    url = "/catalog.ttl?page_size=2"
    pages = 0
    while url:
        graph = fetch_graph(client, url)
        pages += 1
        seen |= datasets_in(graph)
        view = next(graph.subjects(RDF.type, URIRef(HYDRA + "PartialCollectionView")))
        assert int(graph.value(view, URIRef(HYDRA + "totalItems"))) == 5
        assert parse_qs(urlsplit(str(graph.value(view, URIRef(HYDRA + "last")))).query)["page"] == [
            "3"
        ]
        has_previous = graph.value(view, URIRef(HYDRA + "previous")) is not None
        assert has_previous == (pages > 1)
        following = graph.value(view, URIRef(HYDRA + "next"))
        url = urlsplit(str(following))._replace(scheme="", netloc="").geturl() if following else ""
    assert pages == 3 and len(seen) == 5
    assert client.get("/catalog.ttl?page_size=2&page=4").status_code == 404
    assert client.get("/catalog.ttl?page=0").status_code == 400


def test_urls_use_the_host_the_client_asked(client: FlaskClient, system: Context) -> None:
    make_org(system, "ban-suan")
    make_dataset(system, "ban-suan", name="host-test")
    body = client.get("/catalog.ttl", base_url="https://data.example.go.th").get_data(as_text=True)
    assert "<https://data.example.go.th/dataset/" in body
    assert "127.0.0.1:5000" not in body


def test_filters_organization_modified_since_and_text(client: FlaskClient, system: Context) -> None:
    make_org(system, "ban-suan")
    make_org(system, "nong-bua")
    roads = make_dataset(system, "ban-suan", name="roads", title="ทะเบียนถนนคอนกรีต", tags=["ถนน"])
    make_dataset(system, "ban-suan", name="budget-a")
    other = make_dataset(system, "nong-bua", name="budget-b")

    by_org = datasets_in(fetch_graph(client, "/catalog.ttl?organization=nong-bua"))
    assert by_org == {f"http://localhost/dataset/{other['id']}"}
    by_text = datasets_in(fetch_graph(client, "/catalog.ttl?q=ถนนคอนกรีต"))
    assert by_text == {f"http://localhost/dataset/{roads['id']}"}
    assert datasets_in(fetch_graph(client, "/catalog.ttl?modified_since=2000-01-01")) != set()
    assert datasets_in(fetch_graph(client, "/catalog.ttl?modified_since=2999-01-01")) == set()
    assert client.get("/catalog.ttl?modified_since=yesterday").status_code == 400
    assert client.get("/catalog.ttl?organization=nobody").status_code == 404


def test_catalogue_and_dataset_answer_304_until_something_changes(
    client: FlaskClient, system: Context
) -> None:
    make_org(system, "ban-suan")
    ds = make_dataset(system, "ban-suan", name="etag-test")
    for url in ("/catalog.ttl", "/dataset/etag-test.jsonld"):
        first = client.get(url)
        tag = first.headers["ETag"]
        assert first.headers["Last-Modified"]
        again = client.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.get_data() == b""
        since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304
    tag = client.get("/catalog.ttl").headers["ETag"]
    services.package_patch(system, ds["id"], {"title": "ชื่อใหม่ของชุดข้อมูล"})
    changed = client.get("/catalog.ttl", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and "ชื่อใหม่ของชุดข้อมูล" in changed.get_data(as_text=True)


def test_the_dataset_page_negotiates_rdf_and_links_it(client: FlaskClient, system: Context) -> None:
    make_org(system, "ban-suan")
    ds = make_dataset(system, "ban-suan", name="conneg-test")
    for media, fmt in (
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ):
        response = client.get("/dataset/conneg-test", headers={"Accept": media})
        assert response.mimetype == media
        graph = Graph().parse(data=response.get_data(as_text=True), format=fmt)
        assert datasets_in(graph) == {f"http://localhost/dataset/{ds['id']}"}
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = client.get("/dataset/conneg-test", headers={"Accept": browser})
    assert page.mimetype == "text/html"
    head = page.get_data(as_text=True).split("</head>", 1)[0]
    assert 'rel="alternate" type="text/turtle" href="/dataset/conneg-test.ttl"' in head
