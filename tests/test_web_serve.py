"""`khlang serve` for real: gunicorn with two worker processes on 127.0.0.1, after `khlang init`."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.cli import main
from tests.servers import free_port

LIMIT = 10
KHLANG = [sys.executable, "-c", "from catalog.cli import main; main()"]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    # A bare connection, not a request: requests would count against the limit under test.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"khlang serve exited: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("khlang serve did not start listening")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    data = tmp_path / "data"
    assert CliRunner().invoke(main, ["--data-dir", str(data), "init"]).exit_code == 0
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KHLANG_")},
        "KHLANG_RATE_LIMIT_PER_MINUTE": str(LIMIT),
    }
    proc = subprocess.Popen(
        [*KHLANG, "--data-dir", str(data), "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,  # no khlang.toml from the repository
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_gunicorn_workers_share_one_rate_limit_compress_and_allow_cors(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, proc = server

    status, headers, body = _get(url + "/", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "คลังข้อมูลเปิด" in gzip.decompress(body).decode()

    status, headers, body = _get(url + "/api/3/action/status_show", Origin="https://example.org")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers

    # Each request opens its own connection, from several threads at once, so both worker
    # processes take some; the limit still holds exactly across them.
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: _get(url + "/api/3/action/status_show"), range(16)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] * (LIMIT - 2) + [429] * (16 - LIMIT + 2)
    refused = next(a for a in answers if a[0] == 429)
    assert int(refused[1]["Retry-After"]) > 0
    assert "โปรดลองใหม่" in refused[2].decode()

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0  # gunicorn's graceful stop
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1)


def test_serve_without_init_says_to_run_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "empty"), "serve"])
    assert result.exit_code == 1
    assert "khlang init" in result.output
