"""Organisation (publisher), group (theme) and membership operations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import clock
from catalog.models import Dataset, Group, Membership, Organization, User, dataset_group
from catalog.services import auth
from catalog.services.context import Context
from catalog.services.datasets import find_org, validated
from catalog.services.dictize import dataset_rows, group_dict, organization_dict, package_dicts
from catalog.services.errors import NotFound, ValidationFailed
from catalog.services.history import record_activity
from catalog.services.registry import action
from catalog.services.search import enqueue_group, enqueue_organization
from catalog.services.types import GroupDict, OrganizationDict, PackageDict
from schemas.actions import GroupListParams, GroupShowParams

#: Datasets `include_datasets` adds to an organisation or group, as CKAN does.
SHOWN_DATASETS = 10
#: CKAN's caps on organisation and group lists (names; dicts with all_fields).
LIST_MAX, LIST_MAX_ALL_FIELDS = 1000, 25

ORG_FIELDS = (
    "name",
    "title",
    "title_en",
    "description",
    "description_en",
    "org_type",
    "email",
    "phone",
    "website",
    "address",
    "image_url",
)


def _validate_org(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    from schemas.organization import OrganizationSchema

    clean = {k: v for k, v in data.items() if k not in {"id", "created", "state", "type"}}
    return validated(lambda: OrganizationSchema(partial=partial).load(clean))


def _get_org(session: Session, id: str) -> Organization:
    org = find_org(session, id)
    if org is None:
        raise NotFound(f"Not found: organization {id}")
    return org


def _set_parent(session: Session, org: Organization, parent_name: str | None) -> None:
    if not parent_name:
        org.parent_id = None
        return
    parent = find_org(session, parent_name)
    if parent is None:
        raise ValidationFailed({"parent": ["Organization does not exist."]})
    ancestor: Organization | None = parent
    while ancestor is not None:
        if ancestor.id == org.id:
            raise ValidationFailed({"parent": ["An organization cannot be its own ancestor."]})
        ancestor = ancestor.parent
    org.parent = parent


def _package_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Dataset.owner_org_id, func.count(Dataset.id))
        .where(Dataset.private.is_(False), Dataset.state == "published")
        .group_by(Dataset.owner_org_id)
    )
    return dict(rows.all())


def organization_create(ctx: Context, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create an organisation (sysadmins only).

    :param data: ``name``, ``title`` and optional ``title_en``, ``org_type``, ``parent``, contact.
    """
    clean = _validate_org(data)
    with ctx.catalog.transaction() as session:
        auth.require(ctx, session, "create_organization")
        if session.scalar(select(Organization.id).where(Organization.name == clean["name"])):
            raise ValidationFailed({"name": ["That URL is already in use."]})
        org = Organization(**{k: clean[k] for k in ORG_FIELDS if k in clean})
        session.add(org)
        session.flush()
        _set_parent(session, org, clean.get("parent"))
        record_activity(
            ctx, session, "new organization", "organization", org.id, {"name": org.name}
        )
        session.flush()
        return organization_dict(org, package_count=0)


def _org_change(ctx: Context, id: str, data: Mapping[str, Any], *, patch: bool) -> dict[str, Any]:
    clean = _validate_org(data, partial=patch)
    with ctx.catalog.transaction() as session:
        org = _get_org(session, id)
        auth.require(ctx, session, "manage_org", org.id)
        new_name = clean.get("name", org.name)
        if new_name != org.name and session.scalar(
            select(Organization.id).where(Organization.name == new_name)
        ):
            raise ValidationFailed({"name": ["That URL is already in use."]})
        for key in ORG_FIELDS:
            if key in clean:
                setattr(org, key, clean[key])
            elif not patch and key != "name":
                setattr(org, key, "" if key != "org_type" else "other")
        if "parent" in clean or not patch:
            _set_parent(session, org, clean.get("parent"))
        org.modified = clock.utcnow()
        enqueue_organization(session, org.id)
        record_activity(ctx, session, "changed organization", "organization", org.id, {})
        session.flush()
        return organization_dict(org, package_count=_package_counts(session).get(org.id, 0))


def organization_update(ctx: Context, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace an organisation's details (its admins or sysadmins)."""
    return _org_change(ctx, id, data, patch=False)


def organization_patch(ctx: Context, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Change only the given fields of an organisation."""
    return _org_change(ctx, id, data, patch=True)


def organization_delete(ctx: Context, id: str) -> None:
    """Retire an organisation (sysadmins only); refused while it still publishes datasets."""
    with ctx.catalog.transaction() as session:
        auth.require(ctx, session, "delete_organization")
        org = _get_org(session, id)
        live = session.scalar(
            select(func.count(Dataset.id)).where(
                Dataset.owner_org_id == org.id, Dataset.state != "withdrawn"
            )
        )
        if live:
            raise ValidationFailed(
                {"id": [f"Organization still has {live} datasets; withdraw or move them first."]}
            )
        org.state = "deleted"
        record_activity(ctx, session, "deleted organization", "organization", org.id, {})


def _public_datasets(ctx: Context, session: Session, condition: Any) -> list[PackageDict]:
    """CKAN's include_datasets: a first page of the public datasets, as the API shows them
    (a private file of theirs left out)."""
    ids = list(
        session.scalars(
            select(Dataset.id)
            .where(condition, Dataset.private.is_(False), Dataset.state == "published")
            .order_by(Dataset.modified.desc(), Dataset.id)
            .limit(SHOWN_DATASETS)
        )
    )
    conn = session.connection()
    by_id = {ds["id"]: ds for ds in dataset_rows(conn, ids=ids)}
    return package_dicts(conn, [by_id[i] for i in ids if i in by_id], site_url=ctx.site_url)


@action("organization_show", GroupShowParams)
def organization_show(
    ctx: Context, id: str, include_datasets: bool = False, include_dataset_count: bool = True
) -> OrganizationDict:
    """An organisation (publisher): titles, contact, parent and child organisations.

    :param id: the organisation's id or name.
    :param include_datasets: add ``packages``, its first public datasets (at most 10).
    :param include_dataset_count: add ``package_count``, its public datasets (default true).
    :raises NotFound: unknown or deleted.
    """
    with ctx.catalog.reader() as session:
        org = _get_org(session, id)
        count = _package_counts(session).get(org.id, 0) if include_dataset_count else None
        result = organization_dict(org, package_count=count)
        result["children"] = list(
            session.scalars(
                select(Organization.name)
                .where(Organization.parent_id == org.id, Organization.state == "active")
                .order_by(Organization.name)
            )
        )
        if include_datasets:
            result["packages"] = _public_datasets(ctx, session, Dataset.owner_org_id == org.id)
        return result


def _listing(
    session: Session,
    model: type[Organization] | type[Group],
    counts: dict[str, int],
    *,
    sort: str,
    q: str,
    names: list[str],
) -> list[Any]:
    stmt = select(model).where(model.state == "active")
    if q:
        stmt = stmt.where(
            model.name.contains(q, autoescape=True)
            | model.title.contains(q, autoescape=True)
            | model.title_en.contains(q, autoescape=True)
        )
    if names:
        stmt = stmt.where(model.name.in_(names))
    found = list(session.scalars(stmt))
    key, _, direction = sort.partition(" ")
    if key == "package_count":
        found.sort(key=lambda o: (-counts.get(o.id, 0), o.name))
    else:
        from search.thai import thai_sort_key  # Thai dictionary order, not code points

        found.sort(key=lambda o: (thai_sort_key(getattr(o, key) or ""), o.name))
    if (
        direction == "desc"
        and key != "package_count"
        or direction == "asc"
        and key == "package_count"
    ):
        found.reverse()
    return found


def _list(
    ctx: Context,
    model: type[Organization] | type[Group],
    to_dict: Callable[..., Any],
    counts_of: Callable[[Session], dict[str, int]],
    with_counts: bool,
    all_fields: bool,
    sort: str,
    limit: int | None,
    offset: int,
    q: str,
    names: list[str] | None,
) -> list[Any]:
    """organization_list and group_list: names, or dicts (with package counts if asked)."""
    cap = LIST_MAX_ALL_FIELDS if all_fields else LIST_MAX
    limit = cap if limit is None else min(limit, cap)
    with ctx.catalog.reader() as session:
        counts = counts_of(session)
        found = _listing(session, model, counts, sort=sort, q=q, names=names or [])
        found = found[offset : offset + limit]
        if not all_fields:
            return [o.name for o in found]
        return [
            to_dict(o, package_count=counts.get(o.id, 0) if with_counts else None) for o in found
        ]


@action("organization_list", GroupListParams)
def organization_list(
    ctx: Context,
    all_fields: bool = False,
    sort: str = "title asc",
    limit: int | None = None,
    offset: int = 0,
    q: str = "",
    names: list[str] | None = None,
    include_dataset_count: bool = True,
) -> list[str] | list[OrganizationDict]:
    """Active organisations: their names, or organisation dicts with ``all_fields``.

    :param all_fields: give organisation dicts instead of names.
    :param sort: ``title asc`` (default), ``name asc`` or ``package_count desc``; ``desc``
        or ``asc`` reverses.
    :param limit: at most this many (1000; 25 with ``all_fields``).
    :param offset: skip this many first.
    :param q: only organisations whose name or title contains this text.
    :param organizations: only these names.
    :param include_dataset_count: with ``all_fields``, add ``package_count`` (default true).
    """
    return _list(
        ctx, Organization, organization_dict, _package_counts, include_dataset_count,
        all_fields, sort, limit, offset, q, names,
    )  # fmt: skip


def member_create(ctx: Context, organization: str, username: str, role: str) -> dict[str, Any]:
    """Give `username` a role (admin, editor, member) in an organisation, or change it."""
    if role not in auth.ROLES:
        raise ValidationFailed({"role": [f"Must be one of: {', '.join(auth.ROLES)}."]})
    with ctx.catalog.transaction() as session:
        org = _get_org(session, organization)
        auth.require(ctx, session, "manage_members", org.id)
        user = session.scalar(select(User).where(User.name == username, User.state == "active"))
        if user is None:
            raise ValidationFailed({"username": ["User does not exist."]})
        membership = session.scalar(
            select(Membership).where(
                Membership.user_id == user.id, Membership.organization_id == org.id
            )
        )
        if membership is None:
            membership = Membership(user_id=user.id, organization_id=org.id, role=role)
            session.add(membership)
        membership.role = role
        record_activity(
            ctx, session, "changed member", "organization", org.id, {"user": username, "role": role}
        )
        return {"organization": org.name, "username": username, "role": role}


def member_delete(ctx: Context, organization: str, username: str) -> None:
    """Remove a user's role in an organisation."""
    with ctx.catalog.transaction() as session:
        org = _get_org(session, organization)
        auth.require(ctx, session, "manage_members", org.id)
        membership = session.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(User.name == username, Membership.organization_id == org.id)
        )
        if membership is None:
            raise NotFound(f"Not found: {username} is not a member of {organization}")
        session.delete(membership)
        record_activity(ctx, session, "deleted member", "organization", org.id, {"user": username})


def member_list(ctx: Context, organization: str) -> list[dict[str, str]]:
    """The users of an organisation with their roles (visible to its members)."""
    with ctx.catalog.reader() as session:
        org = _get_org(session, organization)
        auth.require(ctx, session, "read_private", org.id)
        rows = session.execute(
            select(User.name, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == org.id)
            .order_by(User.name)
        )
        return [{"username": name, "role": role} for name, role in rows]


def _validate_group(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    from schemas.dataset import GroupSchema

    clean = {k: v for k, v in data.items() if k not in {"id", "created", "state", "type"}}
    return validated(lambda: GroupSchema(partial=partial).load(clean))


def _get_group(session: Session, id: str) -> Group:
    group = session.scalar(
        select(Group).where((Group.name == id) | (Group.id == id), Group.state == "active")
    )
    if group is None:
        raise NotFound(f"Not found: group {id}")
    return group


GROUP_FIELDS = ("name", "title", "title_en", "description", "family", "image_url")


def group_create(ctx: Context, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create a group (theme) in one of the seven GD Catalog families (sysadmins only)."""
    clean = _validate_group(data)
    with ctx.catalog.transaction() as session:
        auth.require(ctx, session, "manage_groups")
        if session.scalar(select(Group.id).where(Group.name == clean["name"])):
            raise ValidationFailed({"name": ["That URL is already in use."]})
        group = Group(**{k: clean[k] for k in GROUP_FIELDS if k in clean})
        session.add(group)
        session.flush()
        record_activity(ctx, session, "new group", "group", group.id, {"name": group.name})
        return group_dict(group, package_count=0)


def group_patch(ctx: Context, id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Change the given fields of a group (sysadmins only)."""
    clean = _validate_group(data, partial=True)
    with ctx.catalog.transaction() as session:
        auth.require(ctx, session, "manage_groups")
        group = _get_group(session, id)
        for key in GROUP_FIELDS:
            if key in clean:
                setattr(group, key, clean[key])
        enqueue_group(session, group.id)
        record_activity(ctx, session, "changed group", "group", group.id, {})
        session.flush()
        return group_dict(group)


def group_delete(ctx: Context, id: str) -> None:
    """Retire a group (sysadmins only); its datasets stay, without the group."""
    with ctx.catalog.transaction() as session:
        auth.require(ctx, session, "manage_groups")
        group = _get_group(session, id)
        group.state = "deleted"
        enqueue_group(session, group.id)
        record_activity(ctx, session, "deleted group", "group", group.id, {})


def _group_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(dataset_group.c.group_id, func.count())
        .join(Dataset, Dataset.id == dataset_group.c.dataset_id)
        .where(Dataset.private.is_(False), Dataset.state == "published")
        .group_by(dataset_group.c.group_id)
    )
    return dict(rows.all())


@action("group_show", GroupShowParams)
def group_show(
    ctx: Context, id: str, include_datasets: bool = False, include_dataset_count: bool = True
) -> GroupDict:
    """A group (theme): its titles, description and count of public datasets.

    :param id: the group's id or name.
    :param include_datasets: add ``packages``, its first public datasets (at most 10).
    :param include_dataset_count: add ``package_count`` (default true).
    :raises NotFound: unknown or deleted.
    """
    with ctx.catalog.reader() as session:
        group = _get_group(session, id)
        count = _group_counts(session).get(group.id, 0) if include_dataset_count else None
        result = group_dict(group, package_count=count)
        if include_datasets:
            in_group = select(dataset_group.c.dataset_id).where(
                dataset_group.c.group_id == group.id
            )
            result["packages"] = _public_datasets(ctx, session, Dataset.id.in_(in_group))
        return result


@action("group_list", GroupListParams)
def group_list(
    ctx: Context,
    all_fields: bool = False,
    sort: str = "title asc",
    limit: int | None = None,
    offset: int = 0,
    q: str = "",
    names: list[str] | None = None,
    include_dataset_count: bool = True,
) -> list[str] | list[GroupDict]:
    """Active groups (themes): their names, or group dicts with ``all_fields``.

    :param all_fields: give group dicts instead of names.
    :param sort: ``title asc`` (default), ``name asc`` or ``package_count desc``.
    :param limit: at most this many (1000; 25 with ``all_fields``).
    :param offset: skip this many first.
    :param q: only groups whose name or title contains this text.
    :param groups: only these names.
    :param include_dataset_count: with ``all_fields``, add ``package_count`` (default true).
    """
    return _list(
        ctx, Group, group_dict, _group_counts, include_dataset_count,
        all_fields, sort, limit, offset, q, names,
    )  # fmt: skip
