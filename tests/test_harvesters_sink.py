"""Hashing and writing on a worker thread: same bytes, same hash, errors not lost."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from harvesters.sink import HashingSink, Worker


def test_the_sink_writes_and_hashes_every_buffer_in_order(tmp_path: Path) -> None:
    parts = [f"แถวที่ {i},{i * 1.5}\n".encode() for i in range(5000)]
    target = tmp_path / "out.csv"
    with target.open("wb") as out:
        sink = HashingSink(out)
        for part in parts:
            sink.write(memoryview(part))
        digest = sink.close()
    data = b"".join(parts)
    assert target.read_bytes() == data
    assert digest == hashlib.sha256(data).hexdigest() and sink.size == len(data)


class _DiskFull(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(28, "No space left on device")


def test_a_failed_write_is_raised_to_the_writer_not_lost() -> None:
    sink = HashingSink(_DiskFull())  # type: ignore[arg-type]
    sink.write(b"a,b\n")
    with pytest.raises(OSError, match="No space left"):
        for _ in range(10):  # the error reaches a later write or the close
            sink.write(b"c,d\n")
        sink.close()


def test_the_worker_runs_calls_in_order_and_stops_at_the_first_error() -> None:
    seen: list[int] = []
    worker = Worker("test")
    for i in range(50):
        worker.submit(lambda i=i: seen.append(i))
    worker.close()
    assert seen == list(range(50))

    failing = Worker("test")
    failing.submit(lambda: seen.append(1 // 0))
    with pytest.raises(ZeroDivisionError):
        for _ in range(10):
            failing.submit(lambda: seen.append(-1))
        failing.close()
    assert -1 not in seen  # nothing after the error ran
