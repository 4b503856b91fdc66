"""Bulk rebuild helpers for the PostgreSQL search backend (search/pg_backend.py).

Analysing documents (Thai segmentation, compound parts, synonyms, the tsvector literal) is most
of a rebuild's time and needs no database, so with `procs` > 1 it runs in forked worker
processes while the parent reads the documents, assigns facet codes and streams rows to
PostgreSQL with COPY. `merge` then makes the staged rows the index in one transaction.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator

import psycopg
from psycopg import sql

from search.documents import SearchDocument
from search.pg_documents import DOCUMENT, Analysis, analyse, upsert

#: Documents per task handed to a worker process.
TASK_SIZE = 500
#: Tasks queued ahead of the parent per worker (bounds the memory of finished analyses).
AHEAD = 2


def _analyse_all(docs: list[SearchDocument]) -> list[Analysis]:
    return [analyse(doc) for doc in docs]


def unique_batches(
    docs: Iterable[SearchDocument], seen: set[str]
) -> Iterator[list[SearchDocument]]:
    """`docs` in batches of TASK_SIZE, without the ids already in `seen` (the first of an id
    wins); adds the ids it yields to `seen`."""
    batch: list[SearchDocument] = []
    for doc in docs:
        if doc.id in seen:
            continue
        seen.add(doc.id)
        batch.append(doc)
        if len(batch) >= TASK_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def analysed(
    batches: Iterable[list[SearchDocument]], procs: int
) -> Iterator[tuple[list[SearchDocument], list[Analysis]]]:
    """Each batch with its analyses, in order; with `procs` > 1, analysed by that many forked
    processes once a second batch shows the work is worth a fork. The batches are read in the
    calling thread (they may come from a database cursor); workers only compute."""
    pool = None
    held: list[SearchDocument] | None = None  # the first batch, until a second one comes
    pending: deque = deque()  # (batch, AsyncResult), in order
    try:
        for batch in batches:
            if procs <= 1:
                yield batch, _analyse_all(batch)
                continue
            if pool is None and held is None:
                held = batch
                continue
            if pool is None:
                pool = multiprocessing.get_context("fork").Pool(procs)
                pending.append((held, pool.apply_async(_analyse_all, (held,))))
                held = None
            pending.append((batch, pool.apply_async(_analyse_all, (batch,))))
            while len(pending) > AHEAD * procs:
                done, result = pending.popleft()
                yield done, result.get()
        if held is not None:
            yield held, _analyse_all(held)
        while pending:
            done, result = pending.popleft()
            yield done, result.get()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def add_words(cur: psycopg.Cursor, words: Iterable[tuple[str, str]]) -> None:
    """Add (kind, word) pairs to the spelling vocabulary, in order (concurrent writers queue)."""
    ordered = sorted(words)
    if ordered:
        cur.execute(
            "INSERT INTO search_index.vocabulary (kind, word) "
            'SELECT * FROM unnest(%s::"char"[], %s::text[]) ORDER BY 1, 2 ON CONFLICT DO NOTHING',
            ([k for k, _ in ordered], [w for _, w in ordered]),
        )


def merge(cur: psycopg.Cursor, params: dict, words: set[tuple[str, str]]) -> None:
    """Make rebuild_staging the index, keeping what was written since `params["start"]`."""
    # No ANALYZE of the staging table: its statistics of tsvectors cost a second per 20,000
    # documents, and the statements below scan it whole whatever they would say.
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
    # Stored broad queries were counted over the old rows (the triggers skipped this merge);
    # they are stored again when next searched.
    cur.execute("DELETE FROM search_index.broad_query")
    cur.execute(
        sql.SQL(
            "INSERT INTO search_index.facet_count (code, n) SELECT c, count(*) FROM {} AS d "
            "CROSS JOIN LATERAL unnest(d.facet_codes) AS c "
            "WHERE d.state = 'published' AND NOT d.private GROUP BY c"
        ).format(DOCUMENT)
    )
    # Words of documents written meanwhile are newer than `start` and stay.
    cur.execute("DELETE FROM search_index.vocabulary WHERE version < %(start)s", params)
    add_words(cur, words)
    # Searches scan GIN pending lists entry by entry: merge them into the indexes now.
    cur.execute(
        "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index AS i "
        "JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS a ON a.oid = c.relam "
        "WHERE i.indrelid = 'search_index.document'::regclass AND a.amname = 'gin'"
    )
    cur.execute(sql.SQL("ANALYZE {}").format(DOCUMENT))
