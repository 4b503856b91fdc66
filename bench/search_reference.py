"""Reference engines for bench/search.py: SQLite FTS5 and tantivy over the same analysed text.

Both index the output of search/thai.py (terms joined by spaces, alternates after the words so
phrases still see adjacent words) and run the same query trees, filters, visibility rule (public
and published), facets and sorts as the Whoosh workload. Their build times exclude the analysis,
which bench/search.py reports separately.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from search.documents import SearchDocument, SearchQuery
from search.query import All, Node, Phrase, Term, parse
from search.thai import analyze

FIELDS = {"title": 3.0, "keywords": 2.0, "body": 1.0}
FACET_COLUMNS = {
    "organization": "organization",
    "tags": "tags",
    "res_format": "res_formats",
    "fiscal_year": "fiscal_years",
    "license_id": "license_id",
    "data_type": "data_type",
}
MULTI = {"tags", "res_formats", "fiscal_years"}


def analysed(values: list[str]) -> str:
    words: list[str] = []
    extra: list[str] = []
    for value in values:
        for tok in analyze(value):
            words.append(tok.term)
            if tok.synonym:
                extra.append(tok.synonym)
            extra.extend(tok.alternates)
    return " ".join(words + extra)


def analysed_fields(doc: SearchDocument) -> dict[str, str]:
    """The three text fields of the Whoosh backend, analysed, as space-joined terms."""
    keywords = [
        *doc.tags,
        *doc.group_titles,
        *doc.groups,
        *doc.organization_titles,
        doc.organization,
        *doc.organization_parents,
        *doc.res_formats,
        doc.data_type,
        doc.data_category,
        doc.update_frequency,
        *(str(y) for y in doc.fiscal_years),
    ]
    return {
        "title": analysed([doc.title_th, doc.title_en, doc.name.replace("-", " ")]),
        "keywords": analysed(keywords),
        "body": analysed([doc.notes_th, doc.notes_en, *doc.res_names, *doc.schema_fields]),
    }


def facet_values(doc: SearchDocument) -> dict[str, list[str]]:
    return {
        "organization": [doc.organization],
        "tags": list(doc.tags),
        "res_formats": list(doc.res_formats),
        "fiscal_years": [str(y) for y in doc.fiscal_years],
        "license_id": [doc.license_id],
        "data_type": [doc.data_type],
    }


def _ts(doc: SearchDocument, name: str) -> int:
    value = getattr(doc, name)
    return int(value.timestamp()) if value else 0


# SQLite FTS5 ------------------------------------------------------------------------------------

# unicode61 treats combining marks (Thai vowels and tone marks) as separators; keep them.
_THAI_MARKS = "".join(chr(c) for c in range(0x0E31, 0x0E4F)) + "\u2261_"


def _fts_expr(node: Node) -> str:
    if isinstance(node, Term):
        return '"' + node.term.replace('"', '""') + '"'
    if isinstance(node, Phrase):
        return '"' + " ".join(t.replace('"', '""') for t in node.terms) + '"'
    joiner = " AND " if isinstance(node, All) else " OR "
    return "(" + joiner.join(_fts_expr(c) for c in node.children) + ")"


def bench_fts5(docs: list[SearchDocument], queries: list[SearchQuery], tmp: Path) -> dict:
    from bench.search import dir_size, measure

    t0 = time.perf_counter()
    rows = [(i, analysed_fields(d)) for i, d in enumerate(docs)]
    analysis = time.perf_counter() - t0
    db = sqlite3.connect(tmp / "fts.db")
    db.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(title, keywords, body, "
        f"tokenize = \"unicode61 remove_diacritics 0 tokenchars '{_THAI_MARKS}'\")"
    )
    db.execute(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, organization TEXT, license_id TEXT, "
        "data_type TEXT, visible INTEGER, created INTEGER, modified INTEGER)"
    )
    db.execute("CREATE TABLE multi (id INTEGER, kind TEXT, value TEXT)")
    t0 = time.perf_counter()
    with db:
        db.executemany(
            "INSERT INTO fts (rowid, title, keywords, body) VALUES (?, ?, ?, ?)",
            ((i, f["title"], f["keywords"], f["body"]) for i, f in rows),
        )
        db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    d.organization,
                    d.license_id,
                    d.data_type,
                    int(d.state == "published" and not d.private),
                    _ts(d, "metadata_created"),
                    _ts(d, "metadata_modified"),
                )
                for i, d in enumerate(docs)
            ),
        )
        db.executemany(
            "INSERT INTO multi VALUES (?, ?, ?)",
            (
                (i, kind, value)
                for i, d in enumerate(docs)
                for kind, values in facet_values(d).items()
                if kind in MULTI
                for value in values
            ),
        )
        db.execute("CREATE INDEX multi_kind ON multi (kind, value, id)")
        db.execute("CREATE INDEX multi_id ON multi (id, kind)")
    build = time.perf_counter() - t0

    def run(query: SearchQuery) -> None:
        parsed = parse(query.q)
        where = ["docs.visible = 1"]
        args: list[object] = []
        if parsed.root is not None:
            where.append("docs.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
            args.append(_fts_expr(parsed.root))
        for name, values in query.filters.items():
            column = FACET_COLUMNS[name]
            marks = ",".join("?" * len(values))
            if column in MULTI:
                where.append(
                    f"docs.id IN (SELECT id FROM multi WHERE kind = ? AND value IN ({marks}))"  # noqa: S608
                )
                args.append(column)
            else:
                where.append(f"docs.{column} IN ({marks})")
            args.extend(values)
        clause = " AND ".join(where)
        db.execute(f"SELECT count(*) FROM docs WHERE {clause}", args).fetchone()  # noqa: S608
        if query.sort == "newest" or parsed.root is None:
            sql = f"SELECT id FROM docs WHERE {clause} ORDER BY created DESC LIMIT 20"  # noqa: S608
            db.execute(sql, args).fetchall()
        else:
            sql = (
                "SELECT fts.rowid FROM fts JOIN docs ON docs.id = fts.rowid "  # noqa: S608
                f"WHERE fts MATCH ? AND {clause} ORDER BY bm25(fts, 3.0, 2.0, 1.0) LIMIT 20"
            )
            db.execute(sql, [_fts_expr(parsed.root), *args]).fetchall()
        for name in query.facet_fields:
            column = FACET_COLUMNS[name]
            if column in MULTI:
                sql = (
                    f"SELECT value, count(*) FROM multi WHERE kind = ? AND id IN "  # noqa: S608
                    f"(SELECT id FROM docs WHERE {clause}) GROUP BY value"
                )
                db.execute(sql, [column, *args]).fetchall()
            else:
                sql = f"SELECT {column}, count(*) FROM docs WHERE {clause} GROUP BY 1"  # noqa: S608
                db.execute(sql, args).fetchall()

    p = measure(run, queries)
    db.close()
    return {
        "build_s": build,
        "size_mb": dir_size(tmp) / 1e6,
        "p": p,
        "note": f"analysis {analysis:.1f}s not included",
    }


# tantivy ----------------------------------------------------------------------------------------


def bench_tantivy(docs: list[SearchDocument], queries: list[SearchQuery], tmp: Path) -> dict:
    import tantivy

    from bench.search import dir_size, measure

    t0 = time.perf_counter()
    rows = [analysed_fields(d) for d in docs]
    analysis = time.perf_counter() - t0
    builder = tantivy.SchemaBuilder()
    for name in FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for column in FACET_COLUMNS.values():
        builder.add_text_field(column, tokenizer_name="raw", fast=True)
    builder.add_text_field("visible", tokenizer_name="raw")
    builder.add_integer_field("created", fast=True, indexed=False)
    schema = builder.build()
    (tmp / "tantivy").mkdir()
    index = tantivy.Index(schema, path=str(tmp / "tantivy"))
    t0 = time.perf_counter()
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for doc, fields in zip(docs, rows, strict=True):
        values: dict[str, object] = dict(fields)
        values.update(facet_values(doc))
        values["visible"] = "1" if doc.state == "published" and not doc.private else "0"
        values["created"] = _ts(doc, "metadata_created")
        writer.add_document(tantivy.Document(**values))
    writer.commit()
    writer.wait_merging_threads()
    build = time.perf_counter() - t0
    index.reload()
    searcher = index.searcher()
    Occur = tantivy.Occur
    Query = tantivy.Query

    def convert(node: Node) -> tantivy.Query:
        if isinstance(node, Term):
            return Query.boolean_query(
                [
                    (Occur.Should, Query.boost_query(Query.term_query(schema, f, node.term), b))
                    for f, b in FIELDS.items()
                ]
            )
        if isinstance(node, Phrase):
            return Query.boolean_query(
                [(Occur.Should, Query.phrase_query(schema, f, list(node.terms))) for f in FIELDS]
            )
        occur = Occur.Must if isinstance(node, All) else Occur.Should
        return Query.boolean_query([(occur, convert(child)) for child in node.children])

    def run(query: SearchQuery) -> None:
        parsed = parse(query.q)
        parts = [(Occur.Must, Query.term_query(schema, "visible", "1"))]
        if parsed.root is not None:
            parts.append((Occur.Must, convert(parsed.root)))
        for name, values in query.filters.items():
            column = FACET_COLUMNS[name]
            parts.append((Occur.Must, Query.term_set_query(schema, column, list(values))))
        q = Query.boolean_query(parts)
        if query.sort == "newest" or parsed.root is None:
            searcher.search(q, 20, count=True, order_by_field="created")
        else:
            searcher.search(q, 20, count=True)
        if query.facet_fields:
            aggs = {
                name: {"terms": {"field": FACET_COLUMNS[name], "size": 50}}
                for name in query.facet_fields
            }
            searcher.aggregate(q, aggs)

    p = measure(run, queries)
    return {
        "build_s": build,
        "size_mb": dir_size(tmp) / 1e6,
        "p": p,
        "note": f"analysis {analysis:.1f}s not included",
    }
