"""The DCAT source kind against a recorded, Hydra-paged catalogue in three serialisations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harvesters.base import HarvestError, get_kind
from harvesters.dcat import DcatSource
from schemas.dataset import DatasetSchema, validate_dataset
from tests.httpserver import RecordedServer, recorded_server, url_opener

DATA = Path(__file__).parent / "data" / "harvest"
DEFAULTS = json.loads((DATA / "defaults.json").read_text(encoding="utf-8"))
SITE = "https://opendata.nakhonpathom.example/dataset/"
TOURISM, BEDS = SITE + "tourist-attractions", SITE + "hospital-beds"
UNTITLED, WATER = SITE + "untitled-draft", SITE + "canal-water-quality"
BUDGET = "np-pao-budget-2567"  # a blank node: known by its dct:identifier
EXTENSIONS = ("ttl", "rdf", "jsonld")


@pytest.fixture
def server() -> Iterator[RecordedServer]:
    with recorded_server(DATA / "dcat") as srv:
        for ext in EXTENSIONS:
            srv.route(f"/catalog.{ext}", f"catalog_page1.{ext}")
            for page in (2, 3):
                srv.route(f"/catalog.{ext}", f"catalog_page{page}.{ext}", query=f"page={page}")
        yield srv


def source(server: RecordedServer, path: str, **config: object) -> DcatSource:
    return get_kind("dcat")({"url": server.url(path), "defaults": DEFAULTS, **config}, url_opener())


def mapped(kind: DcatSource, since: datetime | None = None) -> dict:
    out = {}
    for item in kind.gather(since):
        try:
            out[item.remote_id] = kind.map(item)
        except HarvestError as error:
            out[item.remote_id] = error
    return out


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_every_serialisation_is_followed_through_its_hydra_pages(
    server: RecordedServer, ext: str
) -> None:
    items = list(source(server, f"/catalog.{ext}").gather())

    assert {i.remote_id for i in items} == {TOURISM, BUDGET, BEDS, UNTITLED, WATER}
    pages = [r.query for r in server.seen(f"/catalog.{ext}")]
    assert pages == ["", "page=2", "page=3"]
    # JSON-LD page 1 names a remote @context: fetched through our opener, once
    assert len(server.seen("/context.jsonld")) == (1 if ext == "jsonld" else 0)


def test_the_three_serialisations_map_to_the_same_records(server: RecordedServer) -> None:
    results = []
    for ext in EXTENSIONS:
        found = mapped(source(server, f"/catalog.{ext}"))
        results.append(
            {
                rid: (r.dataset, [(x.name, x.format, x.url) for x in r.resources])
                for rid, r in found.items()
                if not isinstance(r, HarvestError)
            }
        )
    assert len(results[0]) == 4
    assert results[0] == results[1] == results[2]


def test_a_dataset_without_title_fails_alone_and_the_rest_are_valid(
    server: RecordedServer,
) -> None:
    found = mapped(source(server, "/catalog.ttl"))

    assert isinstance(found[UNTITLED], HarvestError)
    assert UNTITLED in found[UNTITLED].message and "title" in found[UNTITLED].message
    known = set(DatasetSchema().fields)
    for remote_id in (TOURISM, BUDGET, BEDS, WATER):
        dataset = found[remote_id].dataset
        assert set(dataset) <= known
        validate_dataset({**DEFAULTS, **dataset})


def test_dcat_properties_map_to_our_fields(server: RecordedServer) -> None:
    found = mapped(source(server, "/catalog.jsonld"))
    tourism, budget = found[TOURISM].dataset, found[BUDGET].dataset
    beds, water = found[BEDS].dataset, found[WATER].dataset

    assert tourism["title"] == "แหล่งท่องเที่ยวในจังหวัดนครปฐม"
    assert tourism["title_en"] == "Tourist attractions in Nakhon Pathom"
    assert tourism["notes_en"].startswith("Names and coordinates")
    assert sorted(tourism["tags"]) == sorted(["ท่องเที่ยว", "ตลาดน้ำ", "tourism"])
    assert (tourism["issued"], tourism["modified"]) == ("2022-03-01", "2024-02-15")
    assert tourism["maintainer"] == "สำนักงานการท่องเที่ยวและกีฬาจังหวัดนครปฐม"
    assert tourism["maintainer_email"] == "tourism@nakhonpathom.example"
    assert tourism["data_source"] == "องค์การบริหารส่วนจังหวัดนครปฐม"  # dct:publisher
    assert tourism["license_id"] == "cc-by"  # from the CC licence URL
    assert tourism["url"] == TOURISM
    assert tourism["name"].startswith("tourist-attractions-")
    assert budget["license_id"] == "odc-thai"  # from a LicenseDocument's title
    assert budget["tags"] == ["ข้อบัญญัติ", "งบประมาณ"]  # "งบ/2567" is not a valid tag
    assert budget["name"].startswith("np-pao-budget-2567-")
    assert beds["license_id"] == "cc-by-sa"  # opendefinition.org URL
    assert (beds["language"], beds["access_rights"]) == (["th"], "public")
    assert (beds["temporal_start"], beds["temporal_end"]) == ("2019-01-01", "2022-12-31")
    assert water["license_id"] == "cc-by"  # DCAT-AP: on the distribution


def test_distributions_become_resources(server: RecordedServer) -> None:
    found = mapped(source(server, "/catalog.rdf", fetch_files=True))
    attractions, tourism_map = found[TOURISM].resources
    (budget,) = found[BUDGET].resources
    (water,) = found[WATER].resources

    assert (attractions.name, attractions.name_en) == ("รายชื่อแหล่งท่องเที่ยว", "Attractions")
    assert attractions.format == "CSV" and attractions.tabular
    assert attractions.file.location.endswith("/files/attractions.csv")  # downloadURL first
    assert attractions.extra["mimetype"] == "text/csv"
    assert (tourism_map.format, tourism_map.url) == (
        "HTML",
        "https://opendata.nakhonpathom.example/map/tourism",
    )
    assert budget.format == "XLSX" and budget.file.name == "budget-2567.xlsx"
    assert water.format == "CSV" and water.file.size == 90210  # dct:IMT node, byteSize


def test_since_leaves_out_datasets_not_modified_since(server: RecordedServer) -> None:
    kind = source(server, "/catalog.ttl")

    ids = {i.remote_id for i in kind.gather(datetime(2024, 1, 1, tzinfo=UTC))}

    assert BEDS not in ids  # modified 2023-06-30
    assert {TOURISM, BUDGET, WATER, UNTITLED} <= ids  # untitled has no dct:modified: kept


def test_the_config_format_overrides_a_wrong_content_type(server: RecordedServer) -> None:
    server.route("/feed", "catalog_page3.jsonld", content_type="text/turtle")

    with pytest.raises(HarvestError) as caught:
        list(source(server, "/feed").gather())
    assert server.url("/feed") in caught.value.message and "turtle" in caught.value.message

    items = list(source(server, "/feed", format="json-ld").gather())
    assert [i.remote_id for i in items] == [WATER]


def test_the_format_is_guessed_without_a_content_type(server: RecordedServer) -> None:
    server.route("/feed", "catalog_page3.rdf", content_type="application/octet-stream")

    assert [i.remote_id for i in source(server, "/feed").gather()] == [WATER]


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"Internal Server Error", 500), (b"@prefix dcat: <broken", 200)],
)
def test_a_broken_page_stops_the_gather_naming_its_url(
    server: RecordedServer, body: bytes, status: int
) -> None:
    server.route("/catalog.ttl", body=body, status=status, query="page=2")
    kind = source(server, "/catalog.ttl")
    gathered = []

    with pytest.raises(HarvestError) as caught:
        for item in kind.gather():
            gathered.append(item.remote_id)

    assert set(gathered) == {TOURISM, BUDGET}
    assert server.url("/catalog.ttl?page=2") in caught.value.message


def test_a_missing_remote_context_is_a_harvest_error(server: RecordedServer) -> None:
    server.route("/context.jsonld", body=b"not here", status=404)

    with pytest.raises(HarvestError) as caught:
        list(source(server, "/catalog.jsonld").gather())
    assert server.url("/context.jsonld") in caught.value.message


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b"@prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n"
            b"<> hydra:next <file:///etc/passwd> .\n",
            "text/turtle",
        ),
        (b'{"@context": "file:///etc/hosts", "@id": "x"}', "application/ld+json"),
    ],
)
def test_links_to_local_files_are_not_followed(
    server: RecordedServer, body: bytes, content_type: str
) -> None:
    server.route("/evil", body=body, content_type=content_type)

    with pytest.raises(HarvestError) as caught:
        list(source(server, "/evil").gather())
    assert "file:///etc/" in caught.value.message
    assert "only http(s) links are followed" in caught.value.message
