"""Pure mappers between Khlang datasets and DCAT (DCAT-AP flavoured) RDF graphs, with rdflib.

- `dataset_from_dcat(graph, node)`: a dcat:Dataset as our dataset fields (partial, like
  `schemas.ckan.dataset_from_ckan`: the harvest config's defaults complete it);
- `dataset_to_dcat(dataset, graph, base_url)`: the reverse, adding triples to `graph`;
- graph helpers for harvesting: `dataset_nodes`, `remote_id_of`, `describe`, `next_page`.

Language-tagged literals map to the Thai/English field pairs: ``@th`` (or untagged) to
`title`/`notes`/resource `name`, ``@en`` to `title_en`/`notes_en`/`name_en`.
dct:publisher's name maps to `data_source` (the GDC "แหล่งที่มา"), the closest field we have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, XSD
from rdflib.term import Node

from schemas import vocab
from schemas.ckan import (
    clean_dataset,
    clean_resource,
    date_text,
    format_from,
    harvest_name,
    license_fields,
    media_type_of,
)

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SCHEMA = Namespace("http://schema.org/")
IANA_MEDIA = "https://www.iana.org/assignments/media-types/"
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
# EU language authority codes (ISO 639-3) of the languages GDC catalogues list.
LANGUAGE_CODES = {
    "THA": "th",
    "ENG": "en",
    "ZHO": "zh",
    "MSA": "ms",
    "MYA": "my",
    "LAO": "lo",
    "KHM": "km",
    "JPN": "ja",
    "KOR": "ko",
    "FRA": "fr",
    "DEU": "de",
    "ARA": "ar",
}
ACCESS_RIGHTS = {"PUBLIC": "public", "RESTRICTED": "restricted", "NON_PUBLIC": "non-public"}
# What `describe` follows from a dataset besides blank nodes: its parts that have URIs.
FOLLOW = frozenset(
    {
        DCAT.distribution,
        DCAT.contactPoint,
        DCTERMS.publisher,
        DCTERMS.license,
        DCTERMS.temporal,
        DCTERMS.format,
        DCAT.mediaType,
    }
)


def bind_prefixes(graph: Graph) -> Graph:
    """`graph` with the usual DCAT prefixes bound (for readable Turtle)."""
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("hydra", HYDRA),
        ("owl", OWL),
    ):
        graph.bind(prefix, namespace, override=True)
    return graph


# --- reading ----------------------------------------------------------------------------------


def _sorted(nodes: Iterable[Node]) -> list[Node]:
    # rdflib returns triples in no particular order; sort so mapping is repeatable.
    return sorted(nodes, key=lambda n: (type(n).__name__, str(n)))


def dataset_nodes(graph: Graph) -> list[Node]:
    """The dcat:Dataset nodes of `graph`, in a stable order."""
    return _sorted(set(graph.subjects(RDF.type, DCAT.Dataset)))


def _literal_texts(graph: Graph, node: Node, prop: URIRef) -> dict[str, str]:
    """Language ("" when untagged) -> the first text of `prop` in that language."""
    out: dict[str, str] = {}
    for obj in _sorted(graph.objects(node, prop)):
        if isinstance(obj, Literal) and str(obj).strip():
            out.setdefault((obj.language or "").split("-")[0].lower(), str(obj).strip())
    return out


def _th_en(texts: Mapping[str, str]) -> tuple[str, str]:
    main = texts.get("th") or texts.get("") or texts.get("en") or next(iter(texts.values()), "")
    english = texts.get("en", "")
    return main, "" if english == main else english


def _value(graph: Graph, node: Node, prop: URIRef) -> str:
    """The first object of `prop` as text (URI or literal), or ""."""
    for obj in _sorted(graph.objects(node, prop)):
        if not isinstance(obj, BNode) and str(obj).strip():
            return str(obj).strip()
    return ""


def remote_id_of(graph: Graph, node: Node) -> str:
    """A dataset's id in its source: its URI, or dct:identifier for a blank node ("" if none)."""
    if isinstance(node, URIRef):
        return str(node)
    return _value(graph, node, DCTERMS.identifier)


def describe(graph: Graph, node: Node) -> Graph:
    """The triples about `node`: its own, its blank nodes' and its parts' (distributions,
    contact point, publisher, licence...), as a new graph."""
    out = bind_prefixes(Graph())
    todo, seen = [node], set()
    while todo:
        subject = todo.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for prop, obj in graph.predicate_objects(subject):
            out.add((subject, prop, obj))
            if isinstance(obj, BNode) or (prop in FOLLOW and isinstance(obj, URIRef)):
                todo.append(obj)
    return out


def next_page(graph: Graph, current: str) -> str | None:
    """The next page of a Hydra-paged catalogue: hydra:next (a PartialCollectionView) or
    hydra:nextPage (the older PagedCollection); None on the last page."""
    found = [
        str(obj)
        for prop in (HYDRA.next, HYDRA.nextPage)
        for obj in graph.objects(None, prop)
        if isinstance(obj, URIRef) and str(obj) != current
    ]
    return sorted(found)[0] if found else None


def _media_type(text: str) -> str:
    for prefix in (IANA_MEDIA, IANA_MEDIA.replace("https:", "http:")):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text if "://" not in text else ""


def _format_text(graph: Graph, node: Node) -> tuple[str, str]:
    """(format, media type) of a distribution from dct:format and dcat:mediaType."""
    media = _media_type(_value(graph, node, DCAT.mediaType))
    fmt = ""
    for obj in _sorted(graph.objects(node, DCTERMS.format)):
        if isinstance(obj, BNode):  # a dct:IMT node: rdf:value "text/csv", rdfs:label "CSV"
            label = _value(graph, obj, RDFS.label)
            value = _value(graph, obj, RDF.value)
            fmt = fmt or label or format_from(value)
            media = media or (value if "/" in value else "")
        elif "/media-types/" in str(obj):
            media = media or _media_type(str(obj))
        elif str(obj).strip():
            fmt = fmt or str(obj).strip().rsplit("/", 1)[-1]  # EU file-type URI or literal
    return format_from(fmt, media), media


def _distribution(graph: Graph, node: Node) -> dict[str, Any] | None:
    name, name_en = _th_en(_literal_texts(graph, node, DCTERMS.title))
    description, _ = _th_en(_literal_texts(graph, node, DCTERMS.description))
    fmt, media = _format_text(graph, node)
    size = graph.value(node, DCAT.byteSize)
    candidate = {
        "url": _value(graph, node, DCAT.downloadURL) or _value(graph, node, DCAT.accessURL),
        "name": name,
        "name_en": name_en,
        "description": description,
        "format": fmt,
        "mimetype": media,
        "size": int(size) if isinstance(size, Literal) and str(size).isdigit() else None,
    }
    return clean_resource(candidate)


def _contact(graph: Graph, node: Node) -> dict[str, str]:
    for contact in _sorted(graph.objects(node, DCAT.contactPoint)):
        name, _ = _th_en(_literal_texts(graph, contact, VCARD.fn))
        email = _value(graph, contact, VCARD.hasEmail) or _value(graph, contact, VCARD.email)
        if name or email:
            return {"maintainer": name, "maintainer_email": email.removeprefix("mailto:")}
    return {}


def _licence(graph: Graph, node: Node) -> dict[str, str]:
    holders = [node, *_sorted(graph.objects(node, DCAT.distribution))]
    for holder in holders:  # DCAT-AP puts the licence on distributions
        for lic in _sorted(graph.objects(holder, DCTERMS.license)):
            if isinstance(lic, Literal):
                found = license_fields(str(lic))
            else:
                titles = [
                    text
                    for prop in (DCTERMS.title, RDFS.label, FOAF.name)
                    for text in _literal_texts(graph, lic, prop).values()
                ]
                found = license_fields(*titles, str(lic) if isinstance(lic, URIRef) else "")
            if found:
                return found
    return {}


def _code(text: str) -> str:
    return text.rstrip("/").rsplit("/", 1)[-1]


def _languages(graph: Graph, node: Node) -> list[str]:
    out = []
    for obj in _sorted(graph.objects(node, DCTERMS.language)):
        code = _code(str(obj))
        out.append(LANGUAGE_CODES.get(code.upper(), code.lower()))
    return out


def _temporal(graph: Graph, node: Node) -> dict[str, Any]:
    for period in _sorted(graph.objects(node, DCTERMS.temporal)):
        start = _value(graph, period, DCAT.startDate) or _value(graph, period, SCHEMA.startDate)
        end = _value(graph, period, DCAT.endDate) or _value(graph, period, SCHEMA.endDate)
        if start or end:
            return {"temporal_start": date_text(start), "temporal_end": date_text(end)}
    return {}


def dataset_from_dcat(graph: Graph, node: Node) -> dict[str, Any]:
    """Map the dcat:Dataset `node` of `graph` to our dataset fields and ``resources``.

    ``name`` is derived from the remote id (`remote_id_of`), so it is stable across harvests.
    """
    title, title_en = _th_en(_literal_texts(graph, node, DCTERMS.title))
    notes, notes_en = _th_en(_literal_texts(graph, node, DCTERMS.description))
    publisher = graph.value(node, DCTERMS.publisher)
    source = _th_en(_literal_texts(graph, publisher, FOAF.name))[0] if publisher else ""
    rights = _code(_value(graph, node, DCTERMS.accessRights)).upper().replace("-", "_")
    candidate: dict[str, Any] = {
        "title": title,
        "title_en": title_en,
        "notes": notes,
        "notes_en": notes_en,
        "tags": sorted({str(k).strip() for k in graph.objects(node, DCAT.keyword)}),
        "issued": date_text(_value(graph, node, DCTERMS.issued)),
        "modified": date_text(_value(graph, node, DCTERMS.modified)),
        "url": _value(graph, node, DCAT.landingPage),
        "version": _value(graph, node, OWL.versionInfo),
        "groups": [_code(str(t)).lower() for t in _sorted(graph.objects(node, DCAT.theme))],
        "language": _languages(graph, node),
        "access_rights": ACCESS_RIGHTS.get(rights, ""),
        "data_source": source,
        **_contact(graph, node),
        **_temporal(graph, node),
        **_licence(graph, node),
    }
    dataset = clean_dataset(candidate)
    dataset["name"] = harvest_name(remote_id_of(graph, node) or str(node))
    parts = (_distribution(graph, d) for d in _sorted(graph.objects(node, DCAT.distribution)))
    dataset["resources"] = [part for part in parts if part is not None]
    return dataset


# --- writing ----------------------------------------------------------------------------------


def _ref(text: str) -> URIRef | Literal:
    # rdflib writes any string as a URI; a URL with spaces would make invalid Turtle.
    if "://" in text and not any(c in text for c in ' <>"{}|\\^`'):
        return URIRef(text)
    return Literal(text)


def _add_texts(graph: Graph, node: Node, prop: URIRef, th: Any, en: Any) -> None:
    if th:
        graph.add((node, prop, Literal(th, lang="th")))
    if en:
        graph.add((node, prop, Literal(en, lang="en")))


def _date(value: Any) -> Literal | None:
    text = date_text(value)
    return Literal(text, datatype=XSD.date) if text else None


def _licence_node(graph: Graph, dataset: Mapping[str, Any], base: str) -> Node | None:
    licence = vocab.find_license(str(dataset.get("license_id") or ""))
    if licence is None:
        return None
    node = URIRef(licence.url or f"{base}/licenses/{licence.id}")
    graph.add((node, RDF.type, DCTERMS.LicenseDocument))
    title = licence.title
    if licence.id == vocab.OTHER_LICENSE and dataset.get("license_id_other"):
        title = dataset["license_id_other"]
    graph.add((node, DCTERMS.title, Literal(title)))
    return node


def _distribution_to_dcat(
    graph: Graph, res: Mapping[str, Any], dataset_node: URIRef, position: int
) -> URIRef:
    node = URIRef(f"{dataset_node}/resource/{res.get('id') or position}")
    graph.add((dataset_node, DCAT.distribution, node))
    graph.add((node, RDF.type, DCAT.Distribution))
    _add_texts(graph, node, DCTERMS.title, res.get("name"), res.get("name_en"))
    if res.get("description"):
        graph.add((node, DCTERMS.description, Literal(res["description"], lang="th")))
    if res.get("url"):
        graph.add((node, DCAT.accessURL, _ref(res["url"])))
        if res.get("url_type") == "upload":
            graph.add((node, DCAT.downloadURL, _ref(res["url"])))
    fmt = str(res.get("format") or "")
    if fmt:
        graph.add((node, DCTERMS.format, Literal(fmt)))
    media = res.get("mimetype") or media_type_of(fmt)
    if media:
        graph.add((node, DCAT.mediaType, URIRef(IANA_MEDIA + media)))
    if isinstance(res.get("size"), int):
        graph.add((node, DCAT.byteSize, Literal(res["size"], datatype=XSD.nonNegativeInteger)))
    return node


def dataset_to_dcat(dataset: Mapping[str, Any], graph: Graph, base_url: str) -> URIRef:
    """Add `dataset` (a dataset dict, e.g. package_show's) to `graph` as a dcat:Dataset.

    The node is ``<base_url>/dataset/<id or name>``; returns it.
    """
    base = base_url.rstrip("/")
    key = dataset.get("id") or dataset["name"]
    node = URIRef(f"{base}/dataset/{key}")
    bind_prefixes(graph)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(str(key))))
    _add_texts(graph, node, DCTERMS.title, dataset.get("title"), dataset.get("title_en"))
    _add_texts(graph, node, DCTERMS.description, dataset.get("notes"), dataset.get("notes_en"))
    for tag in dataset.get("tags") or []:
        graph.add((node, DCAT.keyword, Literal(tag["name"] if isinstance(tag, Mapping) else tag)))
    for field, prop in (("issued", DCTERMS.issued), ("modified", DCTERMS.modified)):
        value = _date(dataset.get(field))
        if value is not None:
            graph.add((node, prop, value))
    if dataset.get("url"):
        graph.add((node, DCAT.landingPage, _ref(dataset["url"])))
    if dataset.get("version"):
        graph.add((node, OWL.versionInfo, Literal(dataset["version"])))
    if dataset.get("maintainer") or dataset.get("maintainer_email"):
        contact = BNode()
        graph.add((node, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Kind))
        if dataset.get("maintainer"):
            graph.add((contact, VCARD.fn, Literal(dataset["maintainer"])))
        if dataset.get("maintainer_email"):
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset['maintainer_email']}")))
    organization = dataset.get("organization")
    publisher = organization.get("title") if isinstance(organization, Mapping) else None
    publisher = publisher or dataset.get("data_source")
    if publisher:
        agent = BNode()
        graph.add((node, DCTERMS.publisher, agent))
        graph.add((agent, RDF.type, FOAF.Organization))
        graph.add((agent, FOAF.name, Literal(publisher)))
    licence = _licence_node(graph, dataset, base)
    if licence is not None:
        graph.add((node, DCTERMS.license, licence))
    rights = {v: k for k, v in ACCESS_RIGHTS.items()}.get(str(dataset.get("access_rights")))
    if rights:
        graph.add((node, DCTERMS.accessRights, URIRef(f"{EU_AUTHORITY}access-right/{rights}")))
    codes = {v: k for k, v in LANGUAGE_CODES.items()}
    for lang in dataset.get("language") or []:
        code = codes.get(lang)
        graph.add(
            (
                node,
                DCTERMS.language,
                URIRef(f"{EU_AUTHORITY}language/{code}") if code else Literal(lang),
            )
        )
    start, end = _date(dataset.get("temporal_start")), _date(dataset.get("temporal_end"))
    if start is not None or end is not None:
        period = BNode()
        graph.add((node, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if start is not None:
            graph.add((period, DCAT.startDate, start))
        if end is not None:
            graph.add((period, DCAT.endDate, end))
    for group in dataset.get("groups") or []:
        name = group.get("name") if isinstance(group, Mapping) else group
        graph.add((node, DCAT.theme, URIRef(f"{base}/group/{name}")))
    for position, res in enumerate(dataset.get("resources") or []):
        _distribution_to_dcat(graph, res, node, position)
    return node
