"""Whoosh search backend: a pure-Python index in a directory, safe for several processes.

Layout of the index directory:

* `CURRENT` names the live generation directory (`gen-...`), each a complete Whoosh index.
  `rebuild()` builds a new generation beside the live one and replaces `CURRENT` with
  `os.replace`, so searches never see an empty or half-built index.
* `write.lock` is a `flock` taken by every write (index, delete, clear, the rebuild's swap), so
  writers in several processes queue instead of corrupting the index. Whoosh's own lock stays on.
* `REBUILDING` names a generation being built. Writes made meanwhile go to the live index and are
  journalled in the new generation, which replays them before the swap, so none are lost.

Searching runs on cached per-segment Arrow data (search/whoosh_segments.py); text analysis is
search/thai.py, the query tree search/query.py.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import secrets
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import KeywordAnalyzer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.searching import Searcher
from whoosh.system import pack_uint

from search.base import SearchBackend, check_query
from search.documents import SearchDocument, SearchQuery, SearchResult
from search.thai import Token, analyze, thai_sort_key
from search.whoosh_build import build_index, paused_gc
from search.whoosh_search import run_query
from search.whoosh_segments import SegmentData, segment_key

#: Position gap between values of a multi-valued field so phrases never span two values.
VALUE_GAP = 100
#: Characters of notes kept for highlighting.
STORED_NOTES = 4000


class AnalyzedText(TEXT):
    """A text field whose value is a tuple of texts analysed by search.thai (not by a Whoosh
    analyzer), so indexing, querying and highlighting share one analysis. Values are separated
    by a position gap so phrases never span two of them. The analysis runs inside Whoosh's
    writer, so with several writer processes it runs in parallel too."""

    def __init__(self, phrase: bool = True, spelling_words: bool = False) -> None:
        super().__init__(analyzer=KeywordAnalyzer(), phrase=phrase)
        #: Index only the case-folded English words as written (a "did you mean" lexicon).
        self.spelling_words = spelling_words
        if spelling_words:
            self.scorable = False

    def index(self, value, **kwargs):  # noqa: ANN001, ANN201 - Whoosh's signature
        if self.spelling_words:
            # Thai terms are indexed unstemmed, so the text fields already serve as the Thai
            # lexicon; only English needs its words as written.
            words = {
                t.surface
                for text in value
                for t in _tokens(text)
                if t.surface.isascii() and t.surface.isalpha()
            }
            for word in words:
                yield word.encode("utf-8"), 1, 1.0, pack_uint(1)
            return
        texts = [text for text in value if text]
        if not texts:
            return
        with_positions = hasattr(self.format, "decode_positions")
        # The first text's postings come encoded from a cache; only terms that the following
        # texts (shifted by a position gap) also contain need merging and re-encoding.
        first = _encoded_terms(texts[0])
        later: dict[bytes, list[int]] = {}
        base = _text_terms(texts[0])[1] + VALUE_GAP
        for text in texts[1:]:
            terms, last = _text_terms(text)
            for btext, found in terms:
                known = later.get(btext)
                if known is None:
                    later[btext] = [p + base for p in found]
                else:
                    known.extend([p + base for p in found])
            base += last + VALUE_GAP
        encode = self.format.encode if with_positions else None
        for btext, found, item in first:
            extra = later.pop(btext, None) if later else None
            if extra is None:
                yield item if with_positions else (btext, item[1], item[2], pack_uint(item[1]))
            else:
                yield _posting(btext, [*found, *extra], encode)
        for btext, found in later.items():
            yield _posting(btext, found, encode)


def _posting(btext: bytes, positions: list[int], encode) -> tuple:  # noqa: ANN001
    freq = len(positions)
    if encode is None:
        return btext, freq, float(freq), pack_uint(freq)
    if freq == 1:
        return btext, 1, 1.0, _single_position(positions[0])
    return btext, freq, float(freq), encode(positions)


@lru_cache(maxsize=16384)
def _text_terms(text: str) -> tuple[tuple[tuple[bytes, tuple[int, ...]], ...], int]:
    """((term bytes, positions), ...) of one text and its last position, cached:
    organisation names, tags and formats repeat across thousands of datasets."""
    positions: dict[str, list[int]] = {}
    last = 0
    for tok in _tokens(text):
        pos = tok.pos
        positions.setdefault(tok.term, []).append(pos)
        if tok.synonym is not None:
            positions.setdefault(tok.synonym, []).append(pos)
        for alt in tok.alternates:
            positions.setdefault(alt, []).append(pos)
        last = pos
    # A term met twice at one position (a part that is also a synonym key) keeps it once.
    return tuple(
        (term.encode("utf-8"), tuple(sorted(set(found))) if len(found) > 1 else tuple(found))
        for term, found in positions.items()
    ), last


@lru_cache(maxsize=16384)
def _encoded_terms(text: str) -> tuple[tuple[bytes, tuple[int, ...], tuple], ...]:
    """((term bytes, positions, Whoosh posting), ...) of a text that starts a field value."""
    encode = Positions().encode
    return tuple(
        (btext, found, _posting(btext, list(found), encode))
        for btext, found in _text_terms(text)[0]
    )


@lru_cache(maxsize=8192)
def _single_position(pos: int) -> bytes:
    # Most terms occur once per field; their encoded posting value depends on the position only.
    return Positions().encode([pos])


@lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple[Token, ...]:
    # Organisation names, tags and formats repeat across thousands of datasets, and the
    # spelling field re-reads the title and keywords of the document just analysed.
    return tuple(analyze(text))


class FastW3Codec(W3Codec):
    """Whoosh's codec without per-block field-length statistics: they cost a column lookup
    per posting when writing (a fifth of the indexing time) and only serve Whoosh's own
    block-skipping scorer, which this backend does not use."""

    length_stats = False


def make_schema() -> Schema:
    """The Whoosh schema: three scored text fields, a spelling lexicon and stored values."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=AnalyzedText(),
        keywords=AnalyzedText(),
        body=AnalyzedText(),
        spell=AnalyzedText(phrase=False, spelling_words=True),
        dv=STORED(),
        text=STORED(),
    )


def document_fields(doc: SearchDocument) -> dict[str, object]:
    """The Whoosh fields of one document (plain, picklable values)."""
    title = (doc.title_th, doc.title_en, doc.name.replace("-", " "))
    keywords = (
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
        *(str(year) for year in doc.fiscal_years),
    )
    dv = (
        doc.organization,
        tuple(doc.organization_parents),
        tuple(doc.tags),
        tuple(doc.groups),
        tuple(doc.res_formats),
        tuple(doc.fiscal_years),
        doc.license_id,
        doc.data_type,
        doc.data_category,
        doc.update_frequency,
        doc.high_value,
        doc.private,
        doc.state,
        doc.metadata_created,
        doc.metadata_modified,
        doc.popularity,
        thai_sort_key(doc.title_th or doc.title_en),
        (doc.title_en or doc.title_th).casefold(),
        doc.name,
    )
    return {
        "id": doc.id,
        "title": title,
        "keywords": keywords,
        "body": (doc.notes_th, doc.notes_en, *doc.res_names, *doc.schema_fields),
        "spell": (doc.title_en, *doc.tags, *doc.group_titles, *doc.organization_titles),
        "dv": dv,
        "text": (
            doc.title_th,
            doc.title_en,
            doc.notes_th[:STORED_NOTES],
            doc.notes_en[:STORED_NOTES],
        ),
    }


class WhooshBackend(SearchBackend):
    """Search backend over a Whoosh index in `path` (created when missing)."""

    name = "whoosh"

    def __init__(
        self, path: str | os.PathLike[str], lock_timeout: float = 120.0, procs: int | None = None
    ) -> None:
        """`procs` is the number of processes a rebuild indexes with (default: up to 2 CPUs)."""
        self.root = Path(path)
        self.lock_timeout = lock_timeout
        self.procs = procs if procs is not None else min(2, os.cpu_count() or 1)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._pointer_stat: tuple[int, int, int] | None = None
        self._gen: str | None = None
        self._ix = None
        self._searcher: Searcher | None = None
        self._reader_gen: int | None = None
        self._segments: dict[str, SegmentData] = {}
        if not (self.root / "CURRENT").exists():
            with self._write_lock():
                if not (self.root / "CURRENT").exists():
                    self._swap(self._new_generation())

    # Files and locks ---------------------------------------------------------------------

    @contextmanager
    def _flock(self, name: str) -> Iterator[None]:
        fd = os.open(self.root / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"search index {self.root} is locked") from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _write_lock(self) -> AbstractContextManager[None]:
        return self._flock("write.lock")

    def _new_generation(self) -> str:
        gen = f"gen-{time.time_ns():x}-{secrets.token_hex(3)}"
        (self.root / gen).mkdir()
        whoosh_index.create_in(str(self.root / gen), make_schema())
        return gen

    def _read_text(self, name: str) -> str | None:
        try:
            return (self.root / name).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _write_text(self, name: str, value: str) -> None:
        tmp = self.root / f".{name}.{secrets.token_hex(4)}"
        tmp.write_text(value)
        os.replace(tmp, self.root / name)

    def _swap(self, gen: str) -> None:
        """Make `gen` live (caller holds the write lock) and drop generations older than the
        previous one (a process may still be reading the previous one), except one being
        rebuilt."""
        previous = self._read_text("CURRENT")
        self._write_text("CURRENT", gen)
        keep = {gen, previous, self._read_text("REBUILDING")}
        for path in self.root.glob("gen-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def _live_index(self):  # -> whoosh.index.FileIndex
        return whoosh_index.open_dir(str(self.root / self._read_text("CURRENT")))

    # Writing -----------------------------------------------------------------------------

    def index(self, docs: Iterable[SearchDocument]) -> int:
        docs = list(docs)
        if not docs:
            return 0
        prepared = [document_fields(doc) for doc in docs]
        with self._write_lock():
            writer = self._writer(self._live_index())
            for fields in prepared:
                writer.update_document(**fields)
            writer.commit()
            self._journal(("index", docs))
        return len(docs)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if not ids:
            return
        with self._write_lock():
            writer = self._writer(self._live_index())
            for doc_id in ids:
                writer.delete_by_term("id", doc_id)
            writer.commit()
            self._journal(("delete", ids))

    def _writer(self, ix):  # noqa: ANN001, ANN202 - Whoosh index and writer
        return ix.writer(codec=FastW3Codec(), timeout=self.lock_timeout)

    def _journal(self, op: tuple) -> None:
        building = self._read_text("REBUILDING")
        if building and (self.root / building).is_dir():
            with open(self.root / building / "journal.pickle", "ab") as out:
                pickle.dump(op, out)

    def clear(self) -> None:
        with self._write_lock():
            self._swap(self._new_generation())

    def rebuild(self, docs: Iterable[SearchDocument]) -> int:
        """Build a complete new index from `docs` beside the live one, then swap it in."""
        analyze("ก่อนแยกโปรเซส")  # load the dictionary once, before forking the writers
        with self._flock("rebuild.lock"):
            with self._write_lock():
                gen = self._new_generation()
                self._write_text("REBUILDING", gen)
            try:
                ix = whoosh_index.open_dir(str(self.root / gen))
                with paused_gc():  # a heap of new tuples, no garbage (see paused_gc)
                    prepared = [document_fields(doc) for doc in docs]
                count = len(prepared)
                build_index(ix, FastW3Codec, prepared, procs=self.procs)
                del prepared
                with self._write_lock():
                    self._replay(ix, self.root / gen / "journal.pickle")
                    self._swap(gen)
            finally:
                with self._write_lock():
                    (self.root / "REBUILDING").unlink(missing_ok=True)
        return count

    def _replay(self, ix, journal: Path) -> None:  # noqa: ANN001
        if not journal.exists():
            return
        writer = self._writer(ix)
        with open(journal, "rb") as ops:
            while True:
                try:
                    kind, payload = pickle.load(ops)  # noqa: S301 - our own file
                except EOFError:
                    break
                if kind == "index":
                    for doc in payload:
                        writer.update_document(**document_fields(doc))
                else:
                    for doc_id in payload:
                        writer.delete_by_term("id", doc_id)
        writer.commit()
        journal.unlink()

    # Reading -----------------------------------------------------------------------------

    def _current(self) -> tuple[Searcher, list[SegmentData]]:
        """The searcher and segment caches for the latest committed state (caller holds
        self._lock)."""
        pointer = self.root / "CURRENT"
        st = os.stat(pointer)
        stat = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stat != self._pointer_stat:
            gen = pointer.read_text().strip()
            self._pointer_stat = stat
            if gen != self._gen:
                self._gen = gen
                self._ix = whoosh_index.open_dir(str(self.root / gen))
                self._open_reader()
        if self._ix.latest_generation() != self._reader_gen:
            self._open_reader()
        return self._searcher, [self._segments[key] for key in self._order]

    def _open_reader(self) -> None:
        # A fresh reader rather than Searcher.refresh(): refresh() re-adds segments of the old
        # reader, which after a merge would show documents twice.
        reader = self._ix.reader()
        old = self._searcher
        self._searcher = Searcher(reader, fromindex=self._ix)
        self._reader_gen = reader.generation()
        segments: dict[str, SegmentData] = {}
        self._order = []
        for leaf, _offset in reader.leaf_readers():
            if leaf.segment() is None:  # an empty index has an EmptyReader and no segment
                continue
            key = f"{self._gen}/{segment_key(leaf)}"
            data = self._segments.get(key)
            if data is None:
                data = SegmentData(leaf)
            else:
                data.set_reader(leaf)
            segments[key] = data
            self._order.append(key)
        self._segments = segments
        if old is not None:
            old.close()

    def search(self, query: SearchQuery) -> SearchResult:
        check_query(query)
        with self._lock:
            searcher, segments = self._current()
            return run_query(searcher, segments, query)

    def count(self) -> int:
        with self._lock:
            _searcher, segments = self._current()
            return sum(seg.live().true_count for seg in segments)

    def all_ids_with_modified(self) -> dict[str, datetime | None]:
        with self._lock:
            _searcher, segments = self._current()
            found: dict[str, datetime | None] = {}
            for seg in segments:
                live = seg.live()
                for docnum in range(seg.n):
                    if live[docnum].as_py():
                        found[seg.ids[docnum]] = seg.modified_of(docnum)
            return found

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None
            self._segments = {}
            self._pointer_stat = None
            self._gen = None
