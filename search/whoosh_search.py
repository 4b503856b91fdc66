"""Query execution for the Whoosh backend over cached per-segment Arrow data.

Per segment: bitmap algebra for matching (query tree AND filters AND visibility AND not deleted),
`value_counts` for facets, BM25 over the matching postings only, and `select_k_unstable` for
the page. Segments are then merged in Python (a few dozen candidates each).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
from whoosh.searching import Searcher

from search.documents import SearchHit, SearchQuery, SearchResult
from search.highlight import best_snippet
from search.query import All, Any, Node, ParsedQuery, Phrase, Term, correct_words, parse
from search.thai import SYNONYM_PREFIX, english_stem, normalise
from search.whoosh_docvalues import NEVER, timestamp_us
from search.whoosh_segments import K1, SegmentData, sum_by_doc

#: Above every stored timestamp: the upper bound of a range open at the top.
MAX_US = 2**62

#: Scored text fields and their boosts (BM25F-style sum of per-field BM25).
FIELD_BOOSTS = {"title": 3.0, "keywords": 2.0, "body": 1.0}


def run_query(searcher: Searcher, segments: list[SegmentData], query: SearchQuery) -> SearchResult:
    """Answer `query`; when it finds nothing, try the spelling suggestion instead."""
    parsed = parse(query.q)
    result = _execute(searcher, segments, query, parsed)
    if result.count or parsed.root is None:
        return result
    suggestion = suggest(searcher, parsed.words)
    if suggestion is None:
        return result
    retry = _execute(searcher, segments, query, parse(suggestion))
    if retry.count:
        return replace(retry, suggestion=suggestion, corrected=True)
    return replace(result, suggestion=suggestion)


def _filter_values(name: str, values: list[str]) -> frozenset[str]:
    cleaned: set[str] = set()
    for value in values:
        value = str(value).strip()
        if name == "fiscal_year":
            value = normalise(value)  # Thai digits
            if value.isdigit() and int(value) < 2400:
                value = str(int(value) + 543)  # a CE year asks for its BE year
        elif name == "high_value":
            value = "true" if value.lower() in {"true", "1", "yes", "y"} else "false"
        cleaned.add(value)
    return frozenset(cleaned)


def _execute(
    searcher: Searcher, segments: list[SegmentData], query: SearchQuery, parsed: ParsedQuery
) -> SearchResult:
    filters = {name: _filter_values(name, values) for name, values in query.filters.items()}
    k = query.start + query.rows
    scoring = _scoring_terms(searcher, parsed) if parsed.root is not None else []
    visibility = (query.include_private, query.allowed_orgs, query.include_drafts)
    filter_key = tuple(sorted(filters.items()))
    modified = _modified_bounds(query)
    # Facet counts of the text-less universe are cached under this key: it must name everything
    # the universe depends on, the modified range included.
    cache_key = (visibility, filter_key, modified)
    count = 0
    facets: dict[str, dict[str, int]] = {name: {} for name in query.facet_fields}
    candidates: list[tuple[tuple, int, int, float]] = []  # (sort key, segment, docnum, score)
    for number, seg in enumerate(segments):
        if seg.n == 0:
            continue
        universe = seg.universe(visibility, filter_key, modified)
        mask = universe
        if parsed.root is not None:
            mask = pc.and_(mask, _match(seg, parsed.root))
        found = mask.true_count
        if not found:
            continue
        count += found
        # Sparse results: work on the matching docnums rather than on whole-segment arrays.
        docs = pc.indices_nonzero(mask) if found * 16 < seg.n else None
        for name in query.facet_fields:
            counts = _facet_counts(seg, name, universe, mask, found, docs, cache_key)
            for value, n in counts.items():
                facets[name][value] = facets[name].get(value, 0) + n
        if k:
            candidates.extend(_top(seg, number, mask, docs, query.sort, k, scoring))
    best = heapq.nsmallest(k, candidates, key=lambda c: c[0])[query.start :]
    hits = tuple(SearchHit(segments[s].ids[d], score) for _, s, d, score in best)
    highlights: dict[str, str] = {}
    if parsed.root is not None:
        terms = parsed.terms()
        for _, s, d, _score in best:
            stored = segments[s].reader.stored_fields(d).get("text") or ()
            found_snippet = best_snippet((stored[2], stored[3], stored[0], stored[1]), terms)
            if found_snippet is not None:
                highlights[segments[s].ids[d]] = found_snippet
    limited = {
        name: dict(
            sorted(
                heapq.nlargest(query.facet_limit, values.items(), key=lambda item: item[1]),
                key=lambda item: (-item[1], item[0]),
            )
        )
        for name, values in facets.items()
    }
    return SearchResult(count=count, hits=hits, facets=limited, highlights=highlights)


_FIELDS = tuple(FIELD_BOOSTS)


def _modified_bounds(query: SearchQuery) -> tuple[int, int] | None:
    """The query's modified range as inclusive microsecond bounds (as the doc values store
    `metadata_modified`), or None without one."""
    bounds = query.modified_range
    if bounds is None:
        return None
    since, until = bounds
    return (
        timestamp_us(since) if since is not None else NEVER,
        timestamp_us(until) if until is not None else MAX_US,
    )


def _facet_counts(
    seg: SegmentData,
    name: str,
    universe: pa.Array,
    mask: pa.Array,
    found: int,
    docs: pa.Array | None,
    cache_key: tuple,
) -> dict[str, int]:
    """Facet counts of `mask`. The counts of the query-less `universe` are cached; when the
    text matches most of it, subtracting the few documents it misses is cheaper."""
    if mask is universe:
        return seg.facet_counts(name, mask, docs, cache_key)
    if found * 2 < universe.true_count:
        return seg.facet_counts(name, mask, docs, None)
    everything = seg.facet_counts(name, universe, None, cache_key)
    missed = pc.and_(universe, pc.invert(mask))
    missed_docs = pc.indices_nonzero(missed)
    if len(missed_docs) * 16 >= seg.n:
        missed_docs = None
    minus = seg.facet_counts(name, missed, missed_docs, None)
    counts = {}
    for value, n in everything.items():
        left = n - minus.get(value, 0)
        if left:
            counts[value] = left
    return counts


def _field_mask(seg: SegmentData, term: str) -> pa.Array:
    return seg.term_mask(term, _FIELDS)


def _match(seg: SegmentData, node: Node) -> pa.Array:
    if isinstance(node, Term):
        return _field_mask(seg, node.term)
    if isinstance(node, All):
        mask = None
        for child in node.children:
            part = _match(seg, child)
            mask = part if mask is None else pc.and_(mask, part)
            if not mask.true_count:
                return seg.none
        return mask
    if isinstance(node, Any):
        mask = seg.none
        for child in node.children:
            mask = pc.or_(mask, _match(seg, child))
        return mask
    assert isinstance(node, Phrase)
    candidates = _match(seg, All(tuple(Term(t) for t in node.terms)))
    if not candidates.true_count:
        return seg.none
    mask = seg.none
    for field in FIELD_BOOSTS:
        mask = pc.or_(mask, seg.phrase(field, node.terms))
    return pc.and_(mask, candidates)


def _scoring_terms(searcher: Searcher, parsed: ParsedQuery) -> list[tuple[str, tuple, tuple]]:
    """(term, ((field, boost * idf * (k1 + 1)), ...), ((field, average length), ...)) for every
    query term in the index. Weights are rounded so cached per-term scores survive small
    changes of the index statistics."""
    total = max(searcher.doc_count_all(), 1)
    avgs = tuple(
        (field, _round(searcher.field_length(field) / total or 1.0)) for field in FIELD_BOOSTS
    )
    out = []
    for term in sorted(parsed.terms()):
        weights = []
        for field, boost in FIELD_BOOSTS.items():
            df = searcher.doc_frequency(field, term)
            idf = math.log(1.0 + (total - df + 0.5) / (df + 0.5)) if df else 0.0
            weights.append((field, _round(boost * idf * (K1 + 1.0))))
        if any(weight for _, weight in weights):
            out.append((term, tuple(weights), avgs))
    return out


def _round(value: float) -> float:
    return float(f"{value:.3g}")


def _scores(seg: SegmentData, mask: pa.Array, docs: pa.Array | None, scoring: list) -> tuple:
    """(docnums, scores) of the documents in `mask`."""
    dense = None
    sparse_ids: list[pa.Array] = []
    sparse_scores: list[pa.Array] = []
    for term, weights, avgs in scoring:
        kind, *arrays = seg.term_scores(term, weights, avgs)
        if kind == "dense":
            dense = arrays[0] if dense is None else pc.add(dense, arrays[0])
        else:
            sparse_ids.append(arrays[0])
            sparse_scores.append(arrays[1])
    if dense is not None:
        for ids, scores in zip(sparse_ids, sparse_scores, strict=True):
            spread = pc.fill_null(pc.scatter(scores, ids, max_index=seg.n - 1), 0.0)
            dense = pc.add(dense, pc.cast(spread, pa.float32()))
        found = docs if docs is not None else pc.indices_nonzero(mask)
        return found, pc.take(dense, found)
    kept_ids, kept_scores = [], []
    for ids, scores in zip(sparse_ids, sparse_scores, strict=True):
        keep = pc.take(mask, ids)
        if keep.true_count:
            kept_ids.append(pc.filter(ids, keep))
            kept_scores.append(pc.filter(scores, keep))
    if not kept_ids:
        return pa.array([], pa.int32()), pa.array([], pa.float32())
    return sum_by_doc(kept_ids, kept_scores)


def _top(
    seg: SegmentData,
    number: int,
    mask: pa.Array,
    docs: pa.Array | None,
    sort: str,
    k: int,
    scoring: list,
) -> list[tuple[tuple, int, int, float]]:
    """The best `k` documents of one segment as (merge key, segment, docnum, score)."""
    if sort != "relevance" or not scoring:
        sort = "modified" if sort == "relevance" else sort
        if docs is not None and len(docs) <= k:
            best = docs.to_pylist()
        else:
            # The segment's documents pre-sorted by this key, keeping those in the mask.
            order = seg.order(sort)
            best = pc.filter(order, pc.take(mask, order))[:k].to_pylist()
        return [(seg.sort_key(sort, d), number, d, 0.0) for d in best]
    found, scores = _scores(seg, mask, docs, scoring)
    if not len(found):
        return []
    table = pa.table({"d": found, "s": scores, "m": pc.take(seg.modified, found)})
    keys = [("s", "descending"), ("m", "descending"), ("d", "ascending")]
    top = table.take(pc.select_k_unstable(table, k=min(k, len(table)), sort_keys=keys))
    return [
        ((-row["s"], -row["m"], seg.ids[row["d"]]), number, row["d"], float(row["s"]))
        for row in top.to_pylist()
    ]


def suggest(searcher: Searcher, words: tuple[str, ...]) -> str | None:
    """The "did you mean" text: each unknown word replaced by the closest indexed word
    (Damerau-Levenshtein distance 1, then 2; most frequent first). None when nothing changes."""
    reader = searcher.reader()
    return correct_words(
        words,
        lambda term, synonym: _known(reader, term, synonym),
        lambda word: _closest(searcher, word),
    )


def _known(reader, term: str, synonym: str | None) -> bool:  # noqa: ANN001
    return any(
        (field, text) in reader
        for field in FIELD_BOOSTS
        for text in (term, synonym)
        if text is not None
    )


def _frequency(reader, word: str) -> int:  # noqa: ANN001
    """How many documents use `word` (the spelling field lists English words only once)."""
    term = english_stem(word) if word.isascii() else word
    return sum(reader.doc_frequency(field, term) for field in FIELD_BOOSTS)


def _closest(searcher: Searcher, word: str) -> str | None:
    """The most frequent indexed word within edit distance 1 (then 2 for longer words)."""
    if len(word) < 3:
        return None
    reader = searcher.reader()
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    # English words are indexed stemmed, so they are corrected against the "spell" field of
    # words as written; Thai words are indexed as written in the text fields themselves.
    fields = ("spell",) if word.isascii() else ("title", "keywords")
    for distance in (1, 2) if len(word) >= 5 else (1,):
        found: dict[str, int] = {}
        for field in fields:
            for leaf in leaves:
                for term in leaf.terms_within(field, word, distance, prefix=1):
                    if term != word and not term.startswith(SYNONYM_PREFIX):
                        found[term] = _frequency(reader, term)
        if found:
            return min(found, key=lambda term: (-found[term], term))
    return None


__all__ = ["FIELD_BOOSTS", "run_query", "suggest"]
