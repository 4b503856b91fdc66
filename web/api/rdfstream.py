"""Write one RDF document from many small graphs, so a catalogue streams batch by batch.

The writers group each batch's triples by subject and write one document: Turtle with its
prefixes once, JSON-LD with one ``@context`` and one ``@graph`` array, RDF/XML inside one
``rdf:RDF`` element. A batch is an rdflib Graph or, for the catalogue, `Triples` (the mappers'
triples in a list: building and serialising rdflib graphs took 3 to 8 ms a dataset, most of
the time a 100,000-dataset catalogue took). Predicates and classes are written with the
prefixes of `schemas.dcat.bind_prefixes`; other IRIs in full.

No term is escaped here: Turtle terms are rdflib's own (`Node.n3`, with rdflib's prefixed
names of predicates, classes and datatypes cached per IRI), JSON-LD is Python dicts dumped by
`json`, RDF/XML is written by `xml.sax.saxutils.XMLGenerator`. An IRI that rdflib would refuse
to write (a space, ``<``, a control character... in a URL a publisher typed) is
percent-encoded first, the same in every format.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import XMLGenerator

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD, NamespaceManager
from rdflib.term import Node, _is_valid_uri

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
# What percent-encoding keeps of an IRI rdflib refuses (as schemas.dcat._iri).
_IRI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


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


def _iri(term: Node) -> str:
    """An IRI's text as rdflib will write it: percent-encoded if rdflib would refuse it."""
    text = str(term)
    if _is_valid_uri(text) and text.isprintable():
        return text
    return quote(text, safe=_IRI_SAFE)


def _by_subject(
    triples: Iterable[tuple[Node, Node, Node]],
) -> dict[Node, dict[Node, dict[Node, None]]]:
    """subject -> predicate -> objects, in the order added, each triple once."""
    subjects: dict[Node, dict[Node, dict[Node, None]]] = {}
    for s, p, o in triples:
        predicates = subjects.get(s)
        if predicates is None:
            predicates = subjects[s] = {}
        objects = predicates.get(p)
        if objects is None:
            objects = predicates[p] = {}
        objects[o] = None
    return subjects


class _Prefixed:
    """rdflib's prefixed names (`NamespaceManager.normalizeUri`) of predicates, classes and
    datatypes, cached per IRI (they are a few dozen; rdflib takes 8-17 µs each time). Passed
    to `Node.n3` in place of the namespace manager."""

    def __init__(self, manager: NamespaceManager) -> None:
        self.manager = manager
        self.cache: dict[str, str] = {}

    def normalizeUri(self, iri: str) -> str:  # noqa: N802 - rdflib's name
        try:
            return self.cache[iri]
        except KeyError:
            found = self.manager.normalizeUri(iri)
            if len(self.cache) < 10_000:
                self.cache[iri] = found
            return found


def _turtle_node(term: Node) -> str:
    """A subject or object in Turtle, by rdflib; IRIs in full."""
    if isinstance(term, URIRef):
        return URIRef(_iri(term)).n3()
    return term.n3()


def _turtle(graphs: Iterable[Any]) -> Iterator[str]:
    known = _namespaces()
    graph_ns = bind_prefixes(Graph(bind_namespaces="core"))
    prefixed = _Prefixed(graph_ns.namespace_manager)
    compact = prefixed.normalizeUri
    verbs: dict[Node, str] = {RDF.type: "a"}
    rdf_type = RDF.type
    yield "".join(f"@prefix {p}: {URIRef(ns).n3()} .\n" for p, ns in sorted(known.items())) + "\n"
    for graph in graphs:
        out: list[str] = []
        for subject, predicates in _by_subject(graph).items():
            lines = []
            for predicate, objects in predicates.items():
                verb = verbs.get(predicate)
                if verb is None:
                    verb = verbs[predicate] = URIRef(_iri(predicate)).n3(prefixed)  # type: ignore[arg-type]
                if predicate == rdf_type:
                    values = [
                        compact(_iri(o)) if isinstance(o, URIRef) else _turtle_node(o)
                        for o in objects
                    ]
                else:
                    values = [
                        o.n3(prefixed) if isinstance(o, Literal) else _turtle_node(o)  # type: ignore[arg-type]
                        for o in objects
                    ]
                lines.append(f"{verb} {' , '.join(values)}")
            out.append(f"{_turtle_node(subject)} " + " ;\n    ".join(lines) + " .\n\n")
        if out:
            yield "".join(out)


def _jsonld_id(term: Node) -> str:
    return term.n3() if isinstance(term, BNode) else _iri(term)


def _jsonld_value(term: Node, names: _Names) -> Any:
    if isinstance(term, Literal):
        if term.language:
            return {"@language": term.language, "@value": str(term)}
        datatype = term.datatype
        if datatype is None or datatype == _XSD_STRING:
            return str(term)
        name = names.split(str(datatype))
        return {"@type": f"{name[0]}:{name[1]}" if name else _iri(datatype), "@value": str(term)}
    return {"@id": _jsonld_id(term)}


def _jsonld_type(term: Node, names: _Names) -> str:
    if isinstance(term, BNode):
        return term.n3()
    name = names.split(str(term))
    return f"{name[0]}:{name[1]}" if name else _iri(term)


def _jsonld(graphs: Iterable[Any]) -> Iterator[str]:
    context = _namespaces()
    names = _Names(context)
    rdf_type = RDF.type
    encode = json.JSONEncoder(ensure_ascii=False).encode
    yield '{"@context": ' + encode(context) + ', "@graph": [\n'
    first = True
    for graph in graphs:
        out: list[str] = []
        for subject, predicates in _by_subject(graph).items():
            node: dict[str, Any] = {"@id": _jsonld_id(subject)}
            for predicate, objects in predicates.items():
                if predicate == rdf_type:
                    types = [_jsonld_type(o, names) for o in objects]
                    node["@type"] = types[0] if len(types) == 1 else types
                    continue
                name = names.split(str(predicate))
                key = f"{name[0]}:{name[1]}" if name else _iri(predicate)
                values = [_jsonld_value(o, names) for o in objects]
                node[key] = values[0] if len(values) == 1 else values
            out.append(("" if first else ",\n") + encode(node))
            first = False
        if out:
            yield "".join(out)
    yield "\n]}\n"


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _rdfxml(graphs: Iterable[Any]) -> Iterator[str]:
    known = {"rdf": str(RDF), **_namespaces()}
    names = _Names(known)
    tags: dict[Node, str] = {}
    buffer = io.StringIO()
    xml = XMLGenerator(buffer, encoding="utf-8", short_empty_elements=True)
    space = xml.ignorableWhitespace
    xml.startDocument()
    xml.startElement("rdf:RDF", {f"xmlns:{p}": ns for p, ns in sorted(known.items())})
    space("\n")
    yield _drain(buffer)
    start, end, text = xml.startElement, xml.endElement, xml.characters
    for graph in graphs:
        for subject, predicates in _by_subject(graph).items():
            space("  ")
            if isinstance(subject, BNode):
                start("rdf:Description", {"rdf:nodeID": str(subject)})
            else:
                start("rdf:Description", {"rdf:about": _iri(subject)})
            for predicate, objects in predicates.items():
                tag = tags.get(predicate)
                if tag is None:
                    name = names.split(str(predicate))
                    if name is None:
                        # RDF/XML can only write a predicate as a prefixed element name; the
                        # mappers use the declared namespaces only, so this is a bug.
                        raise ValueError(f"predicate {predicate} has no declared namespace")
                    tag = tags[predicate] = f"{name[0]}:{name[1]}"
                for o in objects:
                    space("\n    ")
                    if isinstance(o, Literal):
                        if o.language:
                            start(tag, {"xml:lang": o.language})
                        elif o.datatype is None or o.datatype == _XSD_STRING:
                            start(tag, {})
                        else:
                            start(tag, {"rdf:datatype": _iri(o.datatype)})
                        text(str(o))
                    elif isinstance(o, BNode):
                        start(tag, {"rdf:nodeID": str(o)})
                    else:
                        start(tag, {"rdf:resource": _iri(o)})
                    end(tag)
            space("\n  ")
            end("rdf:Description")
            space("\n")
        chunk = _drain(buffer)
        if chunk:
            yield chunk
    xml.endElement("rdf:RDF")
    xml.endDocument()
    yield _drain(buffer) + "\n"


def serialise(fmt: str, graphs: Iterable[Graph | Triples]) -> Iterator[str]:
    """One document in `fmt` (a key of FORMATS) from `graphs` (rdflib Graphs or `Triples`),
    yielded a graph at a time."""
    writer = {"ttl": _turtle, "jsonld": _jsonld, "rdf": _rdfxml}[fmt]
    return writer(graphs)
