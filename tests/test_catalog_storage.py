"""Contract tests run against every storage backend: a local folder and S3 (moto's server)."""

from __future__ import annotations

import hashlib
import io
import random
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from catalog.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    TooLarge,
    key_for_sha256,
    open_storage,
)
from catalog.storage.s3 import content_disposition
from tests.realdata import SHARED
from tests.servers import unavailable

REAL_CSV = SHARED / "data" / "real" / "budget" / "th_budget_act_2565_output_example_v2.csv"

MiB = 1024 * 1024
# UTF-8 with a BOM, as Thai agencies' Excel exports often are.
THAI_CSV = "\ufeffหน่วยงาน,งบประมาณ (บาท)\nกรมบัญชีกลาง,๑๒๓๔๕\nสำนักงบประมาณ,67890\n".encode()


def s3_client(endpoint: str):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"})
    )


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """Each backend, empty: a fresh folder, or a fresh bucket on moto's server."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "files")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    store = S3Storage(f"khlang-test-{uuid.uuid4().hex[:16]}", endpoint_url=endpoint)
    store.ensure_bucket()
    yield store
    # moto keeps objects in memory for the whole session: free them.
    for version in raw_versions(store):
        store.client.delete_object(Bucket=store.bucket, Key=version[0], VersionId=version[1])
    store.client.delete_bucket(Bucket=store.bucket)


def raw_versions(store: S3Storage) -> list[tuple[str, str]]:
    """Every (key, version id) in the bucket, temporary or not, delete markers included."""
    found = []
    pages = store.client.get_paginator("list_object_versions").paginate(Bucket=store.bucket)
    for page in pages:
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            found.append((item["Key"], item["VersionId"]))
    return found


def raw_objects(store: Storage) -> list[str]:
    """Everything the backend holds, below its key space too (temporary files and objects)."""
    if isinstance(store, LocalStorage):
        return sorted(
            p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()
        )
    assert isinstance(store, S3Storage)
    pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


class GeneratedStream(io.RawIOBase):
    """``size`` pseudo-random bytes produced on demand; raises OSError after ``fail_after`` bytes."""

    def __init__(self, size: int, *, seed: int = 2567, fail_after: int | None = None) -> None:
        self._left = size
        self._random = random.Random(seed)
        self._fail_after = fail_after
        self._sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._fail_after is not None and self._sent >= self._fail_after:
            raise OSError("connection reset by the uploader")
        n = min(len(buffer), self._left)
        buffer[:n] = self._random.randbytes(n)
        self._left -= n
        self._sent += n
        return n


# ---- the contract -------------------------------------------------------------------------------


def test_put_and_read_back_thai_content(storage: Storage) -> None:
    stored = storage.put(io.BytesIO(THAI_CSV))

    digest = hashlib.sha256(THAI_CSV).hexdigest()
    assert stored.sha256 == digest
    assert stored.size == len(THAI_CSV)
    assert stored.key == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}" == key_for_sha256(digest)
    with storage.open(stored.key) as f:
        assert f.read() == THAI_CSV
    assert storage.exists(stored.key)
    assert storage.size(stored.key) == len(THAI_CSV)


def test_real_thai_budget_file_round_trips(storage: Storage) -> None:
    if not REAL_CSV.is_file():
        unavailable(f"shared sample data missing: {REAL_CSV.name}")
    data = REAL_CSV.read_bytes()
    with REAL_CSV.open("rb") as f:
        stored = storage.put(f)
    with storage.open(stored.key) as f:
        assert f.read().decode("utf-8") == data.decode("utf-8")


def test_put_bytes_is_put(storage: Storage) -> None:
    assert storage.put_bytes(THAI_CSV) == storage.put(io.BytesIO(THAI_CSV))


def test_adopt_stores_a_local_file_as_put_would(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "harvest-work" / "normalised.csv"
    source.parent.mkdir()
    source.write_bytes(THAI_CSV)
    digest = hashlib.sha256(THAI_CSV).hexdigest()

    stored = storage.adopt(source, digest, len(THAI_CSV))

    assert stored == storage.put_bytes(THAI_CSV)  # same key; stored once
    assert list(storage.iter_keys()) == [stored.key]
    source.unlink()  # the harvest's work folder is removed afterwards
    with storage.open(stored.key) as f:
        assert f.read() == THAI_CSV


def test_empty_content_is_an_object(storage: Storage) -> None:
    stored = storage.put_bytes(b"")
    assert stored.size == 0
    assert storage.size(stored.key) == 0
    with storage.open(stored.key) as f:
        assert f.read() == b""


def test_identical_bytes_are_stored_once(storage: Storage) -> None:
    if isinstance(storage, S3Storage):
        # With versioning on, a second write would show up as a second version.
        storage.client.put_bucket_versioning(
            Bucket=storage.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    first = storage.put_bytes(THAI_CSV)
    before = _write_marks(storage, first.key)

    second = storage.put(io.BytesIO(THAI_CSV))

    assert second == first
    assert list(storage.iter_keys()) == [first.key]
    assert raw_objects(storage) == [first.key]
    assert _write_marks(storage, first.key) == before


def _write_marks(storage: Storage, key: str) -> object:
    if isinstance(storage, LocalStorage):
        st = storage.path(key).stat()  # its time is renewed (Storage.modified), not its bytes
        return (st.st_ino, st.st_size, storage.path(key).read_bytes())
    assert isinstance(storage, S3Storage)
    return raw_versions(storage)


def test_different_bytes_get_different_keys(storage: Storage) -> None:
    a = storage.put_bytes("กรุงเทพมหานคร".encode())
    b = storage.put_bytes("เชียงใหม่".encode())
    assert a.key != b.key
    assert sorted(storage.iter_keys()) == sorted([a.key, b.key])


@pytest.mark.parametrize("fail_after", [0, 3 * MiB + 17, 12 * MiB])
def test_failing_stream_leaves_nothing(storage: Storage, fail_after: int) -> None:
    with pytest.raises(OSError, match="connection reset"):
        storage.put(GeneratedStream(20 * MiB, fail_after=fail_after))

    assert list(storage.iter_keys()) == []
    assert raw_objects(storage) == []


def test_max_bytes_refuses_and_stores_nothing(storage: Storage) -> None:
    with pytest.raises(TooLarge) as refused:
        storage.put(GeneratedStream(3 * MiB), max_bytes=2 * MiB)

    assert isinstance(refused.value, StorageError)
    assert refused.value.max_bytes == 2 * MiB
    assert raw_objects(storage) == []


def test_max_bytes_allows_exactly_the_limit(storage: Storage) -> None:
    stored = storage.put(io.BytesIO(THAI_CSV), max_bytes=len(THAI_CSV))
    assert storage.size(stored.key) == len(THAI_CSV)


def test_large_stream_round_trips_in_chunks(storage: Storage) -> None:
    size = 20 * MiB + 123  # more than two 8 MiB parts, and a short last part
    expected = hashlib.sha256()
    source = GeneratedStream(size)
    # Hash what we feed, through a tee, so the test does not hold 20 MiB either.
    tee = _Tee(source, expected)

    stored = storage.put(tee)

    assert stored.size == size
    assert stored.sha256 == expected.hexdigest()
    assert storage.size(stored.key) == size
    if isinstance(storage, S3Storage):
        # A multipart upload's ETag ends in "-<number of parts>": 8 + 8 + 4 MiB.
        head = storage.client.head_object(Bucket=storage.bucket, Key=stored.key)
        assert head["ETag"].strip('"').endswith("-3")
    read_back = hashlib.sha256()
    chunks = 0
    with storage.open(stored.key) as f:
        while chunk := f.read(256 * 1024):
            assert len(chunk) <= 256 * 1024
            read_back.update(chunk)
            chunks += 1
    assert read_back.hexdigest() == stored.sha256
    assert chunks >= size // (256 * 1024)


class _Tee(io.RawIOBase):
    def __init__(self, source: io.RawIOBase, digest) -> None:
        self._source = source
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._source.readinto(buffer)
        self._digest.update(memoryview(buffer)[:n])
        return n


def test_open_is_a_readable_file(storage: Storage) -> None:
    stored = storage.put_bytes(THAI_CSV)
    with storage.open(stored.key) as f:
        assert f.readable()
        header = f.readline()
        rest = f.read()
    assert header.decode("utf-8-sig") == "หน่วยงาน,งบประมาณ (บาท)\n"
    assert header + rest == THAI_CSV
    assert f.closed


def test_missing_key_is_not_found(storage: Storage) -> None:
    key = key_for_sha256(hashlib.sha256(b"never stored").hexdigest())
    assert not storage.exists(key)
    with pytest.raises(ObjectNotFound):
        storage.open(key)
    with pytest.raises(ObjectNotFound):
        storage.size(key)


def test_delete_is_idempotent(storage: Storage) -> None:
    keep = storage.put_bytes(b"keep")
    gone = storage.put_bytes(b"gone")

    storage.delete(gone.key)
    storage.delete(gone.key)

    assert not storage.exists(gone.key)
    assert storage.exists(keep.key)
    assert list(storage.iter_keys()) == [keep.key]
    # Deleted content can be stored again.
    assert storage.put_bytes(b"gone") == gone
    assert storage.exists(gone.key)


def test_iter_keys_sorted_and_filtered_by_prefix(storage: Storage) -> None:
    keys = sorted(storage.put_bytes(f"ไฟล์ที่ {i}".encode()).key for i in range(12))

    assert list(storage.iter_keys()) == keys
    assert list(storage.iter_keys("sha256/")) == keys
    first = keys[0]
    for prefix in (first[:7], first[:9], first[:10], first[:12], first[:13], first):
        assert list(storage.iter_keys(prefix)) == [k for k in keys if k.startswith(prefix)]
    assert list(storage.iter_keys("other/")) == []


BAD_KEYS = [
    "",
    "../etc/passwd",
    "sha256/../../secret",
    "/etc/passwd",
    "a//b",
    "a/",
    "./a",
    ".tmp/put-x.part",
    "a\\b",
    "with space",
    "ไฟล์.csv",
    "a\x00b",
    "x" * 2000,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_refused(storage: Storage, key: str) -> None:
    for call in (
        storage.open,
        storage.exists,
        storage.size,
        storage.delete,
        storage.download_url,
    ):
        with pytest.raises(InvalidKey):
            call(key)


@pytest.mark.parametrize("prefix", ["../", "/abs", "a//", ".tmp"])
def test_invalid_prefixes_are_refused(storage: Storage, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(storage.iter_keys(prefix))


def test_download_url(storage: Storage) -> None:
    stored = storage.put_bytes(THAI_CSV)
    url = storage.download_url(stored.key, filename="งบประมาณ 2567.csv", expires=600)

    if isinstance(storage, LocalStorage):
        assert url is None
        return
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert "X-Amz-Signature" in query  # SigV4, which every S3 region accepts
    disposition = query["response-content-disposition"][0]
    assert disposition.startswith("attachment;")
    assert 'filename="2567.csv"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert urllib.parse.unquote(encoded) == "งบประมาณ 2567.csv"

    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == THAI_CSV
        served = response.headers["Content-Disposition"]
    # moto before 5.2.5 ignores response-* overrides (getmoto/moto#10057); when it applies them,
    # the browser must get exactly what we asked for.
    if served is not None:
        assert served == disposition


def test_content_disposition_ascii_fallbacks() -> None:
    assert content_disposition("report.csv") == (
        "attachment; filename=\"report.csv\"; filename*=UTF-8''report.csv"
    )
    assert content_disposition("ข้อมูล.xlsx").startswith('attachment; filename="download.xlsx";')
    header = content_disposition('a"b\r\nX-Evil: 1.csv')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="abX-Evil 1.csv";')


# ---- backend specific ---------------------------------------------------------------------------


@pytest.mark.s3
def test_s3_prefix_is_hidden_from_keys(s3_endpoint: str) -> None:
    bucket = f"khlang-test-{uuid.uuid4().hex[:16]}"
    store = open_storage(f"s3://{bucket}/tenants/nakhon", s3_endpoint_url=s3_endpoint)
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    store.ensure_bucket()  # a second call finds the bucket and does nothing

    stored = store.put_bytes(THAI_CSV)

    assert list(store.iter_keys()) == [stored.key]
    assert raw_objects(store) == [f"tenants/nakhon/{stored.key}"]
    other = S3Storage(bucket, endpoint_url=s3_endpoint)
    assert list(other.iter_keys()) == [f"tenants/nakhon/{stored.key}"]
    store.delete(stored.key)
    store.client.delete_bucket(Bucket=bucket)


def test_local_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "new" / "folder")
    assert store.root.is_dir()

    stored = store.put_bytes(THAI_CSV)
    store.put_bytes(THAI_CSV)

    assert raw_objects(store) == [stored.key]
    assert store.path(stored.key).read_bytes() == THAI_CSV


# ---- open_storage ---------------------------------------------------------------------------------


def test_open_storage_parses_the_three_url_forms(tmp_path: Path) -> None:
    folder = open_storage(str(tmp_path / "plain"))
    assert isinstance(folder, LocalStorage)
    assert folder.root == tmp_path / "plain"

    from_url = open_storage((tmp_path / "ที่เก็บ").as_uri())
    assert isinstance(from_url, LocalStorage)
    assert from_url.root == tmp_path / "ที่เก็บ"
    assert from_url.root.is_dir()

    s3 = open_storage("s3://khlang-files/prod/uploads/", s3_endpoint_url="http://127.0.0.1:9")
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("khlang-files", "prod/uploads/")
    assert s3.client.meta.endpoint_url == "http://127.0.0.1:9"

    bare = open_storage("s3://khlang-files")
    assert isinstance(bare, S3Storage)
    assert (bare.bucket, bare.prefix) == ("khlang-files", "")


@pytest.mark.parametrize(
    "url", ["", "s3://", "s3:///prefix", "http://example.org/x", "file://host/x"]
)
def test_open_storage_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError):
        open_storage(url)


def test_modified_is_when_the_bytes_were_stored(storage: Storage) -> None:
    assert storage.modified(key_for_sha256("0" * 64)) is None
    key = storage.put_bytes("ครั้งแรก".encode()).key
    first = storage.modified(key)
    assert first is not None and abs((datetime.now(UTC) - first).total_seconds()) < 120
    if isinstance(storage, LocalStorage):
        time.sleep(0.05)
        storage.put_bytes("ครั้งแรก".encode())  # free on disk: stored again as of now
        again = storage.modified(key)
        assert again is not None and again > first
