"""Benchmark of a whole tabular harvest (fetch → normalise → PDPA scan → validate → publish,
then the datastore load) on a generated raw Thai budget CSV, against frictionless'
``validate()``.

Run: ``.venv/bin/python -m bench.harvest --rows 1000000``

One run prints:

- the harvest through the service (``harvest_run`` on a temporary SQLite catalogue, or a
  throw-away PostgreSQL cluster with ``--database postgresql``; one
  ``tabular`` source with the built-in ``budget`` schema) in a child process: the time to
  published (``harvest_run`` with ``load_datastore=False``: dataset, files, version, search
  index) and then the datastore load (``load_pending``), rows/s, peak RSS (the child's
  ``ru_maxrss``, read with ``RUSAGE_CHILDREN``) and the time of each stage, measured in the
  child by wrapping the functions the service calls (``_spool``, ``prepare_table``,
  ``validate_csv``, ``_Writes.wait``, ``_publish``, ``Loader.append``, ``drain_outbox``) with
  timers; the service itself is unchanged. ``prepare_table`` validates the rows on a worker
  thread as it writes them, so its time includes the validation;
- the preparation alone (fast path), which writes the normalised file the next figures use,
  and the row-by-row ``prepare_table`` on a slice;
- frictionless' ``validate()``, Khlang's validator and a plain pyarrow CSV read of the
  normalised file (see ``bench/harvest_validate.py``); frictionless reads a slice;
- the datastore load alone, as ``Loader.append`` does it and with a plain DBAPI
  ``executemany`` of tuples (a reference for the loader), on the same typed batches;
- the ratios.

The harvest runs ``--repeat`` times (default 3; this machine's run-to-run noise is about
±10%), each on a fresh catalogue, and the run of median time is reported with the times of
all runs; the datastore is loaded in the first run only.

``prepare_table`` takes the vectorised path of :mod:`harvesters.fastprepare` for CSV;
``--prepare row`` switches it off in the harvest child to measure the row-by-row path.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harvest_validate import _head, measure, run_child, write_budget_csv

CONFIG = """organization: bench-agency
defaults:
  license_id: odc-thai
  maintainer: กองคลัง
  maintainer_email: finance@example.org
  data_type: ข้อมูลระเบียน
  objective: [พันธกิจหน่วยงาน]
  update_frequency_unit: ปี
  geo_coverage: เทศบาล/อบต.
  data_source: สำนักงบประมาณ
  data_format: [CSV]
  data_category: ข้อมูลสาธารณะ
  tags: [งบประมาณ]
sources:
  - id: budget
    kind: tabular
    path: {path}
    table_schema: budget
    dataset:
      name: bench-budget
      title: งบประมาณรายจ่าย (ชุดทดสอบความเร็ว)
      notes: รายการงบประมาณรายจ่ายที่สร้างขึ้นเพื่อวัดความเร็วการเก็บเกี่ยวข้อมูล
"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(owner: Any, name: str, stages: dict[str, dict[str, float]], key: str) -> None:
    """Wrap ``owner.name``: its calls add their wall time to ``stages[key]["seconds"]``, and
    the peak RSS after them is kept (so the stage that sets the peak shows)."""
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            stage = stages.setdefault(key, {"seconds": 0.0, "peak_rss_mb": 0.0})
            stage["seconds"] += time.perf_counter() - start
            stage["peak_rss_mb"] = _peak_mb()

    setattr(owner, name, wrapper)


@contextmanager
def _database(kind: str, data: Path) -> Iterator[str]:
    """The URL of a fresh catalogue database: a SQLite file in ``data``, or a throw-away
    PostgreSQL cluster (tests.servers.postgres_server)."""
    if kind == "postgresql":
        from tests.servers import postgres_server

        with postgres_server() as url:
            yield url
    else:
        yield f"sqlite:///{data / 'khlang.db'}"


def _harvest_child(
    raw: str, prepare: str, database: str = "sqlite", load: str = "load"
) -> dict[str, Any]:
    """Run the harvest of ``raw`` through the service on a fresh catalogue, then (unless
    ``load`` is "noload") its datastore load."""
    import catalog.services.harvest_item
    import catalog.services.search
    import harvesters.fastprepare
    import harvesters.prepare
    import harvesters.validate
    from catalog import db
    from catalog.services import Catalog, Context, organization_create
    from catalog.services.datastore import Loader, load_pending
    from catalog.services.harvest import harvest_report, harvest_run
    from catalog.settings import load_settings
    from catalog.storage.local import LocalStorage
    from harvesters.config import load_config

    if prepare == "row":
        harvesters.fastprepare.can_prepare_fast = lambda *args, **kwargs: False
    stages: dict[str, dict[str, float]] = {}
    _timed(catalog.services.harvest_item, "_spool", stages, "fetch")
    _timed(LocalStorage, "put", stages, "store")
    _timed(harvesters.prepare, "prepare_table", stages, "prepare")
    _timed(harvesters.validate, "validate_csv", stages, "validate")
    _timed(Loader, "append", stages, "load")
    _timed(catalog.services.search, "drain_outbox", stages, "index")
    _timed(catalog.services.harvest_item._Writes, "wait", stages, "wait")
    _timed(catalog.services.harvest_item, "_publish", stages, "publish")
    with (
        tempfile.TemporaryDirectory(prefix="khlang-bench-harvest-") as tmp,
        _database(database, Path(tmp)) as url,
    ):
        data = Path(tmp)
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        overrides = {"DATA_DIR": str(data), "DATABASE_URL": url, "MAX_UPLOAD_MB": 4096}
        catalog = Catalog.open(load_settings(overrides=overrides, environ={}, config_file=None))
        ctx = Context(catalog, system=True, lang="en")
        organization_create(ctx, {"name": "bench-agency", "title": "สำนักงบประมาณ (ทดสอบ)"})
        config = data / "harvest.yaml"
        config.write_text(CONFIG.format(path=json.dumps(raw)), encoding="utf-8")
        start = time.perf_counter()
        (summary,) = harvest_run(ctx, load_config(config), load_datastore=False)
        seconds = time.perf_counter() - start
        if summary["counts"] != {"created": 1}:
            errors = [o["errors"] for o in harvest_report(ctx, summary["id"])["objects"]]
            raise SystemExit(
                f"the harvest did not publish: {json.dumps(errors, ensure_ascii=False)}"
            )
        figures = {
            "rows": summary["rows"],
            "seconds": seconds,
            "database": database,
            "stages": {key: dict(stage) for key, stage in stages.items()},
        }
        if load != "noload":
            stages.clear()
            start = time.perf_counter()
            (loaded,) = load_pending(catalog)
            figures["datastore_seconds"] = time.perf_counter() - start
            figures["datastore_stages"] = stages
            if loaded["status"] != "active" or loaded["rows"] != summary["rows"]:
                raise SystemExit(f"the datastore load failed: {loaded}")
        catalog.close()
    return figures


class _Unseekable(io.RawIOBase):
    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._stream.readinto(buffer)


def _prepare_child(raw: str, out: str, engine: str, rows: int) -> dict[str, Any]:
    """Prepare ``raw`` (fast path, or the row-by-row one on its first ``rows`` rows)."""
    from harvesters.fastprepare import try_prepare_fast
    from harvesters.prepare import prepare_table
    from schemas.tables import load_table_schema

    schema = load_table_schema("budget")
    workdir = Path(out).parent
    source = Path(raw) if engine == "fast" else _head(Path(raw), rows, workdir / "slice.csv")
    kwargs = {"name": "budget.csv", "fmt": "csv", "table_schema": schema, "options": {}}
    start = time.perf_counter()
    with source.open("rb") as stream:
        if engine == "fast":
            prepared = try_prepare_fast(stream, workdir=workdir, **kwargs)
        else:  # the fast path refuses unseekable streams: row by row, dispatch or not
            prepared = prepare_table(_Unseekable(stream), workdir=workdir, **kwargs)
    seconds = time.perf_counter() - start
    if prepared is None:
        raise SystemExit("the fast path gave up on the generated file")
    prepared.csv_path.replace(out)
    return {"rows": prepared.rows_written, "seconds": seconds}


def _load_child(normalised: str, mode: str) -> dict[str, Any]:
    """Load the normalised file's typed batches (from ``validate_csv``) into a SQLite
    datastore table: with ``Loader.append`` as the service does, or (``dbapi``) with one
    positional ``executemany`` of plain tuples on the driver's cursor, as a reference.
    Only the time spent loading is counted."""
    from sqlalchemy import create_engine

    from catalog.services.datastore import Loader
    from harvesters.validate import validate_csv
    from schemas.tables import load_table_schema

    schema = load_table_schema("budget")
    spent = [0.0]
    with tempfile.TemporaryDirectory(prefix="khlang-bench-load-") as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'datastore.db'}")
        with engine.begin() as conn:
            loader = Loader(conn, "ds_bench", schema)
            # positional (qmark) parameters: rows go in as plain tuples
            insert = str(loader.table.insert().compile(dialect=conn.dialect))
            cursor = conn.connection.driver_connection.cursor()

            def dbapi(batch: Any) -> None:
                first = loader.rows + 1
                columns = [range(first, first + batch.num_rows)]
                columns += [column.to_pylist() for column in batch.columns]
                cursor.executemany(insert, zip(*columns, strict=True))
                loader.rows += batch.num_rows

            load = loader.append if mode == "loader" else dbapi

            def timed(batch: Any) -> None:
                start = time.perf_counter()
                load(batch)
                spent[0] += time.perf_counter() - start

            result = validate_csv(normalised, schema, on_batch=timed)
        engine.dispose()
    return {"rows": result.row_count, "seconds": spent[0]}


def _child(argv: list[str]) -> dict[str, Any]:
    kind, *args = argv
    if kind == "harvest":
        figures = _harvest_child(*args)
    elif kind == "load":
        figures = _load_child(*args)
    else:
        figures = _prepare_child(args[0], args[1], kind, int(args[2]))
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def _spawn(*args: str) -> dict[str, Any]:
    return run_child("bench.harvest", *args)


def run(
    rows: int,
    frictionless_rows: int,
    slow_rows: int,
    prepare: str,
    workdir: Path,
    database: str = "sqlite",
    repeat: int = 3,
) -> dict:
    """Generate the raw file and measure everything; return the figures by engine. The
    harvest runs ``repeat`` times (the datastore load in the first run only); the run of
    median time is reported, with the times of all runs."""
    raw = workdir / f"budget_raw_{rows}.csv"
    if not raw.exists():
        write_budget_csv(raw, rows, raw=True)
    # The generated 650 MB would otherwise still be going to disk during the harvest, and
    # the harvest's own fsyncs would wait behind it.
    os.sync()
    first = _spawn("harvest", str(raw), prepare, database)
    # ru_maxrss of the children waited for so far: only the harvest child yet
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    runs = [first]
    for _ in range(repeat - 1):
        os.sync()
        runs.append(_spawn("harvest", str(raw), prepare, database, "noload"))
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    figures = {
        "harvest": {
            **median,
            "datastore_seconds": first["datastore_seconds"],
            "datastore_stages": first["datastore_stages"],
            "children_rss_mb": children_rss,
            # the first run's peak includes its datastore load
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "runs": [r["seconds"] for r in runs],
        }
    }
    normalised = workdir / f"budget_normalised_{rows}.csv"
    figures["prepare"] = _spawn("fast", str(raw), str(normalised), "0")
    figures["prepare_rows"] = _spawn("row", str(raw), str(workdir / "row.csv"), str(slow_rows))
    sliced = normalised
    if frictionless_rows < rows:
        sliced = _head(
            normalised, frictionless_rows, workdir / f"normalised_{frictionless_rows}.csv"
        )
    figures["frictionless"] = measure("frictionless", sliced)
    figures["load"] = _spawn("load", str(normalised), "loader")
    figures["load_dbapi"] = _spawn("load", str(normalised), "dbapi")
    figures["validate"] = measure("fast", normalised)
    figures["pyarrow"] = measure("pyarrow", normalised)
    return figures


def _split(harvest: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(stage, seconds, peak RSS after it) of the harvest, the rest as "catalogue writes"."""
    stages = harvest["stages"]

    def get(key: str) -> tuple[float, float]:
        stage = stages.get(key, {})
        return stage.get("seconds", 0.0), stage.get("peak_rss_mb", 0.0)

    publish, wait, index = get("publish"), get("wait"), get("index")
    rows = [
        ("fetch (copy + hash the source file)", *get("fetch")),
        ("prepare (normalise, PDPA scan, write, hash, validate)", *get("prepare")),
        ("validate the file (when prepare could not)", *get("validate")),
        ("publish transaction", publish[0] - wait[0] - index[0], publish[1]),
        ("waiting in it for the files' fsync", *wait),
        ("search index (after the commit)", *index),
    ]
    rest = harvest["seconds"] - sum(seconds for _, seconds, _ in rows)
    return [*rows, ("catalogue writes, commit, imports", rest, 0.0)]


def report(figures: dict[str, dict[str, Any]], rows: int) -> list[str]:
    """The lines the benchmark prints (and docs/benchmarks.md quotes)."""
    lines = []
    labels = {
        "harvest": f"harvest to published ({figures['harvest'].get('database', 'sqlite')})",
        "prepare": "prepare_table (vectorised)",
        "prepare_rows": "prepare_table (row by row)",
        "frictionless": "frictionless validate()",
        "validate": "validate_csv (Khlang)",
        "pyarrow": "pyarrow CSV read, typed",
        "load": "SQLite load, Loader.append",
        "load_dbapi": "SQLite load, DBAPI executemany",
    }
    for key, label in labels.items():
        f = figures[key]
        lines.append(
            f"{label:32s} rows={f['rows']:>9,d} seconds={f['seconds']:8.2f} "
            f"rows/s={f['rows_per_s']:>10,.0f} peak_rss={f['peak_rss_mb']:6.0f} MB"
        )
    harvest = figures["harvest"]
    runs = ", ".join(f"{s:.2f}" for s in harvest["runs"])
    lines.append(f"harvest to published, each run: {runs} s (the median run is reported)")
    lines.append(f"harvest stages (of {harvest['seconds']:.2f} s; peak RSS when each ended):")
    for name, seconds, peak in _split(harvest):
        share = seconds / harvest["seconds"] if harvest["seconds"] else 0.0
        rss = f"{peak:6.0f} MB" if peak else ""
        lines.append(f"  {name:54s} {seconds:7.2f} s  {share:6.1%}  {rss}")
    ds = harvest["datastore_stages"]
    load = ds.get("load", {}).get("seconds", 0.0)
    total = harvest["seconds"] + harvest["datastore_seconds"]
    lines.append(
        f"datastore load after the publish (load_pending): {harvest['datastore_seconds']:.2f} s"
        f" (Loader.append {load:.2f} s, reading and typing the CSV"
        f" {ds.get('validate', {}).get('seconds', 0.0) - load:.2f} s)"
    )
    lines.append(
        f"published + datastore loaded: {total:.2f} s = {harvest['rows'] / total:,.0f} rows/s"
    )
    lines.append(f"harvest child peak RSS (RUSAGE_CHILDREN): {harvest['children_rss_mb']:.0f} MB")
    for key in ("frictionless", "prepare_rows"):
        if figures[key]["rows"] < rows:
            lines.append(f"({labels[key]} measured on the first {figures[key]['rows']:,d} rows)")
    base = figures["frictionless"]["rows_per_s"]
    lines.append(
        f"harvest / frictionless = {harvest['rows_per_s'] / base:.1f}x   "
        f"with the datastore load = {harvest['rows'] / total / base:.1f}x   "
        f"vectorised prepare / frictionless = {figures['prepare']['rows_per_s'] / base:.1f}x   "
        f"harvest / pyarrow read = {harvest['rows_per_s'] / figures['pyarrow']['rows_per_s']:.2f}x"
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--frictionless-rows", type=int, default=100_000)
    parser.add_argument("--slow-rows", type=int, default=50_000, help="rows for prepare_table")
    parser.add_argument("--prepare", choices=("fast", "row"), default="fast")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--repeat", type=int, default=3, help="harvest runs (the median is reported)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the catalogue (and datastore) database of the harvest",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    with tempfile.TemporaryDirectory(prefix="khlang-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        slices = min(args.frictionless_rows, args.rows), min(args.slow_rows, args.rows)
        figures = run(args.rows, *slices, args.prepare, workdir, args.database, max(1, args.repeat))
    print("\n".join(report(figures, args.rows)))
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
