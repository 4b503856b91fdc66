"""Benchmark of the datastore's query engine: DuckDB over the resource's Parquet file against
the SQL table earlier releases loaded (SQLite, and PostgreSQL with ``--database postgresql``),
on the 1,000,000-row budget table of bench/harvest.py.

Run: ``.venv/bin/python -m bench.datastore --rows 1000000 [--database postgresql]``

The normalised budget CSV (bench.harvest_validate.write_budget_csv) is written as the
datastore's Parquet file (``write_parquet``, as ``load_pending`` does) and loaded into a SQL
table (``load_csv``). Each query runs once to warm up, then ``--repeat`` times; the median and
the slowest are printed in milliseconds:

- sort: the first 100 rows by an unindexed column (amount, descending);
- thai count: rows whose ``item`` holds the Thai word ถนน inside it (substring);
- q count: rows with ถนน anywhere in their text fields (``datastore_search``'s ``q``);
- group-by: row count and sum of amounts by agency and budget type;
- count: ``count(*)``;
- page: 100 rows of one fiscal year, in file order (a filtered ``datastore_search`` page);
- service page: the same page through the DuckDB path of ``datastore_search`` (plan, query on
  the thread's cursor, records as JSON-ready dicts), without the resource lookup in the
  catalogue database;
- held page: the same page and its count from the table held in memory
  (``datastore_query.Resident``, what ``datastore_search`` answers from once a process has
  read the file), records as JSON-ready dicts; the time to read the file into memory and the
  memory it takes are printed first.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harvest_validate import write_budget_csv

THAI = "ถนน"


def _timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    run()  # warm: caches, the file's footer, the page cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def duckdb_queries(parquet: Path) -> dict[str, Callable[[], Any]]:
    from catalog.services import datastore_query as dq
    from catalog.services.datastore import _records
    from catalog.storage.local import LocalStorage
    from schemas.tables import load_table_schema

    fields = load_table_schema("budget")["fields"]
    cursor = dq.engine().cursor()
    table = "read_parquet('" + str(parquet).replace("'", "''") + "')"

    def sql(text: str, params: list[Any] | None = None) -> Any:
        return cursor.sql(text, params=params or []).to_arrow_table()

    def service_page() -> Any:
        planned = dq.plan(fields, filters={"fiscal_year": "2567"})
        storage = LocalStorage(parquet.parent)
        source = dq.source(storage, parquet.name, cursor)
        rows = cursor.sql(
            planned.select_sql(source) + " LIMIT ? OFFSET ?", params=[*planned.params, 100, 0]
        ).to_arrow_table()
        total = cursor.sql(planned.count_sql(source), params=planned.params).fetchall()
        return _records(rows, "objects"), total

    storage = LocalStorage(parquet.parent)
    started = time.perf_counter()
    resident = dq.read_resident(storage, parquet.name)
    if resident is not None:
        print(
            f"held in memory: read in {time.perf_counter() - started:.2f} s, "
            f"{resident.nbytes / 1e6:.1f} MB"
        )

    def held_page() -> Any:
        planned = dq.plan(fields, filters={"fiscal_year": "2567"})
        rows, total = resident.search(planned, 0, 100)
        return _records(rows, "objects"), total

    text = [str(f["name"]) for f in fields if f.get("type", "string") == "string"]
    anywhere = " OR ".join(f"contains({dq.quote(n)}, ?)" for n in text)
    return {
        "sort": lambda: sql(f"SELECT * FROM {table} ORDER BY amount DESC LIMIT 100"),  # noqa: S608
        "thai count": lambda: sql(
            f"SELECT count(*) FROM {table} WHERE contains(item, ?)",  # noqa: S608
            [THAI],
        ),
        "q count": lambda: sql(
            f"SELECT count(*) FROM {table} WHERE {anywhere}",  # noqa: S608
            [THAI] * len(text),
        ),
        "group-by": lambda: sql(
            f"SELECT agency, budget_type, count(*), sum(amount) FROM {table} "  # noqa: S608
            "GROUP BY agency, budget_type"
        ),
        "count": lambda: sql(f"SELECT count(*) FROM {table}"),  # noqa: S608
        "page": lambda: sql(
            # in file order without ORDER BY, as datastore_search asks it (datastore_query.plan)
            f"SELECT * FROM {table} WHERE fiscal_year = ? LIMIT 100",  # noqa: S608
            [2567],
        ),
        "service page": service_page,
        **({"held page": held_page} if resident is not None else {}),
    }


def sql_queries(engine: Any, name: str) -> dict[str, Callable[[], Any]]:
    from sqlalchemy import func, select

    from catalog.services.datastore_sql import build_table
    from schemas.tables import load_table_schema

    schema = load_table_schema("budget")
    table = build_table(name, schema)
    c = table.c
    text = [c[f["name"]] for f in schema["fields"] if f.get("type", "string") == "string"]
    if engine.dialect.name == "postgresql":
        like = [col.contains(THAI, autoescape=True) for col in text]
    else:  # SQLite's instr() finds a substring without LIKE's case folding of ASCII
        like = [func.instr(col, THAI) > 0 for col in text]
    from sqlalchemy import or_

    def run(query: Any) -> Callable[[], Any]:
        def go() -> Any:
            with engine.connect() as conn:
                return conn.execute(query).all()

        return go

    contains_item = (
        c.item.contains(THAI, autoescape=True)
        if engine.dialect.name == "postgresql"
        else func.instr(c.item, THAI) > 0
    )
    return {
        "sort": run(select(table).order_by(c.amount.desc()).limit(100)),
        "thai count": run(select(func.count()).select_from(table).where(contains_item)),
        "q count": run(select(func.count()).select_from(table).where(or_(*like))),
        "group-by": run(
            select(c.agency, c.budget_type, func.count(), func.sum(c.amount)).group_by(
                c.agency, c.budget_type
            )
        ),
        "count": run(select(func.count()).select_from(table)),
        "page": run(select(table).where(c.fiscal_year == 2567).order_by(c._row).limit(100)),
    }


@contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "postgresql":
        from tests.servers import postgres_server

        with postgres_server() as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'datastore.db'}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    from catalog import db
    from catalog.services.datastore import write_parquet
    from catalog.services.datastore_sql import load_csv
    from schemas.tables import load_table_schema

    schema = load_table_schema("budget")
    with tempfile.TemporaryDirectory(prefix="khlang-bench-ds-", dir=args.workdir) as tmp:
        work = Path(tmp)
        csv_path = write_budget_csv(work / "budget.csv", args.rows)
        start = time.perf_counter()
        parquet = work / "budget.parquet"
        rows = write_parquet(schema, csv_path, parquet)
        parquet_s = time.perf_counter() - start
        print(
            f"Parquet: {rows:,} rows written in {parquet_s:.2f} s, "
            f"{parquet.stat().st_size / 1e6:.1f} MB"
        )
        with _database(args.database, work) as url:
            engine = db.make_engine(url)
            start = time.perf_counter()
            with engine.begin() as conn:
                load_csv(conn, "ds_bench", schema, csv_path, rows)
            load_s = time.perf_counter() - start
            size = ""
            if engine.dialect.name == "sqlite":
                size = f", {(work / 'datastore.db').stat().st_size / 1e6:.0f} MB"
            else:
                with engine.connect() as conn:
                    from sqlalchemy import text

                    total = conn.scalar(text("SELECT pg_total_relation_size('ds_bench')"))
                    size = f", {total / 1e6:.0f} MB"
                    conn.execute(text("ANALYZE ds_bench"))
            print(f"{args.database}: {rows:,} rows loaded in {load_s:.2f} s{size}")
            ours = duckdb_queries(parquet)
            theirs = sql_queries(engine, "ds_bench")
            print(
                f"\n{'query':<14} {'DuckDB+Parquet ms':>20} {args.database + ' ms':>20} {'ratio':>7}"
            )
            for name, run in ours.items():
                d_med, d_max = _timed(run, args.repeat)
                if name in theirs:
                    s_med, s_max = _timed(theirs[name], args.repeat)
                    ratio = f"{s_med / d_med:6.1f}x"
                    other = f"{s_med:8.1f} (max {s_max:6.1f})"
                else:
                    other, ratio = f"{'':>20}", ""
                print(f"{name:<14} {d_med:8.1f} (max {d_max:6.1f}) {other} {ratio}")
            engine.dispose()


if __name__ == "__main__":
    main()
