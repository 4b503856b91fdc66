"""The user's query string as a small backend-neutral tree.

Syntax: words are AND-ed; `OR` (upper case) between two items makes them alternatives;
"double quotes" (or “curly” ones) make a phrase. Anything else that looks like query syntax
(parentheses, `+`, `:`, `*`, a stray quote) is read as plain text, so parsing never fails.

Each word goes through the same analyzer as the documents (search/thai.py). A token that belongs
to a synonym group matches the group's key; a Thai compound also matches when all its parts occur
(จัดซื้อจัดจ้าง finds "จัดซื้อ จัดจ้าง").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from search.thai import Token, analyze, compound_split, normalise


@dataclass(frozen=True)
class Term:
    """Documents that contain `term` in any searched field."""

    term: str


@dataclass(frozen=True)
class All:
    """Documents matching every child."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any:
    """Documents matching at least one child."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Phrase:
    """Documents with these terms next to each other, in order, within one field."""

    terms: tuple[str, ...]


Node = Term | All | Any | Phrase


@dataclass(frozen=True)
class ParsedQuery:
    """`root` is None for an empty query (which lists everything). `words` are the user's plain
    words (no quotes or operators), used for spelling suggestions."""

    root: Node | None
    words: tuple[str, ...]

    def terms(self) -> frozenset[str]:
        """Every term the query can match, for scoring and highlighting."""
        found: set[str] = set()
        stack = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, Term):
                found.add(node.term)
            elif isinstance(node, Phrase):
                found.update(node.terms)
            else:
                stack.extend(node.children)
        return frozenset(found)


_ITEM = re.compile(r'"([^"]*)"|“([^”]*)”|(\S+)')
_SYNTAX = re.compile(r"[()\[\]{}+*:^~!\\\"“”]")
_AND_WORDS = frozenset({"AND", "&&"})
_OR_WORDS = frozenset({"OR", "||", "|"})


def parse(text: str) -> ParsedQuery:
    """Parse a user query; never raises."""
    units: list[Node] = []
    words: list[str] = []
    plain: list[str] = []
    pending_or = False

    def add(nodes: list[Node]) -> None:
        nonlocal pending_or
        if not nodes:
            return
        if pending_or and units:
            units[-1] = _any(units[-1], nodes[0])
            nodes = nodes[1:]
        pending_or = False
        units.extend(nodes)

    for match in _ITEM.finditer(text or ""):
        phrase = match.group(1) if match.group(1) is not None else match.group(2)
        raw = match.group(3)
        if raw is not None and raw in _AND_WORDS:
            continue
        if raw is not None and raw not in _OR_WORDS:
            cleaned = _SYNTAX.sub(" ", raw).split()
            plain.extend(cleaned)
            words.extend(cleaned)
            continue
        add(_plain_nodes(plain))
        plain = []
        if phrase is None:  # OR
            pending_or = bool(units)
            continue
        node = _phrase_node(analyze(phrase))
        words.extend(phrase.split())
        add([node] if node is not None else [])
    add(_plain_nodes(plain))
    root: Node | None = None
    if len(units) == 1:
        root = units[0]
    elif units:
        root = All(tuple(units))
    return ParsedQuery(root, tuple(words))


def _any(left: Node, right: Node) -> Node:
    children: list[Node] = []
    for node in (left, right):
        for child in node.children if isinstance(node, Any) else (node,):
            if child not in children:
                children.append(child)
    return children[0] if len(children) == 1 else Any(tuple(children))


def _plain_nodes(words: list[str]) -> list[Node]:
    """One node per user word (all of its tokens), analysed together so that a synonym written
    as several words (chiang mai, ร่าง พ.ร.บ.) is recognised; such a synonym joins its words."""
    if not words:
        return []
    text = " ".join(words)
    bounds: list[int] = []  # end offset of each word in `text`
    offset = 0
    for word in words:
        offset += len(word)
        bounds.append(offset)
        offset += 1
    groups: list[tuple[int, list[Node]]] = []  # (last word index, clauses)
    tokens = analyze(text)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        first = _word_index(bounds, tok.start)
        if tok.synonym is not None and tok.span > 1:
            clause: Node = Term(tok.synonym)
            last = _word_index(bounds, tokens[i + tok.span - 1].start)
            i += tok.span
        else:
            clause = token_node(tok)
            last = first
            i += 1
        if groups and groups[-1][0] >= first:
            groups[-1] = (max(last, groups[-1][0]), [*groups[-1][1], clause])
        else:
            groups.append((last, [clause]))
    return [c[0] if len(c) == 1 else All(tuple(c)) for _, c in groups]


def _word_index(bounds: list[int], offset: int) -> int:
    for index, end in enumerate(bounds):
        if offset < end:
            return index
    return len(bounds) - 1


def token_node(tok: Token) -> Node:
    """What one query token matches: its synonym key (which every member indexes) or the term
    itself, or, for a compound, all of its parts (จัดซื้อจัดจ้าง also finds "จัดซื้อ จัดจ้าง")."""
    main: Node = Term(tok.synonym if tok.synonym is not None else tok.term)
    parts = compound_split(tok.term)
    if len(parts) < 2:
        return main
    return Any((main, All(tuple(Term(p) for p in parts))))


def _phrase_node(tokens: list[Token]) -> Node | None:
    if not tokens:
        return None
    if len(tokens) == 1:
        return token_node(tokens[0])
    return Phrase(tuple(t.term for t in tokens))


def correct_words(
    words: tuple[str, ...],
    known: Callable[[str, str | None], bool],
    closest: Callable[[str], str | None],
) -> str | None:
    """The "did you mean" text, the same for every backend: each word whose terms are not all
    `known` (term, synonym key) is replaced by its `closest` indexed word, or, for a compound,
    each unknown part by its closest word. None when nothing changes."""
    out: list[str] = []
    changed = False
    for word in words:
        tokens = analyze(word)
        if not tokens or all(known(tok.term, tok.synonym) for tok in tokens):
            out.append(word)
            continue
        surface = normalise(word).casefold().replace(".", "")
        fixed = closest(surface)
        if fixed is None and len(tokens) > 1:
            parts = [
                tok.surface if known(tok.term, tok.synonym) else closest(tok.surface)
                for tok in tokens
            ]
            if all(parts):
                fixed = "".join(parts) if all(not p.isascii() for p in parts) else " ".join(parts)
        if fixed is not None and fixed != surface:
            out.append(fixed)
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None
