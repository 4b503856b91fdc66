"""The CKAN source kind against recorded package_search answers served on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from harvesters.base import HarvestError, get_kind
from harvesters.ckan import CkanSource
from schemas import vocab
from schemas.dataset import DatasetSchema, validate_dataset
from tests.httpserver import RecordedServer, recorded_server, url_opener

DATA = Path(__file__).parent / "data" / "harvest"
SEARCH = "/api/3/action/package_search"
DEFAULTS = json.loads((DATA / "defaults.json").read_text(encoding="utf-8"))
DENGUE = "3f8a2c71-5d0e-4b6a-9c1f-7e2d4a6b8c01"
BUDGET = "7b1e9d42-0c3a-4f8e-a5d6-1f2e3d4c5b02"
AIR = "9d3a1f64-2e5c-4a0b-87f8-3b4c5d6e7f03"
WASTE = "2c4e6a80-3f5d-4b1c-98a9-4c5d6e7f8a04"
COVID = "5e7a9c12-4a6b-4c2d-a9b0-5d6e7f8a9b05"


@pytest.fixture
def server() -> Iterator[RecordedServer]:
    with recorded_server(DATA / "ckan") as srv:
        srv.route(SEARCH, "package_search_page1.json", query="start=0")
        srv.route(SEARCH, "package_search_page2.json", query="start=2")
        srv.route(SEARCH, "package_search_page3.json", query="start=4")
        yield srv


def source(server: RecordedServer, **config: object) -> CkanSource:
    settings = {"url": server.url("/"), "rows": 2, "defaults": DEFAULTS, **config}
    return get_kind("ckan")(settings, url_opener())


def records(server: RecordedServer, **config: object) -> dict:
    kind = source(server, **config)
    return {item.remote_id: kind.map(item) for item in kind.gather()}


def test_gather_pages_through_package_search_oldest_change_first(server: RecordedServer) -> None:
    items = list(source(server).gather())

    assert [i.remote_id for i in items] == [DENGUE, BUDGET, AIR, WASTE, COVID]
    assert items[0].modified == datetime(2024, 1, 10, 3, 15, 22, 481920, tzinfo=UTC)
    seen = server.seen(SEARCH)
    assert [r.params["start"] for r in seen] == [["0"], ["2"], ["4"]]
    for request in seen:
        assert request.method == "GET"
        assert request.params["rows"] == ["2"]
        assert request.params["q"] == ["*:*"]
        assert request.params["sort"] == ["metadata_modified asc"]
        assert "fq" not in request.params


def test_organisation_and_fq_filters_reach_the_server(server: RecordedServer) -> None:
    server.route(SEARCH, "package_search_org_ddc.json", query="start=0&rows=100")
    kind = source(server, organization="ddc", fq='res_format:"CSV"', rows=100)

    assert [i.remote_id for i in kind.gather()] == [DENGUE, COVID]
    (request,) = server.seen(SEARCH)
    assert request.params["fq"] == ['res_format:"CSV" AND organization:ddc']
    assert request.params["rows"] == ["100"]


def test_incremental_run_asks_only_for_datasets_changed_since(server: RecordedServer) -> None:
    server.route(SEARCH, "package_search_since.json", query="start=0&rows=2")
    since = datetime(2024, 3, 1, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=7)))

    items = list(source(server, organization="ddc").gather(since))

    assert [i.remote_id for i in items] == [COVID]
    (request,) = server.seen(SEARCH)
    assert request.params["fq"] == [
        "organization:ddc AND metadata_modified:[2024-03-01T03:30:15Z TO *]"
    ]


@pytest.mark.parametrize(
    ("file", "status", "expected"),
    [
        ("package_search_500.json", 500, "500"),
        ("package_search_broken.html", 200, "did not answer JSON"),
        ("package_search_error.json", 400, "Search Query Error"),
        ("package_search_error.json", 200, "success: false"),
    ],
)
def test_a_broken_page_stops_the_gather_naming_its_url(
    server: RecordedServer, file: str, status: int, expected: str
) -> None:
    server.route(SEARCH, file, query="start=2", status=status)
    gathered = []

    with pytest.raises(HarvestError) as caught:
        for item in source(server).gather():
            gathered.append(item.remote_id)

    assert gathered == [DENGUE, BUDGET]  # page 1 was read before page 2 failed
    assert f"{server.base_url}{SEARCH}?" in caught.value.message
    assert "start=2" in caught.value.message
    assert expected in caught.value.message
    assert server.base_url in caught.value.message_th


def test_a_malformed_package_fails_alone(server: RecordedServer) -> None:
    server.route(SEARCH, "package_search_malformed.json", query="start=0&rows=10")
    kind = source(server, rows=10)
    items = list(kind.gather())

    assert len(items) == 4
    outcomes = {}
    for item in items:
        try:
            outcomes[item.remote_id] = kind.map(item).dataset["title"]
        except HarvestError as error:
            assert item.remote_id in error.message
            outcomes[item.remote_id] = "failed"
    assert outcomes[DENGUE].startswith("จำนวนผู้ป่วยโรคไข้เลือดออก")
    assert list(outcomes.values())[1:] == ["failed"] * 3
    assert items[3].remote_id.endswith("#3")  # not even a dict: listed by position


def test_every_mapped_dataset_is_valid_once_the_config_defaults_are_merged(
    server: RecordedServer,
) -> None:
    known = set(DatasetSchema().fields)
    for record in records(server).values():
        assert set(record.dataset) <= known
        assert not {"id", "owner_org", "state", "private", "resources"} & set(record.dataset)
        clean = validate_dataset({**DEFAULTS, **record.dataset})
        assert clean["owner_org"] == "nakhonpathom-pao"
        assert clean["title"] == record.dataset["title"]


def test_gdc_fields_licences_and_tags_are_carried_over_when_valid(server: RecordedServer) -> None:
    found = records(server)
    dengue, budget = found[DENGUE].dataset, found[BUDGET].dataset
    air, waste, covid = found[AIR].dataset, found[WASTE].dataset, found[COVID].dataset

    assert dengue["name"] == "dengue-cases-by-province-2566"
    assert dengue["data_type"] == vocab.STATISTICAL
    assert dengue["objective"] == ["ยุทธศาสตร์ชาติ", "พันธกิจหน่วยงาน"]
    assert (dengue["first_year_of_data"], dengue["official_statistics"]) == (2561, True)
    assert dengue["license_id"] == "odc-thai"  # GDC stores the licence title as its id
    assert (dengue["issued"], dengue["modified"]) == ("2021-05-18", "2024-01-10")
    # scheming's JSON-text lists, a BE date, a CKAN id with its title
    assert budget["objective"] == ["พันธกิจหน่วยงาน", "กฎหมายที่เกี่ยวข้อง"]
    assert budget["created_date"] == "2023-10-01"
    assert budget["license_id"] == "cc-by"
    assert budget["tags"] == ["งบประมาณ", "ข้อบัญญัติ", "อบจ.นครปฐม"]  # "งบประมาณ/2567" dropped
    # GDC fields kept in extras; an invalid e-mail is left for the default
    assert air["data_type"] == vocab.GEOSPATIAL
    assert air["data_format"] == ["JSON", "อื่นๆ"] and air["data_format_other"] == "GeoJSON"
    assert air["west_bound_longitude"] == 97.35
    assert air["license_id"] == "other" and air["license_id_other"].startswith("เผยแพร่ตาม")
    assert "maintainer_email" not in air
    # fluent translations; choices that clash with the profile give way to the defaults
    assert waste["title_en"] == "Municipal solid waste by district, Bangkok"
    assert "objective" not in waste  # อื่นๆ without objective_other
    assert "data_classification" not in waste  # ลับ is not allowed for public data
    assert waste["license_id_other"] == "GNU Free Documentation License"
    assert "groups" not in waste  # no group mapping in the config
    # a plain CKAN package: licence "not specified" and a statistical field without data_type
    assert "license_id" not in covid
    assert "first_year_of_data" not in covid


def test_groups_are_kept_only_through_the_config_mapping(server: RecordedServer) -> None:
    found = records(server, groups={"environment": "env-and-climate"})

    assert found[WASTE].dataset["groups"] == ["env-and-climate"]


def test_resources_are_links_unless_fetch_files_is_set(server: RecordedServer) -> None:
    linked = records(server)[DENGUE].resources
    fetched = records(server, fetch_files=True)[DENGUE].resources

    assert [(r.format, r.tabular, r.file) for r in linked] == [
        ("CSV", False, None),
        ("XLSX", False, None),
        ("PDF", False, None),
    ]
    assert linked[0].url.endswith("/download/dengue_province_2561_2566.csv")
    assert linked[0].extra["resource_first_year_of_data"] == 2561
    csv, xlsx, pdf = fetched
    assert csv.tabular and csv.file is not None and csv.url == ""
    assert csv.file.location == linked[0].url
    assert (csv.file.name, csv.file.size) == ("dengue_province_2561_2566.csv", 48213)
    assert xlsx.tabular and xlsx.read_options["format"] == "xlsx"
    assert not pdf.tabular and pdf.file is None and pdf.url == linked[2].url


def test_fetch_files_uploads_copies_the_sources_own_files_whatever_their_format(
    server: RecordedServer,
) -> None:
    found = records(server, fetch_files="uploads")

    dengue = found[DENGUE].resources  # url_type upload: CSV, XLSX and a PDF
    assert [(r.format, r.tabular, r.url) for r in dengue] == [
        ("CSV", False, ""),
        ("XLSX", False, ""),
        ("PDF", False, ""),
    ]
    assert [r.file.name for r in dengue if r.file] == [
        "dengue_province_2561_2566.csv",
        "dengue_province.xlsx",
        "data_dictionary.pdf",
    ]
    assert "upload" not in dengue[0].extra and "size" not in dengue[0].extra
    # Links to the agency's own website stay links, as the source has them.
    budget = found[BUDGET].resources
    assert budget and all(r.file is None and r.url for r in budget)


def test_fetch_files_with_an_unknown_value_fails_the_job(server: RecordedServer) -> None:
    with pytest.raises(HarvestError, match="fetch_files"):
        list(source(server, fetch_files="everything").gather())


def test_resources_keep_valid_links_and_get_unique_names(server: RecordedServer) -> None:
    budget = records(server)[BUDGET].resources
    air = records(server)[AIR].resources

    assert [r.name for r in budget] == ["ข้อบัญญัติงบประมาณ 2567", "ข้อบัญญัติงบประมาณ 2567 (2)"]
    assert [r.format for r in budget] == ["CSV", "PDF"]  # the javascript: link is dropped
    assert [(r.name, r.format) for r in air] == [
        ("สถานีตรวจวัด (GeoJSON)", "GEOJSON"),
        ("stations.json", "JSON"),  # unnamed: named after its URL
    ]


@pytest.mark.parametrize("config", [{"url": None}, {"url": "ftp://x"}, {"rows": 0}, {"rows": "9"}])
def test_a_bad_config_is_a_harvest_error(server: RecordedServer, config: dict) -> None:
    kind = get_kind("ckan")({"url": server.url("/"), **config}, url_opener())

    with pytest.raises(HarvestError):
        list(kind.gather())


def test_the_catalogue_opener_limits_the_size_of_a_page(server: RecordedServer) -> None:
    from harvesters.fetch import make_opener

    settings = {"url": server.url("/"), "rows": 2, "defaults": DEFAULTS}
    small = get_kind("ckan")(settings, make_opener(4096))
    large = get_kind("ckan")(settings, make_opener(1024 * 1024))

    with pytest.raises(HarvestError) as caught:
        list(small.gather())
    assert server.url(SEARCH) in caught.value.message
    assert len(list(large.gather())) == 5


def test_a_remote_file_link_is_never_fetched(server: RecordedServer) -> None:
    server.route(
        SEARCH,
        body=json.dumps(
            {
                "success": True,
                "result": {
                    "count": 1,
                    "results": [
                        {
                            "id": "p1",
                            "name": "p1",
                            "title": "ชุดข้อมูล",
                            "resources": [
                                {"name": "a", "format": "CSV", "url": "file:///etc/passwd"},
                                {"name": "b", "format": "CSV", "url": "ftp://files.example/b.csv"},
                            ],
                        }
                    ],
                },
            }
        ).encode(),
        query="start=0&rows=2",
    )
    kind = source(server, fetch_files=True)

    (record,) = [kind.map(item) for item in kind.gather()]

    assert [(r.name, r.tabular, r.file, r.url) for r in record.resources] == [
        ("b", False, None, "ftp://files.example/b.csv")
    ]
