"""Shared by the feed tests: the conformance files, a SHACL check and a catalogue with every
kind of dataset that must or must not appear in a public feed."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.namespace import SH

from catalog import services
from catalog.services import Context
from tests.factories import make_dataset, make_org

# ../shared beside the repository (the conformance files are not part of Khlang).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "conformance"
# The DCAT-AP 3.0.1 validation without background knowledge: existence and cardinality
# (shapes.ttl), class ranges (range.ttl), EU code lists (mdr-vocabularies.shape.ttl) and the
# generated individual constraints (dcat-ap-SHACL.ttl). imports.ttl / mdr_imports.ttl only
# import remote ontologies and code lists, which is why the output types every object itself.
DCAT_AP_SHAPES = ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl", "dcat-ap-SHACL.ttl")


@cache
def dcat_ap_shapes() -> Graph:
    """The DCAT-AP shapes graph, parsed once per test session."""
    graph = Graph()
    for name in DCAT_AP_SHAPES:
        graph.parse(SHARED / "dcat-ap" / name, format="turtle")
    return graph


def shacl_violations(data: Graph) -> list[tuple[str, str, str]]:
    """(focus node, path, message) of every sh:Violation of `data` against DCAT-AP."""
    from pyshacl import validate

    _, report, _ = validate(
        data, shacl_graph=dcat_ap_shapes(), inference="none", allow_warnings=True
    )
    found = []
    # Only the report's own results: nested sh:detail results explain a warning's cause.
    for result in report.objects(None, SH.result):
        if report.value(result, SH.resultSeverity) == SH.Violation:
            found.append(
                (
                    str(report.value(result, SH.focusNode)),
                    str(report.value(result, SH.resultPath)),
                    str(report.value(result, SH.resultMessage)),
                )
            )
    return found


def hidden_and_shown(system: Context) -> dict[str, Any]:
    """An organisation with a public dataset (with a public and a private file), a Thai-only
    dataset without resources, and a private, a draft and a withdrawn dataset."""
    make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน", title_en="Ban Suan Town")
    shown = make_dataset(system, "ban-suan", name="ban-suan-budget-2567")
    services.resource_create(
        system,
        {"package_id": shown["name"], "name": "ไฟล์งบประมาณ"},
        io.BytesIO("รายการ,จำนวนเงิน\nค่าจ้าง,1000\n".encode()),
        "งบประมาณ.csv",
    )
    secret_file = services.resource_create(
        system,
        {"package_id": shown["name"], "name": "ไฟล์ภายในลับเฉพาะ", "private": True},
        io.BytesIO(b"a,b\n1,2\n"),
        "secret-file.csv",
    )
    thai_only = make_dataset(
        system,
        "ban-suan",
        name="ban-suan-roads",
        title="ทะเบียนถนนในเขตเทศบาล",
        title_en="",
        notes="ถนนทุกสายในเขตเทศบาล",
        fiscal_year=None,
    )
    hidden = {
        "private": make_dataset(system, "ban-suan", name="secret-private", private=True),
        "draft": make_dataset(system, "ban-suan", name="secret-draft", state="draft"),
        "withdrawn": make_dataset(system, "ban-suan", name="secret-withdrawn", state="withdrawn"),
    }
    return {"shown": shown, "thai_only": thai_only, "hidden": hidden, "secret_file": secret_file}


def hidden_markers(data: dict[str, Any]) -> list[str]:
    """Texts that must not appear in any public feed: names and ids of hidden datasets and of
    the private file."""
    markers = [data["secret_file"]["id"], "secret-file", "ไฟล์ภายในลับเฉพาะ"]
    for ds in data["hidden"].values():
        markers += [ds["id"], ds["name"]]
    return markers
