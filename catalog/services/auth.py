"""Permission checks. Roles are held per organisation and reach down to its child organisations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Membership, Organization, User
from catalog.services.context import Context
from catalog.services.errors import NotAuthorized

ROLES = ("admin", "editor", "member")
# What each role may do inside its organisation.
CAN = {
    "admin": {"read_private", "write_dataset", "manage_org", "manage_members"},
    "editor": {"read_private", "write_dataset"},
    "member": {"read_private"},
}


def acting_user(ctx: Context, session: Session) -> User | None:
    if ctx.user is None:
        return None
    return session.scalar(select(User).where(User.name == ctx.user, User.state == "active"))


def is_sysadmin(ctx: Context, session: Session) -> bool:
    if ctx.system:
        return True
    user = acting_user(ctx, session)
    return bool(user and user.sysadmin)


def _lineage(session: Session, org_id: str) -> list[str]:
    """The organisation and its ancestors, nearest first (cycles are refused on write)."""
    ids: list[str] = []
    current: str | None = org_id
    while current and current not in ids:
        ids.append(current)
        current = session.scalar(select(Organization.parent_id).where(Organization.id == current))
    return ids


def roles_in(ctx: Context, session: Session, org_id: str) -> set[str]:
    user = acting_user(ctx, session)
    if user is None:
        return set()
    rows = session.scalars(
        select(Membership.role).where(
            Membership.user_id == user.id, Membership.organization_id.in_(_lineage(session, org_id))
        )
    )
    return set(rows)


def can(ctx: Context, session: Session, permission: str, org_id: str | None = None) -> bool:
    if is_sysadmin(ctx, session):
        return True
    if org_id is None:
        return False
    return any(permission in CAN[role] for role in roles_in(ctx, session, org_id))


def require(ctx: Context, session: Session, permission: str, org_id: str | None = None) -> None:
    """Raise NotAuthorized unless the caller holds `permission` (in `org_id` when given)."""
    if not can(ctx, session, permission, org_id):
        who = ctx.user or "anonymous"
        raise NotAuthorized(f"Access denied: {who} may not {permission.replace('_', ' ')}")


def readable_org_ids(ctx: Context, session: Session) -> set[str] | None:
    """Organisations whose private and draft datasets the caller may read; None means all."""
    if is_sysadmin(ctx, session):
        return None
    user = acting_user(ctx, session)
    if user is None:
        return set()
    direct = set(
        session.scalars(select(Membership.organization_id).where(Membership.user_id == user.id))
    )
    # Roles reach down the hierarchy, so add every descendant.
    result = set(direct)
    frontier = set(direct)
    while frontier:
        children = set(
            session.scalars(select(Organization.id).where(Organization.parent_id.in_(frontier)))
        )
        frontier = children - result
        result |= children
    return result
