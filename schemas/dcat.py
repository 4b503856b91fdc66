"""Pure mappers between Khlang datasets and DCAT (DCAT-AP flavoured) RDF graphs, with rdflib.

- `dataset_from_dcat(graph, node)`: a dcat:Dataset as our dataset fields (partial, like
  `schemas.ckan.dataset_from_ckan`: the harvest config's defaults complete it);
- `dataset_to_dcat(dataset, graph, base_url)`: the reverse, adding triples to `graph` (DCAT-AP
  3.0, every referenced object typed; GD Catalog fields without a DCAT property in the Khlang
  `gdc:` namespace, read back by `dataset_from_dcat`); `series_to_dcat`, `catalog_to_dcat` and
  `hydra_view` for the catalogue feeds (docs/dcat.md has the whole mapping);
- graph helpers for harvesting: `dataset_nodes`, `remote_id_of`, `describe`, `next_page`.

Language-tagged literals map to the Thai/English field pairs: ``@th`` (or untagged) to
`title`/`notes`/resource `name`, ``@en`` to `title_en`/`notes_en`/`name_en`.
dct:publisher's name maps to `data_source` (the GDC "แหล่งที่มา"), the closest field we have.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from schemas import dcat_vocab as vocab_iri
from schemas import vocab
from schemas.ckan import (
    clean_dataset,
    clean_resource,
    date_text,
    format_from,
    harvest_name,
    license_fields,
    media_type_of,
    parse_datetime,
)
from schemas.dcat_vocab import ADMS, GDC, GSP, LICENCES, SPDX
from schemas.fields import SLUG_RE

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SCHEMA = Namespace("http://schema.org/")
# DCAT 3 terms rdflib's closed DCAT namespace does not list yet (it warns on each use).
DCAT3 = Namespace("http://www.w3.org/ns/dcat#")
IANA_MEDIA = "https://www.iana.org/assignments/media-types/"
#: The datatype of the skos:notation that carries a dataset's Khlang name (its URL slug), so a
#: harvesting catalogue can keep the name: ``adms:identifier [ skos:notation "x"^^gdc:name ]``.
KHLANG_NAME = GDC["name"]
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
        ("skos", SKOS),
        ("spdx", SPDX),
        ("gdc", GDC),
        ("geo", GSP),
        ("adms", ADMS),
        ("schema", SCHEMA),
    ):
        # replace: rdflib's default graph binds schema: to https://schema.org/ already.
        graph.bind(prefix, namespace, override=True, replace=True)
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


def _position(graph: Graph, node: Node) -> tuple[int, int]:
    """Sort key of a distribution: its schema:position when it has one, else after those."""
    found = graph.value(node, SCHEMA.position)
    text = str(found).strip() if isinstance(found, Literal) else ""
    return (0, int(text)) if text.isdigit() else (1, 0)


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
        **_gdc_values(graph, node, RESOURCE_GDC_FIELDS),
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


def _gdc_values(
    graph: Graph, node: Node, fields: tuple[tuple[str, str], ...] | None = None
) -> dict[str, Any]:
    """The GD Catalog fields a Khlang catalogue wrote in the `gdc:` namespace (a dataset's,
    or a distribution's with `RESOURCE_GDC_FIELDS`)."""
    out: dict[str, Any] = {}
    for field, _kind in GDC_FIELDS if fields is None else fields:
        values = [
            v for v in _sorted(graph.objects(node, gdc_property(field))) if isinstance(v, Literal)
        ]
        if not values:
            continue
        python = [v.toPython() for v in values]
        python = [p.isoformat() if hasattr(p, "isoformat") else p for p in python]
        out[field] = python if len(python) > 1 or field in _GDC_LISTS else python[0]
    return out


def khlang_name(graph: Graph, node: Node) -> str:
    """The dataset name a Khlang catalogue gave `node` (``adms:identifier`` with a
    ``gdc:name`` notation), when it is a valid name; else ""."""
    for identifier in _sorted(graph.objects(node, ADMS.identifier)):
        for notation in _sorted(graph.objects(identifier, SKOS.notation)):
            if (
                isinstance(notation, Literal)
                and notation.datatype == KHLANG_NAME
                and re.match(SLUG_RE, str(notation))
            ):
                return str(notation)
    return ""


def dataset_from_dcat(graph: Graph, node: Node) -> dict[str, Any]:
    """Map the dcat:Dataset `node` of `graph` to our dataset fields and ``resources``.

    ``name`` is the source's own when it gives one (`khlang_name`: a Khlang catalogue does),
    else derived from the remote id (`remote_id_of`); either is stable across harvests.
    Distributions keep the source's order when it gives their schema:position.
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
        "version": _value(graph, node, DCAT3.version) or _value(graph, node, OWL.versionInfo),
        "groups": [_code(str(t)).lower() for t in _sorted(graph.objects(node, DCAT.theme))],
        "language": _languages(graph, node),
        "access_rights": ACCESS_RIGHTS.get(rights, ""),
        "data_source": source,
        **_contact(graph, node),
        **_temporal(graph, node),
        **_licence(graph, node),
        **_gdc_values(graph, node),
    }
    dataset = clean_dataset(candidate)
    dataset["name"] = khlang_name(graph, node) or harvest_name(
        remote_id_of(graph, node) or str(node)
    )
    nodes = sorted(
        _sorted(graph.objects(node, DCAT.distribution)), key=lambda d: _position(graph, d)
    )
    parts = (_distribution(graph, d) for d in nodes)
    dataset["resources"] = [part for part in parts if part is not None]
    return dataset


# --- writing ----------------------------------------------------------------------------------

# Fields whose values are lists in our profile (multi-choice).
_GDC_LISTS = frozenset(
    {"objective", "data_format", "data_language", "disaggregate", "resource_disaggregate"}
)
# GD Catalog fields written in the Khlang namespace (GDC), with how their values are typed.
# Fields with a DCAT/DCT property (title, tags, licence, language, frequency...) are not here.
GDC_FIELDS: tuple[tuple[str, str], ...] = (
    ("fiscal_year", "year"),
    ("data_type", "th"),
    ("data_type_other", "th"),
    ("allow_harvest", "bool"),
    ("reference_url_catalog", "text"),
    ("objective", "th"),
    ("objective_other", "th"),
    ("update_frequency_unit", "th"),
    ("update_frequency_unit_other", "th"),
    ("update_frequency_interval", "int"),
    ("geo_coverage", "th"),
    ("geo_coverage_other", "th"),
    ("data_source", "th"),
    ("data_format", "text"),
    ("data_format_other", "th"),
    ("data_category", "th"),
    ("data_classification", "th"),
    ("accessible_condition", "th"),
    ("data_support", "th"),
    ("data_support_other", "th"),
    ("data_collect", "th"),
    ("data_collect_other", "th"),
    ("data_language", "th"),
    ("data_language_other", "th"),
    ("created_date", "date"),
    ("last_updated_date", "date"),
    ("data_release_calendar", "date"),
    ("first_year_of_data", "year"),
    ("last_year_of_data", "year"),
    ("disaggregate", "th"),
    ("disaggregate_other", "th"),
    ("unit_of_measure", "th"),
    ("unit_of_multiplier", "th"),
    ("unit_of_multiplier_other", "th"),
    ("calculation_method", "th"),
    ("standard", "th"),
    ("geographic_data_set", "th"),
    ("equivalent_scale", "text"),
    ("equivalent_scale_other", "th"),
    ("west_bound_longitude", "float"),
    ("east_bound_longitude", "float"),
    ("north_bound_longitude", "float"),
    ("south_bound_longitude", "float"),
    ("positional_accuracy", "th"),
    ("reference_period", "th"),
    ("data_release_date", "date"),
    ("high_value_dataset", "bool"),
    ("reference_data", "bool"),
    ("official_statistics", "bool"),
)
# A resource's GD Catalog fields (reference B.2), on its dcat:Distribution, the property named
# after the whole field (``resource_unit_of_measure`` -> ``gdc:resourceUnitOfMeasure``).
RESOURCE_GDC_FIELDS: tuple[tuple[str, str], ...] = (
    ("resource_accessible_condition", "th"),
    ("resource_data_collect", "th"),
    ("resource_data_collect_other", "th"),
    ("resource_first_year_of_data", "year"),
    ("resource_last_year_of_data", "year"),
    ("resource_disaggregate", "th"),
    ("resource_disaggregate_other", "th"),
    ("resource_unit_of_measure", "th"),
    ("resource_unit_of_multiplier", "th"),
    ("resource_unit_of_multiplier_other", "th"),
    ("resource_geographic_data_set", "th"),
    ("resource_equivalent_scale", "text"),
    ("resource_equivalent_scale_other", "th"),
    ("resource_positional_accuracy", "th"),
    ("resource_created_date", "date"),
    ("resource_last_updated_date", "date"),
    ("resource_data_release_calendar", "date"),
    ("resource_official_statistics", "bool"),
    ("resource_data_release_date", "date"),
    ("resource_cdp", "th"),
)
_DATATYPES = {
    "year": XSD.integer,
    "int": XSD.integer,
    "bool": XSD.boolean,
    "float": XSD.decimal,
    "date": XSD.date,
}


def gdc_property(field: str) -> URIRef:
    """The Khlang-namespace property of a GD Catalog field: ``data_type`` -> ``gdc:dataType``."""
    head, *rest = field.split("_")
    return GDC[head + "".join(part.capitalize() for part in rest)]


def _ref(text: str) -> URIRef | Literal:
    # rdflib writes any string as a URI; a URL with spaces would make invalid Turtle.
    if "://" in text and not any(c in text for c in ' <>"{}|\\^`'):
        return URIRef(text)
    return Literal(text)


def _iri(text: str) -> URIRef | None:
    """`text` as an IRI, percent-encoding what an IRI may not contain; None if not a URL."""
    text = text.strip()
    if "://" not in text:
        return None
    return URIRef(quote(text, safe=":/?#[]@!$&'()*+,;=%~-._"))


def _add_texts(graph: Graph, node: Node, prop: URIRef, th: Any, en: Any) -> None:
    if th:
        graph.add((node, prop, Literal(th, lang="th")))
    if en:
        graph.add((node, prop, Literal(en, lang="en")))


def _date(value: Any) -> Literal | None:
    text = date_text(value)
    return Literal(text, datatype=XSD.date) if text else None


def _datetime(value: Any) -> Literal | None:
    """An xsd:dateTime (UTC) of a date-time value or ISO text, else an xsd:date, else None."""
    parsed = parse_datetime(value) if isinstance(value, str) and "T" in value else value
    if isinstance(parsed, datetime):
        stamp = parsed.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()
        return Literal(stamp + "Z", datatype=XSD.dateTime)
    return _date(value)


def concept(graph: Graph, iri: URIRef, scheme: URIRef, label: str, *classes: URIRef) -> URIRef:
    """Describe a code-list value as DCAT-AP wants it without background knowledge: typed,
    a skos:Concept of its scheme, with a label."""
    for cls in (*classes, SKOS.Concept):
        graph.add((iri, RDF.type, cls))
    graph.add((iri, SKOS.inScheme, scheme))
    graph.add((iri, SKOS.prefLabel, Literal(label, lang="en")))
    return iri


def _eu(table: URIRef, code: str) -> URIRef:
    return URIRef(f"{table}/{code}")


def agent_to_dcat(organization: Mapping[str, Any], graph: Graph, base_url: str) -> URIRef:
    """An organisation (organization_dict) as a foaf:Agent, the publisher of its datasets."""
    node = URIRef(f"{base_url.rstrip('/')}/organization/{organization['name']}")
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, RDF.type, FOAF.Organization))
    _add_texts(graph, node, FOAF.name, organization.get("title"), organization.get("title_en"))
    if organization.get("website") and _iri(organization["website"]):
        graph.add((node, FOAF.homepage, _iri(organization["website"])))
    return node


def _licence_node(graph: Graph, dataset: Mapping[str, Any], base: str) -> Node | None:
    licence = vocab.find_license(str(dataset.get("license_id") or ""))
    if licence is None:
        return None
    code = LICENCES.get(licence.id)
    if code:
        node = _eu(vocab_iri.LICENCE, code)
    else:
        node = URIRef(licence.url or f"{base}/licenses/{licence.id}")
    graph.add((node, RDF.type, DCTERMS.LicenseDocument))
    title = licence.title
    if licence.id == vocab.OTHER_LICENSE and dataset.get("license_id_other"):
        title = dataset["license_id_other"]
    graph.add((node, DCTERMS.title, Literal(title)))
    if licence.url and code:
        graph.add((node, RDFS.seeAlso, URIRef(licence.url)))
    return node


def _format(graph: Graph, node: URIRef, fmt: str, media: str) -> None:
    code = vocab_iri.file_type(fmt) if fmt else None
    if code:
        graph.add((node, DCTERMS.format, _file_type(graph, code)))
    if media and re.fullmatch(r"[\w.+-]+/[\w.+-]+", media):
        media_node = URIRef(IANA_MEDIA + media)
        graph.add((node, DCAT.mediaType, media_node))
        graph.add((media_node, RDF.type, DCTERMS.MediaType))


def _file_type(graph: Graph, code: str) -> URIRef:
    return concept(
        graph, _eu(vocab_iri.FILE_TYPE, code), vocab_iri.FILE_TYPE, code, DCTERMS.MediaTypeOrExtent
    )


def _distribution_to_dcat(
    graph: Graph,
    res: Mapping[str, Any],
    dataset_node: URIRef,
    position: int,
    licence: Node | None,
) -> URIRef:
    node = URIRef(f"{dataset_node}/resource/{res.get('id') or position}")
    graph.add((dataset_node, DCAT.distribution, node))
    graph.add((node, RDF.type, DCAT.Distribution))
    _add_texts(graph, node, DCTERMS.title, res.get("name"), res.get("name_en"))
    if res.get("description"):
        graph.add((node, DCTERMS.description, Literal(res["description"], lang="th")))
    url = _iri(str(res.get("url") or ""))
    if url is not None:
        graph.add((node, DCAT.accessURL, url))
        if res.get("url_type") == "upload":
            graph.add((node, DCAT.downloadURL, url))
    fmt = str(res.get("format") or "")
    _format(graph, node, fmt, str(res.get("mimetype") or media_type_of(fmt)))
    if isinstance(res.get("size"), int):
        graph.add((node, DCAT.byteSize, Literal(res["size"], datatype=XSD.nonNegativeInteger)))
    digest = str(res.get("hash") or "")
    if digest.startswith("sha256:"):
        checksum = BNode()
        graph.add((node, SPDX.checksum, checksum))
        graph.add((checksum, RDF.type, SPDX.Checksum))
        # DCAT-AP's code-list shape wants the https form of SPDX's algorithm IRIs.
        algorithm = URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")
        graph.add((checksum, SPDX.algorithm, algorithm))
        graph.add((algorithm, RDF.type, SPDX.ChecksumAlgorithm))
        graph.add((checksum, SPDX.checksumValue, Literal(digest[7:], datatype=XSD.hexBinary)))
    if licence is not None:
        graph.add((node, DCTERMS.license, licence))
    modified = _datetime(res.get("last_modified"))
    if modified is not None:
        graph.add((node, DCTERMS.modified, modified))
    # DCAT has no order of distributions: their position (from 1) keeps the dataset's.
    graph.add((node, SCHEMA.position, Literal(position + 1, datatype=XSD.integer)))
    _gdc_fields(graph, node, res, RESOURCE_GDC_FIELDS)
    return node


def _gdc_fields(
    graph: Graph,
    node: URIRef,
    record: Mapping[str, Any],
    fields: tuple[tuple[str, str], ...] = GDC_FIELDS,
) -> None:
    """Write `record`'s GD Catalog `fields` in the Khlang namespace; a false flag is written
    too (only a missing value is left out, so "no" and "not given" stay apart)."""
    for field, kind in fields:
        value = record.get(field)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None or item == "" or (kind == "bool" and not isinstance(item, bool)):
                continue
            if kind == "th":
                literal = Literal(str(item), lang="th")
            elif kind == "text":
                literal = Literal(str(item))
            elif kind == "date":
                literal = _date(item)
            else:
                literal = Literal(item, datatype=_DATATYPES[kind])
            if literal is not None:
                graph.add((node, gdc_property(field), literal))


def _languages_to_dcat(graph: Graph, node: URIRef, dataset: Mapping[str, Any]) -> None:
    codes = [*(dataset.get("language") or []), *(dataset.get("data_language") or [])]
    for code in dict.fromkeys(vocab_iri.LANGUAGES.get(str(c)) for c in codes):
        if code:
            iri = _eu(vocab_iri.LANGUAGE, code)
            label = vocab_iri.LANGUAGE_LABELS[code]
            graph.add((node, DCTERMS.language, iri))
            concept(graph, iri, vocab_iri.LANGUAGE, label, DCTERMS.LinguisticSystem)


def _frequency_to_dcat(graph: Graph, node: URIRef, dataset: Mapping[str, Any]) -> None:
    interval = dataset.get("update_frequency_interval")
    code = vocab_iri.frequency(
        str(dataset.get("update_frequency_unit") or ""),
        interval if isinstance(interval, int) else None,
    )
    if code:
        iri = _eu(vocab_iri.FREQUENCY, code)
        graph.add((node, DCTERMS.accrualPeriodicity, iri))
        label = vocab_iri.FREQUENCY_LABELS[code]
        concept(graph, iri, vocab_iri.FREQUENCY, label, DCTERMS.Frequency)


def _access_rights(dataset: Mapping[str, Any]) -> str | None:
    given = vocab_iri.ACCESS_RIGHTS.get(str(dataset.get("access_rights") or ""))
    if given:
        return given
    # Not given: a public, published dataset of the public data category is PUBLIC.
    public = dataset.get("data_category") == vocab.PUBLIC_CATEGORY and not dataset.get("private")
    return "PUBLIC" if public and dataset.get("state", "published") == "published" else None


def _bbox(dataset: Mapping[str, Any]) -> str | None:
    bounds = [dataset.get(f"{side}_bound_longitude") for side in ("west", "east", "north", "south")]
    if any(not isinstance(b, int | float) for b in bounds):
        return None
    west, east, north, south = bounds
    ring = f"{west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}"
    return f"POLYGON(({ring}))"


def series_iri(base_url: str, key: str) -> URIRef:
    """The IRI of the dataset series `key` (see catalog.services.feeds)."""
    return URIRef(f"{base_url.rstrip('/')}/dataset-series/{key}")


def series_to_dcat(series: Mapping[str, Any], graph: Graph, base_url: str) -> URIRef:
    """Add a dcat:DatasetSeries: ``key``, ``title``/``title_en`` (the members' title without
    the year), ``organization`` (an organization_dict) and ``fiscal_years``."""
    node = series_iri(base_url, series["key"])
    graph.add((node, RDF.type, DCAT3.DatasetSeries))
    _add_texts(graph, node, DCTERMS.title, series.get("title"), series.get("title_en"))
    years = sorted(series.get("fiscal_years") or [])
    span = f"{years[0]}-{years[-1]}" if years else ""
    _add_texts(
        graph,
        node,
        DCTERMS.description,
        f"ชุดข้อมูลที่เผยแพร่ทุกปีงบประมาณ (พ.ศ. {span})",
        f"Datasets published every fiscal year (BE {span})",
    )
    organization = series.get("organization")
    if isinstance(organization, Mapping):
        graph.add((node, DCTERMS.publisher, agent_to_dcat(organization, graph, base_url)))
    iri = _eu(vocab_iri.FREQUENCY, "ANNUAL")
    graph.add((node, DCTERMS.accrualPeriodicity, iri))
    concept(graph, iri, vocab_iri.FREQUENCY, "annual", DCTERMS.Frequency)
    return node


def dataset_to_dcat(
    dataset: Mapping[str, Any],
    graph: Graph,
    base_url: str,
    *,
    series: Mapping[str, Any] | None = None,
) -> URIRef:
    """Add `dataset` (a dataset dict, e.g. package_show's) to `graph` as a DCAT-AP 3 dcat:Dataset.

    The node is ``<base_url>/dataset/<id or name>``; returns it. Every object it refers to is
    typed (publisher, contact point, licence, distributions, code-list values), so the output
    validates against the DCAT-AP shapes without the vocabularies loaded. GD Catalog fields
    without a DCAT property go in the Khlang namespace (`GDC_FIELDS`). With `series` (see
    `series_to_dcat`) the dataset is dcat:inSeries of it; the series itself is not added.
    """
    base = base_url.rstrip("/")
    key = dataset.get("id") or dataset["name"]
    node = URIRef(f"{base}/dataset/{key}")
    bind_prefixes(graph)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(str(key))))
    name = dataset.get("name")
    if isinstance(name, str) and re.match(SLUG_RE, name):
        # The IRI carries the id; the name (the dataset's URL on the site) is an identifier too.
        identifier = BNode()
        graph.add((node, ADMS.identifier, identifier))
        graph.add((identifier, RDF.type, ADMS.Identifier))
        graph.add((identifier, SKOS.notation, Literal(name, datatype=KHLANG_NAME)))
    _add_texts(graph, node, DCTERMS.title, dataset.get("title"), dataset.get("title_en"))
    # dct:description is mandatory in DCAT-AP; the title stands in when there are no notes.
    notes = dataset.get("notes") or ("" if dataset.get("notes_en") else dataset.get("title"))
    _add_texts(graph, node, DCTERMS.description, notes, dataset.get("notes_en"))
    for tag in dataset.get("tags") or []:
        graph.add((node, DCAT.keyword, Literal(tag["name"] if isinstance(tag, Mapping) else tag)))
    issued = _date(dataset.get("issued"))
    if issued is not None:
        graph.add((node, DCTERMS.issued, issued))
    modified = _date(dataset.get("modified")) or _datetime(dataset.get("metadata_modified"))
    if modified is not None:
        graph.add((node, DCTERMS.modified, modified))
    landing = _iri(str(dataset.get("url") or ""))
    if landing is not None:
        graph.add((node, DCAT.landingPage, landing))
        graph.add((landing, RDF.type, FOAF.Document))
    if dataset.get("version"):
        graph.add((node, DCAT3.version, Literal(dataset["version"])))
    if dataset.get("maintainer") or dataset.get("maintainer_email"):
        contact = BNode()
        graph.add((node, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Kind))
        graph.add((contact, RDF.type, VCARD.Organization))
        if dataset.get("maintainer"):
            graph.add((contact, VCARD.fn, Literal(dataset["maintainer"])))
        if dataset.get("maintainer_email"):
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset['maintainer_email']}")))
    organization = dataset.get("organization")
    if isinstance(organization, Mapping) and organization.get("name"):
        graph.add((node, DCTERMS.publisher, agent_to_dcat(organization, graph, base)))
    elif dataset.get("data_source"):
        agent = BNode()
        graph.add((node, DCTERMS.publisher, agent))
        graph.add((agent, RDF.type, FOAF.Agent))
        graph.add((agent, FOAF.name, Literal(dataset["data_source"], lang="th")))
    licence = _licence_node(graph, dataset, base)
    if licence is not None:
        graph.add((node, DCTERMS.license, licence))
    rights = _access_rights(dataset)
    if rights:
        iri = _eu(vocab_iri.ACCESS_RIGHT, rights)
        graph.add((node, DCTERMS.accessRights, iri))
        label = vocab_iri.ACCESS_RIGHT_LABELS[rights]
        concept(graph, iri, vocab_iri.ACCESS_RIGHT, label, DCTERMS.RightsStatement)
    _languages_to_dcat(graph, node, dataset)
    _frequency_to_dcat(graph, node, dataset)
    start, end = _date(dataset.get("temporal_start")), _date(dataset.get("temporal_end"))
    if start is not None or end is not None:
        period = BNode()
        graph.add((node, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if start is not None:
            graph.add((period, DCAT.startDate, start))
        if end is not None:
            graph.add((period, DCAT.endDate, end))
    bbox = _bbox(dataset)
    if bbox:
        place = BNode()
        graph.add((node, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, DCAT.bbox, Literal(bbox, datatype=GSP.wktLiteral)))
    for group in dataset.get("groups") or []:
        name = group.get("name") if isinstance(group, Mapping) else group
        theme = URIRef(f"{base}/group/{name}")
        graph.add((node, DCAT.theme, theme))
        graph.add((theme, RDF.type, SKOS.Concept))
        title = group.get("title") if isinstance(group, Mapping) else None
        graph.add((theme, SKOS.prefLabel, Literal(title or name, lang="th" if title else None)))
        if isinstance(group, Mapping) and group.get("title_en"):
            graph.add((theme, SKOS.prefLabel, Literal(group["title_en"], lang="en")))
    if series is not None:
        graph.add((node, DCAT3.inSeries, series_iri(base, series["key"])))
    _gdc_fields(graph, node, dataset)
    for position, res in enumerate(dataset.get("resources") or []):
        _distribution_to_dcat(graph, res, node, position, licence)
    return node


def catalog_to_dcat(
    graph: Graph,
    base_url: str,
    *,
    title_th: str,
    title_en: str,
    modified: datetime | None = None,
) -> URIRef:
    """Add the dcat:Catalog node of this site (``<base_url>/catalog``) and return it.

    The catalogue's publisher is the site itself (an agent named by the site title), since a
    Khlang site gathers datasets of many agencies.
    """
    base = base_url.rstrip("/")
    node = URIRef(f"{base}/catalog")
    bind_prefixes(graph)
    graph.add((node, RDF.type, DCAT.Catalog))
    _add_texts(graph, node, DCTERMS.title, title_th, title_en)
    _add_texts(
        graph,
        node,
        DCTERMS.description,
        f"แคตตาล็อกข้อมูลเปิดของหน่วยงานภาครัฐ ({title_th})",
        f"Open data catalogue of Thai public agencies ({title_en})",
    )
    publisher = URIRef(f"{base}/#publisher")
    graph.add((node, DCTERMS.publisher, publisher))
    graph.add((publisher, RDF.type, FOAF.Agent))
    _add_texts(graph, publisher, FOAF.name, title_th, title_en)
    homepage = URIRef(f"{base}/")
    graph.add((node, FOAF.homepage, homepage))
    graph.add((homepage, RDF.type, FOAF.Document))
    for code, label in (("THA", "Thai"), ("ENG", "English")):
        iri = _eu(vocab_iri.LANGUAGE, code)
        graph.add((node, DCTERMS.language, iri))
        concept(graph, iri, vocab_iri.LANGUAGE, label, DCTERMS.LinguisticSystem)
    if modified is not None:
        stamp = _datetime(modified)
        if stamp is not None:
            graph.add((node, DCTERMS.modified, stamp))
    return node


def hydra_view(
    graph: Graph,
    collection: URIRef,
    *,
    page_url: str,
    total: int,
    first: str,
    last: str,
    next_url: str | None,
    previous: str | None,
) -> URIRef:
    """Describe one page of the catalogue as a hydra:PartialCollectionView of `collection`."""
    view = URIRef(page_url)
    graph.add((collection, HYDRA.view, view))
    graph.add((collection, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    graph.add((view, HYDRA.first, URIRef(first)))
    graph.add((view, HYDRA.last, URIRef(last)))
    if next_url:
        graph.add((view, HYDRA.next, URIRef(next_url)))
    if previous:
        graph.add((view, HYDRA.previous, URIRef(previous)))
    return view
