"""Benchmark of the open APIs under load: gunicorn (`khlang serve`) on this machine's cores, wrk
on 127.0.0.1.

Builds a catalogue of ``--datasets`` datasets (default 10,000; written directly as rows, then
indexed by ``reindex``: the API is measured, not the writes) and a ``--rows`` row budget table
harvested through the service (the datastore's Parquet file), serves it with ``khlang serve``
and measures, each for ``--seconds``:

- ``package_show`` of random datasets;
- ``package_search``: 122 distinct searches mixing Thai and English words, filters, facets;
- ``datastore_search``: 100 rows of the big table with a filter on one column.

Each workload runs twice: "cold", with the answer cache off (API_CACHE_MB=0: every request
builds its answer), and "warm", with the per-process cache of anonymous answers; in both,
``--warm-up`` seconds of the same load run first (the server processes load their modules,
the Thai dictionary and the indexes; in "warm" the cache fills). wrk reports requests/s and the latency
distribution; the targets are package_show ≥ 1,500/s, package_search ≥ 300/s and
datastore_search ≥ 500/s, each with p99 < 100 ms.

    .venv/bin/python -m bench.api
    .venv/bin/python -m bench.api --datasets 10000 --rows 1000000 --seconds 20 --connections 16
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.search import TOPICS

GD_FIELDS = {
    "objective": ["พันธกิจหน่วยงาน"],
    "update_frequency_interval": 1,
    "geo_coverage": "เทศบาล/อบต.",
    "data_source": "กองคลัง",
    "data_format": ["CSV"],
    "data_language": ["ไทย"],
}
WORDS = ["งบประมาณ", "ถนนคอนกรีต", "budget", "จัดซื้อจัดจ้าง", "ผู้สูงอายุ", "ข้อมูล", "แหล่งน้ำ"]
WORDS += ["ภาษีที่ดิน", "ขยะ", "โรงเรียน", "อุบัติเหตุ", "population", "procurement", "PM2.5"]
SHAPES = [
    "q={word}",
    'q={word}&facet.field=["organization","tags"]',
    "q={word}&fq=fiscal_year:{year}",
    "q={word}&sort=metadata_modified desc&rows=20",
    'q=*:*&fq=organization:agency-{org:02d}&facet.field=["res_format","license_id"]',
]


def searches() -> list[str]:
    """A mix of distinct searches: words, filters, facets, sorts."""
    found = [
        shape.format(word=word, year=year, org=(n * 7) % 50)
        for n, (word, shape, year) in enumerate(
            (w, s, y) for w in WORDS for s in SHAPES for y in (2562, 2565, 2567, 2568, 2560)
        )
    ]
    return list(dict.fromkeys(found))


def build_catalogue(data: Path, datasets: int, seed: int = 2567) -> Any:
    """A migrated SQLite catalogue in ``data`` with ``datasets`` public datasets (5% private)
    across 50 organisations, indexed; returns the open Catalog."""
    from catalog import db
    from catalog.models import Organization, Tag
    from catalog.services import Catalog, Context
    from catalog.services.search import reindex
    from catalog.settings import load_settings

    rnd = random.Random(seed)
    (data / "secret_key").write_text("bench-" + "k" * 40)
    settings = load_settings(
        overrides={"DATA_DIR": str(data), "MAX_UPLOAD_MB": 4096}, environ={}, config_file=None
    )
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    engine.dispose()
    catalog = Catalog.open(settings)
    ctx = Context(catalog, system=True, lang="en")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with catalog.transaction(index=False) as session:
        orgs = [
            Organization(name=f"agency-{n:02d}", title=f"เทศบาลตำบลทดสอบ {n}", title_en=f"Test {n}")
            for n in range(50)
        ]
        tags = [Tag(name=name) for name in ("งบประมาณ", "โครงการ", "สถิติ", "ถนน", "น้ำ")]
        session.add_all(orgs + tags)
        session.flush()
        org_ids, tag_ids = [o.id for o in orgs], [t.id for t in tags]
    for batch in range(0, datasets, 2000):
        with catalog.transaction(index=False) as session:
            batch_tags = [session.get(Tag, i) for i in tag_ids]
            for n in range(batch, min(batch + 2000, datasets)):
                session.add(_dataset(n, org_ids, rnd.sample(batch_tags, 2), now))
    reindex(ctx)
    return catalog


def _dataset(n: int, org_ids: list[str], tags: list[Any], now: datetime) -> Any:
    from catalog.models import Dataset, Resource

    topic_th, topic_en = TOPICS[n % len(TOPICS)]
    year = 2560 + n % 9
    private = n % 20 == 19
    return Dataset(
        name=f"dataset-{n:06d}",
        title=f"{topic_th} ประจำปี พ.ศ. {year} ชุดที่ {n}",
        title_en=f"{topic_en} {year - 543} no. {n}",
        notes=f"{topic_th} ของหน่วยงาน จัดทำเพื่อเปิดเผยต่อสาธารณะ",
        owner_org_id=org_ids[n % len(org_ids)],
        private=private,
        license_id="odc-thai",
        maintainer="กองคลัง",
        maintainer_email="finance@example.org",
        fiscal_year=year,
        data_type="ข้อมูลระเบียน",
        data_category="ข้อมูลใช้ภายใน" if private else "ข้อมูลสาธารณะ",
        data_classification="ชั้นเผยแพร่ภายในองค์กร" if private else "เปิดเผย",
        update_frequency_unit="ปี",
        extras=dict(GD_FIELDS),
        tags=tags,
        created=now - timedelta(days=n % 700),
        modified=now - timedelta(minutes=n),
        resources=[
            Resource(
                name=f"ไฟล์ข้อมูล {n}",
                format="CSV",
                url=f"https://data.example.org/{n}.csv",
                position=0,
            )
        ],
    )


def load_big_table(catalog: Any, data: Path, rows: int) -> str:
    """Harvest a generated budget CSV of ``rows`` rows; returns its resource id."""
    from bench.harvest import CONFIG
    from bench.harvest_validate import write_budget_csv
    from catalog.services import Context, organization_create
    from catalog.services.datastore import load_pending
    from catalog.services.harvest import harvest_run
    from harvesters.config import load_config

    ctx = Context(catalog, system=True, lang="en")
    raw = write_budget_csv(data / "budget.csv", rows, raw=True)
    organization_create(ctx, {"name": "bench-agency", "title": "สำนักงบประมาณ (ทดสอบ)"})
    config = data / "harvest.yaml"
    config.write_text(CONFIG.format(path=json.dumps(str(raw))), encoding="utf-8")
    (summary,) = harvest_run(ctx, load_config(config), load_datastore=False)
    if summary["counts"] != {"created": 1}:
        raise SystemExit(f"the harvest did not publish: {summary}")
    (loaded,) = load_pending(catalog)
    if loaded["status"] != "active":
        raise SystemExit(f"the datastore load failed: {loaded}")
    raw.unlink()
    return loaded["resource"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    data: Path, workers: int, threads: int, cache_mb: int = 64
) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "KHLANG_DATA_DIR": str(data),
        "KHLANG_RATE_LIMIT_PER_MINUTE": str(10**9),
        "KHLANG_MAX_UPLOAD_MB": "4096",
        "KHLANG_API_CACHE_MB": str(cache_mb),
    }
    khlang = str(Path(sys.executable).parent / "khlang")
    command = [khlang, "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/api/3/action/status_show", timeout=2).read()
            return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def _lua(paths: list[str]) -> str:
    quoted = ",\n".join(json.dumps(p) for p in paths)
    return (
        f"local paths = {{\n{quoted}\n}}\n"
        "math.randomseed(os.time())\n"
        "request = function()\n"
        "  return wrk.format('GET', paths[math.random(#paths)])\n"
        "end\n"
    )


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def run_wrk(url: str, paths: list[str], seconds: int, connections: int, work: Path) -> dict:
    script = work / "paths.lua"
    script.write_text(_lua(paths), encoding="utf-8")
    urllib.request.urlopen(url + paths[0]).read()  # warm: the first request opens the engine
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M))
    if "99" not in latency:
        raise SystemExit(f"wrk printed no latency distribution:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _seconds(latency["50"]) * 1000,
        "p99_ms": _seconds(latency["99"]) * 1000,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--warm-up", type=int, default=60, help="seconds of the same load before measuring"
    )
    parser.add_argument("--workers", type=int, default=0, help="0: khlang serve's default")
    parser.add_argument("--threads", type=int, default=0, help="0: khlang serve's default")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="khlang-bench-api-") as tmp:
        data = Path(tmp)
        started = time.perf_counter()
        catalog = build_catalogue(data, args.datasets)
        print(f"catalogue of {args.datasets} datasets: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        resource_id = load_big_table(catalog, data, args.rows)
        print(f"budget table of {args.rows} rows: {time.perf_counter() - started:.1f} s")
        catalog.close()
        names = [f"dataset-{n:06d}" for n in range(args.datasets) if n % 20 != 19]
        agencies = ["กรมทางหลวง", "กรมชลประทาน", "กรมทางหลวงชนบท"]
        workloads = {
            "package_show": [f"/api/3/action/package_show?id={n}" for n in names],
            "package_search": [
                "/api/3/action/package_search?" + quote(s, safe="=&") for s in searches()
            ],
            "datastore_search": [
                "/api/3/action/datastore_search?resource_id="
                + resource_id
                + "&limit=100&offset="
                + str(offset)
                + "&filters="
                + quote(json.dumps({"agency": agency, "fiscal_year": year}, ensure_ascii=False))
                for agency in agencies
                for year in (2561, 2564, 2567)
                for offset in (0, 100, 500)
            ],
        }
        results = {}
        # Cold: no answer cache, every request builds its answer. Warm: the per-process
        # cache of anonymous answers, filled by the first pass. Both phases run the load once
        # before measuring, so each worker has loaded its modules, dictionary and indexes.
        for phase, cache_mb in (("cold", 0), ("warm", 256)):
            server, url = start_server(data, args.workers, args.threads, cache_mb)
            try:
                for name, paths in workloads.items():
                    run_wrk(url, paths, args.warm_up, args.connections, data)
                    results[(name, phase)] = run_wrk(
                        url, paths, args.seconds, args.connections, data
                    )
            finally:
                server.terminate()
                server.wait(timeout=60)
    print(f"\n{'workload':<18}{'cache':<6}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
    for (name, phase), figures in sorted(results.items()):
        print(
            f"{name:<18}{phase:<6}{figures['requests_per_s']:>10.0f}{figures['p50_ms']:>10.1f}"
            f"{figures['p99_ms']:>10.1f}{figures['non_2xx']:>9}"
        )


if __name__ == "__main__":
    main()
