"""The data.json (DCAT-US v1.1) source kind against a recorded catalogue on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harvesters.base import HarvestError, get_kind
from harvesters.datajson import DataJsonSource
from schemas.dataset import DatasetSchema, validate_dataset
from tests.httpserver import RecordedServer, recorded_server, url_opener

DATA = Path(__file__).parent / "data" / "harvest"
DEFAULTS = json.loads((DATA / "defaults.json").read_text(encoding="utf-8"))
FLOOD = "https://data.bangkok.example/dataset/bma-flood-points"
BUS, RAIN = "bma-bus-stops", "6f1d2e3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f"


@pytest.fixture
def server() -> Iterator[RecordedServer]:
    with recorded_server(DATA / "datajson") as srv:
        yield srv


def source(server: RecordedServer, path: str = "/data.json", **config: object) -> DataJsonSource:
    return get_kind("datajson")(
        {"url": server.url(path), "defaults": DEFAULTS, **config}, url_opener()
    )


def test_each_entry_is_listed_by_its_identifier(server: RecordedServer) -> None:
    items = list(source(server).gather())

    assert [i.remote_id for i in items[:3]] == [FLOOD, BUS, RAIN]
    assert items[3].remote_id == server.url("/data.json#dataset-3")  # no identifier
    assert items[4].remote_id == "bma-broken-distribution"
    assert items[1].modified == datetime(2023, 5, 10, 8, 0, tzinfo=UTC)
    assert len(server.seen("/data.json")) == 1


def test_malformed_entries_fail_alone_and_the_rest_are_valid(server: RecordedServer) -> None:
    kind = source(server)
    known = set(DatasetSchema().fields)
    failed = []
    for item in kind.gather():
        try:
            record = kind.map(item)
        except HarvestError as error:
            assert item.remote_id in error.message
            failed.append(item.remote_id)
            continue
        assert set(record.dataset) <= known
        validate_dataset({**DEFAULTS, **record.dataset})
    assert failed == [server.url("/data.json#dataset-3"), "bma-broken-distribution"]


def test_data_json_fields_map_to_ours(server: RecordedServer) -> None:
    kind = source(server)
    found = {i.remote_id: kind.map(i) for i in list(kind.gather())[:3]}
    flood, bus, rain = (found[k].dataset for k in (FLOOD, BUS, RAIN))

    assert flood["title"] == "จุดเสี่ยงน้ำท่วมในกรุงเทพมหานคร"
    assert flood["notes"].startswith("ตำแหน่งจุดเสี่ยงน้ำท่วมขัง")
    assert flood["tags"] == ["น้ำท่วม", "จุดเสี่ยง", "กรุงเทพมหานคร", "flood"]
    assert (flood["issued"], flood["modified"]) == ("2019-06-01", "2024-02-01")
    assert flood["data_source"] == "สำนักการระบายน้ำ กรุงเทพมหานคร"  # publisher
    assert flood["maintainer"] == "ฝ่ายข้อมูล สำนักการระบายน้ำ"
    assert flood["maintainer_email"] == "dds-data@bangkok.example"
    assert flood["license_id"] == "cc-by"
    assert (flood["temporal_start"], flood["temporal_end"]) == ("2019-01-01", "2023-12-31")
    assert (flood["access_rights"], flood["spatial"]) == ("public", "กรุงเทพมหานคร")
    assert flood["name"].startswith("bma-flood-points-")
    assert "groups" not in flood  # themes are not our groups unless the config maps them
    assert bus["license_id"] == "other"
    assert bus["license_id_other"] == "http://opendefinition.org/licenses/odc-odbl/"
    assert rain["license_id"] == "odc-thai"
    assert rain["tags"] == ["ฝน"]  # a single keyword string
    assert rain["access_rights"] == "restricted"
    assert rain["name"].startswith("dataset-")  # a bare UUID gives no readable prefix
    csv, api = found[FLOOD].resources
    assert (csv.name, csv.format, csv.url) == (
        "จุดเสี่ยงน้ำท่วม (CSV)",
        "CSV",
        "https://data.bangkok.example/files/flood-points.csv",
    )
    assert csv.description == "หนึ่งแถวต่อหนึ่งจุด" and csv.extra["mimetype"] == "text/csv"
    assert (api.format, api.url) == ("API", "https://data.bangkok.example/api/flood-points")
    assert [(r.format, r.name) for r in found[BUS].resources] == [
        ("GEOJSON", "ป้ายรถประจำทาง (GeoJSON)")
    ]


def test_fetch_files_turns_tabular_distributions_into_files(server: RecordedServer) -> None:
    kind = source(server, fetch_files=True)
    items = {i.remote_id: i for i in kind.gather()}
    (rain,) = kind.map(items[RAIN]).resources
    csv, api = kind.map(items[FLOOD]).resources

    assert rain.tabular and rain.format == "XLSX" and rain.file.name == "rain-daily.xlsx"
    assert csv.tabular and csv.file.location.endswith("/files/flood-points.csv")
    assert not api.tabular and api.file is None


def test_since_leaves_out_entries_not_modified_since(server: RecordedServer) -> None:
    ids = [i.remote_id for i in source(server).gather(datetime(2024, 1, 1, tzinfo=UTC))]

    assert BUS not in ids
    assert {FLOOD, RAIN, "bma-broken-distribution"} <= set(ids)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/data_truncated.json", "did not answer JSON"),
        ("/not_a_catalog.json", "not a data.json catalogue"),
        ("/missing.json", "404"),
    ],
)
def test_a_broken_catalogue_is_a_harvest_error_naming_its_url(
    server: RecordedServer, path: str, expected: str
) -> None:
    with pytest.raises(HarvestError) as caught:
        list(source(server, path).gather())

    assert server.url(path) in caught.value.message
    assert expected in caught.value.message
