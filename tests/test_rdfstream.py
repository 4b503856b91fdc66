"""The streamed RDF writers (web/api/rdfstream.py) against hostile values: every format parses
back with rdflib to exactly the triples the mappers made, and still conforms to DCAT-AP."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

from schemas.dcat import dataset_to_dcat
from tests.feeds_support import shacl_violations
from web.api.rdfstream import FORMATS, Triples, serialise

BASE = "https://khlang.example.go.th"
# Text a publisher may type: Turtle's long-string quotes and escapes, XML's markup and CDATA
# end, JSON's escapes, line breaks and Thai with stacked combining marks (ปู่ น้ำ กี่ ฯลฯ).
HOSTILE = [
    'งบประมาณ """ปี""" 2567',
    'ends with a quote "',
    "back\\slash \\n \\u0041 \\",
    "a > b < c & d; ]]> <![CDATA[x]]>",
    "<script>alert('x')</script>",
    "หลาย\nบรรทัด\n\n  ย่อหน้า\tแท็บ",
    "ปู่ย่าตายายน้ำท่วมที่กี่ปี ฯลฯ ๑๒๓ ก็ได้ ฤๅ ฦๅ ั้ ิ์",
    '{"@id": "x", "@context": null} @en ^^xsd:string',
]
# A URL as typed: spaces, Thai, and characters an IRI may not hold.
UNSAFE_URL = 'https://data.example.go.th/ข้อมูล ปี 2567/<a>"b"{c}|d^e`f\\g?q=ก ข#frag ment'


def hostile_dataset() -> dict:
    return {
        "id": "0d2c9e8a-61f4-4a57-9b8e-3c5d7f9a1b2c",
        "name": "hostile-values",
        "title": HOSTILE[0],
        "title_en": HOSTILE[1],
        "notes": "\n".join(HOSTILE),
        "notes_en": HOSTILE[2],
        "tags": [{"name": text} for text in HOSTILE[3:6]],
        "url": UNSAFE_URL,
        "version": HOSTILE[7],
        "maintainer": HOSTILE[4],
        "maintainer_email": "data@example.go.th",
        "license_id": "cc-by",
        "data_category": "ข้อมูลสาธารณะ",
        "unit_of_measure": HOSTILE[6],
        "calculation_method": HOSTILE[3],
        "official_statistics": False,
        "organization": {"name": "ban-suan", "title": HOSTILE[6], "website": UNSAFE_URL},
        "resources": [
            {
                "id": "5a1b",
                "name": HOSTILE[3],
                "name_en": HOSTILE[0],
                "description": HOSTILE[5],
                "url": UNSAFE_URL,
                "format": "CSV",
                "resource_unit_of_measure": HOSTILE[2],
            },
            {"id": "6c2d", "name": HOSTILE[4], "url": "https://example.go.th/x", "format": "PDF"},
        ],
    }


def literals(graph: Graph) -> set[Literal]:
    return {o for o in graph.objects() if isinstance(o, Literal)}


def parsed(fmt: str, triples: Triples) -> Graph:
    body = "".join(serialise(fmt, [triples]))
    return Graph().parse(data=body, format=FORMATS[fmt][0])


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib.*")
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_hostile_values_come_back_exactly_and_conform(fmt: str) -> None:
    triples = Triples()
    node = dataset_to_dcat(hostile_dataset(), triples, BASE)
    expected = Graph()
    for triple in triples:
        expected.add(triple)

    graph = parsed(fmt, triples)

    assert isomorphic(graph, expected)
    assert literals(graph) == literals(expected)
    titles = {str(t) for t in graph.objects(node, DCTERMS.title)}
    assert titles == {HOSTILE[0], HOSTILE[1]}
    # The typed URL is percent-encoded once by the mapper, the same IRI in every format.
    (landing,) = graph.objects(node, DCAT.landingPage)
    assert " " not in landing and "<" not in landing and landing.startswith("https://")
    assert shacl_violations(graph) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib.*")
def test_an_iri_rdflib_refuses_is_percent_encoded_alike_in_every_format() -> None:
    triples = Triples()
    subject = URIRef("https://example.go.th/dataset/a b")
    triples.add((subject, RDF.type, DCAT.Dataset))
    triples.add((subject, DCAT.landingPage, URIRef(UNSAFE_URL)))
    triples.add((subject, DCTERMS.title, Literal(HOSTILE[0], lang="th")))
    triples.add((subject, DCTERMS.temporal, BNode()))

    graphs = {fmt: parsed(fmt, triples) for fmt in FORMATS}

    assert isomorphic(graphs["ttl"], graphs["jsonld"]) and isomorphic(graphs["ttl"], graphs["rdf"])
    (landing,) = graphs["ttl"].objects(None, DCAT.landingPage)
    assert str(landing).startswith("https://data.example.go.th/%E0%B8%82") and " " not in landing
    assert set(graphs["rdf"].subjects(RDF.type, DCAT.Dataset)) == {
        URIRef("https://example.go.th/dataset/a%20b")
    }
