"""Model → plain dict, in the shapes of CKAN's package/resource/organization dicts."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from catalog.models import Dataset, Group, Organization, Resource
from catalog.services.types import (
    ExtraDict,
    GroupDict,
    OrganizationDict,
    PackageDict,
    ResourceDict,
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


def jsonable(value: Any) -> Any:
    """Dates to ISO strings, recursively, so values can live in JSON columns and snapshots."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def organization_dict(org: Organization, *, package_count: int | None = None) -> OrganizationDict:
    result: OrganizationDict = {
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
    if package_count is not None:
        result["package_count"] = package_count
    return result


def group_dict(group: Group, *, package_count: int | None = None) -> GroupDict:
    result: GroupDict = {
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
    if package_count is not None:
        result["package_count"] = package_count
    return result


def resource_dict(res: Resource, *, site_url: str = "") -> ResourceDict:
    url = res.url
    if res.storage_key and not url:
        url = f"{site_url}/dataset/{res.dataset_id}/resource/{res.id}/download/{res.filename or 'file'}"
    return {  # type: ignore[typeddict-item]  # the resource's GD Catalog extras ride along
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


#: Keys of CKAN's own package dict: everything else at the top level is a profile field, which
#: is also listed in `extras` for CKAN clients that read only those (e.g. a plain CKAN harvester).
CKAN_PACKAGE_KEYS = frozenset(
    {
        "id", "name", "title", "notes", "private", "state", "license_id", "maintainer",
        "maintainer_email", "url", "version", "type", "author", "author_email",
    }
)  # fmt: skip


def _extras(result: dict[str, Any]) -> list[ExtraDict]:
    extras: list[ExtraDict] = []
    for key, value in result.items():
        if key in CKAN_PACKAGE_KEYS or value is None or value == "" or value == []:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        extras.append({"key": key, "value": text})
    return extras


def dataset_dict(ds: Dataset, *, site_url: str = "") -> PackageDict:
    """The package dict of a dataset: CKAN's keys, the profile's fields at the top level."""
    from schemas.vocab import find_license

    result: dict[str, Any] = {"id": ds.id, "type": "dataset"}
    for column in DATASET_COLUMNS:
        result[column] = jsonable(getattr(ds, column))
    result.update(ds.extras)
    result["extras"] = _extras(result)
    licence = find_license(ds.license_id) if ds.license_id else None
    result["license_title"] = licence.title if licence else ds.license_id
    result["license_url"] = licence.url if licence else ""
    result["isopen"] = bool(licence and licence.isopen)
    result["author"] = ds.organization.title
    result["author_email"] = ds.organization.email or ""
    result["owner_org"] = ds.owner_org_id
    result["organization"] = organization_dict(ds.organization)
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
    result["groups"] = [group_dict(g) for g in ds.active_groups]
    resources = [r for r in ds.resources if r.state == "active"]
    result["resources"] = [resource_dict(r, site_url=site_url) for r in resources]
    result["num_resources"] = len(resources)
    result["metadata_created"] = jsonable(ds.created)
    result["metadata_modified"] = jsonable(ds.modified)
    result["creator_user_id"] = ds.creator_user_id
    result["version_number"] = ds.version_number
    result["relationships_as_subject"] = []
    result["relationships_as_object"] = []
    return result  # type: ignore[return-value]
