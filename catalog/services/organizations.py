"""Organisation (publisher), group (theme) and membership operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import clock
from catalog.models import Dataset, Group, Membership, Organization, User, dataset_group
from catalog.services import auth
from catalog.services.context import Context
from catalog.services.datasets import find_org, validated
from catalog.services.dictize import group_dict, organization_dict
from catalog.services.errors import NotFound, ValidationFailed
from catalog.services.history import record_activity
from catalog.services.search import enqueue_group, enqueue_organization

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


def organization_show(ctx: Context, id: str) -> dict[str, Any]:
    """An organisation with its count of public datasets and its child organisations."""
    with ctx.catalog.reader() as session:
        org = _get_org(session, id)
        result = organization_dict(org, package_count=_package_counts(session).get(org.id, 0))
        result["children"] = list(
            session.scalars(
                select(Organization.name)
                .where(Organization.parent_id == org.id, Organization.state == "active")
                .order_by(Organization.name)
            )
        )
        return result


def organization_list(ctx: Context, all_fields: bool = False) -> list[Any]:
    """Active organisations ordered by title: names, or dicts when `all_fields`."""
    with ctx.catalog.reader() as session:
        orgs = session.scalars(
            select(Organization).where(Organization.state == "active").order_by(Organization.title)
        ).all()
        if not all_fields:
            return [o.name for o in orgs]
        counts = _package_counts(session)
        return [organization_dict(o, package_count=counts.get(o.id, 0)) for o in orgs]


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


def group_show(ctx: Context, id: str) -> dict[str, Any]:
    with ctx.catalog.reader() as session:
        group = _get_group(session, id)
        return group_dict(group, package_count=_group_counts(session).get(group.id, 0))


def group_list(ctx: Context, all_fields: bool = False) -> list[Any]:
    """Active groups ordered by title: names, or dicts when `all_fields`."""
    with ctx.catalog.reader() as session:
        groups = session.scalars(
            select(Group).where(Group.state == "active").order_by(Group.title)
        ).all()
        if not all_fields:
            return [g.name for g in groups]
        counts = _group_counts(session)
        return [group_dict(g, package_count=counts.get(g.id, 0)) for g in groups]
