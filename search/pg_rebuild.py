"""Bulk rebuild helpers for the PostgreSQL search backend (search/pg_backend.py).

Analysing documents (Thai segmentation, compound parts, synonyms, the tsvector literal) is most
of a rebuild's time and needs no database, so with `procs` > 1 it runs in forked worker
processes while the parent reads the documents, assigns facet codes and streams rows to
PostgreSQL with COPY, into a staging table beside the live one. Its indexes are then built
(two at a time) and `swap` makes it the document table in one short transaction, with the
writes made meanwhile: building a GIN index from scratch is about twice as fast as inserting
the same rows into one.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


#: The table a rebuild fills beside the live one (a real table: its indexes are built on two
#: connections at once).
STAGING = sql.Identifier("search_index", "rebuild")


def create_staging(cur: psycopg.Cursor) -> None:
    """A new, empty staging table shaped as the document table, without indexes (building
    them once filled is faster than keeping them while rows arrive)."""
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(STAGING))  # left by a crash
    cur.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)").format(
            STAGING, DOCUMENT
        )
    )
    # LIKE leaves out the table's storage options (migration 0008's toast_tuple_target).
    cur.execute("SELECT reloptions FROM pg_class WHERE oid = 'search_index.document'::regclass")
    options = cur.fetchone()[0]
    if options:
        settings = sql.SQL(", ").join(sql.SQL(option) for option in options)
        cur.execute(sql.SQL("ALTER TABLE {} SET ({})").format(STAGING, settings))


def drop_staging(cur: psycopg.Cursor) -> None:
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(STAGING))


@dataclass(frozen=True)
class Index:
    """An index of the document table, to build on the staging table under a temporary name."""

    name: str
    create: str  # CREATE INDEX on the staging table, named `staged`
    constraint: str | None  # "PRIMARY KEY" or "UNIQUE" when a constraint uses the index

    @property
    def staged(self) -> str:
        return "rebuild_" + self.name


def live_indexes(cur: psycopg.Cursor) -> list[Index]:
    """The indexes of the document table (whatever the migrations made): the tsvector's first
    (it takes most of the building time, whatever the live table's size), then by size."""
    cur.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), con.contype, "
        "pg_relation_size(i.indexrelid), pg_get_indexdef(i.indexrelid, 1, true) = 'tsv' "
        "FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
        "LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid "
        "AND con.conrelid = i.indrelid "
        "WHERE i.indrelid = 'search_index.document'::regclass ORDER BY 5 DESC, 4 DESC, 1"
    )
    indexes = []
    for name, definition, kind, _, _ in cur.fetchall():
        head = f"INDEX {name} ON search_index.document USING "
        if definition.count(head) != 1:
            raise RuntimeError(f"unexpected definition of index {name}: {definition}")
        create = definition.replace(head, f"INDEX rebuild_{name} ON search_index.rebuild USING ")
        constraint = {"p": "PRIMARY KEY", "u": "UNIQUE"}.get(kind)
        indexes.append(Index(name, create, constraint))
    return indexes


def recount_front_page(cur: psycopg.Cursor, table: sql.Identifier = DOCUMENT) -> None:
    """Count the public documents of `table` and their facet values anew into
    search_index.facet_count (what the triggers keep)."""
    cur.execute("DELETE FROM search_index.facet_count")
    cur.execute(
        sql.SQL(
            "INSERT INTO search_index.facet_count (code, n) SELECT c, count(*) FROM {} AS d "
            "CROSS JOIN LATERAL unnest(d.facet_codes) AS c "
            "WHERE d.state = 'published' AND NOT d.private GROUP BY c"
        ).format(table)
    )


def swap(
    cur: psycopg.Cursor, params: dict, words: set[tuple[str, str]], indexes: list[Index]
) -> None:
    """Make the staging table (filled and indexed) the document table, with what was written
    or deleted since version `params["start"]`, in the caller's transaction."""
    # Writers wait from here; readers go on reading the old table until the DROP below.
    cur.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(DOCUMENT))
    cur.execute("SET LOCAL search_index.recount = 'later'")
    cur.execute(
        sql.SQL(
            "DELETE FROM {} AS r USING search_index.deleted AS t "
            "WHERE t.id = r.id AND t.version > %(start)s"
        ).format(STAGING),
        params,
    )
    written = sql.SQL("{} AS s WHERE s.version > %(start)s").format(DOCUMENT)
    cur.execute(upsert(written, table=STAGING), params)
    cur.execute("DELETE FROM search_index.deleted")
    recount_front_page(cur, STAGING)
    # Stored broad queries were counted over the old rows; they are stored again when next
    # searched.
    cur.execute("DELETE FROM search_index.broad_query")
    # Words of documents written meanwhile are newer than `start` and stay.
    cur.execute("DELETE FROM search_index.vocabulary WHERE version < %(start)s", params)
    add_words(cur, words)
    cur.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = 'search_index.document'::regclass AND NOT tgisinternal ORDER BY tgname"
    )
    triggers = [row[0] for row in cur.fetchall()]
    # Readers wait from here until the commit (catalogue changes only, no data to move).
    cur.execute(sql.SQL("DROP TABLE {}").format(DOCUMENT))
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO document").format(STAGING))
    for index in indexes:
        staged = sql.Identifier("search_index", index.staged)
        if index.constraint is None:
            cur.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(staged, sql.Identifier(index.name))
            )
        else:  # the index takes the constraint's name
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}").format(
                    DOCUMENT,
                    sql.Identifier(index.name),
                    sql.SQL(index.constraint),
                    sql.Identifier(index.staged),
                )
            )
    for trigger in triggers:
        cur.execute(trigger)
