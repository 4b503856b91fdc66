"""The storage interface shared by every backend, its errors and the helpers they reuse.

Objects are content addressed: the key of some bytes is ``sha256/<hex[:2]>/<hex[2:4]>/<hex>``, so
identical uploads are stored once and a key always names the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

#: Bytes read from a caller's stream at a time; memory use of a put does not depend on the size.
CHUNK_SIZE = 1024 * 1024

#: S3 refuses longer keys; local file systems would refuse them later with a less clear error.
MAX_KEY_LENGTH = 1024

# One path segment: safe characters only, and never starting with a dot, which rules out "..",
# "." and the hidden folders a backend keeps for itself (LocalStorage's ".tmp").
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]*"
_KEY_RE = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_PREFIX_RE = re.compile(rf"(?:{_SEGMENT}/)*(?:{_SEGMENT})?")


class StorageError(Exception):
    """Base class of every error raised by a storage backend."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""


class InvalidKey(StorageError):
    """A key or prefix given by a caller is not a safe relative key."""


class TooLarge(StorageError):
    """The stream is longer than the ``max_bytes`` allowed; nothing was stored."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the upload is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class StoredObject:
    """What a put stored: its key, the sha256 of its bytes (hex) and its size in bytes."""

    key: str
    sha256: str
    size: int


def key_for_sha256(hexdigest: str) -> str:
    """Return the content-addressed key of bytes whose sha256 is ``hexdigest``."""
    return f"sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"


def is_valid_key(key: str) -> bool:
    """Whether ``key`` is a safe relative key: segments of ``[A-Za-z0-9_.-]`` not starting with "."."""
    return isinstance(key, str) and len(key) <= MAX_KEY_LENGTH and bool(_KEY_RE.fullmatch(key))


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe relative key, else raise :class:`InvalidKey`."""
    if not is_valid_key(key):
        raise InvalidKey(f"invalid storage key: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Like :func:`validate_key` but also accepts ``""`` and a trailing slash."""
    if not isinstance(prefix, str) or len(prefix) > MAX_KEY_LENGTH:
        raise InvalidKey(f"invalid storage prefix: {prefix!r}")
    if not _PREFIX_RE.fullmatch(prefix):
        raise InvalidKey(f"invalid storage prefix: {prefix!r}")
    return prefix


def copy_hashing(source: BinaryIO, target: BinaryIO, max_bytes: int | None) -> tuple[str, int]:
    """Copy ``source`` to ``target`` in chunks; return (sha256 hex, size).

    Raises :class:`TooLarge` as soon as more than ``max_bytes`` were read, without reading the rest.
    """
    if max_bytes is not None and max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            break
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(max_bytes)
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest(), size


class Storage(ABC):
    """A store of immutable, content-addressed binary objects.

    Every backend passes the same contract tests (tests/test_catalog_storage.py).
    """

    @abstractmethod
    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredObject:
        """Store the bytes of ``stream`` under their content-addressed key.

        The stream is read in chunks of :data:`CHUNK_SIZE`, so memory use is constant. The object
        appears under its key all at once or not at all; storing bytes that are already stored
        writes nothing and returns the same key.

        :param stream: a binary file-like object, read to its end (not closed).
        :param max_bytes: refuse streams longer than this with :class:`TooLarge`, storing nothing.
        """

    def adopt(self, path: Path, sha256: str, size: int) -> StoredObject:
        """Store the local file ``path``, whose sha256 and size the caller measured while
        writing it, so the bytes need not be read and hashed again where the backend can
        avoid it (a local store links the file in). The file must not change afterwards.
        """
        with path.open("rb") as stream:
            return self.put(stream)

    def put_bytes(self, data: bytes) -> StoredObject:
        """Store ``data``; see :meth:`put`."""
        return self.put(io.BytesIO(data))

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open the object for a streamed, binary read; the caller closes it.

        :raises ObjectNotFound: when no object has this key.
        """

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Size of the object in bytes.

        :raises ObjectNotFound: when no object has this key.
        """

    @abstractmethod
    def modified(self, key: str) -> datetime | None:
        """When the object was written (UTC), or None when no object has this key. A local
        store also counts storing the same bytes again, which costs nothing there."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key is not an error."""

    @abstractmethod
    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys starting with ``prefix``, in ascending (byte) order."""

    @abstractmethod
    def download_url(
        self, key: str, *, filename: str | None = None, expires: int = 3600
    ) -> str | None:
        """A URL a browser can download the object from directly, or None.

        None means the backend has no such URL and the web app must serve the bytes itself.

        :param filename: the file name the browser should save the download as.
        :param expires: lifetime of the URL in seconds, for backends whose URLs expire.
        """
