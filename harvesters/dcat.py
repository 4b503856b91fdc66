"""Harvest a DCAT catalogue document: Turtle, RDF/XML or JSON-LD, optionally Hydra-paged.

Config: ``url`` of the catalogue; ``format`` (turtle, xml, json-ld) when the server's
Content-Type is wrong; ``fetch_files`` as for CKAN (with ``uploads``, the distributions served
from the catalogue's own host are copied byte for byte).

gather() reads each page, lists its dcat:Dataset nodes and follows ``hydra:next`` (a
PartialCollectionView) or ``hydra:nextPage`` (the older PagedCollection) until there is none.
An item's payload is the dataset's own triples (`schemas.dcat.describe`) as N-Triples text, so
it can be stored and mapped later without the page. remote_id is the dataset URI, or its
dct:identifier for a blank node. The dataset's name is the one its source gives (a Khlang
catalogue writes it as an ``adms:identifier`` with a ``gdc:name`` notation), else one made
from the remote id. With `since`, datasets whose dct:modified is older are left
out (a catalogue document cannot be asked for changes only).

JSON-LD remote contexts are fetched through the catalogue's opener (with its size limit), not
by rdflib's own HTTP client.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import DCTERMS

from harvesters.base import HarvestError, HarvestRecord, RemoteItem, SourceKind, register
from harvesters.ckan import (
    build_record,
    fetch,
    fetch_json,
    fetch_mode,
    malformed,
    modified_before,
    parse_json,
    source_url,
)
from schemas.ckan import harvest_name, parse_datetime
from schemas.dcat import (
    dataset_from_dcat,
    dataset_nodes,
    describe,
    khlang_name,
    next_page,
    remote_id_of,
)

MAX_PAGES = 10_000
MAX_CONTEXTS = 20
# A blank-node dataset is renamed to this URI in its payload, so the payload stands alone.
ANONYMOUS = URIRef("urn:khlang:harvest:dataset")
FORMATS = {
    "turtle": "turtle",
    "ttl": "turtle",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "xml": "xml",
    "rdf": "xml",
    "rdf/xml": "xml",
    "rdfxml": "xml",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "json-ld": "json-ld",
    "jsonld": "json-ld",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "nt": "nt",
    "application/n-triples": "nt",
}
EXTENSIONS = {
    ".ttl": "turtle",
    ".rdf": "xml",
    ".xml": "xml",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}


def rdf_format(url: str, content_type: str, body: bytes, configured: Any = None) -> str:
    """The rdflib parser name for a page: the config's ``format``, else the Content-Type,
    else the URL's extension, else a look at the first byte."""
    if configured:
        found = FORMATS.get(str(configured).strip().lower())
        if found is None:
            raise HarvestError(
                f"Unknown DCAT format {configured!r}; use turtle, xml or json-ld",
                f"ไม่รู้จักรูปแบบ DCAT {configured!r} ใช้ได้: turtle, xml หรือ json-ld",
            )
        return found
    media = content_type.split(";")[0].strip().lower()
    if media in FORMATS:
        return FORMATS[media]
    path = urlsplit(url).path.lower()
    for extension, name in EXTENSIONS.items():
        if path.endswith(extension):
            return name
    start = body.lstrip()[:1]
    return {b"{": "json-ld", b"[": "json-ld", b"<": "xml"}.get(start, "turtle")


def followable(url: str, came_from: str) -> str:
    """`url` if a page may send us there: http(s), or the scheme of the page itself.

    Links come from the remote document: a hydra:next or @context of ``file:///etc/...``
    must not make the harvester read the catalogue server's own files.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in {"http", "https"} or scheme == urlsplit(came_from).scheme.lower():
        return url
    raise HarvestError(
        f"{came_from} links to {url}; only http(s) links are followed",
        f"{came_from} ลิงก์ไปยัง {url} ซึ่งไม่ใช่ลิงก์ http(s) จึงไม่ติดตาม",
    )


@register("dcat")
class DcatSource(SourceKind):
    """A DCAT catalogue document, followed through its Hydra pages."""

    def _inline_contexts(self, value: Any, base: str, cache: dict[str, Any], depth: int) -> Any:
        if isinstance(value, list):
            return [self._inline_contexts(v, base, cache, depth) for v in value]
        if not isinstance(value, dict):
            return value
        return {
            key: (
                self._context(item, base, cache, depth)
                if key == "@context"
                else self._inline_contexts(item, base, cache, depth)
            )
            for key, item in value.items()
        }

    def _context(self, value: Any, base: str, cache: dict[str, Any], depth: int) -> Any:
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:
                found = self._context(item, base, cache, depth)
                out.extend(found if isinstance(found, list) else [found])
            return out
        if isinstance(value, dict):
            return self._inline_contexts(value, base, cache, depth)
        if not isinstance(value, str):
            return value
        url = followable(urljoin(base, value), base)
        if url not in cache:
            if len(cache) >= MAX_CONTEXTS or depth >= 3:
                raise HarvestError(
                    f"{base} uses too many nested JSON-LD contexts",
                    f"{base} ใช้ JSON-LD context ซ้อนกันมากเกินไป",
                )
            doc = fetch_json(self.open, url)
            if not isinstance(doc, dict) or "@context" not in doc:
                raise HarvestError(f"{url} is not a JSON-LD context", f"{url} ไม่ใช่ JSON-LD context")
            cache[url] = None  # a context that includes itself stops here
            cache[url] = self._context(doc["@context"], url, cache, depth + 1)
        return cache[url]

    def load_page(self, url: str) -> Graph:
        """One page of the catalogue as a graph (relative IRIs resolved against `url`)."""
        body, content_type = fetch(self.open, url)
        fmt = rdf_format(url, content_type, body, self.config.get("format"))
        data: str | bytes = body
        if fmt == "json-ld":
            doc = self._inline_contexts(parse_json(body, url), url, {}, 0)
            data = json.dumps(doc)
        graph = Graph()
        try:
            with warnings.catch_warnings():
                # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph inside.
                warnings.simplefilter("ignore", DeprecationWarning)
                graph.parse(data=data, format=fmt, publicID=url)
        except Exception as error:  # rdflib's parsers raise many unrelated types
            raise HarvestError(
                f"{url} is not valid {fmt} RDF: {error}",
                f"{url} ไม่ใช่ RDF แบบ {fmt} ที่ถูกต้อง: {error}",
            ) from None
        return graph

    def gather(self, since: datetime | None = None) -> Iterator[RemoteItem]:
        """The datasets of every page, following Hydra links."""
        url: str | None = source_url(self.config)
        fetch_mode(self.config)  # a bad value fails the job, not every item
        pages: set[str] = set()
        seen: set[str] = set()
        while url and url not in pages and len(pages) < MAX_PAGES:
            pages.add(url)
            graph = self.load_page(url)
            for index, node in enumerate(dataset_nodes(graph)):
                item = _item(graph, node, f"{url}#dataset-{index}")
                if item.remote_id in seen or modified_before(item.modified, since):
                    continue
                seen.add(item.remote_id)
                yield item
            found = next_page(graph, url)
            url = followable(found, url) if found else None

    def map(self, item: RemoteItem) -> HarvestRecord:
        """The dataset's triples as our dataset fields and distribution links (or files)."""
        payload = item.payload
        if isinstance(payload, dict) and payload.get("problem"):
            raise malformed(item.remote_id, payload["problem"], payload.get("problem_th", ""))
        if not isinstance(payload, dict) or not isinstance(payload.get("node"), str):
            raise malformed(item.remote_id, "no dataset triples", "ไม่มีข้อมูลของชุดข้อมูล")
        graph = Graph()
        try:
            graph.parse(data=str(payload.get("triples", "")), format="nt")
        except Exception as error:  # any parse failure means a bad payload
            raise malformed(item.remote_id, str(error), str(error)) from None
        node = URIRef(payload["node"])
        dataset = dataset_from_dcat(graph, node)
        if payload["node"] == str(ANONYMOUS) and not khlang_name(graph, node):
            # the name must come from the identifier, not from the placeholder URI
            dataset["name"] = harvest_name(item.remote_id)
        return build_record(item.remote_id, dataset, self.config, item.modified)


def _item(graph: Graph, node: Any, position: str) -> RemoteItem:
    remote_id = remote_id_of(graph, node)
    if not remote_id:
        problem = {
            "problem": "a blank-node dataset without dct:identifier",
            "problem_th": "ชุดข้อมูลที่ไม่มีทั้ง URI และ dct:identifier",
        }
        return RemoteItem(position, problem)
    triples = describe(graph, node)
    if isinstance(node, BNode):
        for prop, obj in list(triples.predicate_objects(node)):
            triples.remove((node, prop, obj))
            triples.add((ANONYMOUS, prop, obj))
        node = ANONYMOUS
    modified = parse_datetime(str(triples.value(node, DCTERMS.modified) or ""))
    payload = {"node": str(node), "triples": triples.serialize(format="nt")}
    return RemoteItem(remote_id, payload, modified)
