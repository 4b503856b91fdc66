"""PostgreSQL search backend: the catalogue's search in the shared database, for deployments with
several processes or machines. Chosen with SEARCH_BACKEND=postgresql.

Tables (schema `search_index`, created by migration 0004):

* `document`: one row per dataset (search/pg_documents.py): filter and sort columns, facet value
  codes, the texts highlights are cut from, and `tsv`, a weighted tsvector (title A, keywords B,
  body C) of the same analysed terms the Whoosh backend indexes, with a GIN index.
* `facet_value`: integer codes of facet values (counting integers is cheaper than texts);
  `facet_count`: facet counts of the public documents, kept by triggers, which the front page
  (no query, no filter) reads instead of counting.
* `deleted`: ids deleted while a rebuild runs; `vocabulary`: words for "did you mean".

Ranking is ts_rank_cd with the Whoosh field boosts as weights, ties broken as Whoosh does. It
reads each candidate's tsvector, so when more than RANK_WINDOW documents match only a window is
ranked: the first RANK_WINDOW title matches (table order), then other matches. Smaller result
sets, like the relevance corpus, are ranked exactly; counts and facets are always exact.

Writers in several processes: `index` upserts a whole batch in one statement, in id order; a
rebuild analyses into a temporary table, then merges it in one transaction under an EXCLUSIVE
lock (searches keep reading the old rows; writers wait), and rows written or deleted after the
rebuild started win over the rebuilt ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from search.base import SearchBackend, check_query
from search.documents import SearchDocument, SearchHit, SearchQuery, SearchResult
from search.highlight import best_snippet
from search.pg_documents import (
    COLUMNS,
    DOCUMENT,
    FACET_NUMBERS,
    TITLE_PREFIX,
    beyond_public,
    clean,
    document_row,
    facet_counts_sql,
    facet_pairs,
    json_rows,
    spelling_words,
    tsquery_text,
    unmatched,
    upsert,
    where_clause,
)
from search.pg_speller import Speller
from search.query import ParsedQuery, parse
from search.whoosh_backend import document_fields

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
}


# The backend ---------------------------------------------------------------------------------


class PostgresBackend(SearchBackend):
    """Search backend over the `search_index` tables of a PostgreSQL database (psycopg 3)."""

    name = "postgresql"

    def __init__(
        self,
        engine: Engine,
        rank_window: int = RANK_WINDOW,
        complement_share: float = COMPLEMENT_SHARE,
    ) -> None:
        """`engine` is the catalogue's engine; migration 0004 must have run on its database.
        `rank_window` is the most matches a query ranks (see the module docstring);
        `complement_share` the share of matches above which facets are counted by complement
        (`_complement`; above 1: never)."""
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
            raise ValueError("the PostgreSQL search backend needs a postgresql+psycopg engine")
        self.engine = engine
        self.rank_window = rank_window
        self.complement_share = complement_share
        # Facet value codes never change once assigned, so every process may keep them.
        self._codes: dict[tuple[str, str], int] = {}
        self._values: dict[int, tuple[str, str]] = {}
        #: Searches whose facets were counted by complement (lets tests see the path taken).
        self.complement_counts = 0

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
                    yield cur
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        finally:
            raw.close()

    # Facet codes ---------------------------------------------------------------------------

    def _facet_codes(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Codes of (facet, value) pairs, assigning new ones (in their own transaction)."""
        missing = sorted(set(pairs) - self._codes.keys())
        if missing:
            arrays = ([f for f, _ in missing], [v for _, v in missing])
            with self._transaction() as cur:
                cur.execute(
                    "INSERT INTO search_index.facet_value (facet, value) SELECT * FROM "
                    "unnest(%s::text[], %s::text[]) ORDER BY 1, 2 ON CONFLICT DO NOTHING",
                    arrays,
                )
                cur.execute(
                    "SELECT v.id, v.facet, v.value FROM search_index.facet_value AS v "
                    "JOIN unnest(%s::text[], %s::text[]) AS m(facet, value) "
                    "ON v.facet = m.facet AND v.value = m.value",
                    arrays,
                )
                self._learn(cur.fetchall())
        return self._codes

    def _learn(self, rows: Iterable[tuple[int, str, str]]) -> None:
        for number, facet, value in rows:
            code = number * 16 + FACET_NUMBERS[facet]
            self._codes[(facet, value)] = code
            self._values[code] = (facet, value)

    # Writing -------------------------------------------------------------------------------

    def _prepare(self, docs: list[SearchDocument]) -> tuple[list[dict], set[tuple[str, str]]]:
        """Rows and spelling words of `docs` (facet codes assigned as needed)."""
        codes = self._facet_codes(pair for doc in docs for pair in facet_pairs(doc))
        rows: list[dict] = []
        words: set[tuple[str, str]] = set()
        for doc in docs:
            fields = document_fields(doc)
            rows.append(document_row(doc, fields, codes))
            words |= spelling_words(fields)
        return rows, words

    def index(self, docs: Iterable[SearchDocument]) -> int:
        docs = list(docs)
        latest = {doc.id: doc for doc in docs}  # the last of an id wins
        if not latest:
            return 0
        rows, words = self._prepare(list(latest.values()))
        with self._transaction() as cur:
            # One statement, rows in id order: concurrent writers lock rows (and the facet
            # counts, in the trigger) in the same order, so they queue instead of deadlocking.
            cur.execute(upsert(json_rows()), {"rows": Jsonb(rows)})
        with self._transaction() as cur:
            _add_words(cur, words)
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
            for table in ("document", "deleted", "vocabulary", "facet_count"):
                cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("search_index", table)))

    def rebuild(self, docs: Iterable[SearchDocument]) -> int:
        """Replace the index with `docs` in one transaction; searches never see it empty."""
        names = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        seen: set[str] = set()
        words: set[tuple[str, str]] = set()
        with self._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (REBUILD_LOCK,))
            cur.execute("SELECT nextval('search_index.version_seq')")
            params = {"start": cur.fetchone()[0]}
            cur.execute(
                sql.SQL(
                    "CREATE TEMP TABLE rebuild_staging (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP"
                ).format(DOCUMENT)
            )
            with cur.copy(sql.SQL("COPY rebuild_staging ({}) FROM STDIN").format(names)) as copy:
                for batch in _batches(docs, 1000):
                    batch = [doc for doc in batch if doc.id not in seen]  # the first one wins
                    seen.update(doc.id for doc in batch)
                    rows, found = self._prepare(list({doc.id: doc for doc in batch}.values()))
                    words |= found
                    for row in rows:
                        copy.write_row([row[column] for column in COLUMNS])
            self._merge(cur, params, words)
        return len(seen)

    def _merge(self, cur: psycopg.Cursor, params: dict, words: set[tuple[str, str]]) -> None:
        """Make rebuild_staging the index, keeping what was written since `params["start"]`."""
        cur.execute("ANALYZE rebuild_staging")
        # Readers go on reading the old rows; writers wait until this commits.
        cur.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(DOCUMENT))
        cur.execute("SET LOCAL search_index.recount = 'later'")
        cur.execute(
            sql.SQL(
                "DELETE FROM {} AS d WHERE d.version < %(start)s "
                "AND NOT EXISTS (SELECT 1 FROM rebuild_staging AS s WHERE s.id = d.id)"
            ).format(DOCUMENT),
            params,
        )
        staged = sql.SQL(
            "rebuild_staging AS s WHERE NOT EXISTS (SELECT 1 FROM search_index.deleted AS t "
            "WHERE t.id = s.id AND t.version > %(start)s)"
        )
        cur.execute(upsert(staged, keep_newer_than=True), params)
        cur.execute("DELETE FROM search_index.deleted")
        cur.execute("DELETE FROM search_index.facet_count")
        cur.execute(
            sql.SQL(
                "INSERT INTO search_index.facet_count (code, n) SELECT c, count(*) FROM {} AS d "
                "CROSS JOIN LATERAL unnest(d.facet_codes) AS c "
                "WHERE d.state = 'published' AND NOT d.private GROUP BY c"
            ).format(DOCUMENT)
        )
        # Words of documents written meanwhile are newer than `start` and stay.
        cur.execute("DELETE FROM search_index.vocabulary WHERE version < %(start)s", params)
        _add_words(cur, words)
        # Searches scan GIN pending lists entry by entry: merge them into the indexes now.
        cur.execute(
            "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index AS i "
            "JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS a ON a.oid = c.relam "
            "WHERE i.indrelid = 'search_index.document'::regclass AND a.amname = 'gin'"
        )
        cur.execute(sql.SQL("ANALYZE {}").format(DOCUMENT))

    # Reading -------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        check_query(query)
        parsed = parse(query.q)
        with self._transaction(read_only=True) as cur:
            result = self._execute(cur, query, parsed)
            if result.count or parsed.root is None:
                return result
            suggestion = Speller(cur).suggest(parsed.words)
            if suggestion is None:
                return result
            retry = self._execute(cur, query, parse(suggestion))
        if retry.count:
            return replace(retry, suggestion=suggestion, corrected=True)
        return replace(result, suggestion=suggestion)

    def _execute(
        self, cur: psycopg.Cursor, query: SearchQuery, parsed: ParsedQuery
    ) -> SearchResult:
        tsquery = tsquery_text(parsed.root) if parsed.root is not None else None
        where, params = where_clause(query, tsquery)
        if tsquery is not None:
            # The planner does not know that testing a row against the tsquery reads its
            # tsvector out of line (microseconds each): when most rows match it scans the
            # table, while the GIN index gives the same rows without reading tsvectors.
            cur.execute("SET LOCAL enable_seqscan = off")
        count, facets = self._count(cur, query, where, params)
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
            for doc_id, (title_th, title_en, notes_th, notes_en) in cur.fetchall():
                found = best_snippet((notes_th, notes_en, title_th, title_en), terms)
                if found is not None:
                    highlights[doc_id] = found
        return SearchResult(count=count, hits=hits, facets=facets, highlights=highlights)

    def _count(
        self, cur: psycopg.Cursor, query: SearchQuery, where: sql.Composed, params: dict
    ) -> tuple[int, dict[str, dict[str, int]]]:
        """The number of matches and the requested facets, in one pass over the matches."""
        names = list(dict.fromkeys(query.facet_fields))
        numbers = [0, *(FACET_NUMBERS[name] for name in names)]
        params = {**params, "numbers": numbers}
        counted: dict[int, int] | None = None
        if "q" not in params and not (query.filters or query.include_private or query.allowed_orgs):
            # What everyone sees, unfiltered: the counts the triggers keep.
            cur.execute(
                "SELECT code, n FROM search_index.facet_count "
                "WHERE n > 0 AND (code & 15) = ANY(%(numbers)s::int[])",
                params,
            )
            counted = dict(cur.fetchall())
        elif names and "q" in params and not (query.filters or query.include_private):
            counted = self._complement(cur, query, where, params)
        if counted is None:
            source = sql.SQL("{} AS d WHERE {}").format(DOCUMENT, where)
            if names:
                cur.execute(facet_counts_sql(source), params)
            else:
                cur.execute(sql.SQL("SELECT 0, count(*) FROM {}").format(source), params)
            counted = dict(cur.fetchall())
        count = counted.pop(0, 0)
        unknown = [code // 16 for code in counted if code not in self._values]
        if unknown:  # values another process added
            cur.execute(
                "SELECT id, facet, value FROM search_index.facet_value WHERE id = ANY(%s::int[])",
                (unknown,),
            )
            self._learn(cur.fetchall())
        facets: dict[str, dict[str, int]] = {name: {} for name in names}
        for code, n in counted.items():
            facet, value = self._values[code]
            facets[facet][value] = n
        limited = {
            name: dict(
                sorted(found.items(), key=lambda item: (-item[1], item[0]))[: query.facet_limit]
            )
            for name, found in facets.items()
        }
        return count, limited

    def _complement(
        self, cur: psycopg.Cursor, query: SearchQuery, where: sql.Composed, params: dict
    ) -> dict[int, int] | None:
        """Counts (code -> n) of a text query that matches most of what its user may see, as
        the counts of all visible documents minus those of the visible documents that do not
        match; None when the planner expects fewer matches. Counting costs per document
        counted, so this counts the few instead of the many. Exact: the whole-set counts come
        from the trigger-kept public counts plus the user's own non-public documents, read in
        the same snapshot."""
        cur.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) SELECT FROM {} AS d WHERE {}").format(DOCUMENT, where),
            params,
        )
        expected = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
        cur.execute("SELECT n FROM search_index.facet_count WHERE code = 0")
        public = cur.fetchone()
        if public is None or expected < self.complement_share * public[0]:
            return None
        cur.execute(
            "SELECT code, n FROM search_index.facet_count "
            "WHERE n > 0 AND (code & 15) = ANY(%(numbers)s::int[])",
            params,
        )
        counts = dict(cur.fetchall())
        if query.allowed_orgs:
            cur.execute(facet_counts_sql(beyond_public(query)), params)
            for code, n in cur.fetchall():
                counts[code] = counts.get(code, 0) + n
        visible, _ = where_clause(query, None)
        cur.execute(facet_counts_sql(unmatched(visible)), params)
        for code, n in cur.fetchall():
            counts[code] = counts.get(code, 0) - n
        self.complement_counts += 1
        return {code: n for code, n in counts.items() if n > 0 or code == 0}

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
                titles = part.format(DOCUMENT, where, sql.SQL("d.tsv @@ %(tq)s::tsquery"))
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


def _add_words(cur: psycopg.Cursor, words: Iterable[tuple[str, str]]) -> None:
    """Add (kind, word) pairs to the spelling vocabulary, in order (concurrent writers queue)."""
    ordered = sorted(words)
    if ordered:
        cur.execute(
            "INSERT INTO search_index.vocabulary (kind, word) "
            'SELECT * FROM unnest(%s::"char"[], %s::text[]) ORDER BY 1, 2 ON CONFLICT DO NOTHING',
            ([k for k, _ in ordered], [w for _, w in ordered]),
        )


def _batches(docs: Iterable[SearchDocument], size: int) -> Iterator[list[SearchDocument]]:
    batch: list[SearchDocument] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
