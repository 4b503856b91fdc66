"""Package dicts read with Core statements (`dataset_rows` + `package_dicts`, the read API's
path) are exactly the dicts built from the models: the same keys in the same order, lists in
the same order, the same values. The reference below is `dataset_dict` as it was written for
the models, before the read path was made cheaper; version snapshots (which still come from
the models) must equal it too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from catalog import services
from catalog.demo import load_demo
from catalog.models import Dataset, Group, Organization, Resource
from catalog.services import Catalog, Context, NotFound, dictize
from catalog.services.datasets import current_package_list_with_resources
from catalog.services.dictize import (
    DATASET_COLUMNS,
    _json_text,
    dataset_dict,
    dataset_rows,
    group_dict,
    jsonable,
    organization_dict,
    package_dicts,
    resource_dict,
)
from catalog.services.search import package_search

PRIVATE = "local-internal-audit-findings"
DRAFT = "thung-dao-rueang-regulations"

# ---------------------------------------------------------------------------------------------
# The reference: the model-based builders as they were.

CKAN_PACKAGE_KEYS = frozenset(
    {
        "id", "name", "title", "notes", "private", "state", "license_id", "maintainer",
        "maintainer_email", "url", "version", "type", "author", "author_email",
    }
)  # fmt: skip


def ref_organization(org: Organization) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "title": org.title,
        "title_en": org.title_en,
        "display_name": org.title,
        "description": org.description,
        "description_en": org.description_en,
        "org_type": org.org_type,
        "parent": org.parent.name if org.parent else None,
        "email": org.email,
        "phone": org.phone,
        "website": org.website,
        "address": org.address,
        "image_url": org.image_url,
        "image_display_url": org.image_url,
        "created": jsonable(org.created),
        "state": org.state,
        "type": "organization",
        "is_organization": True,
        "approval_status": "approved",
    }


def ref_group(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "title": group.title,
        "title_en": group.title_en,
        "display_name": group.title,
        "description": group.description,
        "family": group.family,
        "image_url": group.image_url,
        "image_display_url": group.image_url,
        "created": jsonable(group.created),
        "state": group.state,
        "type": "group",
        "is_organization": False,
        "approval_status": "approved",
    }


def ref_resource(res: Resource, site_url: str) -> dict[str, Any]:
    url = res.url
    if res.storage_key and not url:
        url = f"{site_url}/dataset/{res.dataset_id}/resource/{res.id}/download/{res.filename or 'file'}"
    return {
        "id": res.id,
        "package_id": res.dataset_id,
        "position": res.position,
        "name": res.name,
        "name_en": res.name_en,
        "description": res.description,
        "format": res.format,
        "mimetype": res.mimetype,
        "url": url,
        "url_type": "upload" if res.storage_key else None,
        "storage_key": res.storage_key,
        "filename": res.filename,
        "size": res.size,
        "hash": f"sha256:{res.sha256}" if res.sha256 else "",
        "schema": res.table_schema,
        "validation_status": res.validation_status,
        "validation_report": res.validation_report,
        "datastore_active": res.datastore_status == "active",
        "private": res.private,
        "state": res.state,
        "created": jsonable(res.created),
        "last_modified": jsonable(res.modified),
        **res.extras,
    }


def ref_extras(result: dict[str, Any]) -> list[dict[str, str]]:
    extras = []
    for key, value in result.items():
        if key in CKAN_PACKAGE_KEYS or value is None or value == "" or value == []:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        extras.append({"key": key, "value": text})
    return extras


def ref_dataset(ds: Dataset, site_url: str = "") -> dict[str, Any]:
    from schemas.vocab import find_license

    result: dict[str, Any] = {"id": ds.id, "type": "dataset"}
    for column in DATASET_COLUMNS:
        result[column] = jsonable(getattr(ds, column))
    result.update(ds.extras)
    result["extras"] = ref_extras(result)
    licence = find_license(ds.license_id) if ds.license_id else None
    result["license_title"] = licence.title if licence else ds.license_id
    result["license_url"] = licence.url if licence else ""
    result["isopen"] = bool(licence and licence.isopen)
    result["author"] = ds.organization.title
    result["author_email"] = ds.organization.email or ""
    result["owner_org"] = ds.owner_org_id
    result["organization"] = ref_organization(ds.organization)
    result["tags"] = [
        {
            "id": t.id,
            "name": t.name,
            "display_name": t.name,
            "state": "active",
            "vocabulary_id": None,
        }
        for t in ds.tags
    ]
    result["num_tags"] = len(ds.tags)
    result["groups"] = [ref_group(g) for g in ds.groups if g.state == "active"]
    resources = [r for r in ds.resources if r.state == "active"]
    result["resources"] = [ref_resource(r, site_url) for r in resources]
    result["num_resources"] = len(resources)
    result["metadata_created"] = jsonable(ds.created)
    result["metadata_modified"] = jsonable(ds.modified)
    result["creator_user_id"] = ds.creator_user_id
    result["version_number"] = ds.version_number
    result["relationships_as_subject"] = []
    result["relationships_as_object"] = []
    return result


# ---------------------------------------------------------------------------------------------


def same(got: Any, expected: Any) -> None:
    """Equal, with keys in the same order and values of the same JSON types."""
    assert got == expected
    assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


SITE = "https://data.example.org"


@pytest.fixture
def demo(catalog: Catalog) -> Context:
    """The demo catalogue, with a retired group and a removed resource (both must not show)."""
    ctx = Context(catalog, system=True, lang="en", base_url=SITE)
    load_demo(ctx)
    with catalog.reader() as session:
        group = session.scalars(select(Group).order_by(Group.name)).first()
        res = session.scalars(select(Resource).order_by(Resource.id)).first()
        assert group is not None and res is not None
        group_id, res_id = group.id, res.id
        parents = session.scalar(select(Organization.id).where(Organization.parent_id.is_not(None)))
        assert parents, "the demo has a child organisation"
    services.group_delete(ctx, group_id)
    services.resource_delete(ctx, res_id)
    return ctx


def references(catalog: Catalog) -> dict[str, dict[str, Any]]:
    with catalog.reader() as session:
        return {ds.id: ref_dataset(ds, SITE) for ds in session.scalars(select(Dataset))}


def test_read_path_builds_the_reference_dicts(demo: Context) -> None:
    expected = references(demo.catalog)
    assert len(expected) > 10
    ids = sorted(expected, reverse=True)
    with demo.catalog.reader() as session:
        conn = session.connection()
        rows = {ds["id"]: ds for ds in dataset_rows(conn, ids=ids)}
        got = package_dicts(conn, [rows[i] for i in ids], site_url=SITE)
        assert [d["id"] for d in got] == ids
        for built in got:
            same(built, expected[built["id"]])
        for name_or_id in (expected[ids[0]]["name"], ids[1]):
            (row,) = dataset_rows(conn, name_or_id=name_or_id)
            (one,) = package_dicts(conn, [row], site_url=SITE)
            same(one, expected[row["id"]])
        assert dataset_rows(conn, name_or_id="no-such-dataset") == []
        assert package_dicts(conn, []) == []
    # Something to compare: groups (one retired), tags, resources (one removed), parents.
    values = list(expected.values())
    assert any(d["groups"] for d in values) and any(d["tags"] for d in values)
    assert any(d["organization"]["parent"] for d in values)
    assert any(r["url_type"] == "upload" for d in values for r in d["resources"])


def test_package_show_and_search_answer_the_reference(demo: Context) -> None:
    expected = references(demo.catalog)
    for ds in expected.values():
        same(services.package_show(demo, ds["name"]), ds)
        same(services.package_show(demo, ds["id"]), ds)
    found = package_search(demo, q="", rows=1000, sort="name", include_drafts=True)
    assert found["count"] == len(expected)
    names = [d["name"] for d in found["results"]]
    assert names == sorted(names)
    for ds in found["results"]:
        same(ds, expected[ds["id"]])
    anonymous = Context(demo.catalog, lang="en")
    for hidden in (PRIVATE, DRAFT):
        with pytest.raises(NotFound):
            services.package_show(anonymous, hidden)
    public = package_search(anonymous, q="", rows=1000)["results"]
    assert {PRIVATE, DRAFT}.isdisjoint(d["name"] for d in public)


def test_long_lists_are_read_in_batches(demo: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = references(demo.catalog)
    ids = sorted(expected)
    monkeypatch.setattr(dictize, "_BATCH", 3)
    with demo.catalog.reader() as session:
        conn = session.connection()
        rows = {ds["id"]: ds for ds in dataset_rows(conn, ids=ids)}
        assert sorted(rows) == ids
        got = package_dicts(conn, [rows[i] for i in ids], site_url=SITE)
    assert [d["id"] for d in got] == ids
    for built in got:
        same(built, expected[built["id"]])
    listed = current_package_list_with_resources(demo, limit=1000)
    assert listed and len(listed) < len(expected)  # public and published only
    for ds in listed:
        same(ds, expected[ds["id"]])


def test_model_path_builds_the_reference_dicts(demo: Context) -> None:
    """`dataset_dict` of the models (version snapshots, write answers) is unchanged, and so
    are the organisation, group and resource dicts."""
    with demo.catalog.reader() as session:
        for ds in session.scalars(select(Dataset)):
            same(dataset_dict(ds, site_url=SITE), ref_dataset(ds, SITE))
            same(dataset_dict(ds), ref_dataset(ds))
            same(organization_dict(ds.organization), ref_organization(ds.organization))
            same(
                organization_dict(ds.organization, package_count=3),
                {**ref_organization(ds.organization), "package_count": 3},
            )
            for group in ds.groups:
                same(group_dict(group), ref_group(group))
            for res in ds.resources:
                same(resource_dict(res, site_url=SITE), ref_resource(res, SITE))


def test_latest_snapshot_is_the_reference(demo: Context) -> None:
    expected = references(demo.catalog)
    for ds in list(expected.values())[:5]:
        services.package_patch(demo, ds["id"], {"version": "2.0"})
        (latest, *_) = services.dataset_version_list(demo, ds["id"])
        snapshot = services.dataset_version_show(demo, ds["id"], latest["number"])
        with demo.catalog.reader() as session:
            model = session.get(Dataset, ds["id"])
            assert model is not None
            # Setting the version number after the snapshot moves `modified` once more.
            expected_snapshot = ref_dataset(model)
            expected_snapshot["metadata_modified"] = snapshot["metadata_modified"]
            # Stored as JSON (JSONB on PostgreSQL keeps no key order): compare values only.
            assert snapshot == expected_snapshot


@pytest.mark.parametrize(
    "value",
    [True, False, 0, -7, 10**30, 1.5, float("nan"), ["a"], ["ไทย", 'q"\\\n\x01\u2028'], ["a", 1],
     [1, 2], [None], {"a": [1, "ข"]}, ("a",), [["a"]]],
)  # fmt: skip
def test_json_text_is_json_dumps(value: Any) -> None:
    assert _json_text(value) == json.dumps(value, ensure_ascii=False)
