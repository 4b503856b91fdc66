"""`khlang serve`: the catalogue under gunicorn, or Flask's development server with --debug.

Each gunicorn worker builds its own app with `create_app` after the fork (no preloading): the
app opens database engines, SQLite connections and the search index, and none of those may be
shared by processes that fork after opening them.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from catalog.settings import Settings


def default_workers(settings: Settings) -> int:
    """WORKERS, or one process per CPU core plus one to cover a worker blocked on I/O."""
    return settings.WORKERS or (os.cpu_count() or 1) + 1


class KhlangServer(BaseApplication):  # type: ignore[misc]
    """gunicorn's custom-application pattern: options come from us, not from its command line."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 24+ opens a control socket at one fixed path in the home folder; two
            # catalogues on one machine would fight over it, and nothing of ours uses it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        from web import create_app

        return create_app(self.settings)


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """gunicorn settings for `khlang serve`: threaded workers, errors logged on stderr.

    BaseApplication reads neither GUNICORN_CMD_ARGS nor a gunicorn.conf.py: these options and
    the settings table are the whole configuration.
    """
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # Threaded workers keep connections alive and stay responsive to the master while one
        # thread sends a large download; a sync worker would be killed at `timeout` by a slow
        # client.
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        # package_search by GET with many filters makes long request lines; 8190 is the most
        # gunicorn accepts (its default is 4094).
        "limit_request_line": 8190,
        "errorlog": "-",
        "proc_name": "khlang",
    }


def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until a signal: on SIGTERM gunicorn lets requests in flight finish (up to
    `graceful_timeout`); SIGINT and SIGQUIT stop at once."""
    KhlangServer(settings, gunicorn_options(host, port, workers, threads)).run()


def serve_debug(settings: Settings, host: str, port: int) -> None:
    """Flask's development server: reloads on code changes, shows tracebacks. Never public."""
    from web import create_app

    create_app(settings).run(host=host, port=port, debug=True, use_reloader=True)
