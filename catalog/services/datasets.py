"""Dataset operations, named as CKAN names them: package_create, package_show, ..."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog import clock
from catalog.models import (
    Activity,
    Dataset,
    DatasetVersion,
    Group,
    Organization,
    Resource,
    Tag,
    User,
    dataset_tag,
)
from catalog.services import auth
from catalog.services.context import Context
from catalog.services.dictize import (
    DATASET_COLUMNS,
    RESOURCE_COLUMNS,
    dataset_dict,
    dataset_rows,
    jsonable,
    package_dicts,
)
from catalog.services.errors import NotFound, ValidationFailed
from catalog.services.history import diff_snapshots, record_activity, snapshot_version
from catalog.services.registry import action
from catalog.services.types import ActivityDict, PackageDict, TagDict
from schemas.actions import (
    ActivityListParams,
    CurrentPackageListParams,
    IdParams,
    PageParams,
    TagListParams,
)

# Keys of a package dict that are computed, never taken from input.
READ_ONLY = {
    "id",
    "type",
    "organization",
    "num_tags",
    "num_resources",
    "metadata_created",
    "metadata_modified",
    "creator_user_id",
    "version_number",
    "isopen",
    "license_title",
    "license_url",
    "extras",
    "author",
    "author_email",
    "relationships_as_subject",
    "relationships_as_object",
}


def validated(load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a marshmallow load and turn its errors into ValidationFailed."""
    try:
        return load()
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        raise ValidationFailed(messages) from None


def _validate_dataset(
    data: Mapping[str, Any], base: dict[str, Any] | None = None
) -> dict[str, Any]:
    from schemas.dataset import validate_dataset

    clean = {k: v for k, v in data.items() if k not in READ_ONLY}
    return validated(lambda: validate_dataset(clean, partial_base=base))


def find_org(session: Session, name_or_id: str) -> Organization | None:
    return session.scalar(
        select(Organization).where(
            (Organization.name == name_or_id) | (Organization.id == name_or_id),
            Organization.state == "active",
        )
    )


def dataset_loading() -> tuple[Any, ...]:
    """Loader options that fetch what a package dict shows in a few statements, instead of one
    lazy load per relation and dataset (which dominated package_show and package_search)."""
    return (
        joinedload(Dataset.organization).joinedload(Organization.parent),
        selectinload(Dataset.tags),
        selectinload(Dataset.groups),
        selectinload(Dataset.resources),
    )


def get_dataset(session: Session, name_or_id: str) -> Dataset:
    ds = session.scalar(
        select(Dataset).where((Dataset.name == name_or_id) | (Dataset.id == name_or_id))
    )
    if ds is None:
        raise NotFound(f"Not found: dataset {name_or_id}")
    return ds


def may_read(ctx: Context, session: Session, private: bool, state: str, owner_org_id: str) -> bool:
    """Whether the caller may read a dataset of these values: a public, published one
    without a query; otherwise members of its organisation (or of a parent) and sysadmins."""
    if not private and state == "published":
        return True
    return auth.can(ctx, session, "read_private", owner_org_id)


def can_read(ctx: Context, session: Session, ds: Dataset) -> bool:
    return may_read(ctx, session, ds.private, ds.state, ds.owner_org_id)


def readable_dataset(ctx: Context, session: Session, name_or_id: str) -> Dataset:
    """The dataset, if the caller may read it (its relations load when first used).

    :raises NotFound: unknown, or not readable by the caller: a private or unpublished dataset
        answers exactly like a missing one, so its existence is not given away.
    """
    ds = get_dataset(session, name_or_id)
    if not can_read(ctx, session, ds):
        raise NotFound(f"Not found: dataset {name_or_id}")
    return ds


def _tags(session: Session, names: list[str]) -> list[Tag]:
    tags = []
    for name in dict.fromkeys(names):
        tag = session.scalar(select(Tag).where(Tag.name == name))
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        tags.append(tag)
    return tags


def _groups(session: Session, names: list[str]) -> list[Group]:
    groups = []
    for name in dict.fromkeys(names):
        group = session.scalar(
            select(Group).where((Group.name == name) | (Group.id == name), Group.state == "active")
        )
        if group is None:
            raise ValidationFailed({"groups": [f"Group {name} does not exist."]})
        groups.append(group)
    return groups


def _apply(session: Session, ds: Dataset, clean: dict[str, Any]) -> None:
    """Copy validated values onto the model: columns, relations, then the rest as extras."""
    for column in DATASET_COLUMNS:
        value = clean.get(column)
        setattr(ds, column, value if value is not None else _column_default(column))
    ds.extras = {
        key: jsonable(value)
        for key, value in clean.items()
        if key not in DATASET_COLUMNS
        and key not in {"owner_org", "tags", "groups", "resources", "tag_string"}
    }
    ds.tags = _tags(session, list(clean.get("tags") or []))
    ds.groups = _groups(session, list(clean.get("groups") or []))


def _column_default(key: str) -> Any:
    column = Dataset.__table__.c[key]
    if column.default is not None and not callable(column.default.arg):
        return column.default.arg
    return None


def _link_resources(ds: Dataset, resources: list[dict[str, Any]]) -> None:
    """Replace the dataset's resources by the given list, keeping stored files of known ids."""
    from catalog.services.resources import apply_resource

    by_id = {r.id: r for r in ds.resources}
    kept: list[Resource] = []
    for position, data in enumerate(resources):
        res = by_id.get(data.get("id") or "") or Resource(dataset=ds)
        apply_resource(res, data)
        res.position = position
        kept.append(res)
    ds.resources = kept


def _resolve_owner(ctx: Context, session: Session, clean: dict[str, Any]) -> Organization:
    org = find_org(session, str(clean.get("owner_org") or ""))
    if org is None:
        raise ValidationFailed({"owner_org": ["Organization does not exist."]})
    auth.require(ctx, session, "write_dataset", org.id)
    return org


def _validate_resources(
    data: Mapping[str, Any], data_type: str | None
) -> list[dict[str, Any]] | None:
    if "resources" not in data or data["resources"] is None:
        return None
    from catalog.services.resources import validate_resource

    items = data["resources"]
    if not isinstance(items, list):
        raise ValidationFailed({"resources": ["Not a valid list."]})
    errors: dict[int, Any] = {}
    clean = []
    for index, item in enumerate(items):
        try:
            item = item if isinstance(item, dict) else {}
            clean.append(validate_resource(item, data_type=data_type))
        except ValidationFailed as exc:
            errors[index] = exc.errors
    if errors:
        raise ValidationFailed({"resources": errors})
    return clean


def package_create(ctx: Context, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create a dataset.

    :param data: a package dict: ``name``, ``title``, ``owner_org`` and the profile fields
        (see schemas.dataset); may hold ``resources`` given as links.
    :returns: the new package dict.
    :raises ValidationFailed: field errors; nothing is written.
    :raises NotAuthorized: the caller is not an editor or admin of ``owner_org``.
    """
    clean = _validate_dataset(data)
    resources = _validate_resources(data, clean.get("data_type"))
    with ctx.catalog.transaction() as session:
        org = _resolve_owner(ctx, session, clean)
        if session.scalar(select(Dataset.id).where(Dataset.name == clean["name"])):
            raise ValidationFailed({"name": ["That URL is already in use."]})
        user = auth.acting_user(ctx, session)
        ds = Dataset(
            name=clean["name"],
            title=clean["title"],
            owner_org_id=org.id,
            creator_user_id=user.id if user else None,
        )
        session.add(ds)
        _apply(session, ds, clean)
        ds.organization = org
        if resources:
            _link_resources(ds, resources)
        snapshot_version(ctx, session, ds, "created")
        record_activity(ctx, session, "new package", "dataset", ds.id, {"name": ds.name})
        return dataset_dict(ds, site_url=ctx.site_url)


class _Unchanged(Exception):
    """Raised inside a transaction to roll it back when an update changes nothing."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result


def _update(
    ctx: Context, name_or_id: str, data: Mapping[str, Any], *, patch: bool
) -> dict[str, Any]:
    try:
        return _update_in_transaction(ctx, name_or_id, data, patch=patch)
    except _Unchanged as unchanged:
        return unchanged.result


def _update_in_transaction(
    ctx: Context, name_or_id: str, data: Mapping[str, Any], *, patch: bool
) -> dict[str, Any]:
    with ctx.catalog.transaction() as session:
        ds = get_dataset(session, name_or_id)
        auth.require(ctx, session, "write_dataset", ds.owner_org_id)
        current = dataset_dict(ds)
        base = None
        if patch:
            base = {k: v for k, v in current.items() if k not in READ_ONLY | {"resources"}}
            base["owner_org"] = ds.organization.name
            base["tags"] = [t["name"] for t in current["tags"]]
            base["groups"] = [g["name"] for g in current["groups"]]
        clean = _validate_dataset({**data, "name": data.get("name", ds.name)}, base)
        resources = _validate_resources(data, clean.get("data_type"))
        org = _resolve_owner(ctx, session, {"owner_org": clean.get("owner_org") or ds.owner_org_id})
        if clean["name"] != ds.name and session.scalar(
            select(Dataset.id).where(Dataset.name == clean["name"])
        ):
            raise ValidationFailed({"name": ["That URL is already in use."]})
        ds.owner_org_id = org.id
        ds.organization = org
        _apply(session, ds, clean)
        if resources is not None:
            _link_resources(ds, resources)
        ds.modified = clock.utcnow()
        if snapshot_version(ctx, session, ds, "updated"):
            record_activity(ctx, session, "changed package", "dataset", ds.id, {"name": ds.name})
        else:
            raise _Unchanged(current)
        return dataset_dict(ds, site_url=ctx.site_url)


def package_update(ctx: Context, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace a dataset's metadata; fields left out return to their defaults.

    Resources are replaced only when ``resources`` is given. An update that changes nothing
    writes no version.

    :param id: the dataset's id or name.
    :param data: the full package dict.
    """
    return _update(ctx, id, data, patch=False)


def package_patch(ctx: Context, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Change only the given fields of a dataset; the merged result is validated as a whole.

    :param id: the dataset's id or name.
    :param data: the fields to change.
    """
    return _update(ctx, id, data, patch=True)


def _set_state(ctx: Context, id: str, state: str, activity: str) -> dict[str, Any]:
    with ctx.catalog.transaction() as session:
        ds = get_dataset(session, id)
        auth.require(ctx, session, "write_dataset", ds.owner_org_id)
        ds.state = state
        ds.modified = clock.utcnow()
        snapshot_version(ctx, session, ds, activity)
        record_activity(ctx, session, activity, "dataset", ds.id, {"name": ds.name})
        return dataset_dict(ds, site_url=ctx.site_url)


def package_delete(ctx: Context, id: str) -> dict[str, Any]:
    """Withdraw a dataset: it leaves public listings but every version is kept.

    Restore it with package_restore.
    """
    return _set_state(ctx, id, "withdrawn", "deleted package")


def package_restore(ctx: Context, id: str) -> dict[str, Any]:
    """Publish again a withdrawn (or draft) dataset."""
    return _set_state(ctx, id, "published", "restored package")


@action("package_show", IdParams)
def package_show(ctx: Context, id: str) -> PackageDict:
    """The package dict of a dataset: its metadata, resources, tags, groups and organisation.

    The GD Catalog fields are top-level keys, as the Thai GD Catalog CKAN extension emits
    them, and are listed again in ``extras`` for clients that read only those.

    :param id: the dataset's id or name (``name_or_id`` is accepted too).
    :raises NotFound: unknown, or private, draft or withdrawn and the caller may not see it.
    """
    with ctx.catalog.reader() as session:
        conn = session.connection()
        found = dataset_rows(conn, name_or_id=id)
        if not found or not may_read(
            ctx, session, found[0]["private"], found[0]["state"], found[0]["owner_org_id"]
        ):
            raise NotFound(f"Not found: dataset {id}")
        readable = auth.readable_org_ids(ctx, session)
        return package_dicts(conn, found, site_url=ctx.site_url, private_resources_of=readable)[0]


@action("package_list", PageParams)
def package_list(ctx: Context, limit: int | None = None, offset: int = 0) -> list[str]:
    """Names of the public, published datasets, ordered by name.

    :param limit: at most this many names (all when omitted).
    :param offset: skip this many names first (with ``limit``).
    """
    stmt = (
        select(Dataset.name)
        .where(Dataset.private.is_(False), Dataset.state == "published")
        .order_by(Dataset.name)
    )
    if limit is not None:
        stmt = stmt.limit(max(0, int(limit))).offset(max(0, int(offset)))
    with ctx.catalog.reader() as session:
        return list(session.scalars(stmt))


def dataset_list(
    ctx: Context, organization: str | None = None, limit: int = 100, offset: int = 0
) -> list[PackageDict]:
    """Datasets the caller may read, newest first, as package dicts."""
    with ctx.catalog.reader() as session:
        stmt = select(Dataset).order_by(Dataset.modified.desc(), Dataset.name)
        readable = auth.readable_org_ids(ctx, session)
        if readable is not None:
            public = Dataset.private.is_(False) & (Dataset.state == "published")
            stmt = stmt.where(public | Dataset.owner_org_id.in_(readable))
        if organization:
            org = find_org(session, organization)
            if org is None:
                raise NotFound(f"Not found: organization {organization}")
            stmt = stmt.where(Dataset.owner_org_id == org.id)
        rows = session.scalars(stmt.limit(limit).offset(offset))
        return [dataset_dict(ds, site_url=ctx.site_url) for ds in rows]


_PUBLIC = Dataset.private.is_(False) & (Dataset.state == "published")


@action("current_package_list_with_resources", CurrentPackageListParams)
def current_package_list_with_resources(
    ctx: Context, limit: int = 100, offset: int = 0
) -> list[PackageDict]:
    """Public, published datasets with their resources, most recently changed first.

    :param limit: datasets per page (at most 1000; default 100).
    :param offset: skip this many datasets first.
    :param page: page number from 1, in steps of ``limit`` (instead of ``offset``).
    """
    stmt = (
        select(Dataset.id)
        .where(_PUBLIC)
        .order_by(Dataset.modified.desc(), Dataset.id)
        .limit(limit)
        .offset(offset)
    )
    with ctx.catalog.reader() as session:
        ids = list(session.scalars(stmt))
        conn = session.connection()
        by_id = {ds["id"]: ds for ds in dataset_rows(conn, ids=ids)}
        return package_dicts(conn, [by_id[i] for i in ids if i in by_id], site_url=ctx.site_url)


@action("tag_list", TagListParams)
def tag_list(
    ctx: Context, query: str = "", vocabulary_id: str | None = None, all_fields: bool = False
) -> list[str] | list[TagDict]:
    """Tags of public, published datasets, in name order.

    :param query: only tags containing this text (``q`` is accepted too).
    :param vocabulary_id: Khlang has free tags only, so naming a vocabulary gives no tags.
    :param all_fields: give tag dicts instead of names.
    """
    if vocabulary_id:
        return []
    used = select(dataset_tag.c.tag_id).join(Dataset, Dataset.id == dataset_tag.c.dataset_id)
    stmt = select(Tag).where(Tag.id.in_(used.where(_PUBLIC))).order_by(Tag.name)
    if query:
        stmt = stmt.where(Tag.name.contains(query, autoescape=True))
    with ctx.catalog.reader() as session:
        tags = session.scalars(stmt).all()
    if not all_fields:
        return [t.name for t in tags]
    return [
        {
            "id": t.id,
            "name": t.name,
            "display_name": t.name,
            "state": "active",
            "vocabulary_id": None,
        }
        for t in tags
    ]


@action("package_activity_list", ActivityListParams)
def package_activity_list(
    ctx: Context, id: str, offset: int = 0, limit: int = 31
) -> list[ActivityDict]:
    """The changes of a dataset and of its resources, newest first: what was done, by whom
    and when.

    :param id: the dataset's id or name.
    :param offset: skip this many activities first.
    :param limit: at most this many (1 to 100; default 31).
    :raises NotFound: unknown, or not readable by the caller.
    """
    with ctx.catalog.reader() as session:
        ds = readable_dataset(ctx, session, id)
        rows = session.execute(
            select(Activity, User.name)
            .outerjoin(User, User.id == Activity.user_id)
            .where(
                (Activity.object_type == "dataset") & (Activity.object_id == ds.id)
                | (Activity.object_type == "resource")
                & Activity.object_id.in_(select(Resource.id).where(Resource.dataset_id == ds.id))
            )
            .order_by(Activity.timestamp.desc(), Activity.id)
            .limit(limit)
            .offset(offset)
        ).all()
        package = {"id": ds.id, "name": ds.name, "title": ds.title}
        return [
            {
                "id": activity.id,
                "timestamp": jsonable(activity.timestamp),
                "user_id": activity.user_id,
                "user_name": user_name,
                "object_id": activity.object_id,
                "activity_type": activity.activity_type,
                "data": {**(activity.data or {}), "package": package},
            }
            for activity, user_name in rows
        ]


def dataset_count(ctx: Context) -> int:
    with ctx.catalog.reader() as session:
        return session.scalar(
            select(func.count(Dataset.id)).where(
                Dataset.private.is_(False), Dataset.state == "published"
            )
        )


def dataset_version_list(ctx: Context, id: str) -> list[dict[str, Any]]:
    """The versions of a dataset, newest first: number, created, user and message."""
    with ctx.catalog.reader() as session:
        ds = readable_dataset(ctx, session, id)
        rows = session.execute(
            select(DatasetVersion, User.name)
            .outerjoin(User, User.id == DatasetVersion.user_id)
            .where(DatasetVersion.dataset_id == ds.id)
            .order_by(DatasetVersion.number.desc())
        )
        return [
            {"number": v.number, "created": jsonable(v.created), "user": name, "message": v.message}
            for v, name in rows
        ]


def dataset_version_show(ctx: Context, id: str, number: int) -> dict[str, Any]:
    """The package dict as it was at version `number`."""
    with ctx.catalog.reader() as session:
        ds = readable_dataset(ctx, session, id)
        version = session.scalar(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == ds.id, DatasetVersion.number == number
            )
        )
        if version is None:
            raise NotFound(f"Not found: version {number} of dataset {id}")
        return version.snapshot


def dataset_version_diff(ctx: Context, id: str, old: int, new: int) -> list[dict[str, Any]]:
    """Field-level changes between two versions of a dataset."""
    return diff_snapshots(dataset_version_show(ctx, id, old), dataset_version_show(ctx, id, new))


__all__ = [
    "RESOURCE_COLUMNS",
    "dataset_count",
    "dataset_list",
    "dataset_version_diff",
    "dataset_version_list",
    "dataset_version_show",
    "current_package_list_with_resources",
    "package_activity_list",
    "package_create",
    "package_delete",
    "package_list",
    "package_patch",
    "package_restore",
    "package_show",
    "package_update",
    "tag_list",
]
