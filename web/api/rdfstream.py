"""Write one RDF document from many small graphs, so a catalogue streams batch by batch.

The writers group each batch's triples by subject and write them straight to text: Turtle
with its prefixes once, JSON-LD with one ``@context`` and one ``@graph`` array, RDF/XML inside
one ``rdf:RDF`` element. A batch is an rdflib Graph or, for the catalogue, `Triples` (the
mappers' triples in a list: building and serialising rdflib graphs took 3 to 8 ms a dataset,
most of the time a 100,000-dataset catalogue took). Predicates and classes are written with
the prefixes of `schemas.dcat.bind_prefixes`; other IRIs in full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from xml.sax.saxutils import quoteattr

from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from schemas.dcat import bind_prefixes

#: URL suffix -> (rdflib format, media type).
FORMATS: dict[str, tuple[str, str]] = {
    "ttl": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("xml", "application/rdf+xml"),
}
#: An IRI's local part that may follow a prefix in Turtle, JSON-LD and RDF/XML alike.
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_XSD_STRING = XSD.string
_TURTLE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
# IRIREF forbids these; written as \u escapes (controls and space are never in our IRIs, but a
# URL a publisher typed may hold anything).
_IRI_ESCAPES = str.maketrans({c: f"\\u{ord(c):04X}" for c in '<>"{}|^`\\ '})


class Triples:
    """A stand-in for an rdflib Graph that only keeps the mappers' triples, in order.

    The catalogue streams through it: rdflib's in-memory store indexes every triple three ways
    and its serialisers sort and re-read the store, which cost more than everything else a feed
    does. The writers below need the triples grouped by subject, nothing more.
    """

    def __init__(self) -> None:
        self.triples: list[tuple[Node, Node, Node]] = []

    def add(self, triple: tuple[Node, Node, Node]) -> Triples:
        self.triples.append(triple)
        return self

    def bind(self, *args: Any, **kwargs: Any) -> None:
        """Prefixes are the document's (`schemas.dcat.bind_prefixes`), declared once."""

    def __iter__(self) -> Iterator[tuple[Node, Node, Node]]:
        return iter(self.triples)

    def __len__(self) -> int:
        return len(self.triples)


def _namespaces() -> dict[str, str]:
    # Only the prefixes the feeds use (rdflib's default graph binds dozens more).
    graph = bind_prefixes(Graph(bind_namespaces="core"))
    return {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix and prefix != "xml"}


class _Names:
    """Prefixed names of predicate and class IRIs (a few dozen: cached), from `known`."""

    def __init__(self, known: dict[str, str]) -> None:
        # Longest namespace first, so a namespace inside another wins.
        self.known = sorted(known.items(), key=lambda kv: -len(kv[1]))
        self.cache: dict[str, tuple[str, str] | None] = {}

    def split(self, iri: str) -> tuple[str, str] | None:
        """(prefix, local name) of `iri`, or None when no declared prefix fits."""
        try:
            return self.cache[iri]
        except KeyError:
            pass
        found = None
        for prefix, ns in self.known:
            if iri.startswith(ns) and _LOCAL.fullmatch(iri[len(ns) :]):
                found = (prefix, iri[len(ns) :])
                break
        if len(self.cache) < 10_000:
            self.cache[iri] = found
        return found


def _by_subject(
    triples: Iterable[tuple[Node, Node, Node]],
) -> dict[Node, dict[str, dict[Node, None]]]:
    """subject -> predicate IRI -> objects, in the order added, each triple once."""
    subjects: dict[Node, dict[str, dict[Node, None]]] = {}
    for s, p, o in triples:
        predicates = subjects.get(s)
        if predicates is None:
            predicates = subjects[s] = {}
        objects = predicates.get(p)
        if objects is None:
            objects = predicates[p] = {}
        objects[o] = None
    return subjects


def _turtle_iri(iri: str) -> str:
    return f"<{iri.translate(_IRI_ESCAPES)}>"


def _turtle_term(term: Node, names: _Names, compact: bool = False) -> str:
    if isinstance(term, Literal):
        text = f'"{str(term).translate(_TURTLE_ESCAPES)}"'
        if term.language:
            return f"{text}@{term.language}"
        datatype = term.datatype
        if datatype is None or datatype == _XSD_STRING:
            return text
        name = names.split(str(datatype))
        return f"{text}^^{name[0]}:{name[1]}" if name else f"{text}^^{_turtle_iri(datatype)}"
    if isinstance(term, BNode):
        return f"_:{term}"
    if compact:
        name = names.split(str(term))
        if name:
            return f"{name[0]}:{name[1]}"
    return _turtle_iri(str(term))


def _turtle(graphs: Iterable[Any]) -> Iterator[str]:
    known = _namespaces()
    names = _Names(known)
    rdf_type = RDF.type
    yield "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(known.items())) + "\n"
    for graph in graphs:
        out: list[str] = []
        for subject, predicates in _by_subject(graph).items():
            lines = []
            for predicate, objects in predicates.items():
                is_type = predicate == rdf_type
                verb = "a" if is_type else _turtle_term(predicate, names, compact=True)
                values = " , ".join(_turtle_term(o, names, compact=is_type) for o in objects)
                lines.append(f"{verb} {values}")
            out.append(f"{_turtle_term(subject, names)} " + " ;\n    ".join(lines) + " .\n\n")
        if out:
            yield "".join(out)


def _jsonld_value(term: Node, names: _Names) -> Any:
    if isinstance(term, Literal):
        if term.language:
            return {"@language": term.language, "@value": str(term)}
        datatype = term.datatype
        if datatype is None or datatype == _XSD_STRING:
            return str(term)
        name = names.split(str(datatype))
        return {"@type": f"{name[0]}:{name[1]}" if name else str(datatype), "@value": str(term)}
    if isinstance(term, BNode):
        return {"@id": f"_:{term}"}
    return {"@id": str(term)}


def _jsonld(graphs: Iterable[Any]) -> Iterator[str]:
    context = _namespaces()
    names = _Names(context)
    rdf_type = RDF.type
    encode = json.JSONEncoder(ensure_ascii=False).encode
    yield '{"@context": ' + json.dumps(context) + ', "@graph": [\n'
    first = True
    for graph in graphs:
        out: list[str] = []
        for subject, predicates in _by_subject(graph).items():
            node: dict[str, Any] = {
                "@id": f"_:{subject}" if isinstance(subject, BNode) else str(subject)
            }
            for predicate, objects in predicates.items():
                if predicate == rdf_type:
                    types = [_jsonld_type(o, names) for o in objects]
                    node["@type"] = types[0] if len(types) == 1 else types
                    continue
                name = names.split(str(predicate))
                key = f"{name[0]}:{name[1]}" if name else str(predicate)
                values = [_jsonld_value(o, names) for o in objects]
                node[key] = values[0] if len(values) == 1 else values
            out.append(("" if first else ",\n") + encode(node))
            first = False
        if out:
            yield "".join(out)
    yield "\n]}\n"


def _jsonld_type(term: Node, names: _Names) -> str:
    if isinstance(term, BNode):
        return f"_:{term}"
    name = names.split(str(term))
    return f"{name[0]}:{name[1]}" if name else str(term)


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


def _rdfxml(graphs: Iterable[Any]) -> Iterator[str]:
    known = {"rdf": str(RDF), **_namespaces()}
    names = _Names(known)
    attrs = "".join(f"\n   xmlns:{p}={quoteattr(ns)}" for p, ns in sorted(known.items()))
    yield f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{attrs}\n>\n'
    for graph in graphs:
        out: list[str] = []
        for subject, predicates in _by_subject(graph).items():
            if isinstance(subject, BNode):
                out.append(f'  <rdf:Description rdf:nodeID="{subject}">\n')
            else:
                out.append(f'  <rdf:Description rdf:about="{_xml_attr(str(subject))}">\n')
            for predicate, objects in predicates.items():
                name = names.split(str(predicate))
                if name is None:
                    # RDF/XML can only write a predicate as a prefixed element name; the
                    # mappers use the declared namespaces only, so this is a bug.
                    raise ValueError(f"predicate {predicate} has no declared namespace")
                tag = f"{name[0]}:{name[1]}"
                for o in objects:
                    out.append(_xml_property(tag, o))
            out.append("  </rdf:Description>\n")
        if out:
            yield "".join(out)
    yield "</rdf:RDF>\n"


def _xml_property(tag: str, term: Node) -> str:
    if isinstance(term, Literal):
        if term.language:
            attr = f' xml:lang="{_xml_attr(term.language)}"'
        elif term.datatype is not None and term.datatype != _XSD_STRING:
            attr = f' rdf:datatype="{_xml_attr(str(term.datatype))}"'
        else:
            attr = ""
        return f"    <{tag}{attr}>{_xml_text(str(term))}</{tag}>\n"
    if isinstance(term, BNode):
        return f'    <{tag} rdf:nodeID="{term}"/>\n'
    return f'    <{tag} rdf:resource="{_xml_attr(str(term))}"/>\n'


def serialise(fmt: str, graphs: Iterable[Graph | Triples]) -> Iterator[str]:
    """One document in `fmt` (a key of FORMATS) from `graphs` (rdflib Graphs or `Triples`),
    yielded a graph at a time."""
    writer = {"ttl": _turtle, "jsonld": _jsonld, "rdf": _rdfxml}[fmt]
    return writer(graphs)
