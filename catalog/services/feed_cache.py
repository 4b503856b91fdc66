"""A store of per-dataset feed fragments, shared by the server's processes: a SQLite file in
DATA_DIR (``feed_cache.db``).

Writing the DCAT catalogue costs about 2 ms a dataset (reading it, the mappers, the writers),
so a 100,000-dataset document took minutes; the text a dataset contributes changes only when
the dataset (or its organisation, groups, resources, series, or the mapping) changes. Each
fragment is stored under (dataset id, format) with a *stamp* naming everything it was made
from; a fragment is used only when the stamp the catalogue query computes now is the same.
The store only ever answers "the text of this dataset, if still current": which datasets a
document lists, and in what order, is the catalogue query's every time, so a dataset that
became private, draft, withdrawn or deleted is simply never asked for.

Like web/ratelimit.py's store: WAL (readers never wait), one short transaction per batch,
connections per thread and process. It is a cache: a failure to read or write it is logged
and the document is built without it. Bodies are zlib-compressed; the file is bounded
(`MAX_BYTES` of bodies by default), the oldest-written fragments evicted first.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

#: Bodies (compressed) kept at most; past it the oldest-written 10% or more go.
MAX_BYTES = 1024 * 1024 * 1024
#: The total is checked after this many bytes written by a process (a sum over an index).
_CHECK_EVERY_BYTES = 16 * 1024 * 1024
#: How long a statement waits for another process's write lock before giving up.
_BUSY_SECONDS = 2.0

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS fragment (
        fmt TEXT NOT NULL,
        id TEXT NOT NULL,
        stamp TEXT NOT NULL,
        written REAL NOT NULL,
        size INTEGER NOT NULL,
        body BLOB NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX IF NOT EXISTS fragment_key ON fragment (fmt, id)",
    # Eviction order, and the total size summed from the index alone.
    "CREATE INDEX IF NOT EXISTS fragment_written ON fragment (written, size)",
)
_UPSERT = """
INSERT INTO fragment (fmt, id, stamp, written, size, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (fmt, id) DO UPDATE SET
    stamp = excluded.stamp, written = excluded.written, size = excluded.size, body = excluded.body
"""


class FragmentCache:
    """Fragments of text per (format, dataset id), valid while their stamp is unchanged."""

    def __init__(self, path: Path | str, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        # sqlite3 connections belong to one thread and must not cross a fork.
        self._local = threading.local()
        self._written = 0

    def _db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # A cache need not survive a power cut (a torn write is a miss at worst).
            conn.execute("PRAGMA synchronous=OFF")
            for statement in _SCHEMA:
                conn.execute(statement)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def get_many(self, fmt: str, stamps: dict[str, str]) -> dict[str, str]:
        """The current fragments among `stamps` (id -> stamp wanted): id -> text."""
        if not stamps:
            return {}
        found: dict[str, str] = {}
        ids = list(stamps)
        try:
            db = self._db()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    # Only placeholders are formatted in.
                    f"SELECT id, stamp, body FROM fragment WHERE fmt = ? AND id IN ({marks})",  # noqa: S608
                    [fmt, *chunk],
                )
                for dataset_id, stamp, body in rows:
                    if stamps[dataset_id] == stamp:
                        found[dataset_id] = zlib.decompress(body).decode()
        except (sqlite3.Error, zlib.error, UnicodeDecodeError) as exc:
            log.warning("feed cache %s: read failed (%s); building without it", self.path, exc)
            return found
        return found

    def put_many(self, fmt: str, fragments: Iterable[tuple[str, str, str]]) -> None:
        """Store (id, stamp, text) fragments of `fmt` in one transaction; failures are logged."""
        now = time.time()
        rows = []
        for dataset_id, stamp, text in fragments:
            body = zlib.compress(text.encode(), 6)
            rows.append((fmt, dataset_id, stamp, now, len(body), body))
        if not rows:
            return
        try:
            db = self._db()
            with _transaction(db):
                db.executemany(_UPSERT, rows)
            self._written += sum(row[4] for row in rows)
            if self._written >= _CHECK_EVERY_BYTES:
                self._written = 0
                self.evict()
        except sqlite3.Error as exc:
            log.warning("feed cache %s: write failed (%s); not kept", self.path, exc)

    def total_bytes(self) -> int:
        return int(self._db().execute("SELECT coalesce(sum(size), 0) FROM fragment").fetchone()[0])

    def evict(self) -> int:
        """Past `max_bytes`, delete the oldest-written fragments down to 90% of it; how many."""
        db = self._db()
        total = self.total_bytes()
        if total <= self.max_bytes:
            return 0
        deleted = 0
        goal = total - int(self.max_bytes * 0.9)
        while goal > 0:
            with _transaction(db):
                rows = db.execute(
                    "SELECT rowid, size FROM fragment ORDER BY written, rowid LIMIT 1000"
                ).fetchall()
                if not rows:
                    break
                doomed = []
                for rowid, size in rows:
                    if goal <= 0:
                        break
                    doomed.append((rowid,))
                    goal -= size
                db.executemany("DELETE FROM fragment WHERE rowid = ?", doomed)
            deleted += len(doomed)
        return deleted

    def clear(self) -> None:
        self._db().execute("DELETE FROM fragment")


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


_CACHES: dict[str, FragmentCache] = {}
_CACHES_LOCK = threading.Lock()


def fragment_cache(data_dir: Path | str) -> FragmentCache:
    """The process's store of the catalogue in `data_dir` (one per folder)."""
    path = str(Path(data_dir).absolute() / "feed_cache.db")
    with _CACHES_LOCK:
        cache = _CACHES.get(path)
        if cache is None:
            cache = _CACHES[path] = FragmentCache(path)
        return cache


def pack(pieces: Sequence[str]) -> str:
    """Pieces of text as one string: their lengths on the first line, then the pieces."""
    return ",".join(str(len(p)) for p in pieces) + "\n" + "".join(pieces)


def unpack(text: str) -> list[str]:
    head, _, rest = text.partition("\n")
    pieces, at = [], 0
    for size in head.split(","):
        end = at + int(size)
        pieces.append(rest[at:end])
        at = end
    return pieces
