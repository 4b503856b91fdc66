"""Write one RDF document from many small rdflib graphs, so a catalogue streams batch by batch.

rdflib serialises each batch graph; this module only joins the pieces so the result is one
document: Turtle with its prefixes once, JSON-LD with one ``@context`` and one ``@graph``
array, RDF/XML inside one ``rdf:RDF`` element. Every batch graph must use the prefixes of
`schemas.dcat.bind_prefixes` (the mappers bind them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from xml.sax.saxutils import quoteattr

from rdflib import Graph

from schemas.dcat import bind_prefixes

#: URL suffix -> (rdflib format, media type).
FORMATS: dict[str, tuple[str, str]] = {
    "ttl": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("xml", "application/rdf+xml"),
}
_PREFIX_LINE = re.compile(r"@prefix\s+([\w-]*):\s*<([^>]*)>\s*\.\s*$")
_XMLNS = re.compile(r'xmlns:([\w-]+)="([^"]*)"')


def _namespaces() -> dict[str, str]:
    # Only the prefixes the feeds use (rdflib's default graph binds dozens more).
    graph = bind_prefixes(Graph(bind_namespaces="core"))
    return {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix and prefix != "xml"}


def _turtle(graphs: Iterable[Graph]) -> Iterator[str]:
    known = _namespaces()
    yield "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(known.items())) + "\n"
    for graph in graphs:
        text = graph.serialize(format="turtle")
        body: list[str] = []
        for line in text.splitlines(keepends=True):
            found = _PREFIX_LINE.match(line)
            # A prefix the header already declared is dropped; any other (rdflib's own ns1:
            # for an unbound namespace) stays: Turtle allows @prefix anywhere.
            if found and known.get(found.group(1)) == found.group(2):
                continue
            body.append(line)
        yield "".join(body).lstrip("\n") + "\n"


def _jsonld(graphs: Iterable[Graph]) -> Iterator[str]:
    context = _namespaces()
    yield '{"@context": ' + json.dumps(context) + ', "@graph": [\n'
    first = True
    for graph in graphs:
        out: Any = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
        nodes = out.get("@graph", [out]) if isinstance(out, dict) else out
        for node in nodes:
            if isinstance(node, dict):
                node.pop("@context", None)
            if not node:
                continue
            yield ("" if first else ",\n") + json.dumps(node, ensure_ascii=False)
            first = False
    yield "\n]}\n"


def _rdfxml(graphs: Iterable[Graph]) -> Iterator[str]:
    known = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", **_namespaces()}
    attrs = "".join(f"\n   xmlns:{p}={quoteattr(ns)}" for p, ns in sorted(known.items()))
    yield f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{attrs}\n>\n'
    for graph in graphs:
        text = graph.serialize(format="xml")
        start = text.index("<rdf:RDF")
        open_end = text.index(">", start) + 1
        for prefix, ns in _XMLNS.findall(text[start:open_end]):
            if known.get(prefix) != ns:
                # A namespace the outer element does not declare would make the document
                # invalid; the mappers bind every namespace they use, so this is a bug.
                raise ValueError(f"unbound namespace {ns} in an RDF/XML batch")
        body = text[open_end : text.rindex("</rdf:RDF>")]
        if body.strip():
            yield body.strip("\n") + "\n"
    yield "</rdf:RDF>\n"


def serialise(fmt: str, graphs: Iterable[Graph]) -> Iterator[str]:
    """One document in `fmt` (a key of FORMATS) from `graphs`, yielded piece by piece."""
    writer = {"ttl": _turtle, "jsonld": _jsonld, "rdf": _rdfxml}[fmt]
    return writer(graphs)
