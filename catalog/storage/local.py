"""Storage in a folder of the local file system."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from catalog.storage.base import (
    ObjectNotFound,
    Storage,
    StoredObject,
    copy_hashing,
    is_valid_key,
    key_for_sha256,
    validate_key,
    validate_prefix,
)

# Puts are written here first. It lives inside the root so os.replace() into the final folder
# stays on one file system (and so is atomic); its leading dot keeps it out of the key space.
_TMP_DIR = ".tmp"


class LocalStorage(Storage):
    """Objects stored as files under ``root``, one file per key; ``root`` is created if missing."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file that holds (or would hold) ``key``, for the web app to serve it itself."""
        return self.root / validate_key(key)

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredObject:
        """Store the bytes of ``stream``; see :meth:`Storage.put`."""
        fd, tmp = self._temp("put-")
        try:
            with os.fdopen(fd, "wb") as out:
                hexdigest, size = copy_hashing(stream, out, max_bytes)
                out.flush()
                # Without fsync a power cut after the rename can leave the final name pointing
                # at an empty or partial file on file systems with delayed allocation.
                os.fsync(out.fileno())
            return self._place(tmp, StoredObject(key_for_sha256(hexdigest), hexdigest, size))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def adopt(self, path: Path, sha256: str, size: int) -> StoredObject:
        """Link (or, across file systems, copy) the file in; see :meth:`Storage.adopt`."""
        stored = StoredObject(key_for_sha256(sha256), sha256, size)
        if self._holds(stored):
            return stored
        fd, tmp = self._temp("adopt-")
        os.close(fd)
        try:
            tmp.unlink()
            try:
                os.link(path, tmp)
            except OSError:  # another file system, or links not allowed
                shutil.copyfile(path, tmp)
            with tmp.open("rb") as written:
                os.fsync(written.fileno())
            return self._place(tmp, stored)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _temp(self, prefix: str) -> tuple[int, Path]:
        tmp_dir = self.root / _TMP_DIR
        tmp_dir.mkdir(exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix=prefix, suffix=".part")
        return fd, Path(name)

    def _holds(self, stored: StoredObject) -> bool:
        """Whether the object is stored already; if so it is stored again, as of now."""
        final = self.root / stored.key
        if final.is_file() and final.stat().st_size == stored.size:
            # Stored again as of now: a sweep of unreferenced files (catalog.services.files)
            # then leaves alone bytes an upload is about to refer to.
            os.utime(final)
            return True
        return False

    def _place(self, tmp: Path, stored: StoredObject) -> StoredObject:
        """Rename the durable temporary file to its key (dropping it if the key is stored)."""
        final = self.root / stored.key
        if self._holds(stored):
            tmp.unlink()
            return stored
        # mkstemp makes the file private to us; a stored object is readable like any upload.
        tmp.chmod(0o644)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return stored

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading; see :meth:`Storage.open`."""
        path = self.path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise _not_found(key) from exc

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        """Size of the object in bytes; see :meth:`Storage.size`."""
        path = self.path(key)
        if not path.is_file():
            raise _not_found(key)
        return path.stat().st_size

    def modified(self, key: str) -> datetime | None:
        """When the object was last stored; see :meth:`Storage.modified`."""
        try:
            seconds = self.path(key).stat().st_mtime
        except FileNotFoundError:
            return None
        return datetime.fromtimestamp(seconds, UTC)

    def delete(self, key: str) -> None:
        """Delete the object if it exists.

        Emptied folders are kept: removing them could race with a put that has just created one.
        """
        path = self.path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys starting with ``prefix`` in ascending order."""
        validate_prefix(prefix)
        # Start in the deepest folder the prefix names fully, rather than walking the whole root.
        folder, _, _ = prefix.rpartition("/")
        start = f"{folder}/" if folder else ""
        yield from self._walk(self.root / folder, start, prefix)

    def _walk(self, directory: Path, rel: str, prefix: str) -> Iterator[str]:
        try:
            with os.scandir(directory) as entries:
                # A folder sorts as "name/" so that yielding in this order gives the same
                # byte order of whole keys as S3 listings do.
                names = sorted(
                    (
                        (
                            entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name,
                            entry,
                        )
                        for entry in entries
                        if is_valid_key(entry.name)
                    ),
                    key=lambda pair: pair[0],
                )
        except (FileNotFoundError, NotADirectoryError):
            return
        for name, entry in names:
            key = rel + name
            if name.endswith("/"):
                if key.startswith(prefix) or prefix.startswith(key):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif key.startswith(prefix) and entry.is_file():
                yield key

    def download_url(
        self, key: str, *, filename: str | None = None, expires: int = 3600
    ) -> str | None:
        """Always None: the web app serves local files itself (see :meth:`path`)."""
        validate_key(key)
        return None


def _not_found(key: str) -> ObjectNotFound:
    return ObjectNotFound(f"no object stored under {key!r}")


def _fsync_dir(directory: Path) -> None:
    """Make a rename into ``directory`` durable; some platforms cannot open folders, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
