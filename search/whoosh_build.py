"""Bulk building of a Whoosh index, for `WhooshBackend.rebuild`.

Whoosh's `SegmentWriter` pushes every posting through a sorting pool (a tuple, a size estimate,
an external sort) before handing it to the codec. For a fresh index that is wasted work: we
invert the documents in memory, term lists already grouped, and give them to the same codec
writers in sorted order. The result is an ordinary Whoosh segment. With `procs` > 1 the
documents are split between forked processes, each writing its own segment.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from whoosh.codec.base import Codec
from whoosh.codec.whoosh3 import W3PostingsWriter
from whoosh.index import TOC, FileIndex

from search.whoosh_docvalues import EMPTY_DV, doc_values_table, write_sidecar


def build_segment(ix: FileIndex, codec: Codec, docs: Sequence[dict[str, object]]):  # noqa: ANN201
    """Write one segment holding `docs` (Whoosh field dicts) and return it (not yet in the
    index's table of contents)."""
    storage, schema = ix.storage, ix.schema
    segment = codec.new_segment(storage, ix.indexname)
    perdoc = codec.per_document_writer(storage, segment)
    inverted: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = {}
    names = sorted({name for fields in docs for name in fields})
    fieldobjs = [(name, schema[name]) for name in names]
    for name, fieldobj in fieldobjs:
        if fieldobj.indexed:
            inverted[name] = {}
    for docnum, fields in enumerate(docs):
        perdoc.start_doc(docnum)
        for name, fieldobj in fieldobjs:
            value = fields.get(name)
            if value is None:
                continue
            length = 0
            if fieldobj.indexed:
                terms = inverted[name]
                lexicon_only = getattr(fieldobj, "spelling_words", False)
                for btext, freq, weight, vbytes in fieldobj.index(value):
                    postings = terms.get(btext)
                    if postings is None:
                        terms[btext] = [(docnum, weight, vbytes)]
                    elif not lexicon_only:
                        # A spelling lexicon needs each word once, not every document with it.
                        postings.append((docnum, weight, vbytes))
                    length += freq
            stored = value if fieldobj.stored else None
            perdoc.add_field(name, fieldobj, stored, length if fieldobj.scorable else 0)
        perdoc.finish_doc()
    perdoc.close()
    folder = getattr(storage, "folder", None)
    if folder is not None:
        table = doc_values_table(
            [fields.get("id", "") for fields in docs],
            [fields.get("dv") or EMPTY_DV for fields in docs],
        )
        write_sidecar(folder, segment.segment_id(), table)
    fieldwriter = codec.field_writer(storage, segment)
    for name, terms in inverted.items():
        fieldwriter.start_field(name, schema[name])
        for btext in sorted(terms):
            fieldwriter.start_term(btext)
            _add_postings(fieldwriter, terms[btext])
            fieldwriter.finish_term()
        fieldwriter.finish_field()
    fieldwriter.close()
    segment.set_doc_count(len(docs))
    return segment


def _add_postings(fieldwriter, postings: list[tuple[int, float, bytes]]) -> None:  # noqa: ANN001
    """Hand one term's postings (in docnum order) to the codec a block at a time.

    `W3PostingsWriter.add_posting` checks types and block statistics for each posting (about
    2 us each, a fifth of the build); here whole blocks are appended to its buffers."""
    writer = getattr(fieldwriter, "_postwriter", None)
    if not isinstance(writer, W3PostingsWriter) or writer._byteids:
        for docnum, weight, vbytes in postings:
            fieldwriter.add(docnum, weight, vbytes, 0)
        return
    ids, weights, values = zip(*postings, strict=True)
    limit = writer._blocklimit
    for start in range(0, len(ids), limit):
        if len(writer._ids) >= limit:
            writer._write_block()
        block_weights = weights[start : start + limit]
        writer._ids.extend(ids[start : start + limit])
        writer._weights.extend(block_weights)
        writer._maxweight = max(writer._maxweight, max(block_weights))
        writer._values.extend(values[start : start + limit])


def _child(ix: FileIndex, codec: Codec, docs: list[dict[str, object]], conn) -> None:  # noqa: ANN001
    try:
        conn.send(("ok", build_segment(ix, codec, docs)))
    except BaseException as exc:  # report any failure to the parent instead of hanging it
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Suspend the cyclic garbage collector for a bulk build.

    Building allocates millions of small objects that live until the segment is written, so
    the collector keeps rescanning a heap that only grows (a quarter of the CPU time, more
    when the caller holds many objects); the build makes no garbage cycles worth collecting
    early. Processes forked inside inherit the paused collector. Use it only around work
    whose objects are freed at its end (or die with a forked process): survivors would be
    left for the next collection, maybe during a query."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_index(
    ix: FileIndex,
    codec_factory: Callable[[], Codec],
    docs: Sequence[dict[str, object]],
    procs: int = 1,
) -> None:
    """Fill the empty index `ix` with `docs`, in `procs` forked processes (one segment each)."""
    with paused_gc():
        segments = _build_segments(ix, codec_factory, docs, procs)
    TOC(ix.schema, segments, ix.latest_generation() + 1).write(ix.storage, ix.indexname)
    ix.storage.temp_storage(f"{ix.indexname}.tmp").destroy()


def _build_segments(
    ix: FileIndex, codec_factory: Callable[[], Codec], docs: Sequence[dict[str, object]], procs: int
) -> list:
    if procs <= 1 or len(docs) < 2000:
        segments = [build_segment(ix, codec_factory(), docs)] if docs else []
    else:
        context = multiprocessing.get_context("fork")
        chunk = -(-len(docs) // procs)
        jobs = []
        for start in range(0, len(docs), chunk):
            parent, child = context.Pipe(duplex=False)
            part = list(docs[start : start + chunk])
            proc = context.Process(target=_child, args=(ix, codec_factory(), part, child))
            proc.start()
            child.close()
            jobs.append((proc, parent))
        segments = []
        errors = []
        for proc, conn in jobs:
            try:
                status, payload = conn.recv()
            except EOFError:
                status, payload = "error", f"indexing process exited with {proc.exitcode}"
            proc.join()
            (segments if status == "ok" else errors).append(payload)
        if errors:
            raise RuntimeError(f"index build failed: {errors[0]}")
    return segments
