"""Immutable dataset versions, field-level diffs and the activity stream."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import clock
from catalog.models import Activity, Dataset, DatasetVersion, User
from catalog.services.context import Context
from catalog.services.dictize import dataset_dict

# Fields that change on every write and so say nothing about the content.
VOLATILE = {"metadata_modified", "version_number", "last_modified", "datastore_active"}
# Keys computed from other fields for CKAN clients; a diff shows the fields themselves.
DERIVED = {
    "extras",
    "license_title",
    "license_url",
    "isopen",
    "author",
    "author_email",
    "relationships_as_subject",
    "relationships_as_object",
}


def record_activity(
    ctx: Context,
    session: Session,
    activity_type: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any] | None = None,
) -> None:
    user_id = session.scalar(select(User.id).where(User.name == ctx.user)) if ctx.user else None
    session.add(
        Activity(
            timestamp=clock.utcnow(),
            user_id=user_id,
            activity_type=activity_type,
            object_type=object_type,
            object_id=object_id,
            data=data or {},
        )
    )


def _content(snapshot: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in snapshot.items() if k not in VOLATILE | DERIVED}
    result["resources"] = [
        {k: v for k, v in r.items() if k not in VOLATILE} for r in snapshot.get("resources", [])
    ]
    return result


def snapshot_version(ctx: Context, session: Session, ds: Dataset, message: str) -> bool:
    """Store a new immutable version of `ds` unless its content equals the latest one.

    Returns True when a version was written.
    """
    session.flush()
    session.refresh(ds)
    snapshot = dataset_dict(ds)
    latest = session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == ds.id)
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )
    if latest is not None and _content(latest.snapshot) == _content(snapshot):
        return False
    number = (latest.number if latest else 0) + 1
    ds.version_number = number
    snapshot["version_number"] = number
    user_id = session.scalar(select(User.id).where(User.name == ctx.user)) if ctx.user else None
    from catalog.services.search import enqueue

    enqueue(session, [ds.id])
    session.add(
        DatasetVersion(
            dataset_id=ds.id,
            number=number,
            created=clock.utcnow(),
            user_id=user_id,
            message=message[:500],
            snapshot=snapshot,
        )
    )
    return True


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists to dotted paths; resources, tags and groups are keyed by id/name."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for index, item in enumerate(value):
            ident = item.get("id") or item.get("name") or str(index)
            out.update(_flatten(item, f"{prefix}[{ident}]"))
        return out
    return {prefix: value}


def diff_snapshots(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-level changes from `old` to `new`: ``[{"field", "old", "new"}]`` sorted by field."""
    a, b = _flatten(_content(old)), _flatten(_content(new))
    return [
        {"field": key, "old": a.get(key), "new": b.get(key)}
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    ]
