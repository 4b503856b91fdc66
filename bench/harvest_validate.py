"""Benchmark of the validation step of a harvest: Khlang's fast validator against
frictionless' ``validate()`` and a plain pyarrow CSV read, on a generated Thai budget file.

Run: ``.venv/bin/python -m bench.harvest_validate --rows 1000000 --frictionless-rows 100000``

Each engine runs in its own child process, which reports its wall time and its peak RSS
(``ru_maxrss``), so one engine's memory never hides another's. frictionless is slow, so by
default it validates only the first ``--frictionless-rows`` rows of the same file; the output
says so. ``bench/harvest.py`` calls :func:`run` and :func:`write_budget_csv`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

AGENCIES = [
    ("กรมทางหลวง", "กระทรวงคมนาคม"),
    ("กรมทางหลวงชนบท", "กระทรวงคมนาคม"),
    ("กรมชลประทาน", "กระทรวงเกษตรและสหกรณ์"),
    ("กรมส่งเสริมการปกครองท้องถิ่น", "กระทรวงมหาดไทย"),
    ("สำนักงานคณะกรรมการการศึกษาขั้นพื้นฐาน", "กระทรวงศึกษาธิการ"),
    ("กรมควบคุมโรค", "กระทรวงสาธารณสุข"),
    ("องค์การบริหารส่วนจังหวัดเชียงใหม่", ""),
    ("สำนักงานคณะกรรมการการแข่งขันทางการค้า", "หน่วยงานอื่นของรัฐ"),
]
PLANS = ["แผนงานบุคลากรภาครัฐ", "แผนงานพื้นฐานด้านการสร้างการเติบโต", "แผนงานบูรณาการพัฒนาพื้นที่ระดับภาค"]
OUTPUTS = ["ผลผลิต : โครงข่ายทางหลวงได้รับการพัฒนา", "โครงการพัฒนาแหล่งน้ำ", "ผลผลิต : นักเรียนได้รับการศึกษา"]
TYPES = ["งบบุคลากร", "งบดำเนินงาน", "งบลงทุน", "งบเงินอุดหนุน", "งบรายจ่ายอื่น", "งบกลาง"]
CATEGORIES = ["ค่าครุภัณฑ์", "ค่าที่ดินและสิ่งก่อสร้าง", "ค่าตอบแทน ใช้สอยและวัสดุ", "เงินเดือนและค่าจ้างประจำ"]
PLACES = ["ตำบลสุเทพ อำเภอเมืองเชียงใหม่", "ตำบลหนองหาร อำเภอสันทราย", "ตำบลบ้านกลาง อำเภอสันป่าตอง"]
ITEMS = ["ก่อสร้างถนนลาดยาง สายบ้านใหม่ - บ้านดง", "ปรับปรุงอาคารเรียน", "ครุภัณฑ์คอมพิวเตอร์", "ขุดลอกคลองส่งน้ำ"]
HEADER = [
    "fiscal_year",
    "agency",
    "ministry",
    "plan",
    "output",
    "project",
    "budget_type",
    "category",
    "item",
    "amount",
    "obliged",
    "note",
]


def write_budget_csv(path: Path, rows: int, *, seed: int = 2567, raw: bool = False) -> Path:
    """Write a budget CSV of ``rows`` generated Thai line items (schema ``budget``).

    :param raw: write amounts as the sources do ("1,234,567.00", quoted); otherwise write the
        normalised form the validator sees ("1234567.00").
    """
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(rows):
            agency, ministry = rnd.choice(AGENCIES)
            satang = rnd.randrange(100_000, 50_000_000_000)
            amount = f"{satang / 100:,.2f}" if raw else f"{satang // 100}.{satang % 100:02d}"
            writer.writerow(
                [
                    rnd.randint(2560, 2568),
                    agency,
                    ministry,
                    rnd.choice(PLANS),
                    rnd.choice(OUTPUTS),
                    f"โครงการที่ {n % 977}",
                    rnd.choice(TYPES),
                    rnd.choice(CATEGORIES),
                    f"{rnd.choice(ITEMS)} {rnd.choice(PLACES)} จังหวัดเชียงใหม่",
                    amount,
                    rnd.choice(["ใช่", "ไม่ใช่", "true", "false"]),
                    "" if n % 7 else "รายการผูกพันข้ามปี",
                ]
            )
    return path


def _head(path: Path, rows: int, target: Path) -> Path:
    with path.open(encoding="utf-8", newline="") as src, target.open("w", encoding="utf-8") as out:
        for _, line in zip(range(rows + 1), src, strict=False):
            out.write(line)
    return target


# Child processes: each prints one JSON line {"rows", "seconds", "peak_rss_mb"}.


def _child(engine: str, path: str) -> dict[str, Any]:
    from schemas.tables import frictionless_validate, load_table_schema

    schema = load_table_schema("budget")
    start = time.perf_counter()
    if engine == "fast":
        from harvesters.validate import validate_csv

        result = validate_csv(path, schema, limit_errors=None, on_batch=lambda batch: None)
        rows, errors = result.row_count, len(result.findings)
    elif engine == "frictionless":
        errors = len(frictionless_validate(path, schema))
    else:
        rows, errors = _pyarrow_read(path, schema), 0
    seconds = time.perf_counter() - start
    if engine == "frictionless":  # counted after the clock stops
        with open(path, encoding="utf-8", newline="") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "errors": errors, "seconds": seconds, "peak_rss_mb": peak}


def _pyarrow_read(path: str, schema: dict[str, Any]) -> int:
    import pyarrow.csv as pcsv

    from harvesters.validate import DEFAULT_BLOCK_SIZE, arrow_schema

    types = arrow_schema(schema)
    obliged = next(f for f in schema["fields"] if f["name"] == "obliged")
    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=DEFAULT_BLOCK_SIZE),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={f.name: f.type for f in types},
            true_values=obliged["trueValues"],
            false_values=obliged["falseValues"],
            strings_can_be_null=False,
        ),
    )
    return sum(batch.num_rows for batch in reader)


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module --child args`` in a fresh process (its own peak RSS) and return
    the figures it prints last, with ``rows_per_s``."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        cwd=Path(__file__).resolve().parents[1],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["rows_per_s"] = figures["rows"] / figures["seconds"] if figures["seconds"] else 0.0
    return figures


def measure(engine: str, path: Path) -> dict[str, Any]:
    """Run one engine ("fast", "frictionless" or "pyarrow") on ``path`` in a child process."""
    return run_child("bench.harvest_validate", engine, str(path))


def run(rows: int, frictionless_rows: int, workdir: Path) -> dict[str, dict[str, Any]]:
    """Generate (or reuse) the files and measure the three engines; return their figures."""
    normalised = workdir / f"budget_{rows}.csv"
    if not normalised.exists():
        write_budget_csv(normalised, rows)
    sliced = normalised
    if frictionless_rows < rows:
        sliced = _head(normalised, frictionless_rows, workdir / f"budget_{frictionless_rows}.csv")
    return {
        "fast": measure("fast", normalised),
        "pyarrow": measure("pyarrow", normalised),
        "frictionless": measure("frictionless", sliced),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--frictionless-rows", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    with tempfile.TemporaryDirectory(prefix="khlang-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        figures = run(args.rows, min(args.frictionless_rows, args.rows), workdir)
    for engine, f in figures.items():
        print(
            f"{engine:13s} rows={f['rows']:>9,d} errors={f['errors']:>5d} "
            f"seconds={f['seconds']:8.2f} rows/s={f['rows_per_s']:>12,.0f} "
            f"peak_rss={f['peak_rss_mb']:7.1f} MB"
        )
    if figures["frictionless"]["rows"] < figures["fast"]["rows"]:
        print(f"(frictionless measured on the first {figures['frictionless']['rows']:,d} rows)")
    fast, fl, pa_ = (figures[k]["rows_per_s"] for k in ("fast", "frictionless", "pyarrow"))
    print(f"fast / frictionless = {fast / fl:.1f}x   fast / pyarrow read = {fast / pa_:.2f}x")


if __name__ == "__main__":
    main()
