"""Work handed to threads, in order: hashing and writing a file, validating its rows.

SHA-256, file writes and most of pyarrow's compute release the GIL, so while the harvest
prepares the next group of rows on the main thread, the previous groups are hashed, written
and validated on the other core. Queues are short, so memory stays bounded whatever the file
size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from typing import BinaryIO

_QUEUED = 2


class Worker:
    """Runs the calls it is given on one thread, in order; `close` waits for the last one
    and re-raises the first error (after which later calls are skipped)."""

    def __init__(self, name: str, queued: int = _QUEUED) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue(queued)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], None]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(call)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _drain(self) -> None:
        while (call := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep taking calls so the submitter never blocks on a full queue
            try:
                call()
            except BaseException as exc:  # reported by submit() or close()
                self._error = exc


class HashingSink:
    """Writes buffers to `target` in order on worker threads, hashing them."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.size = 0
        self._digest = hashlib.sha256()
        # Hashing (about 1.2 GB/s) and writing each get a thread: neither waits for the other.
        self._hashing = Worker("khlang-hash")
        self._writing = Worker("khlang-write")

    def write(self, data: bytes | memoryview) -> None:
        """Queue `data` (kept alive until written: do not reuse the buffer)."""
        self.size += len(data)
        self._hashing.submit(lambda: self._digest.update(data))
        self._writing.submit(lambda: self.target.write(data))

    def close(self) -> str:
        """Wait for every queued buffer; returns the sha256 (hex) of all that was written."""
        try:
            self._hashing.close()
        finally:
            self._writing.close()
        return self._digest.hexdigest()
