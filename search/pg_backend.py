"""PostgreSQL search backend: the catalogue's search in the shared database, for deployments with
several processes or machines. Chosen with SEARCH_BACKEND=postgresql.

Tables (schema `search_index`, created by migration 0004):

* `document`: one row per dataset (search/pg_documents.py): filter and sort columns, facet value
  codes, the texts highlights are cut from, and `tsv`, a weighted tsvector (title A, keywords B,
  body C) of the same analysed terms the Whoosh backend indexes, with a GIN index.
* `facet_value`: integer codes of facet values (counting integers is cheaper than texts);
  `facet_count`: facet counts of the public documents, kept by triggers, which the front page
  (no query, no filter) reads instead of counting.
* `broad_query`, `broad_count`: the same counts for text queries that match many documents,
  stored once a process has counted them twice, then kept by triggers (search/pg_broad.py).
* `deleted`: ids deleted while a rebuild runs; `vocabulary`: words for "did you mean".

Ranking is ts_rank_cd with the Whoosh field boosts as weights, ties broken as Whoosh does. It
reads each candidate's tsvector, so when more than RANK_WINDOW documents match only a window is
ranked: the first RANK_WINDOW title matches (table order: a rebuild's order, then later writes),
then other matches. Smaller result sets, like the relevance corpus, are ranked exactly; counts
and facets are always exact.

Writers in several processes: `index` upserts a whole batch in one statement, in id order; a
rebuild fills and indexes a staging table beside the live one, then swaps it in with one short
transaction under an EXCLUSIVE lock (writers wait; searches wait only for the swap itself),
and rows written or deleted after the rebuild started win over the rebuilt ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime

import psycopg
from psycopg import errors, sql
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from search.base import SearchBackend, check_query
from search.documents import SearchDocument, SearchHit, SearchQuery, SearchResult
from search.highlight import best_snippet
from search.pg_broad import (
    BROAD_CAP,
    BROAD_MIN,
    BROAD_MISSES,
    Misses,
    lock_writers,
    store,
    stored_counts,
    stored_queries,
)
from search.pg_documents import (
    COLUMNS,
    DOCUMENT,
    FILTERS,
    NAME_TEXT,
    TITLE_PREFIX,
    Analysis,
    analyse,
    beyond_public,
    clean,
    document_row,
    facet_keys_sql,
    facet_pairs,
    json_rows,
    tsquery_text,
    upsert,
    value_sets,
    where_clause,
)
from search.pg_facets import FacetCodes, count_by_complement, count_matches, public_counts
from search.pg_rebuild import (
    STAGING,
    Index,
    add_words,
    analysed,
    create_staging,
    drop_staging,
    live_indexes,
    recount_front_page,
    swap,
    unique_batches,
)
from search.pg_speller import Speller
from search.query import ParsedQuery, parse
from search.whoosh_build import paused_gc

#: ts_rank_cd weights of D, C, B, A: the Whoosh boosts (title 3, keywords 2, body 1).
RANK_WEIGHTS = [0.1, 1 / 3, 2 / 3, 1.0]
#: ts_rank_cd normalisation 1: divide by 1 + log(document length).
RANK_NORMALIZATION = 1
#: Most candidates ranked per query (ts_rank_cd reads each one's tsvector, ~10 us apiece).
RANK_WINDOW = 500
#: Facets are counted over the non-matching documents when the planner expects at least this
#: share of the public documents to match (see `PostgresBackend._complement`).
COMPLEMENT_SHARE = 2 / 3
#: Advisory lock held by a rebuild (one at a time).
REBUILD_LOCK = 0x4B4C_5352

_MODIFIED = "d.metadata_modified DESC NULLS LAST"
#: ORDER BY of each sort; ties as in the Whoosh backend (latest modified, then id).
ORDER_BY = {
    "relevance": f"score DESC, {_MODIFIED}, d.id",
    "modified": f"{_MODIFIED}, d.id",
    "newest": f"d.metadata_created DESC NULLS LAST, {_MODIFIED}, d.id",
    "popularity": f"d.popularity DESC, {_MODIFIED}, d.id",
    "title_th": "d.title_th_key, d.id",
    "title_en": "d.title_en_key, d.id",
    # NULLS FIRST: a missing date is the oldest (as in Whoosh), and it is the order of the
    # document_modified index read backwards, so no other index is needed.
    "modified_asc": "d.metadata_modified ASC NULLS FIRST, d.id",
    # The column is COLLATE "C" (code points, as Python compares the names in the Whoosh
    # backend) and never NULL: this is the order of its document_name index, (name, id).
    "name": f"{NAME_TEXT}, d.id",
}


def _nonzero(counts: dict[int, int]) -> dict[int, int]:
    return {code: n for code, n in counts.items() if n}


# The backend ---------------------------------------------------------------------------------


class PostgresBackend(SearchBackend):
    """Search backend over the `search_index` tables of a PostgreSQL database (psycopg 3)."""

    name = "postgresql"

    def __init__(
        self,
        engine: Engine,
        rank_window: int = RANK_WINDOW,
        complement_share: float = COMPLEMENT_SHARE,
        procs: int = 2,
        broad_min: float = BROAD_MIN,
        broad_cap: int = BROAD_CAP,
        broad_misses: int = BROAD_MISSES,
    ) -> None:
        """`engine` is the catalogue's engine; migration 0004 must have run on its database.
        `rank_window` is the most matches a query ranks (see the module docstring);
        `complement_share` the share of matches above which facets are counted by complement
        (`count_by_complement`; above 1: never); `procs` the processes that analyse documents
        in a rebuild; `broad_min` the matches from which a text query's counts are stored,
        `broad_cap` the most stored, `broad_misses` the full counts of one in this process
        before it is stored (search/pg_broad.py)."""
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
            raise ValueError("the PostgreSQL search backend needs a postgresql+psycopg engine")
        self.engine = engine
        self.rank_window = rank_window
        self.complement_share = complement_share
        self.procs = procs
        self.broad_min = broad_min
        self.broad_cap = broad_cap
        self.broad_misses = broad_misses
        self.misses = Misses()
        # Facet value codes never change once assigned, so every process may keep them.
        self.facet_codes = FacetCodes()
        #: Searches whose facets were counted by complement, or read from stored counts
        #: (let tests see the path taken).
        self.complement_counts = 0
        self.stored_counts = 0

    @contextmanager
    def _transaction(self, read_only: bool = False) -> Iterator[psycopg.Cursor]:
        """A cursor in one transaction on a pooled connection: committed on success."""
        raw = self.engine.raw_connection()
        try:
            conn: psycopg.Connection = raw.driver_connection
            conn.rollback()  # a pool ping may have left a transaction open
            try:
                with conn.cursor() as cur:
                    if read_only:
                        # One snapshot for the count, the facets and the page.
                        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    # JIT compilation costs more than these short queries take to run.
                    cur.execute("SET LOCAL jit = off")
                    if read_only:
                        # psycopg prepares a statement run five times; PostgreSQL may then
                        # switch to a generic plan, blind to how common the searched words
                        # are (a filter that reads tsvectors instead of the GIN index).
                        cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                    yield cur
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        finally:
            raw.close()

    # Writing -------------------------------------------------------------------------------

    def _rows(self, docs: list[SearchDocument], analyses: list[Analysis]) -> list[dict]:
        """Rows of `docs` given their analyses (facet codes and sets assigned as needed)."""
        codes = self.facet_codes
        pairs = {pair for doc in docs for pair in facet_pairs(doc)}
        if pairs - codes.codes.keys():
            with self._transaction() as cur:  # committed at once: other writers need them
                codes.assign(cur, pairs)
        sets = {item for doc in docs for item in value_sets(doc, codes.codes).items()}
        if sets - codes.sets.keys():
            with self._transaction() as cur:
                codes.assign_sets(cur, sets)
        return [
            document_row(doc, analysis, codes.codes, codes.sets)
            for doc, analysis in zip(docs, analyses, strict=True)
        ]

    def index(self, docs: Iterable[SearchDocument]) -> int:
        docs = list(docs)
        latest = {doc.id: doc for doc in docs}  # the last of an id wins
        if not latest:
            return 0
        analyses = [analyse(doc) for doc in latest.values()]
        rows = self._rows(list(latest.values()), analyses)
        words = {word for analysis in analyses for word in analysis[2]}
        with self._transaction() as cur:
            # One statement, rows in id order: concurrent writers lock rows (and the facet
            # counts, in the trigger) in the same order, so they queue instead of deadlocking.
            cur.execute(upsert(json_rows()), {"rows": Jsonb(rows)})
        with self._transaction() as cur:
            add_words(cur, words)
        return len(docs)

    def delete(self, ids: Iterable[str]) -> None:
        ids = sorted({clean(i) for i in ids})
        if not ids:
            return
        with self._transaction() as cur:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE id = ANY(%s::text[])").format(DOCUMENT), (ids,)
            )
            # A running rebuild holds this lock: record the deletion for it to honour. Taking
            # the lock otherwise keeps a rebuild from starting before this commits.
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (REBUILD_LOCK,))
            if not cur.fetchone()[0]:
                cur.execute(
                    "INSERT INTO search_index.deleted (id, version) "
                    "SELECT i, nextval('search_index.version_seq') "
                    "FROM unnest(%s::text[]) AS i ORDER BY i "
                    "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
                    (ids,),
                )

    def clear(self) -> None:
        with self._transaction() as cur:
            for table in ("document", "deleted", "vocabulary", "facet_count", "broad_query"):
                cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("search_index", table)))

    def rebuild(self, docs: Iterable[SearchDocument]) -> int:
        """Replace the index with `docs`; searches never see it empty or half-built. Analysis
        runs in `self.procs` forked processes, the rows go to a staging table, its indexes are
        built on two connections, and one short transaction swaps it in
        (search/pg_rebuild.py)."""
        names = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        seen: set[str] = set()
        words: set[tuple[str, str]] = set()
        raw = self.engine.raw_connection()
        conn: psycopg.Connection = raw.driver_connection
        try:
            conn.rollback()
            with conn.cursor() as cur:
                # Held across the transactions below: one rebuild at a time, and deletions
                # made meanwhile are recorded for it (`delete`).
                cur.execute("SELECT pg_advisory_lock(%s)", (REBUILD_LOCK,))
                try:
                    cur.execute("SELECT nextval('search_index.version_seq')")
                    params = {"start": cur.fetchone()[0]}
                    create_staging(cur)
                    copy_rows = sql.SQL("COPY {} ({}) FROM STDIN").format(STAGING, names)
                    with paused_gc(), cur.copy(copy_rows) as copy:
                        for batch, analyses in analysed(unique_batches(docs, seen), self.procs):
                            rows = self._rows(batch, analyses)
                            for row, analysis in zip(rows, analyses, strict=True):
                                words |= analysis[2]
                                copy.write_row([row[column] for column in COLUMNS])
                    indexes = live_indexes(cur)
                    conn.commit()
                    self._build_indexes(conn, indexes)
                    swap(cur, params, words, indexes)
                    conn.commit()
                except BaseException:
                    # A broken connection ends the session: its lock goes with it, and the
                    # next rebuild drops the staging table.
                    with suppress(psycopg.Error):
                        conn.rollback()
                        drop_staging(cur)
                        conn.commit()
                    raise
                finally:
                    with suppress(psycopg.Error):
                        cur.execute("SELECT pg_advisory_unlock(%s)", (REBUILD_LOCK,))
                        conn.commit()
        finally:
            raw.close()
        return len(seen)

    def _build_indexes(self, conn: psycopg.Connection, indexes: list[Index]) -> None:
        """Build `indexes` on the staging table: the first (the tsvector's) on `conn`, the
        others meanwhile on a second connection; then ANALYZE it (not at the same time: it waits for index
        builds)."""

        def build(connection: psycopg.Connection, todo: list[Index]) -> None:
            with connection.cursor() as cur:
                for index in todo:
                    cur.execute(index.create)
                    connection.commit()

        with ThreadPoolExecutor(max_workers=1) as pool:
            other = self.engine.raw_connection()
            try:
                second: psycopg.Connection = other.driver_connection
                second.rollback()
                rest = pool.submit(build, second, indexes[1:])
                build(conn, indexes[:1])
                rest.result()
            finally:
                other.close()
        with conn.cursor() as cur:
            cur.execute(sql.SQL("ANALYZE {}").format(STAGING))
        conn.commit()

    def check_counts(self, repair: bool = False) -> list[str]:
        """The counts the triggers keep (the front page's and the stored broad queries'),
        recounted in one snapshot; with `repair`, writers wait while the front page's are
        recounted and drifting broad queries are dropped (stored again on use)."""
        names = list(FILTERS)
        public, _ = where_clause(SearchQuery(), None)
        with self._transaction(read_only=not repair) as cur:
            if repair:
                cur.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(DOCUMENT))
            drift = []
            front = count_matches(cur, self.facet_codes, names, public, {"orgs": []})
            if _nonzero(public_counts(cur, names)) != _nonzero(front):
                drift.append("front page counts")
                if repair:
                    recount_front_page(cur)
            cur.execute("SET LOCAL enable_seqscan = off")
            for query_id, tsquery, kept in stored_queries(cur):
                where, params = where_clause(SearchQuery(), tsquery)
                counted = count_matches(cur, self.facet_codes, names, where, params)
                if _nonzero(kept) != _nonzero(counted):
                    drift.append(f"stored counts of {tsquery}")
                    if repair:
                        cur.execute(
                            "DELETE FROM search_index.broad_query WHERE id = %s", (query_id,)
                        )
        return drift

    # Reading -------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        check_query(query)
        parsed = parse(query.q)
        with self._transaction(read_only=True) as cur:
            result, broad = self._execute(cur, query, parsed)
            if result.count or parsed.root is None:
                suggestion = None
            else:
                suggestion = Speller(cur).suggest(parsed.words)
                if suggestion is not None:
                    retry, _ = self._execute(cur, query, parse(suggestion))
        if broad is not None:
            self._store(broad)
        if suggestion is None:
            return result
        if retry.count:
            return replace(retry, suggestion=suggestion, corrected=True)
        return replace(result, suggestion=suggestion)

    def _execute(
        self, cur: psycopg.Cursor, query: SearchQuery, parsed: ParsedQuery
    ) -> tuple[SearchResult, str | None]:
        """The result of `query`, and its tsquery if its counts should be stored."""
        tsquery = tsquery_text(parsed.root) if parsed.root is not None else None
        where, params = where_clause(query, tsquery)
        if tsquery is not None:
            # The planner does not know that testing a row against the tsquery reads its
            # tsvector out of line (microseconds each): when most rows match it scans the
            # table, while the GIN index gives the same rows without reading tsvectors.
            cur.execute("SET LOCAL enable_seqscan = off")
        count, facets, stored = self._count(cur, query, where, params)
        hits: tuple[SearchHit, ...] = ()
        if query.rows and count > query.start:
            hits = self._page(cur, query, parsed, where, params, count)
        highlights: dict[str, str] = {}
        if hits and parsed.root is not None:
            terms = parsed.terms()
            cur.execute(
                sql.SQL("SELECT id, texts FROM {} WHERE id = ANY(%s::text[])").format(DOCUMENT),
                ([hit.id for hit in hits],),
            )
            for doc_id, texts in cur.fetchall():
                # Four texts (a process still on the code before migration 0010 adds the name).
                title_th, title_en, notes_th, notes_en = texts[:4]
                found = best_snippet((notes_th, notes_en, title_th, title_en), terms)
                if found is not None:
                    highlights[doc_id] = found
        result = SearchResult(count=count, hits=hits, facets=facets, highlights=highlights)
        broad = tsquery is not None and not stored and self._storable(query, tsquery, count)
        return result, tsquery if broad else None

    def _storable(self, query: SearchQuery, tsquery: str, count: int) -> bool:
        """Whether the counts of a text query with `count` matches, just counted in full,
        should now be stored."""
        if count < self.broad_min or query.filters or query.include_private:
            return False
        if query.modified_range is not None:  # its count is not the query's public count
            return False
        return self.misses.count(tsquery) >= self.broad_misses

    def _store(self, tsquery: str) -> None:
        """Count the public matches of `tsquery` and all facets, and store them."""
        public = SearchQuery(q="-", facet_fields=tuple(FILTERS))
        where, params = where_clause(public, tsquery)
        names = list(FILTERS)
        try:
            with self._transaction() as cur:
                lock_writers(cur)
                cur.execute("SET LOCAL enable_seqscan = off")
                counted = count_by_complement(
                    cur, self.facet_codes, public, names, where, params, self.complement_share
                )
                if counted is None:
                    counted = count_matches(cur, self.facet_codes, names, where, params)
                if counted.get(0, 0) >= self.broad_min:
                    store(cur, tsquery, counted, self.broad_cap)
            self.misses.forget(tsquery)
        except errors.LockNotAvailable:
            pass  # writers at work: stored by a later search

    def _count(
        self, cur: psycopg.Cursor, query: SearchQuery, where: sql.Composed, params: dict
    ) -> tuple[int, dict[str, dict[str, int]], bool]:
        """The number of matches and the requested facets, in one pass over the matches (or
        none: counts kept by triggers), and whether they came from a stored broad query."""
        names = list(dict.fromkeys(query.facet_fields))
        counted: dict[int, int] | None = None
        stored = False
        # The stored counts (front page, broad queries) and the complement built on them are
        # of the public documents under no filter: a filter or a modified range needs a count.
        unfiltered = not (
            query.filters or query.include_private or query.modified_range is not None
        )
        if "q" not in params and unfiltered and not query.allowed_orgs:
            counted = public_counts(cur, names)  # what everyone sees, unfiltered
        elif "q" in params and unfiltered:
            counted = stored_counts(cur, params["q"], names)
            stored = counted is not None
            self.stored_counts += stored
            if stored and query.allowed_orgs:
                # The user's own non-public matches: the stored counts are the public ones.
                source = sql.SQL("{} AND d.tsv @@ %(q)s::tsquery").format(beyond_public(query))
                cur.execute(facet_keys_sql(source, names), params)
                for code, n in self.facet_codes.expand(cur, cur.fetchall(), names).items():
                    counted[code] = counted.get(code, 0) + n
        if counted is None and names and "q" in params and unfiltered:
            counted = count_by_complement(
                cur, self.facet_codes, query, names, where, params, self.complement_share
            )
            self.complement_counts += counted is not None
        if counted is None:
            counted = count_matches(cur, self.facet_codes, names, where, params)
        count = counted.pop(0, 0)
        return count, self.facet_codes.label(cur, counted, names, query.facet_limit), stored

    def _page(
        self,
        cur: psycopg.Cursor,
        query: SearchQuery,
        parsed: ParsedQuery,
        where: sql.Composed,
        params: dict,
        count: int,
    ) -> tuple[SearchHit, ...]:
        sort = query.sort
        params = {**params, "limit": query.rows, "offset": query.start}
        score = sql.SQL("0.0")
        source = sql.SQL("{} AS d WHERE {}").format(DOCUMENT, where)
        if sort == "relevance" and parsed.root is not None:
            score = sql.SQL("ts_rank_cd(%(weights)s::float4[], d.tsv, %(q)s::tsquery, %(norm)s)")
            params.update(weights=RANK_WEIGHTS, norm=RANK_NORMALIZATION)
            # Whole windows, so that the pages of one window rank the same candidates.
            size = -(-(query.start + query.rows) // self.rank_window) * self.rank_window
            if count > size:
                # Too many to rank: the first `size` title matches, then other matches.
                params.update(size=size, tq=tsquery_text(parsed.root, TITLE_PREFIX))
                part = sql.SQL(
                    "(SELECT d.id, d.tsv, d.metadata_modified FROM {} AS d WHERE {} AND {})"
                )
                # A title match is a match (title terms are also indexed plainly, at the same
                # positions), so the titles need no other text test: the GIN index reads only
                # the short title-term lists, not the long lists of common words.
                visible, _ = where_clause(query, None)
                titles = part.format(DOCUMENT, visible, sql.SQL("d.tsv @@ %(tq)s::tsquery"))
                others = part.format(DOCUMENT, where, sql.SQL("NOT d.tsv @@ %(tq)s::tsquery"))
                source = sql.SQL("({} UNION ALL {} LIMIT %(size)s) AS d").format(titles, others)
        elif sort == "relevance":
            sort = "modified"  # nothing to score: latest changes first, as in Whoosh
        cur.execute(
            sql.SQL(
                "SELECT d.id, {} AS score FROM {} ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s"
            ).format(score, source, sql.SQL(ORDER_BY[sort])),
            params,
        )
        return tuple(SearchHit(doc_id, float(score)) for doc_id, score in cur.fetchall())

    def count(self) -> int:
        with self._transaction(read_only=True) as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(DOCUMENT))
            return cur.fetchone()[0]

    def all_ids_with_modified(self) -> dict[str, datetime | None]:
        found: dict[str, datetime | None] = {}
        with self._transaction(read_only=True) as cur:
            cur.execute(
                sql.SQL("SELECT id, metadata_modified, modified_naive FROM {}").format(DOCUMENT)
            )
            for doc_id, modified, naive in cur.fetchall():
                if modified is not None:
                    modified = modified.astimezone(UTC)
                    if naive:  # given naive (UTC): handed back naive
                        modified = modified.replace(tzinfo=None)
                found[doc_id] = modified
        return found
