"""A file sink that hashes and writes on a worker thread.

SHA-256 and file writes release the GIL, so while the harvest prepares the next group of rows
on the main thread, the previous group is hashed and written on the other core. The queue is
short, so memory stays bounded whatever the file size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import BinaryIO

_QUEUED = 2


class HashingSink:
    """Writes buffers to `target` in order, hashing them; `close` waits for the last one."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.size = 0
        self._digest = hashlib.sha256()
        self._queue: queue.Queue[bytes | memoryview | None] = queue.Queue(_QUEUED)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="khlang-sink", daemon=True)
        self._thread.start()

    def write(self, data: bytes | memoryview) -> None:
        """Queue `data` (kept alive until written: do not reuse the buffer)."""
        if self._error is not None:
            raise self._error
        self.size += len(data)
        self._queue.put(data)

    def close(self) -> str:
        """Wait for every queued buffer; returns the sha256 (hex) of all that was written."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()

    def _drain(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep taking buffers so the writer never blocks on a full queue
            try:
                self._digest.update(data)
                self.target.write(data)
            except BaseException as exc:  # reported to the writer by write() or close()
                self._error = exc
