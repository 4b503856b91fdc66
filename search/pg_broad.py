"""Counts of broad text queries for the PostgreSQL search backend (search/pg_backend.py).

A word found in most datasets ("งบประมาณ", "budget") or a common phrase costs a pass over
thousands of rows every time it is counted, with its facets. The second time a process counts
such a query (BROAD_MIN public matches or more) its counts over the public documents are stored
(`search_index.broad_query` and `broad_count`, migration 0007); the statement triggers of that
migration then keep them exact in every writer's transaction, as `facet_count` is kept for the
front page. Later searches read them instead of counting: the documents and facets of what
everyone sees, plus the matching non-public documents of the user's own organisations, counted
apart (few). A rebuild empties them; they fill again on use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import psycopg

from search.pg_documents import FACET_NUMBERS

#: Public matches from which a text query's counts are stored.
BROAD_MIN = 1000
#: Most queries stored; storing one more drops the oldest. Every write tests each stored query
#: against the rows it changes (microseconds each).
BROAD_CAP = 200
#: Times a process counts a broad query in full before storing it: storing makes writers wait
#: (`lock_writers`), which queries searched once (a crawler's) should not.
BROAD_MISSES = 2


class Misses:
    """Broad queries a process counted in full, and how often, for the most recent `size`."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def count(self, tsquery: str) -> int:
        """Record one more full count of `tsquery`; the number so far."""
        with self._lock:
            n = self._seen.pop(tsquery, 0) + 1
            self._seen[tsquery] = n
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return n

    def forget(self, tsquery: str) -> None:
        with self._lock:
            self._seen.pop(tsquery, None)


def stored_counts(cur: psycopg.Cursor, tsquery: str, names: list[str]) -> dict[int, int] | None:
    """Code -> count (0 -> documents) of the facets `names` over the public documents matching
    `tsquery`, if that query's counts are stored; None otherwise."""
    numbers = [0, *(FACET_NUMBERS[name] for name in names)]
    cur.execute(
        "SELECT c.code, c.n FROM search_index.broad_query AS q "
        "JOIN search_index.broad_count AS c ON c.query = q.id "
        "WHERE q.text = %s AND (c.code & 15) = ANY(%s::int[])",
        (tsquery, numbers),
    )
    rows = cur.fetchall()
    if not rows:  # a stored query always has its code-0 row (`store`)
        return None
    return {code: n for code, n in rows if n > 0 or code == 0}


def store(cur: psycopg.Cursor, tsquery: str, counts: dict[int, int], cap: int) -> bool:
    """Store `counts` (code -> n over the public documents, counted in this transaction after
    `lock_writers`) as the counts of `tsquery`; False if another process stored it first."""
    cur.execute(
        "DELETE FROM search_index.broad_query WHERE id IN (SELECT id FROM "
        "search_index.broad_query ORDER BY id DESC OFFSET %s)",
        (max(cap - 1, 0),),
    )
    cur.execute(
        "INSERT INTO search_index.broad_query (text, tsq) VALUES (%s, %s::tsquery) "
        "ON CONFLICT (text) DO NOTHING RETURNING id",
        (tsquery, tsquery),
    )
    row = cur.fetchone()
    if row is None:
        return False
    positive = sorted((code, n) for code, n in counts.items() if n > 0 or code == 0)
    cur.execute(
        "INSERT INTO search_index.broad_count (query, code, n) "
        "SELECT %s, c, n FROM unnest(%s::int[], %s::int[]) AS m(c, n)",
        (row[0], [code for code, _ in positive], [n for _, n in positive]),
    )
    return True


def lock_writers(cur: psycopg.Cursor) -> None:
    """Keep writers out until this transaction ends, so that no change commits between the
    counting and the stored query becoming visible to the writers' triggers. Never waits:
    raises psycopg.errors.LockNotAvailable while a writer or a rebuild is at work (the query
    is then stored another time)."""
    cur.execute("LOCK TABLE search_index.document IN SHARE MODE NOWAIT")


def stored_queries(cur: psycopg.Cursor) -> list[tuple[int, str, dict[int, int]]]:
    """(id, tsquery, code -> count) of every stored query."""
    cur.execute("SELECT id, text FROM search_index.broad_query ORDER BY id")
    queries = cur.fetchall()
    cur.execute("SELECT query, code, n FROM search_index.broad_count WHERE n <> 0 OR code = 0")
    counts: dict[int, dict[int, int]] = {}
    for query, code, n in cur.fetchall():
        counts.setdefault(query, {})[code] = n
    return [(query_id, text, counts.get(query_id, {0: 0})) for query_id, text in queries]
