"""The CKAN Action API as CKAN clients use it: the real `ckanapi` client against a running server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import ckanapi
import pytest
from flask.testing import FlaskClient

from catalog import services
from catalog.services import Catalog, Context
from catalog.services.registry import actions
from tests.factories import make_dataset, make_org, make_user
from tests.servers import wsgi_server
from web import create_app


@pytest.fixture
def site(system: Context) -> dict[str, Any]:
    """Two organisations, public datasets with a file, a group, and hidden datasets."""
    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน", title_en="Ban Suan Town")
    make_org(system, "na-kham", title="องค์การบริหารส่วนตำบลนาคำ", title_en="Na Kham SAO")
    services.group_create(system, {"name": "budget", "title": "งบประมาณ", "title_en": "Budget"})
    budget = make_dataset(
        system,
        "ban-suan",
        name="budget-2568",
        title="งบประมาณรายจ่ายประจำปี 2568",
        tags=["งบประมาณ", "เทศบัญญัติ"],
        groups=["budget"],
        fiscal_year=2568,
    )
    services.resource_create(
        system,
        {"package_id": "budget-2568", "name": "ไฟล์งบประมาณ", "format": "CSV"},
        io.BytesIO("รายการ,จำนวนเงิน\nค่าจ้าง,1000\n".encode()),
        "งบประมาณ.csv",
    )
    make_dataset(
        system,
        "na-kham",
        name="roads-2567",
        title="โครงการถนนคอนกรีต",
        title_en="Concrete roads",
        notes="โครงการก่อสร้างถนนคอนกรีตเสริมเหล็กในตำบล",
        tags=["ถนน"],
    )
    make_dataset(
        system,
        "ban-suan",
        name="internal-salaries",
        title="งบประมาณเงินเดือนภายใน",
        tags=["ลับเฉพาะ"],
        groups=["budget"],  # hidden from group_show and its counts too
        data_category="ข้อมูลใช้ภายใน",
        data_classification="ชั้นเผยแพร่ภายในองค์กร",
        private=True,
    )
    draft = make_dataset(system, "ban-suan", name="draft-plan", title="งบประมาณร่าง")
    services.package_delete(system, draft["name"])
    return {"budget": services.package_show(system, budget["name"])}


@pytest.fixture
def client(catalog: Catalog) -> FlaskClient:
    return create_app(catalog.settings, catalog=catalog).test_client()


@pytest.fixture
def server(catalog: Catalog, site: dict[str, Any]) -> Iterator[str]:
    with wsgi_server(create_app(catalog.settings, catalog=catalog)) as url:
        yield url


@pytest.fixture(params=["post", "get"])
def ckan(request: pytest.FixtureRequest, server: str) -> Iterator[ckanapi.RemoteCKAN]:
    """ckanapi's client in its default POST mode, then in GET mode (`get_only`)."""
    with ckanapi.RemoteCKAN(server, get_only=request.param == "get") as remote:
        yield remote


def test_ckanapi_reads_the_catalogue(ckan: ckanapi.RemoteCKAN, site: dict[str, Any]) -> None:
    status = ckan.action.status_show()
    assert status["site_title"] == "คลังข้อมูลเปิด" and status["ckan_version"].startswith("2.")
    assert ckan.action.site_read() is True
    assert ckan.action.package_list() == ["budget-2568", "roads-2567"]
    assert ckan.action.package_list(limit=1, offset=1) == ["roads-2567"]

    pkg = ckan.action.package_show(id="budget-2568")
    assert pkg["title"] == "งบประมาณรายจ่ายประจำปี 2568"
    assert (
        pkg["organization"]["name"] == "ban-suan"
        and pkg["owner_org"] == site["budget"]["owner_org"]
    )
    assert [t["name"] for t in pkg["tags"]] == ["งบประมาณ", "เทศบัญญัติ"] and pkg["num_tags"] == 2
    assert [g["name"] for g in pkg["groups"]] == ["budget"]
    # The GD Catalog fields sit at the top level, as ckanext-thai_gdc emits them, and in extras.
    assert pkg["data_category"] == "ข้อมูลสาธารณะ" and pkg["objective"] == ["พันธกิจหน่วยงาน"]
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["geo_coverage"] == "เทศบาล/อบต." and json.loads(extras["data_format"]) == ["CSV"]
    assert pkg["isopen"] is True and pkg["license_title"]
    assert ckan.action.package_show(name_or_id=pkg["id"])["name"] == "budget-2568"

    (resource,) = pkg["resources"]
    assert resource["format"] == "CSV" and pkg["num_resources"] == 1
    assert ckan.action.resource_show(id=resource["id"])["name"] == "ไฟล์งบประมาณ"
    # Links point at the server the client talked to, whatever SITE_URL says.
    assert resource["url"].startswith(ckan.address + "/dataset/")


def test_package_search_filters_facets_sorts_and_pages(ckan: ckanapi.RemoteCKAN) -> None:
    found = ckan.action.package_search(q="งบประมาณ")
    assert [p["name"] for p in found["results"]] == ["budget-2568"]  # private and draft hidden
    assert found["count"] == 1
    everything = ckan.action.package_search(
        q="*:*", facet="true", **{"facet.field": json.dumps(["organization", "tags"])}
    )
    assert everything["count"] == 2
    items = everything["search_facets"]["organization"]["items"]
    assert {i["name"]: (i["display_name"], i["count"]) for i in items} == {
        "ban-suan": ("เทศบาลเมืองบ้านสวน", 1),
        "na-kham": ("องค์การบริหารส่วนตำบลนาคำ", 1),
    }
    assert everything["facets"]["tags"] == {"งบประมาณ": 1, "เทศบัญญัติ": 1, "ถนน": 1}
    assert "ลับเฉพาะ" not in everything["facets"]["tags"]  # a private dataset's tag

    def names(**params: Any) -> list[str]:
        return [p["name"] for p in ckan.action.package_search(**params)["results"]]

    assert names(fq="organization:na-kham") == ["roads-2567"]
    assert names(fq='tags:"เทศบัญญัติ"') == ["budget-2568"]
    assert names(fq="groups:budget +organization:ban-suan") == ["budget-2568"]
    assert names(fq="fiscal_year:2568") == ["budget-2568"]
    assert names(fq="organization:(na-kham OR ban-suan)", sort="name asc") == [
        "budget-2568",
        "roads-2567",
    ]
    assert names(sort="name asc", rows=1, start=1) == ["roads-2567"]
    assert ckan.action.package_search(rows=0)["count"] == 2


def test_organizations_groups_tags_and_activity(ckan: ckanapi.RemoteCKAN) -> None:
    assert ckan.action.organization_list() == ["ban-suan", "na-kham"]
    orgs = ckan.action.organization_list(all_fields=True, sort="name desc")
    assert [o["name"] for o in orgs] == ["na-kham", "ban-suan"]
    assert orgs[1]["package_count"] == 1  # public datasets only
    org = ckan.action.organization_show(id="ban-suan", include_datasets=True)
    assert org["is_organization"] and [p["name"] for p in org["packages"]] == ["budget-2568"]
    assert "packages" not in ckan.action.organization_show(id="ban-suan")
    assert ckan.action.group_list() == ["budget"]
    group = ckan.action.group_show(id="budget", include_datasets=True)
    assert group["package_count"] == 1 and group["packages"][0]["name"] == "budget-2568"
    assert ckan.action.tag_list() == ["งบประมาณ", "ถนน", "เทศบัญญัติ"]
    assert ckan.action.tag_list(query="งบ") == ["งบประมาณ"]
    assert ckan.action.tag_list(all_fields=True)[0]["display_name"] == "งบประมาณ"
    activity = ckan.action.package_activity_list(id="budget-2568")
    assert activity[0]["activity_type"] == "new resource"  # the file was added last
    assert activity[-1]["activity_type"] == "new package"
    assert activity[0]["data"]["package"]["name"] == "budget-2568"
    page = ckan.action.current_package_list_with_resources(limit=1)
    assert len(page) == 1 and page[0]["name"] == "roads-2567"  # the latest change first
    assert ckan.action.current_package_list_with_resources(limit=1, page=2)[0]["resources"]


def test_errors_reach_ckanapi_as_its_exceptions(ckan: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="nope")
    with pytest.raises(ckanapi.ValidationError) as missing:
        ckan.action.package_show()
    assert "id" in missing.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as bad_fq:
        ckan.action.package_search(fq="colour:red")
    assert "colour" in bad_fq.value.error_dict["fq"][0]
    with pytest.raises(ckanapi.CKANAPIError):
        ckan.call_action("no_such_action")


def test_hidden_datasets_answer_like_missing_ones(ckan: ckanapi.RemoteCKAN) -> None:
    for name in ("internal-salaries", "draft-plan"):
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id=name)
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_activity_list(id=name)
        assert name not in ckan.action.package_list()
    hidden = ckan.action.package_search(q="งบประมาณ", include_private=True, include_drafts=True)
    assert [p["name"] for p in hidden["results"]] == ["budget-2568"]
    assert "ลับเฉพาะ" not in ckan.action.tag_list()
    listed = ckan.action.current_package_list_with_resources(limit=100)
    assert {p["name"] for p in listed} == {"budget-2568", "roads-2567"}


def test_private_files_of_a_public_dataset_show_only_to_members(
    system: Context, server: str
) -> None:
    services.resource_create(
        system,
        {"package_id": "budget-2568", "name": "ร่างภายใน", "format": "CSV", "private": True},
        io.BytesIO("รายการ,จำนวนเงิน\nร่าง,1\n".encode()),
        "ร่าง.csv",
    )
    member = make_user(system, "malee")
    services.member_create(system, "ban-suan", member, "member")
    token = services.api_token_create(system, member, "ckanapi")

    def files(remote: ckanapi.RemoteCKAN) -> tuple[set[str], set[str], set[str]]:
        shown = remote.action.package_show(id="budget-2568")["resources"]
        found = remote.action.package_search(q="*:*", fq="groups:budget")["results"]
        listed = remote.action.current_package_list_with_resources(limit=10)
        return (
            {r["name"] for r in shown},
            {r["name"] for p in found for r in p["resources"]},
            {r["name"] for p in listed for r in p["resources"]},
        )

    with ckanapi.RemoteCKAN(server) as anonymous:
        assert files(anonymous) == ({"ไฟล์งบประมาณ"},) * 3
        for shown in (
            anonymous.action.organization_show(id="ban-suan", include_datasets=True),
            anonymous.action.group_show(id="budget", include_datasets=True),
        ):
            assert {r["name"] for p in shown["packages"] for r in p["resources"]} == {"ไฟล์งบประมาณ"}
        private_id = next(
            r["id"]
            for r in services.package_show(system, "budget-2568")["resources"]
            if r["private"]
        )
        with pytest.raises(ckanapi.NotFound):
            anonymous.action.resource_show(id=private_id)
    with ckanapi.RemoteCKAN(server, apikey=token) as remote:
        shown, found, _ = files(remote)
        assert shown == found == {"ไฟล์งบประมาณ", "ร่างภายใน"}
        assert remote.action.resource_show(id=private_id)["name"] == "ร่างภายใน"


def test_a_member_with_a_token_sees_private_data_when_asking(system: Context, server: str) -> None:
    member = make_user(system, "somchai")
    services.member_create(system, "ban-suan", member, "member")
    token = services.api_token_create(system, member, "ckanapi")
    with ckanapi.RemoteCKAN(server, apikey=token) as remote:
        assert remote.action.package_show(id="internal-salaries")["private"] is True
        default = remote.action.package_search(q="งบประมาณ")
        assert [p["name"] for p in default["results"]] == ["budget-2568"]  # CKAN's default
        asked = remote.action.package_search(q="งบประมาณ", include_private=True)
        assert {p["name"] for p in asked["results"]} == {"budget-2568", "internal-salaries"}
    with ckanapi.RemoteCKAN(server, apikey="not-a-token") as remote:
        with pytest.raises(ckanapi.NotAuthorized):
            remote.action.package_list()


def test_wire_details_match_ckan(client: FlaskClient, site: dict[str, Any]) -> None:
    assert client.get("/api/3").json == {"version": 3}
    for path in ("/api/action/package_show", "/api/3/action/package_show"):
        response = client.post(path, json={"id": "budget-2568"})
        assert response.status_code == 200 and response.json["success"] is True
        assert response.json["help"].endswith("/api/3/action/help_show?name=package_show")
    form = client.post("/api/3/action/package_list", data={"limit": "1"})
    assert form.json["result"] == ["budget-2568"]
    repeated = client.get("/api/3/action/organization_list?organizations=ban-suan&organizations=x")
    assert repeated.json["result"] == ["ban-suan"]
    broken = client.post(
        "/api/3/action/package_show", data="{not json", content_type="application/json"
    )
    assert broken.status_code == 400 and broken.json.startswith("Bad request: JSON Error")
    unknown = client.get("/api/3/action/no_such_action")
    assert unknown.status_code == 400
    assert unknown.json == "Bad request: Action name not known: no_such_action"
    missing = client.get("/api/3/action/package_show?id=nope")
    assert missing.status_code == 404
    assert missing.json["success"] is False
    assert missing.json["error"]["__type"] == "Not Found Error"
    invalid = client.get("/api/3/action/package_search?rows=many")
    assert invalid.status_code == 409 and "rows" in invalid.json["error"]
    assert "message" not in invalid.json["error"]  # CKAN puts field errors only
    jsonp = client.get("/api/3/action/package_list?callback=show")
    assert jsonp.mimetype == "application/javascript"
    assert jsonp.get_data(as_text=True).startswith('show({"help"')
    assert client.get("/api/3/action/package_list?callback=alert(1)").status_code == 400


def test_unchanged_documents_answer_304(client: FlaskClient, site: dict[str, Any]) -> None:
    url = "/api/3/action/package_show?id=budget-2568"
    first = client.get(url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    system = Context(client.application.extensions["khlang"], system=True)
    services.package_patch(system, "budget-2568", {"version": "2.0"})
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["result"]["version"] == "2.0"


def test_cached_answers_follow_every_change_in_any_process(
    catalog: Catalog, site: dict[str, Any]
) -> None:
    # Two apps on two Catalog objects over one database: two server processes.
    first = create_app(catalog.settings, catalog=catalog).test_client()
    other = Catalog.open(catalog.settings)
    try:
        url = "/api/3/action/package_show?id=budget-2568"
        assert first.get(url).json["result"]["version"] == ""
        assert first.get(url).json["result"]["version"] == ""  # now answered from the cache
        services.package_patch(Context(other, system=True), "budget-2568", {"version": "3"})
        assert first.get(url).json["result"]["version"] == "3"
        searched = first.get("/api/3/action/package_search?q=*:*").json["result"]["count"]
        services.package_delete(Context(other, system=True), "roads-2567")
        after = first.get("/api/3/action/package_search?q=*:*").json["result"]["count"]
        assert (searched, after) == (2, 1)
    finally:
        other.close()


def test_signed_in_answers_are_never_served_to_others(
    catalog: Catalog, system: Context, site: dict[str, Any]
) -> None:
    member = make_user(system, "somsri")
    services.member_create(system, "ban-suan", member, "member")
    token = services.api_token_create(system, member, "cache")
    client = create_app(catalog.settings, catalog=catalog).test_client()
    url = "/api/3/action/package_search?q=งบประมาณ&include_private=true"
    signed_in = client.get(url, headers={"Authorization": token}).json["result"]
    assert signed_in["count"] == 2
    assert client.get(url).json["result"]["count"] == 1  # anonymous: public only
    assert client.get(url, headers={"Authorization": token}).json["result"]["count"] == 2


def test_messages_follow_the_language_asked(client: FlaskClient, site: dict[str, Any]) -> None:
    thai = client.get("/api/3/action/package_show?id=nope").json["error"]["message"]
    english = client.get("/api/3/action/package_show?id=nope&lang=en").json["error"]["message"]
    assert english == "Not found: dataset nope"
    assert thai != english and "nope" in thai


def test_every_action_is_documented_with_its_parameters() -> None:
    registered = actions()
    for name in (
        "status_show", "site_read", "package_list", "current_package_list_with_resources",
        "package_search", "package_show", "resource_show", "organization_list",
        "organization_show", "group_list", "group_show", "tag_list", "package_activity_list",
        "help_show",
    ):  # fmt: skip
        assert name in registered, name
    for name, found in registered.items():
        assert found.summary, f"{name} has no docstring"
        for field_name, field in found.params().fields.items():
            if field.load_only:  # aliases such as name_or_id
                continue
            wire = field.metadata.get("wire", (field.data_key or field_name,))
            documented = [w for w in wire if f":param {w}:" in found.doc]
            assert documented, f"{name} does not document {wire}"


def test_help_show_gives_each_actions_docstring(client: FlaskClient) -> None:
    response = client.get("/api/3/action/help_show?name=package_search")
    assert ":param fq:" in response.json["result"]
    assert client.get("/api/3/action/help_show?name=nope").status_code == 404
