"""PostgreSQL search backend: what the shared contract (tests/test_search_backends.py) does not
cover: writers in several processes, rebuilds that keep updates made meanwhile or fail whole,
values that must reach SQL only as parameters, and the migration on both databases."""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from psycopg import sql
from sqlalchemy import Engine, inspect, text

from catalog import db
from catalog.services import Catalog, Context
from catalog.services.search import package_search, reindex, search_check
from catalog.settings import load_settings
from search.documents import FILTER_FIELDS, SearchDocument, SearchQuery, SearchResult
from search.pg_backend import ORDER_BY, PostgresBackend
from search.pg_documents import DOCUMENT, where_clause
from tests.conftest import _fresh_pg_database
from tests.factories import make_dataset, make_org
from tests.test_search_backends import T0, doc, ids

pytestmark = pytest.mark.postgres


def pg_database(request: pytest.FixtureRequest) -> str:
    """URL of a new, migrated database, dropped when the requesting test (or module) ends."""
    made = _fresh_pg_database(request)
    url = next(made)
    request.addfinalizer(lambda: next(made, None))
    engine = db.make_engine(url)
    db.upgrade(engine)  # already at head (made from the migrated template): a no-op check
    engine.dispose()
    return url


class StoringBackend(PostgresBackend):
    """Stores the counts of every text query that matches, and answers from them: each search
    runs twice, the first stores, the second reads what the triggers keep (search/pg_broad.py)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, broad_min=1, broad_misses=1)

    def search(self, query: SearchQuery) -> SearchResult:
        super().search(query)
        return super().search(query)


def make_pg_backend(request: pytest.FixtureRequest, storing: bool = False) -> PostgresBackend:
    """A PostgreSQL backend on a new database of its own (see `pg_database`); with `storing`,
    a StoringBackend."""
    engine = db.make_engine(pg_database(request))
    request.addfinalizer(engine.dispose)
    return StoringBackend(engine) if storing else PostgresBackend(engine)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    return pg_database(request)


@pytest.fixture
def engines(pg_url: str) -> Iterator[list[Engine]]:
    """Two engines on the same database: two processes of one deployment."""
    made = [db.make_engine(pg_url), db.make_engine(pg_url)]
    yield made
    for engine in made:
        engine.dispose()


def test_rebuild_keeps_updates_made_while_it_ran(engines: list[Engine]) -> None:
    live, other = PostgresBackend(engines[0]), PostgresBackend(engines[1])
    live.index([doc("a", title_th="ถนน")])

    def documents() -> Iterator[SearchDocument]:
        yield doc("a", title_th="ถนน")  # read from the database before the edit below
        other.index([doc("a", title_th="ขยะมูลฝอย")])

    live.rebuild(documents())
    assert ids(live, "ขยะ") == ["a"]
    assert ids(live, "ถนน") == []


def test_a_failed_rebuild_leaves_the_index_as_it_was(engines: list[Engine]) -> None:
    backend = PostgresBackend(engines[0])
    backend.index([doc("kept", title_th="ถนน")])

    def broken() -> Iterator[SearchDocument]:
        yield doc("new", title_th="ถนน")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(broken())
    assert ids(backend, "ถนน") == ["kept"]
    with engines[0].connect() as conn:  # nothing half-built left behind
        assert conn.execute(text("SELECT to_regclass('search_index.rebuild')")).scalar() is None
    assert backend.rebuild([doc("next", title_th="ถนน")]) == 1  # the rebuild lock was let go
    assert ids(backend, "ถนน") == ["next"]
    with engines[0].begin() as conn:  # as a killed rebuild leaves it
        conn.execute(text("CREATE TABLE search_index.rebuild (id text)"))
    assert backend.rebuild([doc("after-crash", title_th="ถนน")]) == 1
    assert ids(backend, "ถนน") == ["after-crash"]


def _table_shape(engine: Engine) -> tuple[list, list, list]:
    """(index definitions, trigger definitions, storage options) of the document table."""
    with engine.connect() as conn:
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE oid = 'search_index.document'::regclass")
        ).scalar()
        indexes = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = 'search_index' AND tablename = 'document' ORDER BY 1"
            )
        )
        triggers = conn.execute(
            text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE "
                "tgrelid = 'search_index.document'::regclass AND NOT tgisinternal ORDER BY 1"
            )
        )
        return [tuple(row) for row in indexes], [tuple(row) for row in triggers], options


def test_a_rebuild_swaps_in_a_table_with_the_same_indexes_and_triggers(
    engines: list[Engine],
) -> None:
    backend = PostgresBackend(engines[0])
    backend.index([doc("old", title_th="ถนน")])
    before = _table_shape(engines[0])
    assert len(before[0]) >= 5 and len(before[1]) >= 6
    assert before[2] == ["toast_tuple_target=256"]
    backend.rebuild([doc(f"d{i}", title_th="ถนน", tags=("ถนน",)) for i in range(3)])
    assert _table_shape(engines[0]) == before
    # The triggers work on the new table: the front page counts follow a write.
    backend.index([doc("d9", title_th="ถนน", tags=("น้ำ",))])
    kept, counted = _facets_kept_and_counted(backend)
    assert kept == counted
    assert kept[1]["tags"] == {"ถนน": 3, "น้ำ": 1}
    # The primary key is a constraint again: writing an id twice replaces it.
    backend.index([doc("d9", title_th="ขยะ")])
    assert backend.count() == 4
    assert ids(backend, "ขยะ") == ["d9"]


WRITER_WORDS = {"x": "ขยะ", "y": "น้ำท่วม", "z": "ฝุ่น"}


def _facets_kept_and_counted(backend: PostgresBackend) -> tuple[tuple, tuple]:
    """(count, facets) of the public documents from the counts the triggers keep, and counted
    over the documents (an unknown allowed organisation takes the counting path)."""
    facets = tuple(FILTER_FIELDS)
    kept = backend.search(SearchQuery(facet_fields=facets, rows=0))
    counted = backend.search(SearchQuery(facet_fields=facets, rows=0, allowed_orgs={"-"}))
    return (kept.count, kept.facets), (counted.count, counted.facets)


def test_front_page_facet_counts_follow_every_kind_of_write(engines: list[Engine]) -> None:
    backend = PostgresBackend(engines[0])
    backend.index(
        [doc(f"d{i}", tags=("ถนน", f"t{i % 3}"), fiscal_years=(2566 + i % 2,)) for i in range(9)]
    )
    backend.index([doc("d0", tags=("ขยะ",)), doc("d1", private=True), doc("d2", state="draft")])
    backend.delete(["d3", "missing"])
    kept, counted = _facets_kept_and_counted(backend)
    assert kept == counted
    assert kept[0] == 6
    assert kept[1]["tags"] == {"ถนน": 5, "t1": 2, "t2": 2, "t0": 1, "ขยะ": 1}
    backend.rebuild([doc("r1", tags=("น้ำ",)), doc("r2", tags=("น้ำ",), high_value=True)])
    kept, counted = _facets_kept_and_counted(backend)
    assert kept == counted
    assert kept[1]["tags"] == {"น้ำ": 2}
    assert kept[1]["high_value"] == {"false": 1, "true": 1}
    backend.clear()
    assert _facets_kept_and_counted(backend) == ((0, {n: {} for n in FILTER_FIELDS}),) * 2


def test_many_matches_rank_a_window_with_title_matches_first(engines: list[Engine]) -> None:
    backend = PostgresBackend(engines[0], rank_window=10)
    backend.index([doc(f"body{i:02}", notes_th="รายงานงบประมาณ") for i in range(30)])
    backend.index([doc("title", title_th="งบประมาณ")])
    result = backend.search(SearchQuery(q="งบประมาณ", rows=5))
    assert result.count == 31
    assert result.ids[0] == "title"
    assert len(result.ids) == 5
    pages = [backend.search(SearchQuery(q="งบประมาณ", start=i, rows=5)).ids for i in (0, 5, 10)]
    assert len({i for page in pages for i in page}) == 15  # pages never repeat a dataset


def _broad_catalogue() -> list[SearchDocument]:
    """Most documents match "งบประมาณ"; some do not; some only members see."""
    docs = [
        doc(
            f"b{i:02}",
            title_th="งบประมาณรายจ่าย" if i % 8 else "ถนนคอนกรีต",
            organization=("org-a", "org-b", "org-c")[i % 3],
            tags=("น้ำ", f"t{i % 4}"),
            res_formats=("CSV",) if i % 2 else ("PDF", "XLSX"),
            high_value=i % 5 == 0,
        )
        for i in range(40)
    ]
    docs += [
        doc("private-a", title_th="งบประมาณ", organization="org-a", private=True, tags=("ลับ",)),
        doc("other-a", title_th="ขยะ", organization="org-a", private=True, tags=("ลับ",)),
        doc("draft-a", title_th="งบประมาณ", organization="org-a", state="draft"),
        doc("private-b", title_th="งบประมาณ", organization="org-b", private=True),
    ]
    return docs


@pytest.mark.parametrize(
    "visibility",
    [{}, {"allowed_orgs": {"org-a"}}, {"allowed_orgs": {"org-a"}, "include_drafts": True}],
    ids=["public", "member", "member-drafts"],
)
def test_broad_queries_count_facets_by_complement_exactly(
    engines: list[Engine], visibility: dict
) -> None:
    backend = PostgresBackend(engines[0])
    direct = PostgresBackend(engines[1], complement_share=float("inf"))
    docs = _broad_catalogue()
    backend.rebuild(docs)  # analyses the table: the planner knows how common the word is
    query = SearchQuery(q="งบประมาณ", facet_fields=tuple(FILTER_FIELDS), **visibility)
    broad = backend.search(query)
    assert backend.complement_counts == 1
    counted = direct.search(query)
    assert direct.complement_counts == 0
    assert (broad.count, broad.facets, broad.ids) == (counted.count, counted.facets, counted.ids)
    orgs = visibility.get("allowed_orgs", set())
    seen = [
        d
        for d in docs
        if "งบประมาณ" in d.title_th
        and (
            (d.state == "published" and (not d.private or d.organization in orgs))
            or (visibility.get("include_drafts") and d.organization in orgs)
        )
    ]
    assert broad.count == len(seen)
    assert broad.facets["organization"] == {
        org: n
        for org in ("org-a", "org-b", "org-c")
        if (n := sum(d.organization == org for d in seen))
    }
    # A narrow query counts its matches directly.
    assert backend.search(replace(query, q="ถนน")).count == 5
    assert backend.complement_counts == 1


VISIBILITIES = [
    {},
    {"allowed_orgs": {"org-a"}},
    {"allowed_orgs": {"org-a"}, "include_drafts": True},
]


def _same_as_counted(stored: PostgresBackend, direct: PostgresBackend, q: str) -> int:
    """Asserts that `stored` (reading stored broad counts) and `direct` (counting every time)
    give the same results for `q` whoever asks; returns the public count."""
    for visibility in VISIBILITIES:
        query = SearchQuery(q=q, facet_fields=tuple(FILTER_FIELDS), **visibility)
        got, want = stored.search(query), direct.search(query)
        assert (got.count, got.facets, got.ids) == (want.count, want.facets, want.ids), visibility
    return direct.search(SearchQuery(q=q)).count


def test_broad_query_counts_are_stored_and_stay_exact_through_every_write(
    engines: list[Engine],
) -> None:
    stored = PostgresBackend(engines[0], broad_min=3, broad_misses=1)
    direct = PostgresBackend(engines[1], broad_min=float("inf"), complement_share=float("inf"))
    stored.rebuild(_broad_catalogue())
    for q in ("งบประมาณ", '"ถนนคอนกรีต"'):
        assert _same_as_counted(stored, direct, q) >= 3
    assert stored.stored_counts >= 4  # the first search stored them, the next ones read them
    reads = stored.stored_counts
    writes = [
        lambda: stored.index(
            [doc("new", title_th="งบประมาณ", organization="org-c", tags=("ใหม่",))]
        ),
        lambda: stored.index([doc("b01", title_th="งบประมาณ", organization="org-a", private=True)]),
        lambda: stored.index([doc("b02", title_th="งบประมาณ", tags=("เปลี่ยน",), high_value=True)]),
        lambda: stored.index([doc("b03", title_th="ขยะมูลฝอย")]),  # no longer matches
        lambda: stored.index([doc("b08", title_th="งบประมาณ ถนนคอนกรีต", state="draft")]),
        lambda: stored.index([doc("private-a", title_th="งบประมาณ", organization="org-a")]),
        lambda: stored.delete(["b04", "b16", "missing"]),
    ]
    for write in writes:
        write()
        assert _same_as_counted(stored, direct, "งบประมาณ") >= 3
        _same_as_counted(stored, direct, '"ถนนคอนกรีต"')
    assert stored.stored_counts == reads + 2 * len(writes) * len(VISIBILITIES)
    # A rebuild drops the stored counts (counted over the old rows); searching stores them again.
    stored.rebuild([doc(f"r{i}", title_th="งบประมาณ", tags=(f"t{i % 2}",)) for i in range(5)])
    assert _same_as_counted(stored, direct, "งบประมาณ") == 5
    assert stored.search(SearchQuery(q="งบประมาณ", facet_fields=("tags",))).facets == {
        "tags": {"t0": 3, "t1": 2}
    }
    stored.clear()
    assert _same_as_counted(stored, direct, "งบประมาณ") == 0


def test_storing_broad_counts_never_waits_for_writers(engines: list[Engine]) -> None:
    stored = PostgresBackend(engines[0], broad_min=2, broad_misses=1)
    direct = PostgresBackend(engines[1], broad_min=float("inf"))
    stored.index([doc(f"d{i}", title_th="งบประมาณ") for i in range(4)])
    with engines[1].begin() as writer:  # a write in progress, not yet committed
        writer.execute(text("UPDATE search_index.document SET private = true WHERE id = 'd0'"))
        assert stored.search(SearchQuery(q="งบประมาณ")).count == 4  # did not wait
        assert stored.search(SearchQuery(q="งบประมาณ")).count == 4
        assert stored.stored_counts == 0  # could not store: nothing stored half-counted
    assert stored.search(SearchQuery(q="งบประมาณ")).count == 3
    assert stored.search(SearchQuery(q="งบประมาณ")).count == 3
    assert stored.stored_counts == 1
    assert _same_as_counted(stored, direct, "งบประมาณ") == 3


def _stored_queries(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM search_index.broad_query")).scalar()


def test_a_broad_query_is_stored_when_counted_in_full_a_second_time(
    engines: list[Engine],
) -> None:
    backend = PostgresBackend(engines[0], broad_min=2)
    backend.index([doc(f"d{i}", title_th="งบประมาณ") for i in range(4)])
    query = SearchQuery(q="งบประมาณ")
    assert backend.search(query).count == 4
    assert _stored_queries(engines[0]) == 0  # searched once: writers never waited for it
    assert backend.search(query).count == 4
    assert _stored_queries(engines[0]) == 1
    assert backend.stored_counts == 0
    assert backend.search(query).count == 4
    assert backend.stored_counts == 1
    other = PostgresBackend(engines[1], broad_min=2)  # another process reads them too
    assert other.search(query).count == 4
    assert other.stored_counts == 1
    # A narrow query is never stored, however often searched.
    backend.index([doc("x", title_th="ขยะ")])
    for _ in range(3):
        assert backend.search(SearchQuery(q="ขยะ")).count == 1
    assert _stored_queries(engines[0]) == 1


def test_only_the_newest_broad_queries_are_stored(engines: list[Engine]) -> None:
    stored = PostgresBackend(engines[0], broad_min=2, broad_cap=2, broad_misses=1)
    direct = PostgresBackend(engines[1], broad_min=float("inf"))
    stored.index([doc(f"d{i}", title_th="งบประมาณ ถนน ขยะ", tags=(f"t{i}",)) for i in range(3)])
    for q in ("งบประมาณ", "ถนน", "ขยะ"):
        stored.search(SearchQuery(q=q))
    with engines[0].connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM search_index.broad_query")).scalar()
        rows = conn.execute(text("SELECT count(DISTINCT query) FROM search_index.broad_count"))
        assert (kept, rows.scalar()) == (2, 2)  # the oldest went, with its counts
    stored.index([doc("d9", title_th="งบประมาณ ถนน ขยะ", tags=("t9",))])
    for q in ("งบประมาณ", "ถนน", "ขยะ"):
        assert _same_as_counted(stored, direct, q) == 4


def test_a_modified_range_is_counted_never_read_from_kept_counts(engines: list[Engine]) -> None:
    # The front page's counts, stored broad queries and the complement all hold counts of
    # every public match: under a range they would count datasets outside it.
    backend = PostgresBackend(engines[0], broad_min=2, broad_misses=1)
    direct = PostgresBackend(engines[1], broad_min=float("inf"), complement_share=float("inf"))
    docs = [
        replace(d, metadata_modified=T0 + timedelta(hours=n))
        for n, d in enumerate(_broad_catalogue())
    ]
    backend.rebuild(docs)  # analyses the table: the planner knows how common the word is
    broad = SearchQuery(q="งบประมาณ", facet_fields=tuple(FILTER_FIELDS))
    backend.search(broad)
    backend.search(broad)
    assert (_stored_queries(engines[0]), backend.stored_counts) == (1, 1)
    complements = backend.complement_counts
    since = T0 + timedelta(hours=30)
    for visibility in VISIBILITIES:
        for q in ("งบประมาณ", ""):
            ranged = replace(broad, q=q, modified_since=since, **visibility)
            for _ in range(2):  # a second time too: a ranged query is never stored
                got, want = backend.search(ranged), direct.search(ranged)
                assert (got.count, got.facets, got.ids) == (want.count, want.facets, want.ids)
            orgs = visibility.get("allowed_orgs", set())
            seen = [
                d.id
                for d in docs
                if d.metadata_modified >= since
                and (not q or q in d.title_th)
                and (
                    (d.state == "published" and (not d.private or d.organization in orgs))
                    or (visibility.get("include_drafts") and d.organization in orgs)
                )
            ]
            assert got.count == len(seen)
            assert sorted(backend.search(replace(ranged, rows=100)).ids) == sorted(seen)
    assert (backend.stored_counts, backend.complement_counts) == (1, complements)
    assert _stored_queries(engines[0]) == 1


def _write_many(url: str, prefix: str, n: int) -> None:
    engine = db.make_engine(url)
    backend = PostgresBackend(engine)
    own = doc("shared", title_th=WRITER_WORDS[prefix])
    for i in range(n):
        # Every process also rewrites the same dataset: concurrent upserts of one row.
        backend.index([doc(f"{prefix}{i}", title_th="ถนน"), own])
        if i % 3 == 0:
            backend.delete([f"{prefix}{i}"])
    engine.dispose()


def test_several_processes_can_write_at_once(pg_url: str) -> None:
    engine = db.make_engine(pg_url)
    storing = PostgresBackend(engine, broad_min=1, broad_misses=1)
    storing.index([doc("seed", title_th="ถนน")])
    for q in ("ถนน", WRITER_WORDS["x"]):  # stored: every writer's triggers update them
        storing.index([doc(f"seed-{q}", title_th=q)])
        storing.search(SearchQuery(q=q))
    storing.delete(["seed", *(f"seed-{q}" for q in ("ถนน", WRITER_WORDS["x"]))])
    engine.dispose()
    context = multiprocessing.get_context("fork")
    procs = [
        context.Process(target=_write_many, args=(pg_url, prefix, 9)) for prefix in WRITER_WORDS
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    engine = db.make_engine(pg_url)
    try:
        reader = PostgresBackend(engine)
        assert reader.count() == 3 * 6 + 1
        assert len(ids(reader, "ถนน")) == 3 * 6
        # The shared dataset holds the words of whichever writer came last, never a mix.
        assert ids(reader, " OR ".join(WRITER_WORDS.values())) == ["shared"]
        kept, counted = _facets_kept_and_counted(reader)
        assert kept == counted
        assert kept[0] == 3 * 6 + 1
        assert reader.check_counts() == []  # the stored queries' counts too
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM search_index.broad_query")).scalar() == 2
    finally:
        engine.dispose()


def test_quotes_and_backslashes_reach_sql_only_as_values(engines: list[Engine]) -> None:
    backend = PostgresBackend(engines[0])
    tag = "O'Reilly \\ '); DROP TABLE search_index.document; --"
    backend.index([doc("a", title_en="O'Reilly's \\ budget", tags=(tag,), organization="o'rg")])
    assert ids(backend, "O'Reilly's \\") == ["a"]
    # Only words: those of the tag.
    assert ids(backend, "'); DROP TABLE search_index.document; --") == ["a"]
    assert ids(backend, filters={"tags": [tag], "organization": ["o'rg"]}) == ["a"]
    facets = backend.search(SearchQuery(facet_fields=("tags",))).facets
    assert facets == {"tags": {tag: 1}}
    assert backend.count() == 1


def test_migration_makes_search_tables_only_on_postgresql(
    pg_url: str, sqlite_template: object
) -> None:
    engine = db.make_engine(pg_url)
    try:
        tables = set(inspect(engine).get_table_names(schema="search_index"))
        assert {"document", "deleted", "vocabulary"} <= tables
    finally:
        engine.dispose()
    sqlite = db.make_engine(f"sqlite:///{sqlite_template}")
    try:
        with sqlite.connect() as conn:
            names = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
        assert not [name for name in names if "search_index" in name or name == "document"]
        assert db.current_revision(sqlite) == db.head_revision()
    finally:
        sqlite.dispose()


def _name_plan(engine: Engine) -> str:
    """EXPLAIN of a first page sorted by name (as `_page` runs it), sequential scans off: the
    plan sorts only when no index gives the order."""
    where, params = where_clause(SearchQuery(sort="name"), None)
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
            cur.execute(
                sql.SQL(
                    "EXPLAIN (COSTS OFF) SELECT d.id FROM {} AS d WHERE {} ORDER BY {} LIMIT 20"
                ).format(DOCUMENT, where, sql.SQL(ORDER_BY["name"])),
                params,
            )
            plan = "\n".join(row[0] for row in cur.fetchall())
        raw.driver_connection.rollback()
    finally:
        raw.close()
    return plan


def test_a_name_sorted_page_reads_the_name_index_in_order(engines: list[Engine]) -> None:
    backend = PostgresBackend(engines[0])
    backend.index([doc(f"d{i}", name=f"n{9 - i}") for i in range(10)])
    for _ in range(2):  # the migrated table, then the one a rebuild swaps in
        plan = _name_plan(engines[0])
        assert "Index Scan using document_name" in plan
        assert "Sort" not in plan
        backend.rebuild([doc(f"d{i}", name=f"n{9 - i}") for i in range(10)])
    assert ids(backend, sort="name") == [f"d{i}" for i in range(9, -1, -1)]


def test_migration_0010_moves_the_name_out_of_the_texts_and_back(
    pg_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    engine = db.make_engine(pg_url)
    config = db.alembic_config(engine)
    try:
        backend = PostgresBackend(engine)
        backend.index(
            [
                doc(
                    "a",
                    name="zebra",
                    title_en="Road budget",
                    notes_en="The road budget",
                    tags=("t",),
                ),
                doc("b", name="apple", title_en="Road works", tags=("t",)),
                doc("c", name="mango", title_en="Road signs"),
            ]
        )
        command.downgrade(config, "0009")
        with engine.begin() as conn:  # as the code before 0010 wrote the rows
            rows = conn.execute(text("SELECT id, texts[5] FROM search_index.document ORDER BY id"))
            assert rows.all() == [("a", "zebra"), ("b", "apple"), ("c", "mango")]
            # "c" was written before the name joined the texts.
            conn.execute(text("UPDATE search_index.document SET texts = texts[1:4] WHERE id = 'c'"))
        db.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, name, cardinality(texts) FROM search_index.document ORDER BY id")
            )
            assert rows.all() == [("a", "zebra", 4), ("b", "apple", 4), ("c", "", 4)]
        assert ids(backend, sort="name") == ["c", "b", "a"]  # no name yet: first, as in Whoosh
        result = backend.search(SearchQuery(q="budget"))
        assert result.ids == ["a"] and "<mark>budget</mark>" in result.highlights["a"].lower()
        # The migration's update skipped the triggers: the kept counts were right and still are.
        kept, counted = _facets_kept_and_counted(backend)
        assert kept == counted and kept[0] == 3
        backend.index([doc("c", name="mango", title_en="Road signs")])
        assert ids(backend, sort="name") == ["b", "c", "a"]
    finally:
        engine.dispose()
    # On SQLite the migration does nothing, either way.
    copy = tmp_path / "sqlite.db"
    shutil.copyfile(sqlite_template, copy)
    sqlite = db.make_engine(f"sqlite:///{copy}")
    try:
        command.downgrade(db.alembic_config(sqlite), "0009")
        assert db.current_revision(sqlite) == "0009"
        db.upgrade(sqlite)
        assert db.current_revision(sqlite) == db.head_revision()
    finally:
        sqlite.dispose()


def test_the_catalogue_searches_in_postgresql_when_configured(pg_url: str, tmp_path: Path) -> None:
    settings = load_settings(
        overrides={
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": pg_url,
            "SEARCH_BACKEND": "postgresql",
        },
        environ={},
        config_file=None,
    )
    catalog = Catalog.open(settings)
    try:
        system = Context(catalog, system=True, lang="en")
        org = make_org(system, "nongbua-sao", title="องค์การบริหารส่วนตำบลหนองบัว")
        make_dataset(system, org["name"], name="road", title="โครงการก่อสร้างถนนคอนกรีตเสริมเหล็ก")
        assert catalog.search.name == "postgresql"
        found = package_search(Context(catalog), "อบต. คอนกรีต", facet_fields=["organization"])
        assert [r["name"] for r in found["results"]] == ["road"]
        assert found["facets"]["organization"] == {"nongbua-sao": 1}
        assert not (tmp_path / "index").exists()  # no Whoosh files
        assert reindex(system) == 1
        report = search_check(system)
        assert (report["missing"], report["stale"], report["orphans"]) == ([], [], [])
        assert report["counts"] == []
    finally:
        catalog.close()


def test_check_finds_and_repairs_kept_counts_that_drifted(engines: list[Engine]) -> None:
    backend = PostgresBackend(engines[0], broad_min=2, broad_misses=1)
    direct = PostgresBackend(engines[1], broad_min=float("inf"))
    backend.index([doc(f"d{i}", title_th="งบประมาณ", tags=(f"t{i % 2}",)) for i in range(5)])
    backend.search(SearchQuery(q="งบประมาณ"))  # stored
    assert backend.check_counts() == []
    with engines[0].begin() as conn:  # as a trigger disabled by hand would leave them
        conn.execute(text("ALTER TABLE search_index.document DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE search_index.document SET private = true WHERE id = 'd0'"))
        conn.execute(text("ALTER TABLE search_index.document ENABLE TRIGGER USER"))
    drift = backend.check_counts()
    assert drift == ["front page counts", "stored counts of ('≡งบประมาณ' | ('งบ' & 'ประมาณ'))"]
    assert backend.search(SearchQuery(q="งบประมาณ")).count == 5  # still the drifted count
    assert backend.check_counts(repair=True) == drift
    assert backend.check_counts() == []
    _same_as_counted(backend, direct, "งบประมาณ")
    kept, counted = _facets_kept_and_counted(backend)
    assert kept == counted and kept[0] == 4


def test_phrases_match_adjacent_words_only(engines: list[Engine]) -> None:
    backend = PostgresBackend(engines[0])
    backend.index(
        [
            doc("exact", notes_en="the red fox jumps over the wall"),
            doc("pairs-apart", notes_en="red fox sleeps and the fox jumps later"),
            doc("reversed", notes_en="fox red jumps"),
            doc("two-values", title_en="report red", notes_en="fox jumps"),
            doc("thai", title_th="โครงการก่อสร้างถนนคอนกรีตเสริมเหล็ก"),
        ]
    )
    assert sorted(ids(backend, '"red fox"')) == ["exact", "pairs-apart"]
    # Both adjacent pairs are there, but not the three words in a row.
    assert ids(backend, '"red fox jumps"') == ["exact"]
    assert sorted(ids(backend, '"red fox" OR "fox red"')) == ["exact", "pairs-apart", "reversed"]
    assert ids(backend, '"report red fox"') == []  # a phrase never spans two values
    assert ids(backend, '"ถนนคอนกรีต"') == ["thai"]
    assert ids(backend, '"คอนกรีตถนน"') == []
    # Counted with facets like any other query.
    found = backend.search(SearchQuery(q='"fox jumps"', facet_fields=("organization",)))
    assert (found.count, found.facets) == (3, {"organization": {"dept-x": 3}})


def test_facets_of_many_values_count_each_value(engines: list[Engine]) -> None:
    writer, reader = PostgresBackend(engines[0]), PostgresBackend(engines[1])
    writer.index(
        [
            doc("a", title_th="ถนน", tags=("น้ำ", "ขยะ"), res_formats=("CSV", "PDF")),
            doc("b", title_th="ถนน", tags=("ขยะ", "น้ำ"), res_formats=("CSV",)),
            doc("c", title_th="ถนน", tags=(), fiscal_years=(2566, 2567)),
            doc("d", title_th="ขยะ", tags=("น้ำ",)),
        ]
    )
    # The reader has never seen these value sets: it learns them from the database.
    query = SearchQuery(q="ถนน", facet_fields=("tags", "res_format", "fiscal_year"))
    found = reader.search(query)
    assert found.count == 3
    assert found.facets == {
        "tags": {"ขยะ": 2, "น้ำ": 2},
        "res_format": {"CSV": 2, "PDF": 1},
        "fiscal_year": {"2566": 1, "2567": 1},
    }
    assert reader.search(replace(query, filters={"tags": ["น้ำ"]})).facets["res_format"] == {
        "CSV": 2,
        "PDF": 1,
    }


def test_a_large_rebuild_analyses_in_several_processes_alike(engines: list[Engine]) -> None:
    docs = [
        doc(
            f"d{i:04}",
            title_th=("ถนนคอนกรีต" if i % 3 else "งบประมาณรายจ่าย") + f" หมู่ที่ {i % 7}",
            tags=(f"t{i % 5}",),
            fiscal_years=(2560 + i % 4,),
        )
        for i in range(1100)  # three batches: enough to start the worker processes
    ]
    docs.append(doc("d0001", title_th="ซ้ำ"))  # the first of an id wins
    parallel = PostgresBackend(engines[0], procs=2)
    assert parallel.rebuild(docs) == 1100
    query = SearchQuery(q='"ถนนคอนกรีต"', facet_fields=("tags", "fiscal_year"), rows=3)
    found = parallel.search(query)
    serial = PostgresBackend(engines[1], procs=1)
    # Same order: with more matches than the ranked window, the window takes title matches in
    # table order, which is the order a rebuild is given its documents.
    assert serial.rebuild(docs[:-1]) == 1100
    assert serial.search(query) == found
    assert found.count == 733
    assert sum(found.facets["tags"].values()) == 733
    assert ids(parallel, "ซ้ำ") == []


def test_the_ranked_window_takes_only_visible_filtered_title_matches(
    engines: list[Engine],
) -> None:
    backend = PostgresBackend(engines[0], rank_window=2)
    backend.index([doc(f"body{i}", notes_th="รายงานงบประมาณ") for i in range(5)])
    backend.index(
        [
            doc("title-private", title_th="งบประมาณ", private=True),
            doc("title-other-org", title_th="งบประมาณ", organization="dept-y"),
            doc("title", title_th="งบประมาณ"),
        ]
    )
    query = SearchQuery(q="งบประมาณ", rows=1, filters={"organization": ["dept-x"]})
    found = backend.search(query)
    assert (found.count, found.ids) == (6, ["title"])
    assert backend.search(replace(query, filters={}, rows=2)).ids == ["title", "title-other-org"]
