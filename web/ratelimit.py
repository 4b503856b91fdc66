"""Per-client request limits with the `limits` library, counted in a store every server process
sees.

`limits` is the library Flask-Limiter is built on; one `hit` per request from a before_request
hook does what this site needs (one count per client for the whole site) at a third of
Flask-Limiter's cost per request (~0.07 ms against ~0.2 ms: about a tenth of a cached API
answer's whole cost).

`khlang serve` runs several processes; a limit counted in each process's memory would let a
client make N times the limit. The embedded deployment has no Redis, so the default store is a
SQLite file in the data folder (`SQLiteStorage` below, a `limits` storage): one UPSERT per
request, in WAL mode so readers never wait. RATELIMIT_STORAGE_URL points at Redis or Memcached
when several machines serve the catalogue.

The strategy is a fixed window that starts at a client's first request (as `limits` does with
its own stores): exact counts, one row per client, at the cost of allowing up to twice the limit
across a window boundary.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from pathlib import Path

from flask import Flask, Response, jsonify, request
from limits import RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from catalog.settings import Settings

SCHEME = "khlang+sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID
"""

# One statement, so concurrent processes never lose a hit: SQLite takes its write lock for the
# whole UPSERT. A window that has run out starts again at this hit.
_INCR = """
INSERT INTO hits (key, count, expires) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires <= :now THEN excluded.count ELSE count + excluded.count END,
    expires = CASE WHEN expires <= :now THEN excluded.expires ELSE expires END
RETURNING count
"""

#: Expired rows are swept once in this many hits of a process, so the table stays small.
_SWEEP_EVERY = 5000


class SQLiteStorage(Storage):
    """A `limits` storage in one SQLite file, shared by the processes of one machine.

    URL: ``khlang+sqlite:///relative/path.db`` or ``khlang+sqlite:////absolute/path.db``.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri.split("://", 1)[1][1:]
        # sqlite3 connections belong to one thread, and must not cross a fork: each thread of
        # each process opens its own on first use.
        self._local = threading.local()
        self._hits = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # Counts need not survive a power cut; skipping fsync keeps a hit in microseconds.
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute(_SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        db = self._db()
        (count,) = db.execute(
            _INCR, {"key": key, "amount": amount, "now": now, "expiry": expiry}
        ).fetchone()
        self._hits += 1
        if self._hits % _SWEEP_EVERY == 0:
            db.execute("DELETE FROM hits WHERE expires <= ?", (now,))
        return int(count)

    def get(self, key: str) -> int:
        row = (
            self._db()
            .execute("SELECT count FROM hits WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = (
            self._db()
            .execute("SELECT expires FROM hits WHERE key = ? AND expires > ?", (key, now))
            .fetchone()
        )
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM hits").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM hits WHERE key = ?", (key,))


def storage_url(settings: Settings) -> str:
    """The store of request counts: RATELIMIT_STORAGE_URL, else a SQLite file in DATA_DIR."""
    if settings.RATELIMIT_STORAGE_URL:
        return settings.RATELIMIT_STORAGE_URL
    # Absolute, so every process finds the same file whatever its working folder.
    return f"{SCHEME}:///{(settings.data_dir / 'ratelimit.db').absolute()}"


def client_address() -> str:
    """The client a limit counts for: its IP address (after PROXY_HOPS trusted proxies)."""
    return request.remote_addr or "unknown"


def too_many_requests(wait: int) -> Response:
    """The 429 answer: CKAN's error envelope in English and Thai, and Retry-After."""
    response = jsonify(
        {
            "success": False,
            "error": {
                "__type": "Rate Limit",
                "message": f"Too many requests; try again in {wait} s. / "
                f"มีคำขอมากเกินไป โปรดลองใหม่ในอีก {wait} วินาที",
            },
        }
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask, settings: Settings) -> FixedWindowRateLimiter | None:
    """Count every request of a client against RATE_LIMIT_PER_MINUTE (0: no limit).

    Every route counts, 404s included (URL scanners are limited too); static files do not.
    """
    per_minute = settings.RATE_LIMIT_PER_MINUTE
    if not per_minute:
        return None
    limit = RateLimitItemPerMinute(per_minute)
    limiter = FixedWindowRateLimiter(storage_from_string(storage_url(settings)))
    log = logging.getLogger(__name__)

    @app.before_request
    def count() -> Response | None:
        if request.endpoint == "static":
            return None
        client = client_address()
        try:
            if limiter.hit(limit, "khlang", client):
                return None
            reset = limiter.get_window_stats(limit, "khlang", client).reset_time
        except Exception:
            # A store that fails (a full disk, Redis down) is logged and the request served:
            # an open-data site rather stays open than answers 500 to everyone.
            log.exception("rate limit store failed; request served unlimited")
            return None
        return too_many_requests(max(1, math.ceil(reset - time.time())))

    app.extensions["khlang_ratelimit"] = limiter
    return limiter
