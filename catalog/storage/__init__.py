"""File storage of the catalogue: one interface, a local-folder backend and an S3 backend."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from catalog.storage.base import (
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageError,
    StoredObject,
    TooLarge,
    key_for_sha256,
)
from catalog.storage.local import LocalStorage
from catalog.storage.s3 import S3Storage

__all__ = [
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageError",
    "StoredObject",
    "TooLarge",
    "key_for_sha256",
    "open_storage",
]


def open_storage(url: str, *, s3_endpoint_url: str | None = None) -> Storage:
    """Open the storage a setting names.

    :param url: a local folder (``var/files``, ``/srv/khlang/files``), ``file:///abs/path`` or
        ``s3://bucket/optional/prefix``.
    :param s3_endpoint_url: endpoint of an S3-compatible server, for ``s3://`` URLs only.
    :raises ValueError: for an empty URL, another scheme, or ``s3://`` without a bucket.
    """
    if not url:
        raise ValueError("a storage URL or folder is required")
    if "://" not in url:
        return LocalStorage(Path(url).expanduser())
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URLs must be local: {url!r}")
        return LocalStorage(Path(urllib.parse.unquote(parts.path)))
    if scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"an s3:// URL needs a bucket: {url!r}")
        return S3Storage(parts.netloc, parts.path.strip("/"), endpoint_url=s3_endpoint_url)
    raise ValueError(f"unsupported storage URL scheme {parts.scheme!r} in {url!r}")
