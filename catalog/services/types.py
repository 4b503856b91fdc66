"""Typed results of the public actions: the dicts that cross from services to the doors.

They are the CKAN shapes (package, resource, organisation, ...), plus Khlang's own keys. A
package dict also carries the GD Catalog fields at its top level, as the Thai GD Catalog CKAN
extension emits them; those vary with the data type, so `PackageDict` is not closed (the
OpenAPI document says so with ``additionalProperties``).
"""

from __future__ import annotations

from typing import Any, TypedDict


class TagDict(TypedDict):
    id: str
    name: str
    display_name: str
    state: str
    vocabulary_id: str | None


class ExtraDict(TypedDict):
    key: str
    value: str


class _PublisherDict(TypedDict, total=False):
    """What organisation and group dicts share (CKAN's group_dictize)."""

    id: str
    name: str
    title: str
    title_en: str
    display_name: str
    description: str
    image_url: str
    image_display_url: str
    created: str | None
    state: str
    type: str
    is_organization: bool
    approval_status: str
    package_count: int
    packages: list[PackageDict]


class OrganizationDict(_PublisherDict, total=False):
    description_en: str
    org_type: str
    parent: str | None
    email: str
    phone: str
    website: str
    address: str
    children: list[str]


class GroupDict(_PublisherDict, total=False):
    family: str


class ResourceDict(TypedDict, total=False):
    id: str
    package_id: str
    position: int
    name: str
    name_en: str
    description: str
    format: str
    mimetype: str
    url: str
    url_type: str | None
    filename: str
    size: int | None
    hash: str
    schema: dict[str, Any] | None
    validation_status: str
    validation_report: dict[str, Any] | None
    datastore_active: bool
    private: bool
    state: str
    created: str | None
    last_modified: str | None


class PackageDict(TypedDict, total=False):
    id: str
    name: str
    title: str
    title_en: str
    notes: str
    notes_en: str
    type: str
    private: bool
    state: str
    license_id: str
    license_title: str
    license_url: str
    isopen: bool
    author: str
    author_email: str
    maintainer: str
    maintainer_email: str
    url: str
    version: str
    owner_org: str
    organization: OrganizationDict | None
    tags: list[TagDict]
    num_tags: int
    groups: list[GroupDict]
    resources: list[ResourceDict]
    num_resources: int
    extras: list[ExtraDict]
    relationships_as_subject: list[Any]
    relationships_as_object: list[Any]
    metadata_created: str | None
    metadata_modified: str | None
    creator_user_id: str | None
    version_number: int
    fiscal_year: int | None
    issued: str | None


class FacetItem(TypedDict):
    name: str
    display_name: str
    count: int


class SearchFacet(TypedDict):
    title: str
    items: list[FacetItem]


class PackageSearchDict(TypedDict):
    count: int
    results: list[PackageDict]
    facets: dict[str, dict[str, int]]
    search_facets: dict[str, SearchFacet]
    sort: str
    highlights: dict[str, str]
    suggestion: str | None


class ActivityDict(TypedDict):
    id: str
    timestamp: str
    user_id: str | None
    user_name: str | None
    object_id: str
    activity_type: str
    data: dict[str, Any]
