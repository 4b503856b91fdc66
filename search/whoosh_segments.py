"""Per-segment caches that make Whoosh fast enough for faceted search.

Whoosh's own collectors and facets walk matches one document at a time in Python (about 0.5 s
for a broad faceted query over 100k datasets). A Whoosh segment never changes once written (only
its set of deleted documents grows), so for each segment we keep, built once:

* doc values as Arrow arrays (facet codes, visibility, sort keys), see whoosh_docvalues.py;
* decoded posting lists of the terms queries used (ids, term frequencies and a bitmap), LRU;
* filter, visibility and phrase bitmaps, LRU.

A query then becomes a handful of vectorised Arrow operations per segment: boolean algebra on
bitmaps for matching, `value_counts` for facets, BM25 on the matching postings and
`select_k_unstable` for the top of the page. Whoosh still stores the index, writes and locks it,
verifies phrase positions and corrects spelling.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from itertools import accumulate, repeat

import pyarrow as pa
import pyarrow.compute as pc
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import Phrase as WhooshPhrase
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

from search.whoosh_docvalues import NEVER, from_timestamp_us, load_table

#: Facet/filter name -> (doc value, multi-valued).
FACETS: dict[str, tuple[str, bool]] = {
    "organization": ("organization", False),
    "tags": ("tags", True),
    "res_format": ("res_formats", True),
    "groups": ("groups", True),
    "license_id": ("license_id", False),
    "fiscal_year": ("fiscal_years", True),
    "data_type": ("data_type", False),
    "data_category": ("data_category", False),
    "update_frequency": ("update_frequency", False),
    "high_value": ("high_value", False),
}

# Decoded postings kept per segment, counted in postings (about 9 bytes each).
POSTINGS_BUDGET = 6_000_000
MASK_CACHE_SIZE = 2048
# Per-term score arrays kept per segment (a dense one is 4 bytes per document).
SCORE_CACHE_SIZE = 64
K1 = 1.2
B = 0.75


class _Lru(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Hashable, make: Callable[[], object]) -> object:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class Postings:
    """One term's postings in one segment field: docnums, term frequencies and a bitmap."""

    __slots__ = ("segment", "field", "ids", "tf", "mask", "_saturation")

    def __init__(self, segment: SegmentData, field: str, ids: pa.Array, tf: pa.Array) -> None:
        self.segment = segment
        self.field = field
        self.ids = ids
        self.tf = tf
        self.mask = mask_from_indices(ids, segment.n)
        self._saturation: tuple[float, pa.Array] | None = None

    def saturation(self, avg_length: float, k1: float, b: float) -> pa.Array:
        """BM25's tf / (tf + k1 * (1 - b + b * length / avg)) per posting, cached while the
        index-wide average length stays within 2%."""
        cached = self._saturation
        if cached is not None and abs(cached[0] - avg_length) <= 0.02 * avg_length:
            return cached[1]
        lengths = pc.take(self.segment.lengths(self.field), self.ids)
        norm = pc.add(pc.multiply(lengths, k1 * b / avg_length), k1 * (1.0 - b))
        value = pc.divide(self.tf, pc.add(self.tf, norm))
        self._saturation = (avg_length, value)
        return value


class Column:
    """One facet column: dictionary codes per document (single) or flattened (multi)."""

    def __init__(self, values: pa.Array) -> None:
        """`values`: a string array (one value per document) or a list-of-strings array."""
        self.multi = pa.types.is_list(values.type)
        if self.multi:
            encoded = pc.list_flatten(values).dictionary_encode()
            self.parents = pc.cast(pc.list_parent_indices(values), pa.int32())
            self.lists = pa.ListArray.from_arrays(values.offsets, encoded.indices)
        else:
            encoded = values.dictionary_encode()
        self.codes = encoded.indices
        self.dictionary: list[str] = encoded.dictionary.to_pylist()
        self.lookup = {value: code for code, value in enumerate(self.dictionary)}

    def mask(self, wanted: Iterable[str], n: int) -> pa.BooleanArray:
        codes = [self.lookup[v] for v in wanted if v in self.lookup]
        hit = pc.is_in(self.codes, value_set=pa.array(codes, self.codes.type))
        if not self.multi:
            return pc.fill_null(hit, False)
        return mask_from_indices(pc.filter(self.parents, hit), n)

    def counts(self, mask: pa.BooleanArray, docs: pa.Array | None = None) -> dict[str, int]:
        """Value -> number of documents in `mask`. `docs` (the docnums of `mask`) switches to
        work proportional to the matches instead of the segment, for sparse masks."""
        if docs is None:
            selected = pc.filter(self.codes, pc.take(mask, self.parents) if self.multi else mask)
        elif self.multi:
            selected = pc.list_flatten(pc.take(self.lists, docs))
        else:
            selected = pc.take(self.codes, docs)
        found = pc.value_counts(selected)
        names = self.dictionary
        return {
            names[code]: count
            for code, count in zip(
                found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True
            )
            if code is not None
        }


def sum_by_doc(docs: list[pa.Array], scores: list[pa.Array]) -> tuple[pa.Array, pa.Array]:
    """Sum scores per docnum over several (docnums, scores) lists."""
    if len(docs) == 1:
        return docs[0], scores[0]
    if sum(len(d) for d in docs) < 4096:
        # Acero's group_by costs a millisecond to set up; a dict is faster for small inputs.
        summed: dict[int, float] = {}
        for ids, values in zip(docs, scores, strict=True):
            for d, v in zip(ids.to_pylist(), values.to_pylist(), strict=True):
                summed[d] = summed.get(d, 0.0) + v
        return pa.array(list(summed), pa.int32()), pa.array(list(summed.values()), pa.float64())
    table = pa.table(
        {
            "d": pa.concat_arrays([pc.cast(d, pa.int32()) for d in docs]),
            "s": pa.concat_arrays([pc.cast(s, pa.float64()) for s in scores]),
        }
    )
    grouped = table.group_by("d").aggregate([("s", "sum")])
    return grouped["d"].combine_chunks(), grouped["s_sum"].combine_chunks()


def mask_from_indices(indices: pa.Array, n: int) -> pa.BooleanArray:
    """A bitmap of length n with True at `indices`."""
    if n == 0:
        return pa.array([], pa.bool_())
    if len(indices) == 0:
        return pa.repeat(pa.scalar(False), n)
    trues = pa.repeat(pa.scalar(True), len(indices))
    return pc.fill_null(pc.scatter(trues, pc.cast(indices, pa.int64()), max_index=n - 1), False)


class SegmentData:
    """Everything cached about one Whoosh segment."""

    def __init__(self, reader: SegmentReader) -> None:
        self.reader = reader
        self.n = n = reader.doc_count_all()
        table = load_table(reader)
        column = {name: table[name].combine_chunks() for name in table.column_names}
        self.ids: list[str] = column["id"].to_pylist()
        self.columns = {facet: Column(column[name]) for facet, (name, _multi) in FACETS.items()}
        self.state = Column(column["state"])
        self.private = column["private"]
        self.modified = column["metadata_modified"]
        self.created_us: list[int] = column["metadata_created"].to_pylist()
        self.modified_us: list[int] = self.modified.to_pylist()
        self.modified_aware: list[bool] = column["metadata_modified_aware"].to_pylist()
        self.popularity_list: list[int] = column["popularity"].to_pylist()
        self.title_keys = {
            "title_th": column["title_th_key"].to_pylist(),
            "title_en": column["title_en_key"].to_pylist(),
        }
        self.names: list[str] = column["name"].to_pylist()
        self._orders: dict[str, pa.Array] = {}
        self._lengths: dict[str, pa.Array] = {}
        self._postings: _Lru = _Lru(1 << 30)
        self._postings_size = 0
        self._masks = _Lru(MASK_CACHE_SIZE)
        self._scores = _Lru(SCORE_CACHE_SIZE)
        self.none = pa.repeat(pa.scalar(False), n) if n else pa.array([], pa.bool_())
        self.every = pa.repeat(pa.scalar(True), n) if n else pa.array([], pa.bool_())
        self._searcher: Searcher | None = None

    # Masks -------------------------------------------------------------------------------

    def base(self, include_private: bool, allowed: frozenset[str], drafts: bool) -> pa.Array:
        """Live documents the user may see (see `visible`)."""
        live = self.live()
        key = ("base", self.deleted_count(), include_private, allowed, drafts)
        return self._masks.get_or(
            key, lambda: pc.and_(live, self.visible(include_private, allowed, drafts))
        )

    def deleted_count(self) -> int:
        """Deleted documents so far: a segment's only change, so part of every cache key."""
        return self.reader.segment().deleted_count()

    def live(self) -> pa.BooleanArray:
        """Documents not deleted (deletions are the only thing that changes in a segment)."""
        segment = self.reader.segment()
        if not segment.has_deletions():
            return self.every

        def make() -> pa.Array:
            deleted = pa.array(sorted(segment.deleted_docs()), pa.int64())
            return pc.invert(mask_from_indices(deleted, self.n))

        return self._masks.get_or(("live", segment.deleted_count()), make)

    def visible(self, include_private: bool, allowed: frozenset[str], drafts: bool) -> pa.Array:
        """Documents the user may see: published and public, or private/draft of an
        organisation they may see privately."""
        key = ("visible", include_private, allowed, drafts)

        def make() -> pa.Array:
            published = self.state.mask(["published"], self.n)
            if include_private:
                insider = self.every
            else:
                insider = self.columns["organization"].mask(allowed, self.n)
            public = pc.and_(published, pc.invert(self.private))
            seen = pc.or_(public, pc.and_(published, insider))
            if drafts:
                seen = pc.or_(seen, insider)
            return seen

        return self._masks.get_or(key, make)

    def facet_counts(self, facet: str, mask: pa.Array, docs: pa.Array | None, key: tuple | None):
        """Facet counts for `mask`; cached under `key` when the mask is built only from cached
        masks (no text query), as for the catalogue's landing page."""
        if key is None:
            return self.columns[facet].counts(mask, docs)
        return self._masks.get_or(
            ("facets", facet, self.deleted_count(), *key),
            lambda: self.columns[facet].counts(mask, docs),
        )

    def universe(
        self, visibility: tuple, filters: tuple, modified: tuple[int, int] | None = None
    ) -> pa.Array:
        """Visible, live documents passing `filters` ((facet, values) pairs) and modified
        within `modified` (see `modified_mask`): what a query without text matches, cached."""

        def make() -> pa.Array:
            mask = self.base(*visibility)
            for name, values in filters:
                mask = pc.and_(mask, self.filter_mask(name, values))
            if modified is not None:
                mask = pc.and_(mask, self.modified_mask(*modified))
            return mask

        key = ("universe", self.deleted_count(), visibility, filters, modified)
        return self._masks.get_or(key, make)

    def modified_mask(self, since_us: int, until_us: int) -> pa.Array:
        """Documents modified from `since_us` to `until_us` (microseconds since the epoch, both
        inclusive). A missing date is stored as NEVER, below every bound, so it never matches:
        the lower bound is raised above it even when the caller gave none."""
        low = pc.greater_equal(self.modified, max(since_us, NEVER + 1))
        return pc.and_(low, pc.less_equal(self.modified, until_us))

    def term_scores(self, term: str, weights: tuple, avgs: tuple) -> tuple:
        """BM25F-style scores of `term` summed over fields, as ("dense", scores per docnum) for
        terms in many documents or ("sparse", docnums, scores). `weights` and `avgs` are
        (field, value) pairs: boost * idf * (k1 + 1) and the average field length."""
        key = ("scores", term, weights, avgs)

        def make() -> tuple:
            parts = []
            for (field, weight), (_, avg) in zip(weights, avgs, strict=True):
                found = self.postings(field, term)
                if found is not None:
                    parts.append((found.ids, pc.multiply(found.saturation(avg, K1, B), weight)))
            total = sum(len(ids) for ids, _ in parts)
            if total * 8 > self.n:
                dense = None
                for ids, scores in parts:
                    spread = pc.fill_null(pc.scatter(scores, ids, max_index=self.n - 1), 0.0)
                    dense = spread if dense is None else pc.add(dense, spread)
                return ("dense", pc.cast(dense, pa.float32()))
            if len(parts) == 1:
                return ("sparse", *parts[0])
            return ("sparse", *sum_by_doc([p[0] for p in parts], [p[1] for p in parts]))

        return self._scores.get_or(key, make)

    def filter_mask(self, facet: str, values: frozenset[str]) -> pa.Array:
        return self._masks.get_or(
            ("filter", facet, values), lambda: self.columns[facet].mask(values, self.n)
        )

    # Postings ----------------------------------------------------------------------------

    def postings(self, field: str, term: str) -> Postings | None:
        """Decoded postings of a term in a field, or None when absent."""
        key = (field, term)
        cache = self._postings
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        found = self._read_postings(field, term)
        cache[key] = found
        if found is not None:
            self._postings_size += len(found.ids)
            while self._postings_size > POSTINGS_BUDGET and len(cache) > 1:
                _, old = cache.popitem(last=False)
                if old is not None:
                    self._postings_size -= len(old.ids)
        return found

    def term_mask(self, term: str, fields: tuple[str, ...]) -> pa.Array:
        """Bitmap of documents with `term` in any of `fields`."""

        def make() -> pa.Array:
            mask = None
            for field in fields:
                found = self.postings(field, term)
                if found is not None:
                    mask = found.mask if mask is None else pc.or_(mask, found.mask)
            return self.none if mask is None else mask

        return self._masks.get_or(("term", term, fields), make)

    def _read_postings(self, field: str, term: str) -> Postings | None:
        btext = term.encode("utf-8")
        if (field, btext) not in self.reader:
            return None
        matcher = self.reader.postings(field, btext)
        ids: list[int] = []
        weights: list[float] = []
        if isinstance(matcher, W3LeafMatcher):
            # Decode whole blocks (delta-coded ids, weights) instead of one posting at a time.
            while matcher.is_active():
                matcher._read_data()
                deltas, wts, _ = matcher._data
                ids.extend(accumulate(deltas))
                if wts is None:
                    weights.extend(repeat(1.0, len(deltas)))
                elif isinstance(wts, float):
                    weights.extend(repeat(wts, len(deltas)))
                else:
                    weights.extend(wts)
                matcher._next_block()
        else:
            while matcher.is_active():
                ids.append(matcher.id())
                weights.append(matcher.weight())
                matcher.next()
        id_array = pa.array(ids, pa.int32())
        return Postings(self, field, id_array, pa.array(weights, pa.float32()))

    def lengths(self, field: str) -> pa.Array:
        """Field length (in tokens, Whoosh's one-byte approximation) of every document."""
        if field not in self._lengths:
            length = self.reader.doc_field_length
            values = [length(d, field, 0) or 0 for d in range(self.n)]
            self._lengths[field] = pa.array(values, pa.float32())
        return self._lengths[field]

    def phrase(self, field: str, terms: tuple[str, ...]) -> pa.Array:
        """Bitmap of documents with `terms` adjacent and in order in `field` (Whoosh checks the
        positions)."""

        def make() -> pa.Array:
            if self._searcher is None:
                self._searcher = Searcher(self.reader, closereader=False)
            docs = WhooshPhrase(field, list(terms)).docs(self._searcher)
            return mask_from_indices(pa.array(sorted(docs), pa.int64()), self.n)

        return self._masks.get_or(("phrase", field, terms), make)

    # Sorting ------------------------------------------------------------------------------

    def sort_key(self, sort: str, docnum: int) -> tuple:
        """A key that orders documents of any segment best first for a non-relevance sort."""
        created, modified = self.created_us[docnum], self.modified_us[docnum]
        if sort in ("title_th", "title_en"):
            return (self.title_keys[sort][docnum], -modified, self.ids[docnum])
        if sort == "newest":
            return (-created, -modified, self.ids[docnum])
        if sort == "popularity":
            return (-self.popularity_list[docnum], -modified, self.ids[docnum])
        if sort == "modified_asc":
            return (modified, self.ids[docnum])  # a missing date (NEVER) first, as the oldest
        if sort == "name":
            return (self.names[docnum], self.ids[docnum])
        return (-modified, self.ids[docnum])

    def order(self, sort: str) -> pa.Array:
        """All docnums of the segment sorted by `sort_key`, computed once per sort."""
        if sort not in self._orders:
            ranked = sorted(range(self.n), key=lambda d: self.sort_key(sort, d))
            self._orders[sort] = pa.array(ranked, pa.int32())
        return self._orders[sort]

    def set_reader(self, reader: SegmentReader) -> None:
        """Use a newer reader of the same segment (its deletions may have changed)."""
        self.reader = reader
        self._searcher = None

    def modified_of(self, docnum: int) -> datetime | None:
        """The `metadata_modified` indexed for a document."""
        return from_timestamp_us(self.modified_us[docnum], self.modified_aware[docnum])


def segment_key(reader: SegmentReader) -> str:
    """A cache key for a segment: its id is random and never reused for other contents."""
    return reader.segment().segment_id()
