"""Benchmark of the DCAT catalogue feeds: the whole catalogue streamed, and walked page by page.

Builds a catalogue of ``--datasets`` datasets (default 100,000, 5% private: written directly
as rows, then indexed, with bench.api's `build_catalogue`), serves it with ``khlang serve``
(gunicorn, bench.api's `start_server`) and measures, for each format (ttl, jsonld, rdf):

- one request ``/catalog.<fmt>?page_size=<datasets>`` read to the end with the fragment cache
  (DATA_DIR/feed_cache.db) emptied first: the *cold* stream, which fills it;
- the same request again: the *warm* stream, as users get it in steady state: seconds, time
  to the first byte, bytes, the ``dcat:Dataset`` subjects counted in the stream, and the peak
  RSS (VmHWM) of the gunicorn workers over both (the server is restarted for each format, so
  each peak is that format's own);
- the same with ``Accept-Encoding: gzip`` (flask-compress, warm): seconds, first byte, bytes;
- every page of ``--page-size`` (default 100) read one after another with ``page=N``, following
  the Hydra ``next`` link of the first and last pages: total seconds.

Before that, a small catalogue (``--check-datasets``, default 1,000) is served and each format's
whole-catalogue document is parsed with rdflib: its dcat:Dataset subjects must be exactly the
public datasets (cold, then warm). The target is every format's warm stream in ≤ 30 s with a
peak RSS ≤ 300 MB; the cold figures are printed beside it.

    .venv/bin/python -m bench.dcat
    .venv/bin/python -m bench.dcat --datasets 10000 --formats ttl --no-pages
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.api import build_catalogue, start_server

FORMATS = ("ttl", "jsonld", "rdf")
TARGET_SECONDS = 30.0
TARGET_RSS_MB = 300.0
# One dcat:Dataset subject, as each writer spells its type (not dcat:DatasetSeries).
DATASET_TYPE = {
    "ttl": re.compile(rb"\ba dcat:Dataset\b(?!Series)"),
    "jsonld": re.compile(rb'"@type": (?:\[[^\]]*)?"dcat:Dataset"'),
    "rdf": re.compile(rb'<rdf:type rdf:resource="http://www.w3.org/ns/dcat#Dataset"/>'),
}
NEXT_LINK = {
    "ttl": re.compile(rb"hydra:next <([^>]+)>"),
    "jsonld": re.compile(rb'"hydra:next": \{"@id": "([^"]+)"\}'),
    "rdf": re.compile(rb'<hydra:next rdf:resource="([^"]+)"/>'),
}


def public_count(datasets: int) -> int:
    """Datasets of bench.api's catalogue that the feeds show (every 20th one is private)."""
    return sum(1 for n in range(datasets) if n % 20 != 19)


def _workers(master: int) -> list[int]:
    """The gunicorn workers: processes whose parent is the master."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", status, re.M):
            found.append(int(entry))
    return found


def _hwm_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024


def fetch(url: str, *, gzip: bool = False, keep: bool = False, pattern: Any = None) -> dict:
    """GET `url`, reading the body in 64 KiB pieces: seconds, time to first byte, bytes, the
    matches of `pattern` counted across pieces, and the body itself with `keep`."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    started = time.perf_counter()
    conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""), headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"{url}: HTTP {response.status}")
    first = None
    size = matches = 0
    tail = b""
    kept: list[bytes] = []
    while piece := response.read1(65536):
        if first is None:
            first = time.perf_counter() - started
        size += len(piece)
        if pattern is not None:
            # Count in the tail of the last piece plus this one, each match once.
            window = tail + piece
            matches += sum(1 for m in pattern.finditer(window) if m.end() > len(tail))
            tail = window[-200:]
        if keep:
            kept.append(piece)
    seconds = time.perf_counter() - started
    encoding = response.getheader("Content-Encoding") or ""
    conn.close()
    return {
        "seconds": seconds,
        "ttfb": first or seconds,
        "bytes": size,
        "datasets": matches,
        "encoding": encoding,
        "body": b"".join(kept),
    }


def check_complete(datasets: int, formats: list[str], work: Path) -> None:
    """Parse each format's whole-catalogue document of a small catalogue with rdflib."""
    from rdflib import Graph
    from rdflib.namespace import DCAT, RDF

    data = work / "check"
    data.mkdir()
    build_catalogue(data, datasets).close()
    server, url = start_server(data, 0, 0)
    try:
        for fmt in formats:
            for run in ("cold", "warm"):
                got = fetch(f"{url}/catalog.{fmt}?page_size={datasets}", keep=True)
                graph = Graph()
                graph.parse(
                    data=got["body"],
                    format={"ttl": "turtle", "jsonld": "json-ld"}.get(fmt, "xml"),
                )
                subjects = set(graph.subjects(RDF.type, DCAT.Dataset))
                counted = len(DATASET_TYPE[fmt].findall(got["body"]))
                expected = public_count(datasets)
                status = "ok" if len(subjects) == counted == expected else "INCOMPLETE"
                print(
                    f"check {fmt:<7} {run} {datasets} datasets: {len(subjects)} dcat:Dataset "
                    f"subjects parsed, {counted} counted in the text, {expected} public: {status}"
                )
                if status != "ok":
                    raise SystemExit(f"the {fmt} catalogue is not complete")
    finally:
        server.terminate()
        server.wait(timeout=60)


def measure(data: Path, fmt: str, datasets: int, page_size: int, pages: bool) -> dict:
    """One format on a fresh server: the whole catalogue, plain and gzip, then every page."""
    server, url = start_server(data, 0, 0)
    try:
        workers = _workers(server.pid)
        before = {pid: _hwm_mb(pid) for pid in workers}
        for stale in data.glob("feed_cache.db*"):
            stale.unlink()
        cold = fetch(f"{url}/catalog.{fmt}?page_size={datasets}", pattern=DATASET_TYPE[fmt])
        whole = fetch(f"{url}/catalog.{fmt}?page_size={datasets}", pattern=DATASET_TYPE[fmt])
        after = {pid: _hwm_mb(pid) for pid in workers}
        # The workers that served them are those whose peak grew most (the others answered
        # at most the start-up probe); the figure is the highest peak.
        served = max(workers, key=lambda pid: after[pid])
        result: dict[str, Any] = {
            "cold": cold,
            "whole": whole,
            "rss_mb": after[served],
            "rss_before_mb": before[served],
            "workers": len(workers),
        }
        result["gzip"] = fetch(f"{url}/catalog.{fmt}?page_size={datasets}", gzip=True)
        result["rss_any_mb"] = max(_hwm_mb(pid) for pid in workers)
        if pages:
            result["pages"] = walk(url, fmt, page_size)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return result


def walk(url: str, fmt: str, page_size: int) -> dict:
    """Every page in turn (page=N); the first and last pages' Hydra next links checked."""
    started = time.perf_counter()
    count = 0
    page = 1
    slowest = 0.0
    while True:
        got = fetch(
            f"{url}/catalog.{fmt}?page_size={page_size}&page={page}",
            keep=True,
            pattern=DATASET_TYPE[fmt],
        )
        slowest = max(slowest, got["seconds"])
        count += got["datasets"]
        following = NEXT_LINK[fmt].search(got["body"])
        if following is None:
            break
        link = following.group(1).decode().replace("&amp;", "&")
        if not link.endswith(f"page={page + 1}"):
            raise SystemExit(f"page {page}: unexpected hydra:next {link}")
        page += 1
    return {
        "seconds": time.perf_counter() - started,
        "pages": page,
        "datasets": count,
        "slowest": slowest,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--check-datasets", type=int, default=1_000, help="0: no rdflib check")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--no-pages", action="store_true", help="skip the page-by-page walk")
    parser.add_argument("--data", help="reuse (or build once in) this folder")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    with tempfile.TemporaryDirectory(prefix="khlang-bench-dcat-") as tmp:
        work = Path(tmp)
        if args.check_datasets:
            check_complete(args.check_datasets, formats, work)
        data = Path(args.data) if args.data else work / "catalogue"
        data.mkdir(parents=True, exist_ok=True)
        if not (data / "secret_key").exists():
            started = time.perf_counter()
            build_catalogue(data, args.datasets).close()
            print(f"catalogue of {args.datasets} datasets: {time.perf_counter() - started:.1f} s")
        results = {
            fmt: measure(data, fmt, args.datasets, args.page_size, not args.no_pages)
            for fmt in formats
        }
    expected = public_count(args.datasets)
    print(
        f"\n{args.datasets} datasets ({expected} public); whole catalogue in one request"
        f" (page_size={args.datasets}): cold (cache emptied), then warm; then every page of"
        f" {args.page_size}"
    )
    head = (
        f"{'format':<8}{'cold s':>8}{'warm s':>8}{'TTFB s':>8}{'MB':>8}{'datasets':>10}{'RSS MB':>8}"
        f"{'gzip s':>8}{'gz TTFB':>8}{'gz MB':>7}{'pages s':>9}{'slowest':>9}"
    )
    print(head)
    met = True
    for fmt, r in results.items():
        whole, gz, pages = r["whole"], r["gzip"], r.get("pages")
        complete = whole["datasets"] == expected and (not pages or pages["datasets"] == expected)
        complete &= r["cold"]["datasets"] == expected
        met &= whole["seconds"] <= TARGET_SECONDS and r["rss_mb"] <= TARGET_RSS_MB and complete
        print(
            f"{fmt:<8}{r['cold']['seconds']:>8.1f}{whole['seconds']:>8.1f}{whole['ttfb']:>8.2f}{whole['bytes'] / 1e6:>8.0f}"
            f"{whole['datasets']:>10}{r['rss_mb']:>8.0f}"
            f"{gz['seconds']:>8.1f}{gz['ttfb']:>8.2f}{gz['bytes'] / 1e6:>7.1f}"
            + (f"{pages['seconds']:>9.1f}{pages['slowest']:>9.2f}" if pages else "")
        )
        if pages and pages["datasets"] != expected:
            print(
                f"  pages: {pages['pages']} pages, {pages['datasets']} datasets (expected {expected})"
            )
        if gz["encoding"] != "gzip":
            print(f"  gzip: the response was not compressed ({gz['encoding'] or 'identity'})")
        print(
            f"  worker RSS before the request {r['rss_before_mb']:.0f} MB, {r['workers']} workers"
        )
    print(
        f"\ntarget (warm ≤ {TARGET_SECONDS:.0f} s, ≤ {TARGET_RSS_MB:.0f} MB, complete): "
        + ("met" if met else "MISSED")
    )


if __name__ == "__main__":
    main()
