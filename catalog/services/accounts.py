"""Accounts and API tokens. Only a token's SHA-256 is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from catalog import clock
from catalog.models import ApiToken, Membership, Organization, User
from catalog.services import auth
from catalog.services.context import Context
from catalog.services.errors import NotFound, ValidationFailed
from catalog.services.history import record_activity

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,99}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "khl_"


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_create(
    ctx: Context,
    name: str,
    email: str,
    password: str,
    fullname: str = "",
    sysadmin: bool = False,
) -> dict[str, Any]:
    """Create an account (sysadmins only).

    :raises ValidationFailed: bad or taken name, bad e-mail, password under 8 characters.
    """
    errors: dict[str, list[str]] = {}
    if not USERNAME.match(name or ""):
        errors["name"] = ["Must be 2-100 lower-case letters, digits, '-', '_' or '.'."]
    if not EMAIL.match(email or ""):
        errors["email"] = ["Not a valid email address."]
    if len(password or "") < 8:
        errors["password"] = ["Shorter than minimum length 8."]
    if len(fullname) > 500:
        errors["fullname"] = ["Longer than maximum length 500."]
    if errors:
        raise ValidationFailed(errors)
    with ctx.catalog.transaction() as session:
        auth.require(ctx, session, "create_user")
        if session.scalar(select(User.id).where(User.name == name)):
            raise ValidationFailed({"name": ["That login name is not available."]})
        user = User(
            name=name,
            email=email,
            fullname=fullname,
            password_hash=generate_password_hash(password),
            sysadmin=sysadmin,
        )
        session.add(user)
        session.flush()
        record_activity(ctx, session, "new user", "user", user.id, {"name": name})
        return user_dict(user)


def user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "fullname": user.fullname,
        "sysadmin": user.sysadmin,
        "state": user.state,
        "created": user.created.isoformat(),
    }


def user_show(ctx: Context, name: str) -> dict[str, Any]:
    """An account with its organisation roles (the user themself or a sysadmin)."""
    with ctx.catalog.reader() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None or (ctx.user != name and not auth.is_sysadmin(ctx, session)):
            raise NotFound(f"Not found: user {name}")
        result = user_dict(user)
        rows = session.execute(
            select(Organization.name, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user.id)
            .order_by(Organization.name)
        )
        result["organizations"] = [{"name": n, "role": r} for n, r in rows]
        return result


def check_password(ctx: Context, name: str, password: str) -> str | None:
    """The user's name when the password is right, else None."""
    with ctx.catalog.reader() as session:
        user = session.scalar(select(User).where(User.name == name, User.state == "active"))
        if user and user.password_hash and check_password_hash(user.password_hash, password):
            return user.name
        return None


def api_token_create(ctx: Context, user: str, name: str, days: int | None = 365) -> str:
    """Make an API token for `user` (themself or a sysadmin); returns it, once.

    :param days: lifetime; None for no expiry.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ctx.catalog.transaction() as session:
        if ctx.user != user:
            auth.require(ctx, session, "create_token")
        owner = session.scalar(select(User).where(User.name == user, User.state == "active"))
        if owner is None:
            raise ValidationFailed({"user": ["User does not exist."]})
        expires = clock.utcnow() + timedelta(days=days) if days else None
        session.add(
            ApiToken(
                user_id=owner.id, name=name[:200], token_hash=_hash_token(token), expires_at=expires
            )
        )
        record_activity(ctx, session, "new api token", "user", owner.id, {"name": name[:200]})
    return token


def user_for_token(ctx: Context, token: str) -> str | None:
    """The name of the active user holding this unexpired token, else None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    with ctx.catalog.transaction() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
        if row is None or row.user.state != "active":
            return None
        now = clock.utcnow()
        if row.expires_at is not None and row.expires_at <= now:
            return None
        row.last_used = now
        return row.user.name


def api_token_revoke(ctx: Context, user: str, name: str) -> int:
    """Revoke a user's tokens of the given name; returns how many were revoked."""
    with ctx.catalog.transaction() as session:
        if ctx.user != user:
            auth.require(ctx, session, "create_token")
        owner = session.scalar(select(User).where(User.name == user))
        if owner is None:
            raise NotFound(f"Not found: user {user}")
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.name == name)
        ).all()
        for row in rows:
            session.delete(row)
        return len(rows)
