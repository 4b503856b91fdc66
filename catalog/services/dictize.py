"""Model → plain dict, in the shapes of CKAN's package/resource/organization dicts.

Two ways in, one way out: `dataset_dict` and friends read ORM objects (writes and version
snapshots, inside their transaction), and `dataset_rows` + `package_dicts` read the same columns
with a few Core statements (the read API: ORM loading and attribute access cost several times
more than the dicts themselves). Both end in the same builders, so the dicts are the same.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select

from catalog.models import Dataset, Group, Organization, Resource, Tag, dataset_group, dataset_tag
from catalog.services.types import (
    ExtraDict,
    GroupDict,
    OrganizationDict,
    PackageDict,
    ResourceDict,
    TagDict,
)

DATASET_COLUMNS = (
    "name",
    "title",
    "title_en",
    "notes",
    "notes_en",
    "private",
    "state",
    "license_id",
    "maintainer",
    "maintainer_email",
    "url",
    "version",
    "issued",
    "fiscal_year",
    "data_type",
    "data_category",
    "data_classification",
    "update_frequency_unit",
    "high_value_dataset",
)
RESOURCE_COLUMNS = ("name", "name_en", "description", "format", "mimetype", "url", "private")

# What each builder reads of its model: attribute names, which are also the column names.
_DATASET_KEYS = (
    "id",
    *DATASET_COLUMNS,
    "extras",
    "owner_org_id",
    "created",
    "modified",
    "creator_user_id",
    "version_number",
)
_ORGANIZATION_KEYS = (
    "id", "name", "title", "title_en", "description", "description_en", "org_type", "email",
    "phone", "website", "address", "image_url", "created", "state",
)  # fmt: skip
_GROUP_KEYS = (
    "id", "name", "title", "title_en", "description", "family", "image_url", "created", "state",
)  # fmt: skip
_RESOURCE_KEYS = (
    "id", "dataset_id", "position", "name", "name_en", "description", "format", "mimetype", "url",
    "storage_key", "filename", "size", "sha256", "table_schema", "validation_status",
    "validation_report", "datastore_status", "private", "state", "created", "modified", "extras",
)  # fmt: skip

# Values `jsonable` hands back unchanged (checked by exact type, which is faster than it).
_PLAIN = frozenset({str, int, bool, float, type(None)})


def jsonable(value: Any) -> Any:
    """Dates to ISO strings, recursively, so values can live in JSON columns and snapshots."""
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def _attributes(obj: Any, keys: Iterable[str]) -> dict[str, Any]:
    return {key: getattr(obj, key) for key in keys}


def _organization(
    org: Mapping[str, Any], parent: str | None, package_count: int | None = None
) -> OrganizationDict:
    result: OrganizationDict = {
        "id": org["id"],
        "name": org["name"],
        "title": org["title"],
        "title_en": org["title_en"],
        "display_name": org["title"],
        "description": org["description"],
        "description_en": org["description_en"],
        "org_type": org["org_type"],
        "parent": parent,
        "email": org["email"],
        "phone": org["phone"],
        "website": org["website"],
        "address": org["address"],
        "image_url": org["image_url"],
        "image_display_url": org["image_url"],
        "created": jsonable(org["created"]),
        "state": org["state"],
        "type": "organization",
        "is_organization": True,
        "approval_status": "approved",
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def organization_dict(org: Organization, *, package_count: int | None = None) -> OrganizationDict:
    parent = org.parent.name if org.parent else None
    return _organization(_attributes(org, _ORGANIZATION_KEYS), parent, package_count)


def _group(group: Mapping[str, Any], package_count: int | None = None) -> GroupDict:
    result: GroupDict = {
        "id": group["id"],
        "name": group["name"],
        "title": group["title"],
        "title_en": group["title_en"],
        "display_name": group["title"],
        "description": group["description"],
        "family": group["family"],
        "image_url": group["image_url"],
        "image_display_url": group["image_url"],
        "created": jsonable(group["created"]),
        "state": group["state"],
        "type": "group",
        "is_organization": False,
        "approval_status": "approved",
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def group_dict(group: Group, *, package_count: int | None = None) -> GroupDict:
    return _group(_attributes(group, _GROUP_KEYS), package_count)


def _resource(res: Mapping[str, Any], site_url: str) -> ResourceDict:
    url = res["url"]
    storage_key = res["storage_key"]
    if storage_key and not url:
        url = (
            f"{site_url}/dataset/{res['dataset_id']}/resource/{res['id']}"
            f"/download/{res['filename'] or 'file'}"
        )
    return {  # type: ignore[typeddict-item]  # the resource's GD Catalog extras ride along
        "id": res["id"],
        "package_id": res["dataset_id"],
        "position": res["position"],
        "name": res["name"],
        "name_en": res["name_en"],
        "description": res["description"],
        "format": res["format"],
        "mimetype": res["mimetype"],
        "url": url,
        "url_type": "upload" if storage_key else None,
        "storage_key": storage_key,
        "filename": res["filename"],
        "size": res["size"],
        "hash": f"sha256:{res['sha256']}" if res["sha256"] else "",
        "schema": res["table_schema"],
        "validation_status": res["validation_status"],
        "validation_report": res["validation_report"],
        "datastore_active": res["datastore_status"] == "active",
        "private": res["private"],
        "state": res["state"],
        "created": jsonable(res["created"]),
        "last_modified": jsonable(res["modified"]),
        **res["extras"],
    }


def resource_dict(res: Resource, *, site_url: str = "") -> ResourceDict:
    return _resource(_attributes(res, _RESOURCE_KEYS), site_url)


def _tag(tag_id: str, name: str) -> TagDict:
    return {
        "id": tag_id,
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


#: Keys of CKAN's own package dict: everything else at the top level is a profile field, which
#: is also listed in `extras` for CKAN clients that read only those (e.g. a plain CKAN harvester).
CKAN_PACKAGE_KEYS = frozenset(
    {
        "id", "name", "title", "notes", "private", "state", "license_id", "maintainer",
        "maintainer_email", "url", "version", "type", "author", "author_email",
    }
)  # fmt: skip

# json.dumps(value, ensure_ascii=False) makes an encoder per call; this one writes the same.
_to_json = json.JSONEncoder(ensure_ascii=False).encode
_json_string = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (the C one)


def _json_text(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, quicker for the usual extras: booleans,
    integers and lists of strings."""
    kind = value.__class__
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is list and all(item.__class__ is str for item in value):
        return "[" + ", ".join(map(_json_string, value)) + "]"
    return _to_json(value)


def _extras(result: dict[str, Any]) -> list[ExtraDict]:
    extras: list[ExtraDict] = []
    for key, value in result.items():
        if key in CKAN_PACKAGE_KEYS or value is None or value == "" or value == []:
            continue
        text = value if isinstance(value, str) else _json_text(value)
        extras.append({"key": key, "value": text})
    return extras


@lru_cache(maxsize=1024)
def _licence(license_id: str) -> tuple[str, str, bool]:
    """`license_title`, `license_url` and `isopen` of a dataset's licence id (a short list)."""
    from schemas.vocab import find_license

    licence = find_license(license_id) if license_id else None
    if licence is None:
        return license_id, "", False
    return licence.title, licence.url, bool(licence.isopen)


def _package(
    ds: Mapping[str, Any],
    organization: OrganizationDict,
    tags: list[TagDict],
    groups: list[GroupDict],
    resources: list[ResourceDict],
) -> PackageDict:
    result: dict[str, Any] = {"id": ds["id"], "type": "dataset"}
    for column in DATASET_COLUMNS:
        value = ds[column]
        result[column] = value if value.__class__ in _PLAIN else jsonable(value)
    result.update(ds["extras"])
    result["extras"] = _extras(result)
    result["license_title"], result["license_url"], result["isopen"] = _licence(ds["license_id"])
    result["author"] = organization["title"]
    result["author_email"] = organization["email"] or ""
    result["owner_org"] = ds["owner_org_id"]
    result["organization"] = organization
    result["tags"] = tags
    result["num_tags"] = len(tags)
    result["groups"] = groups
    result["resources"] = resources
    result["num_resources"] = len(resources)
    result["metadata_created"] = jsonable(ds["created"])
    result["metadata_modified"] = jsonable(ds["modified"])
    result["creator_user_id"] = ds["creator_user_id"]
    result["version_number"] = ds["version_number"]
    result["relationships_as_subject"] = []
    result["relationships_as_object"] = []
    return result  # type: ignore[return-value]


def dataset_dict(ds: Dataset, *, site_url: str = "") -> PackageDict:
    """The package dict of a dataset: CKAN's keys, the profile's fields at the top level."""
    return _package(
        _attributes(ds, _DATASET_KEYS),
        organization_dict(ds.organization),
        [_tag(t.id, t.name) for t in ds.tags],
        [group_dict(g) for g in ds.active_groups],
        [resource_dict(r, site_url=site_url) for r in ds.resources if r.state == "active"],
    )


# The read path: Core statements built once (SQLAlchemy caches their compiled form).
_dataset = Dataset.__table__
_organization_table = Organization.__table__
_parent = _organization_table.alias("parent")
_IDS = bindparam("ids", expanding=True)

_DATASET_ROWS: Select[Any] = select(
    *(_dataset.c[key] for key in _DATASET_KEYS),
    *(_organization_table.c[key] for key in _ORGANIZATION_KEYS),
    _parent.c.name,
).select_from(
    _dataset.join(
        _organization_table, _organization_table.c.id == _dataset.c.owner_org_id
    ).outerjoin(_parent, _parent.c.id == _organization_table.c.parent_id)
)
_BY_NAME_OR_ID = _DATASET_ROWS.where(
    (_dataset.c.name == bindparam("key")) | (_dataset.c.id == bindparam("key"))
)
_BY_IDS = _DATASET_ROWS.where(_dataset.c.id.in_(_IDS))
_tag_table, _group_table, _resource_table = Tag.__table__, Group.__table__, Resource.__table__


def _of_datasets(dataset_id: Any) -> tuple[Any, Any]:
    """`dataset_id IN :ids`, and `dataset_id = :id` for one dataset (no IN list to expand)."""
    return dataset_id.in_(_IDS), dataset_id == bindparam("id")


_TAGS = [
    select(dataset_tag.c.dataset_id, _tag_table.c.id, _tag_table.c.name)
    .join(_tag_table, _tag_table.c.id == dataset_tag.c.tag_id)
    .where(condition)
    .order_by(_tag_table.c.name)
    for condition in _of_datasets(dataset_tag.c.dataset_id)
]
_GROUPS = [
    select(dataset_group.c.dataset_id, *(_group_table.c[key] for key in _GROUP_KEYS))
    .join(_group_table, _group_table.c.id == dataset_group.c.group_id)
    .where(condition, _group_table.c.state == "active")
    .order_by(_group_table.c.name)
    for condition in _of_datasets(dataset_group.c.dataset_id)
]
_RESOURCES = [
    select(*(_resource_table.c[key] for key in _RESOURCE_KEYS))
    .where(condition)
    .order_by(_resource_table.c.position)
    for condition in _of_datasets(_resource_table.c.dataset_id)
]
_ND, _NO = len(_DATASET_KEYS), len(_ORGANIZATION_KEYS)
_BATCH = 500  # datasets per statement (as selectinload does)


def dataset_rows(
    conn: Connection, *, ids: Sequence[str] = (), name_or_id: str | None = None
) -> list[dict[str, Any]]:
    """Datasets' columns by id, or the one dataset named or numbered `name_or_id`, in no
    particular order; each with its organisation's columns under ``organization`` and the
    parent organisation's name under ``parent``. One statement."""
    if name_or_id is not None:
        rows = conn.execute(_BY_NAME_OR_ID, {"key": name_or_id}).fetchmany(1)
    else:
        rows = []
        for start in range(0, len(ids), _BATCH):
            rows += conn.execute(_BY_IDS, {"ids": list(ids[start : start + _BATCH])}).all()
    result = []
    for row in rows:
        ds = dict(zip(_DATASET_KEYS, row[:_ND], strict=True))
        ds["organization"] = dict(zip(_ORGANIZATION_KEYS, row[_ND : _ND + _NO], strict=True))
        ds["parent"] = row[-1]
        result.append(ds)
    return result


def package_dicts(
    conn: Connection,
    datasets: Sequence[Mapping[str, Any]],
    *,
    site_url: str = "",
    private_resources_of: Collection[str] | None = frozenset(),
) -> list[PackageDict]:
    """The package dicts of `datasets` (from `dataset_rows`), in their order: the same dicts
    as `dataset_dict` makes of the models, with their tags, groups and resources read in three
    statements.

    :param private_resources_of: ids of the organisations whose private resources the caller
        may see (None: all of them); others' private resources are left out, as if missing.
    """
    if len(datasets) > _BATCH:  # IN lists of bounded length
        return [
            package
            for start in range(0, len(datasets), _BATCH)
            for package in package_dicts(
                conn,
                datasets[start : start + _BATCH],
                site_url=site_url,
                private_resources_of=private_resources_of,
            )
        ]
    if not datasets:
        return []
    ids = [ds["id"] for ds in datasets]
    one = len(ids) == 1
    params = {"id": ids[0]} if one else {"ids": ids}
    tags: dict[str, list[TagDict]] = {i: [] for i in ids}
    for dataset_id, tag_id, name in conn.execute(_TAGS[one], params):
        tags[dataset_id].append(_tag(tag_id, name))
    groups: dict[str, list[GroupDict]] = {i: [] for i in ids}
    for row in conn.execute(_GROUPS[one], params):
        groups[row[0]].append(_group(dict(zip(_GROUP_KEYS, row[1:], strict=True))))
    resources: dict[str, list[ResourceDict]] = {i: [] for i in ids}
    owners = {ds["id"]: ds["owner_org_id"] for ds in datasets}
    for row in conn.execute(_RESOURCES[one], params):
        res = dict(zip(_RESOURCE_KEYS, row, strict=True))
        if res["state"] != "active":
            continue
        if res["private"] and private_resources_of is not None:
            if owners[res["dataset_id"]] not in private_resources_of:
                continue
        resources[res["dataset_id"]].append(_resource(res, site_url))
    organizations: dict[str, OrganizationDict] = {}
    result = []
    for ds in datasets:
        org = ds["organization"]
        built = organizations.get(org["id"])
        if built is None:
            built = organizations[org["id"]] = _organization(org, ds["parent"])
        result.append(
            _package(ds, dict(built), tags[ds["id"]], groups[ds["id"]], resources[ds["id"]])  # type: ignore[arg-type]
        )
    return result
