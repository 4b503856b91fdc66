"""A cache of read-API answers, in each server process, checked against the catalogue's count
of committed changes.

Most traffic is anonymous reads of the same datasets and searches; building a package dict
costs milliseconds of ORM work and JSON encoding, and re-sending stored bytes costs almost
nothing. An answer is reused only while `Catalog.changes()` (one indexed row, written in every
write transaction) is the number it was stored under, so an answer is never staler than the
last commit of any process. Only anonymous callers' answers are kept: a signed-in user's
answer may hold private data.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Answer:
    changes: int
    body: bytes
    etag: str
    last_modified: datetime | None


class ResponseCache:
    """Answers by key, least recently used first out, within `max_bytes` of bodies."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(*parts: Any) -> str:
        return json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)

    def get(self, key: str, changes: int) -> Answer | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found.changes != changes:  # the catalogue changed since: forget it
                del self._entries[key]
                self._bytes -= len(found.body)
                return None
            self._entries.move_to_end(key)
            return found

    def put(self, key: str, answer: Answer) -> None:
        size = len(answer.body)
        if size > self.max_bytes // 8:  # one huge answer must not empty the cache
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = answer
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)
