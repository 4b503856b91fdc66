"""A small HTTP server on 127.0.0.1 serving recorded responses to the harvesters under test.

    with recorded_server(DATA / "ckan") as server:
        server.route("/api/3/action/package_search", "page2.json", query="start=2")
        server.route("/broken", status=500, body=b"oops", content_type="text/html")
        harvest(server.url("/api/3/action/package_search"))
        assert server.requests[0].params["rows"] == ["2"]

A request is answered by the route of its path whose `query` is the largest subset of the
request's parameters (so one route can stand for every request of a page, whatever else the
client sends), else by the file of the folder at that path, else 404. Every request is
recorded (method, path, parameters) so tests can assert what a harvester asked for.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, parse_qsl, urlsplit

CONTENT_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".jsonld": "application/ld+json",
    ".ttl": "text/turtle; charset=utf-8",
    ".rdf": "application/rdf+xml",
    ".xml": "application/xml",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class SeenRequest:
    """A request the server answered."""

    method: str
    path: str
    query: str
    params: dict[str, list[str]]


@dataclass
class Route:
    """A recorded answer: a file of the folder or literal bytes, with a status and type."""

    path: str
    query: frozenset[tuple[str, str]]
    file: str | None = None
    body: bytes | None = None
    status: int = 200
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    announce_length: bool = True  # False: no Content-Length, the body ends with the connection


class RecordedServer:
    """The running server: its base URL, its routes and the requests it saw."""

    def __init__(self, folder: Path, httpd: ThreadingHTTPServer) -> None:
        self.folder = folder
        self.base_url = f"http://127.0.0.1:{httpd.server_port}"
        self.routes: list[Route] = []
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + path

    def route(
        self,
        path: str,
        file: str | None = None,
        *,
        query: str = "",
        body: bytes | None = None,
        status: int = 200,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        announce_length: bool = True,
    ) -> None:
        """Answer requests of `path` (with at least the parameters of `query`) with `file`
        (relative to the folder) or `body`; `announce_length=False` sends no Content-Length
        and closes the connection after the body."""
        pairs = frozenset(parse_qsl(query, keep_blank_values=True))
        route = Route(
            path, pairs, file, body, status, content_type, dict(headers or {}), announce_length
        )
        with self._lock:
            self.routes.append(route)

    def seen(self, path: str) -> list[SeenRequest]:
        """The requests made to `path`, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _record(self, method: str, target: str) -> tuple[str, frozenset[tuple[str, str]]]:
        parts = urlsplit(target)
        params = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self.requests.append(SeenRequest(method, parts.path, parts.query, params))
        return parts.path, frozenset(parse_qsl(parts.query, keep_blank_values=True))

    def answer(self, method: str, target: str) -> tuple[int, dict[str, str], bytes, bool]:
        """The status, headers, body and whether to announce its length, for a request of
        `target` (path and query)."""
        path, pairs = self._record(method, target)
        with self._lock:
            matching = [r for r in self.routes if r.path == path and r.query <= pairs]
        if matching:
            # The most specific route wins; among equals, the one added last.
            route = max(reversed(matching), key=lambda r: len(r.query))
            body = route.body if route.body is not None else self._file(route.file or path)
            if body is None:
                return 404, {"Content-Type": "text/plain"}, b"route file not found", True
            name = route.file or path
            headers = {"Content-Type": route.content_type or _content_type(name), **route.headers}
            return route.status, headers, body, route.announce_length
        body = self._file(path)
        if body is None:
            return 404, {"Content-Type": "text/plain"}, b"not found", True
        return 200, {"Content-Type": _content_type(path)}, body, True

    def _file(self, name: str) -> bytes | None:
        target = (self.folder / name.lstrip("/")).resolve()
        if self.folder.resolve() not in target.parents or not target.is_file():
            return None
        return target.read_bytes()


def _content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def _handler(server: RecordedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._reply("GET")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._reply("POST")

        def _reply(self, method: str) -> None:
            status, headers, body, announce = server.answer(method, self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if announce:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; requests are recorded instead

    return Handler


@contextmanager
def recorded_server(folder: Path) -> Iterator[RecordedServer]:
    """Serve `folder` (and the routes added later) on 127.0.0.1; stop on exit."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    server = RecordedServer(folder, httpd)
    httpd.RequestHandlerClass = _handler(server)
    # A short poll interval makes shutdown() quick: tests start one server each.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def url_opener(timeout: float = 10.0) -> Callable[[str], BinaryIO]:
    """A plain opener for harvest tests: urllib with a timeout (the catalogue's opener adds
    size limits and s3://)."""

    def open_url(location: str) -> BinaryIO:
        return urllib.request.urlopen(location, timeout=timeout)

    return open_url
