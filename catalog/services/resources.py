"""Resource (distribution) operations: links and stored files."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import clock
from catalog.models import Resource
from catalog.services import auth
from catalog.services.context import Context
from catalog.services.datasets import can_read, get_dataset, validated
from catalog.services.dictize import RESOURCE_COLUMNS, jsonable, resource_dict
from catalog.services.errors import NotFound, ValidationFailed
from catalog.services.history import record_activity, snapshot_version
from catalog.services.registry import action
from catalog.services.types import ResourceDict
from catalog.storage import StorageError, StoredObject, TooLarge
from schemas.actions import IdParams

# Keys of a resource dict that are computed or set from an upload, never from input.
COMPUTED = {
    "package_id",
    "position",
    "url_type",
    "storage_key",
    "filename",
    "size",
    "hash",
    "validation_status",
    "validation_report",
    "state",
    "created",
    "last_modified",
    "datastore_active",
}


def validate_resource(
    data: Mapping[str, Any], *, data_type: str | None = None, upload: bool = False
) -> dict[str, Any]:
    """Validate resource fields; `data_type` is the dataset's (it decides which GDC fields apply)."""
    from schemas.dataset import validate_resource as load_resource

    clean = {k: v for k, v in data.items() if k not in COMPUTED}
    if upload:
        clean["url_type"] = "upload"
        clean.pop("url", None)
    result = validated(lambda: load_resource(clean, data_type=data_type))
    result.pop("url_type", None)
    if "id" in data:
        result["id"] = data["id"]
    return result


def apply_resource(res: Resource, clean: dict[str, Any]) -> None:
    """Copy validated values onto a resource: columns, the Table Schema, the rest as extras."""
    extras = {}
    for key, value in clean.items():
        if key in RESOURCE_COLUMNS:
            setattr(res, key, value if value is not None else "")
        elif key == "schema":
            res.table_schema = value
        elif key not in {"id", "hash", "size", "url_type"}:
            extras[key] = jsonable(value)
    res.extras = extras
    if not res.format and res.url:
        res.format = res.url.rsplit(".", 1)[-1].upper()[:40] if "." in res.url[-6:] else ""


def _store(ctx: Context, upload: BinaryIO) -> StoredObject:
    limit = ctx.catalog.settings.MAX_UPLOAD_MB * 1024 * 1024
    try:
        return ctx.catalog.storage.put(upload, max_bytes=limit)
    except TooLarge:
        raise ValidationFailed(
            {
                "upload": [
                    f"File is larger than the limit of {ctx.catalog.settings.MAX_UPLOAD_MB} MB."
                ]
            }
        ) from None
    except StorageError as exc:
        raise ValidationFailed({"upload": [f"File could not be stored: {exc}"]}) from None


def _attach(res: Resource, stored: StoredObject, filename: str) -> None:
    res.storage_key = stored.key
    res.sha256 = stored.sha256
    res.size = stored.size
    res.filename = filename
    res.url = ""
    if not res.mimetype:
        res.mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if not res.format and "." in filename:
        res.format = filename.rsplit(".", 1)[-1].upper()[:40]


def resource_create(
    ctx: Context,
    data: Mapping[str, Any],
    upload: BinaryIO | None = None,
    filename: str = "",
) -> dict[str, Any]:
    """Add a resource to a dataset, as a link (``url``) or an uploaded file.

    The file is streamed into the content-addressed store before the transaction, so a failed
    transaction leaves at worst an unreferenced blob, never a half-written or visible file.

    :param data: ``package_id`` (dataset id or name), ``name`` and the resource fields.
    :param upload: a binary stream to store.
    :param filename: the uploaded file's name, kept for downloads.
    """
    package_id = str(data.get("package_id") or "")
    if not package_id:
        raise ValidationFailed({"package_id": ["Missing data for required field."]})
    with ctx.catalog.reader() as session:
        ds = get_dataset(session, package_id)
        auth.require(ctx, session, "write_dataset", ds.owner_org_id)
        data_type = ds.data_type
    fields = {k: v for k, v in data.items() if k != "package_id"}
    clean = validate_resource(fields, data_type=data_type, upload=upload is not None)
    stored = _store(ctx, upload) if upload is not None else None
    with ctx.catalog.transaction() as session:
        ds = get_dataset(session, package_id)
        auth.require(ctx, session, "write_dataset", ds.owner_org_id)
        res = Resource(dataset=ds, position=len(ds.resources))
        apply_resource(res, clean)
        if stored is not None:
            _attach(res, stored, filename or clean.get("name", "file"))
        ds.modified = clock.utcnow()
        session.add(res)
        snapshot_version(ctx, session, ds, f"resource {res.name} added")
        record_activity(ctx, session, "new resource", "resource", res.id, {"package": ds.name})
        return resource_dict(res, site_url=ctx.site_url)


def _get_resource(session: Any, id: str) -> Resource:
    res = session.scalar(select(Resource).where(Resource.id == id, Resource.state == "active"))
    if res is None:
        raise NotFound(f"Not found: resource {id}")
    return res


def readable_resource(ctx: Context, session: Session, id: str) -> Resource:
    """The active resource, if the caller may read it and its dataset.

    :raises NotFound: unknown, or hidden from the caller (answered like a missing one).
    """
    res = _get_resource(session, id)
    if not can_read(ctx, session, res.dataset) or (
        res.private and not auth.can(ctx, session, "read_private", res.dataset.owner_org_id)
    ):
        raise NotFound(f"Not found: resource {id}")
    return res


@action("resource_show", IdParams)
def resource_show(ctx: Context, id: str) -> ResourceDict:
    """A resource dict: name, format, size, hash, download URL, Table Schema and validation.

    The same visibility rules as its dataset apply, plus the resource's own ``private``.

    :param id: the resource's id.
    :raises NotFound: unknown, or hidden from the caller.
    """
    with ctx.catalog.reader() as session:
        res = readable_resource(ctx, session, id)
        return resource_dict(res, site_url=ctx.site_url)


def _change(
    ctx: Context,
    id: str,
    data: Mapping[str, Any],
    upload: BinaryIO | None,
    filename: str,
    *,
    patch: bool,
) -> dict[str, Any]:
    with ctx.catalog.reader() as session:
        res = _get_resource(session, id)
        auth.require(ctx, session, "write_dataset", res.dataset.owner_org_id)
        current = resource_dict(res)
        data_type = res.dataset.data_type
    incoming = {k: v for k, v in data.items() if k not in {"id", "package_id"}}
    if patch:
        base = {k: v for k, v in current.items() if k not in COMPUTED | {"id", "url"}}
        if current["url_type"] != "upload":
            base["url"] = current["url"]
        incoming = {**base, **incoming}
    if "schema" in incoming and incoming["schema"] is None:
        del incoming["schema"]
    keeps_file = current["url_type"] == "upload" and not incoming.get("url")
    clean = validate_resource(
        incoming, data_type=data_type, upload=upload is not None or keeps_file
    )
    stored = _store(ctx, upload) if upload is not None else None
    with ctx.catalog.transaction() as session:
        res = _get_resource(session, id)
        keep_file = res.storage_key and not clean.get("url")
        apply_resource(res, clean)
        if stored is not None:
            _attach(res, stored, filename or res.filename or res.name)
        elif keep_file:
            res.url = ""
        else:
            res.storage_key, res.sha256, res.size, res.filename = None, "", None, ""
        res.modified = clock.utcnow()
        res.dataset.modified = res.modified
        if snapshot_version(ctx, session, res.dataset, f"resource {res.name} changed"):
            record_activity(ctx, session, "changed resource", "resource", res.id, {})
        return resource_dict(res, site_url=ctx.site_url)


def resource_update(
    ctx: Context,
    id: str,
    data: Mapping[str, Any],
    upload: BinaryIO | None = None,
    filename: str = "",
) -> dict[str, Any]:
    """Replace a resource's metadata (and its file when `upload` is given)."""
    return _change(ctx, id, data, upload, filename, patch=False)


def resource_patch(
    ctx: Context,
    id: str,
    data: Mapping[str, Any],
    upload: BinaryIO | None = None,
    filename: str = "",
) -> dict[str, Any]:
    """Change only the given fields of a resource (and its file when `upload` is given)."""
    return _change(ctx, id, data, upload, filename, patch=True)


def resource_delete(ctx: Context, id: str) -> None:
    """Remove a resource from its dataset. Earlier versions and the stored file are kept."""
    with ctx.catalog.transaction() as session:
        res = _get_resource(session, id)
        auth.require(ctx, session, "write_dataset", res.dataset.owner_org_id)
        res.state = "deleted"
        res.dataset.modified = clock.utcnow()
        snapshot_version(ctx, session, res.dataset, f"resource {res.name} deleted")
        record_activity(ctx, session, "deleted resource", "resource", res.id, {})


def resource_download(ctx: Context, id: str) -> tuple[dict[str, Any], BinaryIO | None, str | None]:
    """What a download of a resource serves: (resource dict, stream, presigned URL).

    For a link resource both are None and the caller redirects to ``url``. For S3 a presigned URL
    is returned so bytes need not pass through the app; locally a stream is returned.
    """
    info = resource_show(ctx, id)
    key = info["storage_key"]
    if not key:
        return info, None, None
    storage = ctx.catalog.storage
    try:
        url = storage.download_url(key, filename=info["filename"] or None)
        return info, (None if url else storage.open(key)), url
    except StorageError as exc:
        raise NotFound(f"Not found: file of resource {id} ({exc})") from None
