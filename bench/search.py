"""Search benchmark: Whoosh backend vs SQLite FTS5 and tantivy over the same analysed text.

Builds synthetic catalogues of Thai agency datasets (default 10,000 and 100,000), then measures
the full index build (time, size) and warm query latency (p50/p95/p99) over a mixed workload:
single term, two terms, phrase, filtered, faceted, empty query with facets, sorted by relevance
and by date. FTS5 and tantivy index the text already analysed by search/thai.py (space-joined
terms), so the comparison is about the engines, not the analysis.

    .venv/bin/python -m bench.search --sizes 10000
    .venv/bin/python -m bench.search --sizes 10000 100000 --engines whoosh fts5 tantivy
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from search.documents import SearchDocument, SearchQuery

TOPICS = [
    ("งบประมาณรายจ่ายประจำปี", "annual budget expenditure"),
    ("แผนการจัดซื้อจัดจ้าง", "procurement plan"),
    ("ผลการจัดซื้อจัดจ้าง", "procurement results"),
    ("โครงการก่อสร้างถนนคอนกรีตเสริมเหล็ก", "reinforced concrete road construction project"),
    ("รายงานความก้าวหน้าโครงการ", "project progress report"),
    ("ข้อบัญญัติงบประมาณรายจ่าย", "budget ordinance"),
    ("เทศบัญญัติงบประมาณ", "municipal budget ordinance"),
    ("สถิติผู้สูงอายุที่ได้รับเบี้ยยังชีพ", "elderly living allowance statistics"),
    ("ข้อมูลการจัดเก็บภาษีที่ดินและสิ่งปลูกสร้าง", "land and building tax collection"),
    ("จำนวนประชากรแยกตามหมู่บ้าน", "population by village"),
    ("ข้อมูลสาธารณภัยและการช่วยเหลือผู้ประสบภัย", "disaster relief data"),
    ("ทะเบียนแหล่งน้ำสาธารณะ", "public water sources register"),
    ("รายชื่อศูนย์พัฒนาเด็กเล็ก", "child development centres"),
    ("ข้อมูลการจัดเก็บขยะมูลฝอย", "solid waste collection"),
    ("แผนพัฒนาท้องถิ่น", "local development plan"),
    ("รายงานการเงินประจำปี", "annual financial statements"),
    ("ข้อมูลผู้พิการที่ได้รับเบี้ยความพิการ", "disability allowance recipients"),
    ("สถานที่ท่องเที่ยว", "tourist attractions"),
    ("ข้อมูลโรงเรียนในสังกัด", "schools under supervision"),
    ("ราคากลางงานก่อสร้าง", "reference prices for construction"),
    ("การใช้ไฟฟ้าของหน่วยงาน", "electricity use of offices"),
    ("ข้อมูลโรงพยาบาลส่งเสริมสุขภาพตำบล", "health promoting hospitals"),
    ("ผลการเบิกจ่ายงบลงทุน", "capital budget disbursement"),
    ("ร่างพระราชบัญญัติ", "draft bills"),
    ("คำสั่งแต่งตั้งคณะกรรมการ", "committee appointment orders"),
    ("ข้อมูลคุณภาพอากาศ PM2.5", "air quality PM2.5"),
    ("ข้อมูลไฟป่าและหมอกควัน", "forest fires and haze"),
    ("รายได้จากการจัดเก็บค่าธรรมเนียม", "fee revenue"),
    ("บัญชีครุภัณฑ์", "asset register"),
    ("ข้อมูลอุบัติเหตุทางถนน", "road accidents"),
]
PLACES = [
    "หนอง",
    "บ้าน",
    "ดอน",
    "โนน",
    "ห้วย",
    "นา",
    "บึง",
    "คลอง",
    "ท่า",
    "วัง",
    "บาง",
    "ป่า",
    "ทุ่ง",
    "สระ",
    "โคก",
]
PLACE_ENDS = [
    "บัว",
    "ใหม่",
    "แดง",
    "ทอง",
    "ยาง",
    "สูง",
    "ใหญ่",
    "หลวง",
    "งาม",
    "ขาม",
    "ไผ่",
    "ช้าง",
    "ม่วง",
    "กลาง",
    "จิก",
    "แก้ว",
    "หิน",
    "เกลือ",
]
PROVINCES = [
    ("เชียงใหม่", "Chiang Mai"),
    ("ขอนแก่น", "Khon Kaen"),
    ("นครราชสีมา", "Nakhon Ratchasima"),
    ("พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya"),
    ("ภูเก็ต", "Phuket"),
    ("สงขลา", "Songkhla"),
    ("อุดรธานี", "Udon Thani"),
    ("ชลบุรี", "Chon Buri"),
    ("เชียงราย", "Chiang Rai"),
    ("นครศรีธรรมราช", "Nakhon Si Thammarat"),
    ("อุบลราชธานี", "Ubon Ratchathani"),
    ("พิษณุโลก", "Phitsanulok"),
    ("สุราษฎร์ธานี", "Surat Thani"),
    ("ลำปาง", "Lampang"),
    ("น่าน", "Nan"),
    ("บุรีรัมย์", "Buri Ram"),
]
KINDS = [
    ("อบต.", "องค์การบริหารส่วนตำบล", "Subdistrict Administrative Organization", "sao"),
    ("ทต.", "เทศบาลตำบล", "Subdistrict Municipality", "tm"),
    ("ทม.", "เทศบาลเมือง", "Town Municipality", "town"),
    ("อบจ.", "องค์การบริหารส่วนจังหวัด", "Provincial Administrative Organization", "pao"),
]
TAGS = [
    "งบประมาณ",
    "จัดซื้อจัดจ้าง",
    "โครงสร้างพื้นฐาน",
    "ถนน",
    "ผู้สูงอายุ",
    "สวัสดิการ",
    "ภาษี",
    "ประชากร",
    "สาธารณภัย",
    "น้ำ",
    "การศึกษา",
    "สาธารณสุข",
    "สิ่งแวดล้อม",
    "ท่องเที่ยว",
    "การเงิน",
    "กฎหมาย",
    "budget",
    "procurement",
    "open data",
    "transparency",
]
FORMATS = ["CSV", "XLSX", "PDF", "JSON", "XML", "SHP"]
LICENSES = ["Open Data Common", "CC-BY", "CC-BY-SA", "license-not-specified"]
DATA_TYPES = ["ข้อมูลระเบียน", "ข้อมูลสถิติ", "ข้อมูลภูมิสารสนเทศเชิงพื้นที่", "ข้อมูลหลากหลายประเภท"]
FREQUENCIES = ["ปี", "ไตรมาส", "เดือน", "ไม่ทราบ"]


def synthetic_catalogue(size: int, seed: int = 7) -> list[SearchDocument]:
    """`size` datasets of about `size // 25` fictional local agencies."""
    rnd = random.Random(seed)
    orgs = []
    for i in range(max(4, size // 25)):
        kind = KINDS[rnd.randrange(len(KINDS))] if i % 10 else KINDS[3]
        prov_th, prov_en = PROVINCES[rnd.randrange(len(PROVINCES))]
        place = rnd.choice(PLACES) + rnd.choice(PLACE_ENDS) if kind[3] != "pao" else prov_th
        orgs.append(
            (
                f"{kind[3]}-{i}",
                f"{kind[1]}{place}",
                f"{kind[2]} {place if kind[3] == 'pao' else ''}".strip(),
                kind[0] + place,
                prov_th,
                prov_en,
            )
        )
    base = datetime(2020, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(size):
        org, org_th, org_en, short, prov_th, prov_en = orgs[rnd.randrange(len(orgs))]
        topic_th, topic_en = TOPICS[rnd.randrange(len(TOPICS))]
        year = rnd.randrange(2560, 2569)
        village = rnd.choice(PLACES) + rnd.choice(PLACE_ENDS)
        notes_th = (
            f"{topic_th}ของ{org_th} อำเภอเมือง จังหวัด{prov_th} ประจำปีงบประมาณ พ.ศ. {year} "
            f"ครอบคลุมพื้นที่หมู่ที่ {rnd.randrange(1, 15)} บ้าน{village} "
            f"เผยแพร่ตามพระราชบัญญัติข้อมูลข่าวสารของราชการ เพื่อความโปร่งใสและตรวจสอบได้"
        )
        created = base + timedelta(minutes=rnd.randrange(0, 5 * 365 * 24 * 60))
        docs.append(
            SearchDocument(
                id=f"ds-{i}",
                name=f"{org}-{i}",
                title_th=f"{topic_th} {short} ปีงบประมาณ {year}",
                title_en=f"{topic_en.capitalize()}, {org_en}, {prov_en}, FY{year - 543}",
                notes_th=notes_th,
                notes_en=f"{topic_en.capitalize()} published by {org_en}, {prov_en} province.",
                tags=tuple(rnd.sample(TAGS, rnd.randrange(2, 5))),
                organization=org,
                organization_titles=(org_th, org_en),
                organization_parents=(f"province-{prov_en.lower().replace(' ', '-')}",),
                groups=(rnd.choice(["economy", "society", "environment", "infrastructure"]),),
                res_names=(f"{topic_th} {year}",),
                res_formats=tuple(rnd.sample(FORMATS, rnd.randrange(1, 3))),
                schema_fields=("ลำดับ", "รายการ", "จำนวนเงิน", "amount"),
                fiscal_years=(year,),
                license_id=rnd.choice(LICENSES),
                data_type=rnd.choice(DATA_TYPES),
                data_category="ข้อมูลสาธารณะ",
                update_frequency=rnd.choice(FREQUENCIES),
                high_value=rnd.random() < 0.1,
                private=rnd.random() < 0.05,
                state="published" if rnd.random() < 0.97 else "draft",
                metadata_created=created,
                metadata_modified=created + timedelta(days=rnd.randrange(0, 300)),
                popularity=int(rnd.paretovariate(1.5) * 10),
            )
        )
    return docs


FACETS = ("organization", "tags", "res_format", "fiscal_year", "license_id", "data_type")


def workload(docs: list[SearchDocument], n: int = 300, seed: int = 11) -> list[SearchQuery]:
    """A mixed workload: single term, two terms, phrase, filtered, faceted, empty with facets,
    sorted by relevance and by date."""
    rnd = random.Random(seed)
    singles = [
        "งบประมาณ",
        "ถนน",
        "ผู้สูงอายุ",
        "budget",
        "ขอนแก่น",
        "อบต",
        "2566",
        "จัดซื้อ",
        "คอนกรีต",
        "ภาษี",
        "procurement",
        "ประชากร",
        "เทศบาล",
        "โคราช",
        "water",
    ]
    pairs = ["งบประมาณ เชียงใหม่", "ถนน 2566", "ผู้สูงอายุ เบี้ยยังชีพ", "budget 2024", "อบต. ภาษี"]
    phrases = ['"งบประมาณรายจ่าย"', '"ถนนคอนกรีต"', '"project progress"', '"เทศบาลตำบล"']
    orgs = sorted({d.organization for d in docs})
    queries: list[SearchQuery] = []
    for i in range(n):
        kind = i % 8
        if kind == 0:
            queries.append(SearchQuery(q=rnd.choice(singles)))
        elif kind == 1:
            queries.append(SearchQuery(q=rnd.choice(pairs)))
        elif kind == 2:
            queries.append(SearchQuery(q=rnd.choice(phrases)))
        elif kind == 3:
            filters = {"organization": [rnd.choice(orgs)]} if i % 16 < 8 else {"tags": ["ถนน"]}
            queries.append(SearchQuery(q=rnd.choice(singles), filters=filters))
        elif kind == 4:
            queries.append(SearchQuery(q=rnd.choice(singles), facet_fields=FACETS))
        elif kind == 5:
            queries.append(SearchQuery(q="", facet_fields=FACETS))
        elif kind == 6:
            queries.append(SearchQuery(q=rnd.choice(singles + pairs), sort="newest"))
        else:
            queries.append(
                SearchQuery(
                    q=rnd.choice(pairs), facet_fields=FACETS, filters={"fiscal_year": ["2566"]}
                )
            )
    return queries


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds."""
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return cut[49] * 1000, cut[94] * 1000, cut[98] * 1000


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure(run: Callable[[SearchQuery], object], queries: list[SearchQuery]) -> tuple:
    """Warm latency percentiles (second pass over the workload); the first pass, which fills
    caches, is returned as `measure.cold`."""
    cold = []
    for q in queries:
        t0 = time.perf_counter()
        run(q)
        cold.append(time.perf_counter() - t0)
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        run(q)
        samples.append(time.perf_counter() - t0)
    measure.cold = percentiles(cold)
    return percentiles(samples)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the build's worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _spin(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - t0


def parallel_speedup() -> float:
    """How much faster two CPU-bound processes finish than one doing both jobs, right now
    (2.0 on two free cores; less when the cores are shared)."""
    import multiprocessing

    n = 5_000_000
    alone = _spin(n) * 2
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_spin, [n, n])
    return alone / (time.perf_counter() - t0)


def bench_whoosh(docs: list[SearchDocument], queries: list[SearchQuery], tmp: Path) -> dict:
    from search.whoosh_backend import WhooshBackend

    backend = WhooshBackend(tmp / "whoosh")
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    backend.rebuild(docs)
    build = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    size = dir_size(Path(tmp / "whoosh"))
    t0 = time.perf_counter()
    backend.search(SearchQuery(q="", facet_fields=FACETS))
    first = time.perf_counter() - t0
    p = measure(backend.search, queries)
    cold = measure.cold
    backend.close()
    return {
        "build_s": build,
        "size_mb": size / 1e6,
        "first_query_s": first,
        "p": p,
        "note": (
            f"first query {first * 1000:.0f} ms (loads segment data); first pass "
            f"p50/p95/p99 {cold[0]:.1f}/{cold[1]:.1f}/{cold[2]:.1f} ms; "
            f"build used {cpu:.0f} CPU-s in {backend.procs} processes"
        ),
    }


# PostgreSQL backend (search/pg_backend.py) -------------------------------------------------


def bench_postgresql(docs: list[SearchDocument], queries: list[SearchQuery], tmp: Path) -> dict:
    """The PostgreSQL backend on a throw-away local cluster (tests.servers.postgres_server)."""
    from catalog import db
    from search.pg_backend import PostgresBackend
    from tests.servers import postgres_server

    del tmp  # the cluster lives in its own temporary directory
    with postgres_server() as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        backend = PostgresBackend(engine)
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        backend.rebuild(docs)
        build = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
        with engine.connect() as conn:
            size = conn.exec_driver_sql(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class AS c JOIN pg_namespace "
                "AS n ON n.oid = c.relnamespace WHERE n.nspname = 'search_index' "
                "AND c.relkind = 'r'"
            ).scalar()
        t0 = time.perf_counter()
        backend.search(SearchQuery(q="", facet_fields=FACETS))
        first = time.perf_counter() - t0
        p = measure(backend.search, queries)
        cold = measure.cold
        with engine.begin() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM search_index.broad_query").scalar()
            # The same workload counting every time: what the stored broad counts save.
            conn.exec_driver_sql("DELETE FROM search_index.broad_query")
        counting = measure(PostgresBackend(engine, broad_min=float("inf")).search, queries)
        engine.dispose()
    return {
        "build_s": build,
        "size_mb": int(size) / 1e6,
        "first_query_s": first,
        "p": p,
        "note": (
            f"first pass p50/p95/p99 {cold[0]:.1f}/{cold[1]:.1f}/{cold[2]:.1f} ms "
            f"(stores the counts of {stored} broad queries); without stored counts "
            f"{counting[0]:.1f}/{counting[1]:.1f}/{counting[2]:.1f} ms; "
            f"build used {cpu:.0f} CPU-s here (plus the server's)"
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--engines", nargs="+", default=["whoosh", "fts5", "tantivy", "postgresql"])
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args(argv)
    runners = {"whoosh": bench_whoosh}
    runners["postgresql"] = bench_postgresql
    if set(args.engines) - {"whoosh", "postgresql"}:
        from bench.search_reference import bench_fts5, bench_tantivy

        runners.update(fts5=bench_fts5, tantivy=bench_tantivy)
    print(
        f"cores={os.cpu_count()}, two processes ran x{parallel_speedup():.1f} as fast as one "
        "(2.0 = two free cores)"
    )
    for size in args.sizes:
        t0 = time.perf_counter()
        docs = synthetic_catalogue(size)
        queries = workload(docs, args.queries)
        print(
            f"\n== {size:,} datasets (generated in {time.perf_counter() - t0:.1f}s), "
            f"{len(queries)} queries =="
        )
        results = {}
        for engine in args.engines:
            tmp = Path(tempfile.mkdtemp(prefix=f"bench-{engine}-"))
            try:
                results[engine] = runners[engine](docs, queries, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            r = results[engine]
            p50, p95, p99 = r["p"]
            print(
                f"{engine:8s} build {r['build_s']:7.1f}s  size {r['size_mb']:7.1f} MB  "
                f"p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  p99 {p99:7.2f} ms  {r.get('note', '')}"
            )
        if "whoosh" in results:
            w = results["whoosh"]
            for engine, r in results.items():
                if engine != "whoosh":
                    print(
                        f"whoosh/{engine}: build x{w['build_s'] / r['build_s']:.1f}, "
                        f"p95 x{w['p'][1] / max(r['p'][1], 1e-9):.1f}"
                    )


if __name__ == "__main__":
    main()
