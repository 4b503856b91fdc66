"""The pure mappers: CKAN, DCAT (both ways) and data.json dicts to our dataset profile."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as ns

from schemas.ckan import (
    dataset_from_ckan,
    format_from,
    harvest_name,
    license_fields,
    resource_from_ckan,
)
from schemas.datajson import dataset_from_datajson
from schemas.dcat import dataset_from_dcat, dataset_to_dcat
from schemas.fields import SLUG_RE

BASE = "https://khlang.nakhonpathom.example"

PACKAGE = {
    "id": "0d2c9e8a-61f4-4a57-9b8e-3c5d7f9a1b2c",
    "name": "school-lunch-budget-2567",
    "title": "งบประมาณอาหารกลางวันนักเรียน ปีงบประมาณ 2567",
    "title_en": "School lunch budget, fiscal year 2024",
    "notes": "งบประมาณค่าอาหารกลางวันของโรงเรียนในสังกัด อบจ. แยกรายโรงเรียน",
    "notes_en": "Lunch budget of the PAO's schools, by school.",
    "tags": [{"name": "อาหารกลางวัน"}, {"name": "โรงเรียน"}, {"name": "budget"}],
    "issued": "2023-10-01",
    "modified": "2024-02-29",
    "url": "https://www.nakhonpathom-pao.example/education/lunch",
    "version": "2567.1",
    "maintainer": "กองการศึกษา ศาสนาและวัฒนธรรม",
    "maintainer_email": "education@nakhonpathom-pao.example",
    "license_id": "cc-by",
    "language": ["th", "en"],
    "access_rights": "public",
    "temporal_start": "2023-10-01",
    "temporal_end": "2024-09-30",
    "groups": [{"name": "education"}],
    "data_source": "กองการศึกษา ศาสนาและวัฒนธรรม อบจ.นครปฐม",
    "resources": [
        {
            "id": "5a1b",
            "name": "งบประมาณรายโรงเรียน",
            "name_en": "Budget by school",
            "description": "หนึ่งแถวต่อหนึ่งโรงเรียน",
            "url": f"{BASE}/dataset/school-lunch-budget-2567/resource/5a1b/download/lunch.csv",
            "url_type": "upload",
            "format": "CSV",
            "mimetype": "text/csv",
            "size": 12034,
        },
        {
            "id": "6c2d",
            "name": "แดชบอร์ด",
            "url": "https://dashboard.nakhonpathom-pao.example/lunch",
            "format": "HTML",
        },
    ],
}


# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib.*")
@pytest.mark.parametrize("fmt", ["turtle", "xml", "json-ld"])
def test_dcat_round_trip_keeps_titles_tags_dates_and_distributions(fmt: str) -> None:
    graph = Graph()
    node = dataset_to_dcat(PACKAGE, graph, BASE)
    assert node == URIRef(f"{BASE}/dataset/{PACKAGE['id']}")
    reread = Graph().parse(data=graph.serialize(format=fmt), format=fmt)

    back = dataset_from_dcat(reread, node)

    for key in ("title", "title_en", "notes", "notes_en", "issued", "modified", "url"):
        assert back[key] == PACKAGE[key], key
    for key in ("version", "maintainer", "maintainer_email", "license_id", "access_rights"):
        assert back[key] == PACKAGE[key], key
    assert (back["temporal_start"], back["temporal_end"]) == ("2023-10-01", "2024-09-30")
    assert sorted(back["tags"]) == sorted(t["name"] for t in PACKAGE["tags"])
    assert sorted(back["language"]) == ["en", "th"]
    assert back["groups"] == ["education"]
    assert back["data_source"] == PACKAGE["data_source"]
    fields = ("name", "name_en", "description", "url", "format", "mimetype", "size")
    expected = [{k: r[k] for k in fields if k in r} for r in PACKAGE["resources"]]
    expected[1]["mimetype"] = "text/html"  # written from the format, read back
    assert sorted(back["resources"], key=lambda r: r["url"]) == sorted(
        expected, key=lambda r: r["url"]
    )


def test_dcat_round_trip_keeps_an_other_licence_text() -> None:
    dataset = {**PACKAGE, "license_id": "other", "license_id_other": "ตามระเบียบ อบจ. พ.ศ. 2566"}
    graph = Graph()
    node = dataset_to_dcat(dataset, graph, BASE)

    back = dataset_from_dcat(graph, node)

    assert (back["license_id"], back["license_id_other"]) == ("other", dataset["license_id_other"])


def test_dcat_title_without_language_tag_is_the_thai_title() -> None:
    graph = Graph()
    node = URIRef("https://data.example/dataset/x")
    graph.add((node, ns.RDF.type, ns.DCAT.Dataset))
    graph.add((node, ns.DCTERMS.title, Literal("สถิติผู้ป่วย")))
    graph.add((node, ns.DCTERMS.title, Literal("Patient statistics", lang="en")))
    graph.add((node, ns.DCAT.keyword, Literal("มี/ขีด")))
    graph.add((node, ns.DCTERMS.modified, Literal("2024-05-01T08:00:00Z")))

    back = dataset_from_dcat(graph, node)

    assert (back["title"], back["title_en"]) == ("สถิติผู้ป่วย", "Patient statistics")
    assert "tags" not in back  # the only keyword is not a valid tag
    assert back["modified"] == "2024-05-01"
    assert back["resources"] == []


def test_ckan_computed_and_site_keys_are_dropped() -> None:
    pkg = {
        **PACKAGE,
        "owner_org": "d8f1",
        "organization": {"name": "other-agency", "title": "หน่วยงานอื่น"},
        "state": "active",
        "private": True,
        "type": "dataset",
        "metadata_created": "2023-10-01T01:02:03.456",
        "metadata_modified": "2024-03-01T01:02:03.456",
        "num_resources": 2,
        "num_tags": 3,
        "isopen": True,
        "license_title": "Creative Commons Attribution",
        "creator_user_id": "u1",
        "relationships_as_subject": [],
        "extras": [{"key": "spatial_uri", "value": "x"}, {"key": "data_type", "value": "ผิด"}],
    }

    dataset = dataset_from_ckan(pkg)

    assert not {"id", "owner_org", "organization", "state", "private", "type"} & set(dataset)
    assert not {"num_resources", "isopen", "license_title", "extras", "data_type"} & set(dataset)
    assert dataset["name"] == "school-lunch-budget-2567"
    assert dataset["tags"] == ["อาหารกลางวัน", "โรงเรียน", "budget"]
    assert dataset["modified"] == "2024-02-29"  # the package's own date beats metadata_modified
    assert [r["name"] for r in dataset["resources"]] == ["งบประมาณรายโรงเรียน", "แดชบอร์ด"]
    assert "url_type" not in dataset["resources"][0]  # an upload there is a link here


def test_ckan_dates_fall_back_to_metadata_dates_only_without_fields_of_their_own() -> None:
    stamps = {"metadata_created": "2023-10-01T01:02:03", "metadata_modified": "2024-03-01T01:02:03"}
    plain = {"id": "p1", "name": "plain", "title": "ชุดข้อมูล", **stamps}
    # A Khlang source has an issued field and sends null when its publisher left it empty.
    khlang = {**plain, "issued": None}

    assert dataset_from_ckan(plain)["issued"] == "2023-10-01"
    assert "issued" not in dataset_from_ckan(khlang)
    assert dataset_from_ckan(khlang)["modified"] == "2024-03-01"


def test_ckan_upload_is_marked_for_the_harvester() -> None:
    pkg = {
        "id": "p1",
        "name": "p1",
        "title": "ชุดข้อมูล",
        "resources": [
            {"name": "ไฟล์", "url": "https://a.example/f.pdf", "url_type": "upload"},
            {"name": "ลิงก์", "url": "https://b.example/page", "url_type": None},
        ],
    }

    uploaded, linked = dataset_from_ckan(pkg)["resources"]

    assert uploaded["upload"] is True and "upload" not in linked


def test_ckan_name_that_is_not_a_slug_is_replaced_by_a_stable_one() -> None:
    pkg = {"id": "abc-123", "name": "ชื่อภาษาไทย", "title": "ชุดข้อมูล"}

    first, second = dataset_from_ckan(pkg), dataset_from_ckan(dict(pkg))

    assert first["name"] == second["name"] == harvest_name("abc-123")


def test_ckan_resource_without_a_usable_url_is_dropped() -> None:
    assert resource_from_ckan({"name": "ไฟล์", "url": ""}) is None
    assert resource_from_ckan({"name": "ไฟล์", "url": "file:///etc/passwd"}) is None
    assert resource_from_ckan({"url": "https://x.example/a/report.pdf", "format": ".pdf"}) == {
        "url": "https://x.example/a/report.pdf",
        "format": "PDF",
        "name": "report.pdf",
    }


@pytest.mark.parametrize(
    "remote_id",
    [
        "https://data.example/dataset/hospital-beds",
        "np-pao-budget-2567",
        "6f1d2e3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        "ชุดข้อมูลภาษาไทยล้วน",
        "urn:x:" + "very-long-identifier-" * 20,
        "",
    ],
)
def test_harvest_names_are_valid_stable_slugs(remote_id: str) -> None:
    name = harvest_name(remote_id)

    assert re.match(SLUG_RE, name) and len(name) <= 100
    assert harvest_name(remote_id) == name
    assert harvest_name(remote_id + "x") != name


def test_harvest_names_keep_a_readable_prefix() -> None:
    assert harvest_name("https://data.example/dataset/hospital-beds").startswith("hospital-beds-")
    assert harvest_name("https://data.example/dataset/2567.json").startswith("dataset-")


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("Open Data Common",), {"license_id": "odc-thai"}),
        (("CC Attributions",), {"license_id": "cc-by"}),
        (("https://creativecommons.org/licenses/by-sa/3.0/th/",), {"license_id": "cc-by-sa"}),
        (("http://creativecommons.org/publicdomain/zero/1.0/",), {"license_id": "cc-zero"}),
        (("http://opendefinition.org/licenses/cc-by/",), {"license_id": "cc-by"}),
        (("notspecified", "License not specified"), {}),
        ((None, ""), {}),
        (
            ("gfdl", "GNU Free Documentation License"),
            {"license_id": "other", "license_id_other": "gfdl"},
        ),
        (
            ("https://x.example/licence", "ใช้ตามระเบียบกรม"),
            {"license_id": "other", "license_id_other": "ใช้ตามระเบียบกรม"},
        ),
        (("อื่นๆ",), {"license_id": "other"}),
    ],
)
def test_licences_map_to_our_ids(candidates: tuple, expected: dict) -> None:
    assert license_fields(*candidates) == expected


@pytest.mark.parametrize(
    ("fmt", "media", "expected"),
    [
        ("csv", "", "CSV"),
        (".xlsx", "", "XLSX"),
        ("", "text/csv; charset=utf-8", "CSV"),
        ("text/csv", "", "CSV"),
        ("http://publications.europa.eu/resource/authority/file-type/JSON", "", "JSON"),
        ("", "application/x-unknown", ""),
        ("ไฟล์ข้อมูล", "", ""),
    ],
)
def test_formats_are_normalised(fmt: str, media: str, expected: str) -> None:
    assert format_from(fmt, media) == expected


def test_datajson_entry_with_only_required_fields() -> None:
    entry = {
        "identifier": "moph-covid-daily",
        "title": "  ผู้ติดเชื้อรายวัน ",
        "description": "จำนวนผู้ติดเชื้อรายวัน",
        "keyword": ["โควิด", "", 7],
        "modified": "R/P1D",
        "publisher": {"name": "กรมควบคุมโรค"},
        "contactPoint": {"fn": "กองระบาดวิทยา", "hasEmail": "mailto:boe@ddc.example"},
        "accessLevel": "public",
        "bureauCode": ["000:00"],
        "programCode": ["000:000"],
    }

    dataset = dataset_from_datajson(entry)

    assert dataset["title"] == "ผู้ติดเชื้อรายวัน"
    assert dataset["tags"] == ["โควิด"]
    assert "modified" not in dataset  # a repeating interval is not a date
    assert dataset["maintainer_email"] == "boe@ddc.example"
    assert dataset["name"] == harvest_name("moph-covid-daily")
    assert dataset["resources"] == []


# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib.*")
@pytest.mark.parametrize("fmt", ["turtle", "xml", "json-ld"])
def test_dcat_round_trip_keeps_name_false_flags_resource_gdc_fields_and_order(fmt: str) -> None:
    gdc = {
        "resource_first_year_of_data": 2560,
        "resource_last_year_of_data": 2567,
        "resource_unit_of_measure": "บาท",
        "resource_disaggregate": ["อายุ/กลุ่มอายุ", "เพศ"],
        "resource_created_date": "2023-10-01",
        "resource_official_statistics": False,
    }
    first, second = PACKAGE["resources"]
    # Positions that sort differently from the distributions' URIs ("6c2d" < "9z", "5a1b").
    resources = [{**second, "id": "9z"}, {**first, **gdc}, {**second, "name": "ลิงก์", "id": "1a"}]
    dataset = {**PACKAGE, "official_statistics": False, "reference_data": True}
    dataset["resources"] = resources
    graph = Graph()
    node = dataset_to_dcat(dataset, graph, BASE)
    reread = Graph().parse(data=graph.serialize(format=fmt), format=fmt)

    back = dataset_from_dcat(reread, node)

    assert back["name"] == PACKAGE["name"]  # not one made from the id
    assert (back["official_statistics"], back["reference_data"]) == (False, True)
    assert [r["name"] for r in back["resources"]] == [r["name"] for r in resources]
    got = {k: v for k, v in back["resources"][1].items() if k.startswith("resource_")}
    assert {**got, "resource_disaggregate": sorted(got["resource_disaggregate"])} == {
        **gdc,
        "resource_disaggregate": sorted(gdc["resource_disaggregate"]),
    }


def test_dcat_name_is_read_only_when_it_is_a_valid_name() -> None:
    graph = Graph()
    node = dataset_to_dcat({**PACKAGE, "name": "Not A Slug!"}, graph, BASE)

    back = dataset_from_dcat(graph, node)

    assert back["name"] == harvest_name(str(node))
    assert re.match(SLUG_RE, back["name"])
