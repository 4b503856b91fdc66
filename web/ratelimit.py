"""A per-client request limit (fixed one-minute windows), kept in the process's memory.

Several app processes each count on their own, so the effective limit is per process; a shared
store can replace `_windows` when that matters.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, Response, jsonify, request


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str, now: float | None = None) -> int:
        """Count one request; return the seconds to wait, or 0 when it is allowed."""
        now = time.monotonic() if now is None else now
        window = int(now // 60)
        with self._lock:
            if len(self._windows) > 100_000:  # old clients would otherwise pile up forever
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            start, count = self._windows.get(client, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[client] = (start, count)
        return 0 if count <= self.per_minute else int(60 - now % 60) + 1


def init_app(app: Flask, per_minute: int) -> None:
    limiter = RateLimiter(per_minute)
    app.extensions["khlang_ratelimit"] = limiter

    @app.before_request
    def limit() -> Response | None:
        wait = limiter.hit(request.remote_addr or "unknown")
        if not wait:
            return None
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
