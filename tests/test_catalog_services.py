"""The service layer on SQLite and PostgreSQL: what publishers and visitors would notice."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from catalog import services
from catalog.models import Activity, Dataset, DatasetVersion, Organization, Resource, Tag
from catalog.services import Context, NotAuthorized, NotFound, ValidationFailed
from catalog.services.search import package_search
from tests.factories import dataset_data, make_dataset, make_org, make_user


def counts(catalog: services.Catalog) -> dict[str, int]:
    with catalog.reader() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Dataset, DatasetVersion, Organization, Resource, Tag, Activity)
        }


@pytest.fixture
def org(system: Context) -> dict[str, Any]:
    return make_org(system, "ban-suan")


@pytest.fixture
def editor(system: Context, catalog: services.Catalog, org: dict[str, Any]) -> Context:
    name = make_user(system, "somchai")
    services.member_create(system, org["name"], name, "editor")
    return Context(catalog, user=name, lang="en")


def test_created_dataset_reads_back_with_profile_fields(editor: Context, org: dict) -> None:
    created = make_dataset(editor, org["name"], issued="1 ต.ค. 2566")
    shown = services.package_show(Context(editor.catalog), created["name"])
    assert shown["title"].startswith("งบประมาณรายจ่ายประจำปี")
    assert shown["organization"]["name"] == "ban-suan"
    assert shown["data_category"] == "ข้อมูลสาธารณะ"
    assert shown["objective"] == ["พันธกิจหน่วยงาน"]
    assert shown["issued"] == "2023-10-01"  # BE date stored as an ISO date
    assert sorted(t["name"] for t in shown["tags"]) == ["การคลัง", "งบประมาณ"]
    assert shown["version_number"] == 1
    assert shown["state"] == "published"


def test_anonymous_and_outsiders_cannot_write(
    catalog: services.Catalog, system: Context, org: dict
) -> None:
    with pytest.raises(NotAuthorized):
        services.package_create(Context(catalog), dataset_data(org["name"]))
    outsider = make_user(system, "outsider")
    with pytest.raises(NotAuthorized):
        services.package_create(Context(catalog, user=outsider), dataset_data(org["name"]))
    member = make_user(system, "reader")
    services.member_create(system, org["name"], member, "member")
    with pytest.raises(NotAuthorized):
        services.package_create(Context(catalog, user=member), dataset_data(org["name"]))
    assert counts(catalog)["dataset"] == 0


def test_role_in_parent_organisation_reaches_children(
    catalog: services.Catalog, system: Context
) -> None:
    ministry = make_org(system, "ministry", org_type="ministry")
    department = make_org(system, "department", org_type="department", parent="ministry")
    assert services.organization_show(system, "department")["parent"] == "ministry"
    assert services.organization_show(system, "ministry")["children"] == ["department"]
    boss = make_user(system, "boss")
    services.member_create(system, ministry["name"], boss, "admin")
    created = make_dataset(Context(catalog, user=boss), department["name"])
    assert created["organization"]["name"] == "department"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"name": "Not A Slug!"}, "name"),
        ({"maintainer_email": "not-an-email"}, "maintainer_email"),
        ({"data_classification": "ลับ"}, "data_classification"),
        ({"license_id": "no-such-licence"}, "license_id"),
        ({"title": "ก" * 5000}, "title"),
        ({"owner_org": "no-such-org"}, "owner_org"),
        ({"groups": ["no-such-group"]}, "groups"),
        ({"unexpected_field": "x"}, "unexpected_field"),
    ],
)
def test_bad_input_gives_field_errors_and_changes_nothing(
    editor: Context, org: dict, change: dict, field: str
) -> None:
    make_dataset(editor, org["name"], name="existing")
    before = counts(editor.catalog)
    data = dataset_data(org["name"])
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValidationFailed) as info:
        services.package_create(editor, data)
    assert field in info.value.errors
    thai = info.value.localised_errors("th")[field]
    assert thai and thai != info.value.errors[field] or field in {"owner_org", "groups"}
    assert counts(editor.catalog) == before


def test_duplicate_name_is_refused(editor: Context, org: dict) -> None:
    make_dataset(editor, org["name"], name="budget-2567")
    before = counts(editor.catalog)
    with pytest.raises(ValidationFailed) as info:
        make_dataset(editor, org["name"], name="budget-2567")
    assert "name" in info.value.errors
    assert counts(editor.catalog) == before


def test_duplicate_organisation_and_unknown_parent(system: Context, org: dict) -> None:
    with pytest.raises(ValidationFailed) as info:
        make_org(system, org["name"])
    assert "name" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        make_org(system, "orphan", parent="nowhere")
    assert "parent" in info.value.errors
    with pytest.raises(NotFound):
        services.organization_show(system, "orphan")


def test_every_change_makes_a_version_and_diffs_name_fields(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"])
    services.package_patch(editor, ds["name"], {"title": "งบประมาณ ฉบับแก้ไข", "tags": ["งบ"]})
    unchanged = services.package_patch(editor, ds["name"], {"title": "งบประมาณ ฉบับแก้ไข"})
    assert unchanged["version_number"] == 2  # a no-op update writes no version
    versions = services.dataset_version_list(editor, ds["name"])
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["user"] == "somchai"
    first = services.dataset_version_show(editor, ds["name"], 1)
    assert first["title"] == ds["title"]  # the old version is kept as it was
    diff = {d["field"]: d for d in services.dataset_version_diff(editor, ds["name"], 1, 2)}
    assert diff["title"]["new"] == "งบประมาณ ฉบับแก้ไข"
    assert diff["title"]["old"] == ds["title"]
    assert any(key.startswith("tags") for key in diff)
    assert "metadata_modified" not in diff


def test_patch_is_validated_as_a_whole(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"])
    with pytest.raises(ValidationFailed) as info:
        services.package_patch(editor, ds["name"], {"data_category": "ข้อมูลความมั่นคง"})
    assert "data_classification" in info.value.errors or "private" in info.value.errors
    assert services.package_show(editor, ds["name"])["data_category"] == "ข้อมูลสาธารณะ"


def test_update_resets_fields_left_out(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"], title_en="Budget")
    data = dataset_data(org["name"], name=ds["name"])
    data.pop("title_en")
    updated = services.package_update(editor, ds["name"], data)
    assert updated["title_en"] == ""


def test_withdraw_hides_and_restore_brings_back(
    catalog: services.Catalog, editor: Context, org: dict
) -> None:
    ds = make_dataset(editor, org["name"])
    anonymous = Context(catalog)
    services.package_delete(editor, ds["name"])
    assert ds["name"] not in services.package_list(anonymous)
    with pytest.raises(NotFound):
        services.package_show(anonymous, ds["name"])
    assert services.package_show(editor, ds["name"])["state"] == "withdrawn"
    services.package_restore(editor, ds["name"])
    assert services.package_show(anonymous, ds["name"])["state"] == "published"
    assert len(services.dataset_version_list(editor, ds["name"])) == 3


def test_private_and_internal_data_stay_hidden(
    catalog: services.Catalog, editor: Context, org: dict
) -> None:
    internal = make_dataset(
        editor,
        org["name"],
        data_category="ข้อมูลใช้ภายใน",
        data_classification="ชั้นเผยแพร่ภายในองค์กร",
        private=True,
    )
    anonymous = Context(catalog)
    assert internal["name"] not in services.package_list(anonymous)
    assert services.dataset_list(anonymous) == []
    with pytest.raises(NotFound):  # answered exactly like a missing dataset
        services.package_show(anonymous, internal["name"])
    assert services.package_show(editor, internal["name"])["private"] is True
    with pytest.raises(ValidationFailed) as info:
        make_dataset(
            editor,
            org["name"],
            data_category="ข้อมูลใช้ภายใน",
            data_classification="ชั้นเผยแพร่ภายในองค์กร",
            private=False,
        )
    assert "private" in info.value.errors


def test_metadata_only_dataset_has_no_resources(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"])
    assert ds["resources"] == [] and ds["num_resources"] == 0


def test_uploaded_file_is_stored_once_and_streams_back(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"])
    body = "fiscal_year,item,amount\n2567,ค่าจ้างชั่วคราว,120000\n".encode()
    first = services.resource_create(
        editor, {"package_id": ds["name"], "name": "งบประมาณ CSV"}, io.BytesIO(body), "budget.csv"
    )
    second = services.resource_create(
        editor, {"package_id": ds["name"], "name": "สำเนา"}, io.BytesIO(body), "copy.csv"
    )
    assert first["storage_key"] == second["storage_key"]
    assert first["format"] == "CSV" and first["size"] == len(body)
    assert list(editor.catalog.storage.iter_keys()) == [first["storage_key"]]
    info, stream, url = services.resource_download(Context(editor.catalog), first["id"])
    assert url is None and stream is not None
    assert stream.read() == body
    shown = services.package_show(editor, ds["name"])
    assert [r["name"] for r in shown["resources"]] == ["งบประมาณ CSV", "สำเนา"]
    assert shown["version_number"] == 3


def test_oversized_upload_is_refused_and_nothing_changes(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"])
    catalog = editor.catalog
    catalog.settings = catalog.settings.replace(MAX_UPLOAD_MB=1)
    before = counts(catalog)
    with pytest.raises(ValidationFailed) as info:
        services.resource_create(
            editor,
            {"package_id": ds["name"], "name": "ใหญ่เกิน"},
            io.BytesIO(b"x" * (1024 * 1024 + 1)),
            "big.csv",
        )
    assert "upload" in info.value.errors
    assert counts(catalog) == before
    assert list(catalog.storage.iter_keys()) == []


def test_resource_link_patch_and_delete_keep_history(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"])
    res = services.resource_create(
        editor,
        {"package_id": ds["name"], "name": "ประกาศ", "url": "https://example.org/doc.pdf"},
    )
    assert res["format"] == "PDF"
    patched = services.resource_patch(editor, res["id"], {"description": "ฉบับลงนาม"})
    assert patched["url"] == "https://example.org/doc.pdf"
    assert patched["description"] == "ฉบับลงนาม"
    services.resource_delete(editor, res["id"])
    assert services.package_show(editor, ds["name"])["resources"] == []
    with pytest.raises(NotFound):
        services.resource_show(editor, res["id"])
    old = services.dataset_version_show(editor, ds["name"], 3)
    assert old["resources"][0]["description"] == "ฉบับลงนาม"


def test_activity_records_who_did_what(editor: Context, org: dict) -> None:
    ds = make_dataset(editor, org["name"])
    services.package_patch(editor, ds["name"], {"title_en": "Changed"})
    with editor.catalog.reader() as session:
        rows = session.execute(
            select(Activity.activity_type)
            .where(Activity.object_id == ds["id"])
            .order_by(Activity.timestamp)
        ).scalars()
        assert list(rows) == ["new package", "changed package"]


def test_api_tokens_authenticate_until_revoked_or_expired(
    catalog: services.Catalog, system: Context
) -> None:
    user = make_user(system, "publisher")
    token = services.api_token_create(Context(catalog, user=user), user, "harvester")
    assert services.user_for_token(system, token) == "publisher"
    assert services.user_for_token(system, token + "x") is None
    expired = services.api_token_create(system, user, "old", days=-1)
    assert services.user_for_token(system, expired) is None
    assert services.api_token_revoke(system, user, "harvester") == 1
    assert services.user_for_token(system, token) is None
    with pytest.raises(NotAuthorized):
        services.api_token_create(Context(catalog, user="publisher"), "someone-else", "x")


def test_groups_and_member_management(
    catalog: services.Catalog, system: Context, org: dict
) -> None:
    services.group_create(
        system, {"name": "budget", "title": "งบประมาณและการคลัง", "family": "category04"}
    )
    admin = make_user(system, "orgadmin")
    services.member_create(system, org["name"], admin, "admin")
    admin_ctx = Context(catalog, user=admin)
    editor = make_user(system, "neweditor")
    services.member_create(admin_ctx, org["name"], editor, "editor")
    assert {"username": "neweditor", "role": "editor"} in services.member_list(
        admin_ctx, org["name"]
    )
    ds = make_dataset(Context(catalog, user=editor), org["name"], groups=["budget"])
    assert [g["name"] for g in ds["groups"]] == ["budget"]
    assert services.group_show(system, "budget")["package_count"] == 1
    with pytest.raises(NotAuthorized):
        services.member_create(Context(catalog, user=editor), org["name"], admin, "member")
    services.group_delete(system, "budget")
    assert services.package_show(system, ds["name"])["groups"] == []
    found = package_search(system, "", facet_fields=["groups"])
    assert found["count"] >= 1 and "budget" not in found["facets"]["groups"]
    assert package_search(system, "", filters={"groups": ["budget"]})["count"] == 0
    with pytest.raises(ValidationFailed):
        services.member_create(admin_ctx, org["name"], editor, "owner")
