"""Storage in an S3 bucket (AWS, MinIO, Ceph, or moto's server in the tests), through boto3.

How a put stays atomic and deduplicated: the stream is first spooled to a local temporary file
while its sha256 is computed, then uploaded straight to its final, content-addressed key. We chose
this over "upload to tmp/<uuid>, server-side copy, delete" because:

- an S3 object only becomes visible when its PutObject or CompleteMultipartUpload succeeds, and
  boto3 aborts a failed multipart upload, so no partial object is ever visible under a final key;
- knowing the key before uploading lets an identical upload be skipped after one HEAD, instead
  of uploading the bytes, copying them (a second full write inside S3) and deleting the temp;
- a crash cannot leave orphan ``tmp/`` objects in the bucket, and ``max_bytes`` is refused before
  any byte crosses the network;
- boto3 can retry parts of a seekable local file, which it cannot do for a one-pass stream.

The cost is local temporary disk space as large as the largest upload (in ``tempfile``'s folder,
i.e. ``$TMPDIR``); memory stays constant.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO

import boto3
import boto3.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from catalog.storage.base import (
    CHUNK_SIZE,
    ObjectNotFound,
    Storage,
    StorageError,
    StoredObject,
    copy_hashing,
    is_valid_key,
    key_for_sha256,
    validate_key,
    validate_prefix,
)

MULTIPART_THRESHOLD = 8 * 1024 * 1024
MULTIPART_PART_SIZE = 8 * 1024 * 1024
#: Longest lifetime S3 accepts for a SigV4 presigned URL (7 days).
MAX_URL_EXPIRES = 7 * 24 * 3600

_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}
_NO_BUCKET_CODES = {"404", "NoSuchBucket", "NotFound"}


class S3Storage(Storage):
    """Objects stored in ``bucket`` under the key prefix ``prefix``.

    :param bucket: the bucket name.
    :param prefix: a folder-like prefix inside the bucket ("" for the whole bucket); keys given to
        and returned by this class never include it.
    :param endpoint_url: an S3-compatible endpoint (MinIO, moto); None for AWS or the
        ``AWS_ENDPOINT_URL_S3`` setting.
    :param region: the bucket's region; None for boto3's default.
    :param client: a ready boto3 S3 client, which makes ``endpoint_url`` and ``region`` unused.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{validate_key(prefix)}/" if prefix else ""
        if client is None:
            # A custom endpoint is usually an IP or a host without wildcard DNS for buckets.
            s3_options = {"addressing_style": "path"} if endpoint_url else {}
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                # SigV4 for presigned URLs too: the regions opened since 2014 refuse SigV2.
                config=Config(
                    s3=s3_options, signature_version="s3v4", retries={"mode": "standard"}
                ),
            )
        self.client = client
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_PART_SIZE,
            max_concurrency=4,
            preferred_transfer_client="classic",
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist yet (used by ``khlang init``)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _NO_BUCKET_CODES:
                raise StorageError(f"cannot reach bucket {self.bucket!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot reach bucket {self.bucket!r}: {exc}") from exc
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        region = self.client.meta.region_name
        # us-east-1 is the one region that refuses an explicit LocationConstraint.
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":
                raise StorageError(f"cannot create bucket {self.bucket!r}: {exc}") from exc

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredObject:
        """Store the bytes of ``stream``; see :meth:`Storage.put` and the module docstring."""
        fd, spool = tempfile.mkstemp(prefix="khlang-s3-put-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                hexdigest, size = copy_hashing(stream, out, max_bytes)
            stored = StoredObject(key_for_sha256(hexdigest), hexdigest, size)
            # A same-named object of another size can only be a damaged copy: replace it.
            if self._stored_size(stored.key) != size:
                with _errors(stored.key):
                    self.client.upload_file(
                        spool, self.bucket, self.prefix + stored.key, Config=self._transfer
                    )
            return stored
        finally:
            os.unlink(spool)

    def open(self, key: str) -> BinaryIO:
        """Open the object for a streamed read; see :meth:`Storage.open`."""
        validate_key(key)
        with _errors(key):
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        return io.BufferedReader(_BodyReader(response["Body"]), buffer_size=CHUNK_SIZE)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self._stored_size(validate_key(key)) is not None

    def size(self, key: str) -> int:
        """Size of the object in bytes; see :meth:`Storage.size`."""
        size = self._stored_size(validate_key(key))
        if size is None:
            raise ObjectNotFound(f"no object stored under {key!r}")
        return size

    def delete(self, key: str) -> None:
        """Delete the object; S3 itself treats deleting a missing key as a success."""
        validate_key(key)
        with _errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys starting with ``prefix`` in ascending order, a page at a time."""
        validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        with _errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", ()):
                    key = item["Key"][len(self.prefix) :]
                    # Objects written by other tools may have names we would refuse as keys.
                    if is_valid_key(key):
                        yield key

    def download_url(
        self, key: str, *, filename: str | None = None, expires: int = 3600
    ) -> str | None:
        """A presigned GET URL valid for ``expires`` seconds.

        The URL is signed without checking that the object exists; a missing one gives a 404 when
        downloaded. ``filename`` becomes the response's Content-Disposition (RFC 6266, with the
        RFC 5987 ``filename*`` form so Thai names survive).
        """
        validate_key(key)
        if not 1 <= expires <= MAX_URL_EXPIRES:
            raise ValueError(f"expires must be between 1 and {MAX_URL_EXPIRES} seconds")
        params = {"Bucket": self.bucket, "Key": self.prefix + key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        with _errors(key):
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires
            )

    def modified(self, key: str) -> datetime | None:
        """When the object was last stored; see :meth:`Storage.modified`."""
        head = self._head(validate_key(key))
        return None if head is None else head["LastModified"].astimezone(UTC)

    def _stored_size(self, key: str) -> int | None:
        head = self._head(key)
        return None if head is None else int(head["ContentLength"])

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND_CODES:
                return None
            raise StorageError(f"cannot read {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read {key!r}: {exc}") from exc


def content_disposition(filename: str) -> str:
    """An ``attachment`` Content-Disposition for ``filename``, any script, safe in a header.

    Browsers use the percent-encoded UTF-8 ``filename*``; ``filename`` is an ASCII fallback.
    """
    # quote() leaves only letters, digits and "_.-~" unescaped: all RFC 5987 attr-chars.
    encoded = urllib.parse.quote(filename, safe="")
    return f"attachment; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"


def _ascii_fallback(filename: str) -> str:
    cleaned = " ".join(re.sub(r"[^A-Za-z0-9._() -]", "", filename).split())
    stem, dot, extension = cleaned.rpartition(".")
    if not dot:
        stem, extension = cleaned, ""
    # A Thai name loses its whole stem here; "download.csv" beats ".csv" or "".
    if not re.search(r"[A-Za-z0-9]", stem):
        stem = "download"
    return f"{stem}.{extension}" if extension else stem


class _BodyReader(io.RawIOBase):
    """botocore's StreamingBody as a raw stream, so io.BufferedReader gives it the full file API."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with _errors():
            data = self._body.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _errors(key: str | None = None) -> Iterator[None]:
    """Turn boto3's errors into ours: ObjectNotFound for a missing key, else StorageError."""
    try:
        yield
    except ClientError as exc:
        if key is not None and _code(exc) in _NOT_FOUND_CODES:
            raise ObjectNotFound(f"no object stored under {key!r}") from exc
        raise StorageError(str(exc)) from exc
    except (BotoCoreError, boto3.exceptions.Boto3Error) as exc:
        raise StorageError(str(exc)) from exc
