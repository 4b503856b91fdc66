"""Open and list the files a harvest reads: local paths, ``file://``, http(s) and ``s3://``.

Every stream is capped at ``max_bytes``: a server that announces a larger Content-Length is
refused before anything is read, and one that sends more than it announced (or announces
nothing) is cut off with a HarvestError as soon as the count passes the cap. Errors name the
location and, for HTTP, the status, in English and Thai.
"""

from __future__ import annotations

import fnmatch
import glob as globlib
import io
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from harvesters.base import FileRef, HarvestError

USER_AGENT = "Khlang-harvester/1"
_GLOB_CHARS = frozenset("*?[")


def _too_big(location: str, max_bytes: int) -> HarvestError:
    return HarvestError(
        f"{location} is larger than the limit of {max_bytes:,} bytes",
        f"ไฟล์ {location} มีขนาดเกินขีดจำกัด {max_bytes:,} ไบต์",
    )


class _Capped(io.RawIOBase):
    """A read-only stream that raises HarvestError once more than ``limit`` bytes arrive."""

    def __init__(self, raw: Any, limit: int, location: str) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._location = location

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Ask for one byte more than allowed, so an oversized body is noticed, never truncated.
        want = min(len(buffer), self._left + 1)
        try:
            data = self._raw.read(want)
        except OSError as exc:  # a socket timeout or reset mid-body
            raise HarvestError(
                f"reading {self._location} failed: {exc}",
                f"อ่านข้อมูลจาก {self._location} ไม่สำเร็จ: {exc}",
            ) from exc
        if len(data) > self._left:
            raise _too_big(self._location, self._limit)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()


def _local_path(location: str) -> Path:
    if location.startswith("file://"):
        parsed = urllib.parse.urlparse(location)
        return Path(urllib.request.url2pathname(parsed.path))
    return Path(location)


def _open_local(location: str, max_bytes: int) -> BinaryIO:
    path = _local_path(location)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(location, max_bytes)
        return path.open("rb")
    except FileNotFoundError:
        raise HarvestError(f"no such file: {location}", f"ไม่พบไฟล์ {location}") from None
    except IsADirectoryError:
        raise HarvestError(
            f"{location} is a folder, not a file", f"{location} เป็นโฟลเดอร์ ไม่ใช่ไฟล์"
        ) from None
    except PermissionError:
        raise HarvestError(
            f"no permission to read {location}", f"ไม่มีสิทธิ์อ่านไฟล์ {location}"
        ) from None


def _open_http(location: str, max_bytes: int, timeout: float) -> BinaryIO:
    request = urllib.request.Request(location, headers={"User-Agent": USER_AGENT})
    try:
        # urllib follows up to 10 redirects (http/https only) by itself.
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as exc:
        exc.close()
        raise HarvestError(
            f"{location} answered HTTP {exc.code} {exc.reason}",
            f"{location} ตอบกลับด้วยรหัส HTTP {exc.code} ({exc.reason})",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HarvestError(
            f"cannot reach {location}: {reason}",
            f"ติดต่อ {location} ไม่ได้: {reason}",
        ) from None
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        response.close()
        raise _too_big(location, max_bytes)
    return io.BufferedReader(_Capped(response, max_bytes, location))


def _split_s3(location: str) -> tuple[str, str]:
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise HarvestError(
            f"not an S3 location: {location} (use s3://bucket/key)",
            f"ตำแหน่ง S3 ไม่ถูกต้อง: {location} (ใช้รูปแบบ s3://bucket/key)",
        )
    return parsed.netloc, parsed.path.lstrip("/")


def _s3_client(endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url)


def _s3_error(location: str, exc: Exception) -> HarvestError:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    if code in ("NoSuchKey", "404", "NotFound"):
        return HarvestError(f"no such object: {location}", f"ไม่พบไฟล์ {location}")
    if code == "NoSuchBucket":
        return HarvestError(f"no such bucket: {location}", f"ไม่พบ bucket ของ {location}")
    return HarvestError(f"cannot read {location}: {exc}", f"อ่าน {location} ไม่ได้: {exc}")


def _open_s3(location: str, max_bytes: int, client: Any) -> BinaryIO:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split_s3(location)
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(location, exc) from None
    body = response["Body"]
    if response.get("ContentLength", 0) > max_bytes:
        body.close()
        raise _too_big(location, max_bytes)
    return io.BufferedReader(_Capped(body, max_bytes, location))


def open_location(
    location: str,
    *,
    max_bytes: int,
    s3_endpoint_url: str | None = None,
    timeout: float = 30,
) -> BinaryIO:
    """Open a local path, ``file://`` URL, http(s) URL or ``s3://bucket/key`` for reading.

    :param max_bytes: refuse files larger than this (HarvestError), checked on the announced
        size and again on the bytes actually read.
    :param s3_endpoint_url: the S3 endpoint (None: boto3's default, i.e. AWS).
    :param timeout: seconds to wait for an HTTP server (connect and each read).
    :raises HarvestError: naming the location (and the HTTP status) in English and Thai.
    """
    scheme = urllib.parse.urlparse(location).scheme.lower()
    if scheme in ("http", "https"):
        return _open_http(location, max_bytes, timeout)
    if scheme == "s3":
        return _open_s3(location, max_bytes, _s3_client(s3_endpoint_url))
    return _open_local(location, max_bytes)


def _mtime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _has_glob(text: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in text)


def _list_local(location: str, pattern: str | None) -> list[FileRef]:
    path = _local_path(location)
    if _has_glob(str(path)):
        # The fixed folder before the first wildcard is the root names are relative to.
        parts = path.parts
        fixed = next(i for i, p in enumerate(parts) if _has_glob(p))
        root = Path(*parts[:fixed]) if fixed else Path(".")
        found = [Path(p) for p in globlib.glob(str(path), recursive=True)]
    elif path.is_dir():
        root = path
        found = [p for p in path.iterdir()]
    elif path.is_file():
        root, found = path.parent, [path]
    else:
        raise HarvestError(f"no such file or folder: {location}", f"ไม่พบไฟล์หรือโฟลเดอร์ {location}")
    refs = []
    for p in found:
        if not p.is_file() or p.name.startswith("."):
            continue
        name = p.relative_to(root).as_posix()
        if pattern and not fnmatch.fnmatch(p.name, pattern):
            continue
        stat = p.stat()
        refs.append(FileRef(str(p), name, stat.st_size, _mtime(stat.st_mtime)))
    return sorted(refs, key=lambda r: r.name)


def _list_s3(location: str, pattern: str | None, client: Any) -> list[FileRef]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split_s3(location)
    wildcard = _has_glob(key)
    if wildcard:
        prefix = key[: min(key.index(c) for c in _GLOB_CHARS if c in key)]
        root = prefix[: prefix.rfind("/") + 1]
    else:
        prefix = key.rstrip("/")
        root = prefix + "/" if prefix else ""

    def wanted(name: str) -> bool:
        if name.endswith("/"):
            return False
        if wildcard:
            return fnmatch.fnmatchcase(name, key)
        return not prefix or name == prefix or name.startswith(root)

    refs = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                name = obj["Key"]
                if not wanted(name):
                    continue
                short = name.rsplit("/", 1)[-1]
                if pattern and not fnmatch.fnmatch(short, pattern):
                    continue
                relative = short if name == prefix else name[len(root) :]
                location_of = f"s3://{bucket}/{name}"
                refs.append(FileRef(location_of, relative, obj["Size"], obj.get("LastModified")))
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(location, exc) from None
    return sorted(refs, key=lambda r: r.name)


def list_location(
    location: str, pattern: str | None = None, *, s3_endpoint_url: str | None = None
) -> list[FileRef]:
    """List the files of a folder, a glob (``data/**/*.csv``) or an S3 prefix or glob
    (``s3://bucket/budget/`` or ``s3://bucket/budget/*.xlsx``), sorted by name.

    A FileRef's ``name`` is the path relative to the folder (or to the fixed part of the glob,
    or to the prefix's folder), so files in sub-folders keep distinct names. ``pattern``
    (``*.csv``) filters on the file's own name. Hidden local files are skipped.

    :raises HarvestError: for a location that does not exist or cannot be listed.
    """
    scheme = urllib.parse.urlparse(location).scheme.lower()
    if scheme == "s3":
        return _list_s3(location, pattern, _s3_client(s3_endpoint_url))
    if scheme in ("http", "https"):
        raise HarvestError(
            f"an http(s) URL cannot be listed: {location}; give one url per source",
            f"ไม่สามารถแสดงรายการไฟล์จาก URL ได้: {location} กรุณาระบุ url ทีละไฟล์",
        )
    return _list_local(location, pattern)


class Opener:
    """Opens and lists locations with the catalogue's limits; pass it as SourceKind(opener=...).

    The S3 client is made once and reused.
    """

    def __init__(
        self, max_bytes: int, s3_endpoint_url: str | None = None, timeout: float = 30
    ) -> None:
        self.max_bytes = max_bytes
        self.s3_endpoint_url = s3_endpoint_url
        self.timeout = timeout
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            self._client = _s3_client(self.s3_endpoint_url)
        return self._client

    def __call__(self, location: str) -> BinaryIO:
        """Open ``location`` (see :func:`open_location`)."""
        if urllib.parse.urlparse(location).scheme.lower() == "s3":
            return _open_s3(location, self.max_bytes, self._s3())
        return open_location(location, max_bytes=self.max_bytes, timeout=self.timeout)

    def list(self, location: str, pattern: str | None = None) -> list[FileRef]:
        """List ``location`` (see :func:`list_location`)."""
        if urllib.parse.urlparse(location).scheme.lower() == "s3":
            return _list_s3(location, pattern, self._s3())
        return list_location(location, pattern)


def make_opener(
    max_bytes: int, s3_endpoint_url: str | None = None, *, timeout: float = 30
) -> Callable[[str], BinaryIO]:
    """An :class:`Opener`: a callable location -> binary stream, with a ``list`` method."""
    return Opener(max_bytes, s3_endpoint_url, timeout)


def stat_local(location: str) -> FileRef:
    """A FileRef for one local file (size and modified time), or HarvestError if missing."""
    path = _local_path(location)
    try:
        stat = path.stat()
    except OSError:
        raise HarvestError(f"no such file: {location}", f"ไม่พบไฟล์ {location}") from None
    if not path.is_file():
        raise HarvestError(f"{location} is not a file", f"{location} ไม่ใช่ไฟล์")
    return FileRef(str(path), path.name, stat.st_size, _mtime(stat.st_mtime))


def url_name(location: str) -> str:
    """The file name in a URL's path (percent-decoded), or its host when the path is empty."""
    parsed = urllib.parse.urlparse(location)
    name = os.path.basename(urllib.parse.unquote(parsed.path.rstrip("/")))
    return name or parsed.netloc
