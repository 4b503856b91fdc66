"""Highlighted snippets: HTML-escaped text with matched words wrapped in <mark>.

Backend-neutral: the words are found by running the same analyzer over the stored text and
keeping tokens whose indexed terms (term, synonym key or alternates) the query asked for.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable

from search.thai import analyze

#: Characters of context kept around the first match in a long text.
CONTEXT_BEFORE = 60
SNIPPET_CHARS = 240


def matched_spans(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """(start, end) offsets in NFC(`text`) of the words that match `terms`."""
    spans: list[tuple[int, int]] = []
    tokens = analyze(text)
    for i, tok in enumerate(tokens):
        if tok.synonym is not None and tok.synonym in terms:
            last = tokens[min(i + tok.span, len(tokens)) - 1]
            spans.append((tok.start, last.end))
        elif tok.term in terms or any(alt in terms for alt in tok.alternates):
            spans.append((tok.start, tok.end))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, terms: frozenset[str], max_chars: int = SNIPPET_CHARS) -> str | None:
    """An HTML snippet of `text` around its first match, or None when nothing matches."""
    if not text:
        return None
    text = unicodedata.normalize("NFC", text)
    spans = matched_spans(text, terms)
    if not spans:
        return None
    begin = 0
    if len(text) > max_chars:
        begin = max(0, spans[0][0] - CONTEXT_BEFORE)
        # Start at a space when there is one nearby so the first word is not cut in half.
        space = text.rfind(" ", max(0, begin - 20), spans[0][0])
        if space >= 0:
            begin = space + 1
    end = min(len(text), begin + max_chars)
    out: list[str] = ["\u2026" if begin > 0 else ""]
    cursor = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        out.append(html.escape(text[cursor:start]))
        out.append("<mark>" + html.escape(text[start:stop]) + "</mark>")
        cursor = stop
    out.append(html.escape(text[cursor:end]))
    if end < len(text):
        out.append("\u2026")
    return "".join(out)


def best_snippet(texts: Iterable[str], terms: frozenset[str]) -> str | None:
    """The snippet of the first text that matches (callers order texts by preference)."""
    for text in texts:
        found = snippet(text, terms)
        if found is not None:
            return found
    return None
