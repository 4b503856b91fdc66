"""Opening and listing harvest files: local, file://, HTTP on 127.0.0.1 and moto's S3 server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harvesters.base import HarvestError
from harvesters.fetch import list_location, make_opener, open_location
from tests.httpserver import recorded_server

CSV = "จังหวัด,จำนวนเงิน\nเชียงใหม่,1000\n".encode()


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with recorded_server(tmp_path_factory.mktemp("http")) as server:
        server.route("/budget.csv", body=CSV, content_type="text/csv; charset=utf-8")
        server.route("/old/budget.csv", body=b"", status=301, headers={"Location": "/moved"})
        server.route("/moved", body=b"", status=302, headers={"Location": "/budget.csv"})
        server.route("/big.csv", body=b"x" * 5000)
        # No Content-Length: the body ends when the connection closes.
        server.route("/unannounced.csv", body=b"y" * 5000, announce_length=False)
        server.route("/broken.csv", body=b"oops", status=500)
        yield server.base_url


def read(location: str, max_bytes: int = 10_000, **kwargs) -> bytes:
    with open_location(location, max_bytes=max_bytes, **kwargs) as stream:
        return stream.read()


# -- local files -------------------------------------------------------------------------------


def test_local_paths_and_file_urls_open(tmp_path):
    path = tmp_path / "งบ 2567.csv"
    path.write_bytes(CSV)

    assert read(str(path)) == CSV
    assert read(path.as_uri()) == CSV


def test_local_problems_name_the_file(tmp_path):
    (tmp_path / "big.csv").write_bytes(b"x" * 101)

    with pytest.raises(HarvestError) as missing:
        read(str(tmp_path / "nope.csv"))
    assert missing.value.message == f"no such file: {tmp_path / 'nope.csv'}"
    assert missing.value.message_th.startswith("ไม่พบไฟล์")
    with pytest.raises(HarvestError, match="larger than the limit of 100 bytes"):
        read(str(tmp_path / "big.csv"), max_bytes=100)
    with pytest.raises(HarvestError, match="is a folder"):
        read(str(tmp_path))


# -- HTTP --------------------------------------------------------------------------------------


def test_http_files_open_and_redirects_are_followed(http_url):
    assert read(f"{http_url}/budget.csv") == CSV
    assert read(f"{http_url}/old/budget.csv") == CSV


def test_http_errors_name_the_url_and_status(http_url):
    with pytest.raises(HarvestError) as caught:
        read(f"{http_url}/missing.csv")
    assert caught.value.message == f"{http_url}/missing.csv answered HTTP 404 Not Found"
    assert "รหัส HTTP 404" in caught.value.message_th
    with pytest.raises(HarvestError, match="answered HTTP 500"):
        read(f"{http_url}/broken.csv")


def test_an_announced_size_over_the_limit_is_refused_before_reading(http_url):
    with pytest.raises(HarvestError) as caught:
        open_location(f"{http_url}/big.csv", max_bytes=4999)
    assert caught.value.message == f"{http_url}/big.csv is larger than the limit of 4,999 bytes"
    assert read(f"{http_url}/big.csv", max_bytes=5000) == b"x" * 5000


def test_a_body_without_content_length_is_cut_off_at_the_limit(http_url):
    stream = open_location(f"{http_url}/unannounced.csv", max_bytes=4000)
    with stream, pytest.raises(HarvestError, match="larger than the limit of 4,000 bytes"):
        stream.read()
    assert read(f"{http_url}/unannounced.csv", max_bytes=5000) == b"y" * 5000


def test_an_unreachable_server_is_a_clear_error():
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/budget.csv"
    with pytest.raises(HarvestError, match=f"cannot reach {url}"):
        read(url, timeout=5)


def test_the_opener_applies_its_limit(http_url):
    opener = make_opener(4999)

    with opener(f"{http_url}/budget.csv") as stream:
        assert stream.read() == CSV
    with pytest.raises(HarvestError, match="larger than the limit"):
        opener(f"{http_url}/big.csv")


# -- listing -----------------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    for name in ("b_2567.csv", "a_2566.csv", "notes.pdf", ".hidden.csv", "sub/c_2565.csv"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CSV)
    os.utime(root / "a_2566.csv", (1_700_000_000, 1_700_000_000))


def test_a_folder_lists_its_files_by_name_with_size_and_time(tmp_path):
    make_tree(tmp_path)

    refs = list_location(str(tmp_path))

    assert [r.name for r in refs] == ["a_2566.csv", "b_2567.csv", "notes.pdf"]
    assert refs[0].location == str(tmp_path / "a_2566.csv")
    assert refs[0].size == len(CSV)
    assert refs[0].modified == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert [r.name for r in list_location(str(tmp_path), "*.csv")] == ["a_2566.csv", "b_2567.csv"]


def test_a_glob_lists_matches_named_relative_to_its_fixed_folder(tmp_path):
    make_tree(tmp_path)

    refs = list_location(str(tmp_path / "**" / "*.csv"))

    assert [r.name for r in refs] == ["a_2566.csv", "b_2567.csv", "sub/c_2565.csv"]
    assert refs[2].location == str(tmp_path / "sub" / "c_2565.csv")


def test_listing_what_is_not_there_or_cannot_be_listed_fails(tmp_path):
    with pytest.raises(HarvestError, match="no such file or folder"):
        list_location(str(tmp_path / "nope"))
    with pytest.raises(HarvestError, match="cannot be listed"):
        list_location("https://example.go.th/data/")


# -- S3 (moto's server) ---------------------------------------------------------------------------


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    import uuid

    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"khlang-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    for key in ("budget/2567.csv", "budget/2566.csv", "budget/old/2565.xlsx", "other.csv"):
        client.put_object(Bucket=name, Key=key, Body=CSV)
    client.put_object(Bucket=name, Key="budget/big.csv", Body=b"z" * 3000)
    return name


@pytest.mark.s3
def test_s3_objects_open_with_the_endpoint(s3_endpoint, bucket):
    assert read(f"s3://{bucket}/budget/2567.csv", s3_endpoint_url=s3_endpoint) == CSV
    with pytest.raises(HarvestError) as caught:
        read(f"s3://{bucket}/budget/nope.csv", s3_endpoint_url=s3_endpoint)
    assert caught.value.message == f"no such object: s3://{bucket}/budget/nope.csv"
    with pytest.raises(HarvestError, match="larger than the limit of 2,999 bytes"):
        read(f"s3://{bucket}/budget/big.csv", max_bytes=2999, s3_endpoint_url=s3_endpoint)


@pytest.mark.s3
def test_s3_prefixes_and_globs_list_sorted_with_relative_names(s3_endpoint, bucket):
    def names(location: str, pattern: str | None = None) -> list[str]:
        refs = list_location(location, pattern, s3_endpoint_url=s3_endpoint)
        return [r.name for r in refs]

    assert names(f"s3://{bucket}/budget/") == ["2566.csv", "2567.csv", "big.csv", "old/2565.xlsx"]
    assert names(f"s3://{bucket}/budget") == names(f"s3://{bucket}/budget/")
    assert names(f"s3://{bucket}/budget/*.xlsx") == ["old/2565.xlsx"]
    assert names(f"s3://{bucket}/budget/", "25*.csv") == ["2566.csv", "2567.csv"]
    assert names(f"s3://{bucket}/other.csv") == ["other.csv"]

    ref = list_location(f"s3://{bucket}/budget/2567.csv", s3_endpoint_url=s3_endpoint)[0]
    assert ref.location == f"s3://{bucket}/budget/2567.csv"
    assert ref.size == len(CSV) and ref.modified is not None and ref.modified.tzinfo is not None


@pytest.mark.s3
def test_the_opener_lists_and_opens_s3_with_one_client(s3_endpoint, bucket):
    opener = make_opener(10_000, s3_endpoint)

    refs = opener.list(f"s3://{bucket}/budget/", "*.csv")
    with opener(refs[0].location) as stream:
        assert stream.read() == CSV
    with pytest.raises(HarvestError, match="no such bucket"):
        opener.list("s3://khlang-no-such-bucket/budget/")
