"""Federation: a second Khlang harvests the first over HTTP and ends with the same catalogue.

Both instances run: the first (the source) is the usual `catalog` fixture with the demo
catalogue and a dataset of several files; the second is another catalogue on its own folder
and database, served on its own port. The second harvests through its own services with a
YAML config pointing at the first's URL: once through the CKAN Action API, once (on a fresh
second instance) through the DCAT catalogue. Everything between the two goes over HTTP.

The second instance always runs on SQLite (a copy of the migrated template): what differs
between the database backends is the serving side (package_search's filters and sort, the
feeds), which the first instance exercises on both; the second only writes through the
harvest service, whose backends are covered by tests/test_catalog_harvest.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from catalog import services
from catalog.demo import load_demo
from catalog.models import Dataset
from catalog.services import Catalog, Context
from catalog.services.harvest import harvest_report, harvest_run
from catalog.services.organizations import ORG_FIELDS  # what organization_create takes
from catalog.settings import load_settings
from harvesters.config import load_config
from tests.factories import dataset_data
from tests.servers import wsgi_server
from web import create_app

# The dataset of our own next to the demo: several files of different kinds (a cp874 CSV as
# saved by Excel on Thai Windows, a binary PDF) and a link, so the bytes must survive as is.
MULTI_FILE = "tharawadi-city-procurement-2568"
CSV_CP874 = (
    "ลำดับ,รายการจัดซื้อจัดจ้าง,วงเงิน (บาท),วิธีจัดหา\r\n"
    '๑,จัดซื้อครุภัณฑ์คอมพิวเตอร์,"450,000",เฉพาะเจาะจง\r\n'
    '๒,จ้างก่อสร้างถนนคอนกรีตเสริมเหล็ก หมู่ ๓,"2,350,000.50",e-bidding\r\n'
).encode("cp874")
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + bytes(
    range(256)
)

# Fields of our profile that must arrive as they are, by either route.
PROFILE_FIELDS = (
    "title",
    "title_en",
    "notes",
    "notes_en",
    "license_id",
    "license_id_other",
    "maintainer",
    "maintainer_email",
    "author",
    "author_email",
    "url",
    "version",
    "issued",
    "modified",
    "language",
    "temporal_start",
    "temporal_end",
    "fiscal_year",
    "data_type",
    "data_type_other",
    "data_category",
    "data_classification",
    "objective",
    "objective_other",
    "update_frequency_unit",
    "update_frequency_interval",
    "geo_coverage",
    "data_source",
    "data_format",
    "data_language",
    "data_support",
    "data_collect",
    "created_date",
    "last_updated_date",
    "data_release_calendar",
    "first_year_of_data",
    "last_year_of_data",
    "disaggregate",
    "disaggregate_other",
    "unit_of_measure",
    "unit_of_multiplier",
    "calculation_method",
    "standard",
    "high_value_dataset",
    "official_statistics",
    "allow_harvest",
)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def action(base: str, name: str, **params: Any) -> Any:
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    body = get_json(f"{base}/api/3/action/{name}?{query}")
    assert body["success"] is True, body
    return body["result"]


def sha256_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return hashlib.sha256(response.read()).hexdigest()


# --- the two instances --------------------------------------------------------------------


@dataclass
class Instance:
    catalog: Catalog
    url: str

    @property
    def system(self) -> Context:
        return Context(self.catalog, system=True, lang="en")


@contextmanager
def serving(catalog: Catalog) -> Iterator[str]:
    with wsgi_server(create_app(catalog.settings, catalog=catalog)) as url:
        yield url


@pytest.fixture
def first(catalog: Catalog, system: Context) -> Iterator[Instance]:
    """The source: the demo catalogue (with a draft and a private dataset) and one dataset of
    several files, served over HTTP."""
    load_demo(system)
    services.package_create(
        system,
        dataset_data(
            "tharawadi-city",
            name=MULTI_FILE,
            title="รายการจัดซื้อจัดจ้าง ปีงบประมาณ พ.ศ. 2568 เทศบาลนครธาราวดี",
            title_en="Tharawadi City procurement list, fiscal year BE 2568",
            tags=["จัดซื้อจัดจ้าง", "ความโปร่งใส"],
            data_format=["CSV", "PDF"],
            fiscal_year=2568,
        ),
    )
    for name, fmt, body, filename in (
        ("รายการจัดซื้อจัดจ้าง (CSV)", "CSV", CSV_CP874, "procurement_2568.csv"),
        ("ประกาศผู้ชนะการเสนอราคา (PDF)", "PDF", PDF_BYTES, "winners_2568.pdf"),
    ):
        services.resource_create(
            system,
            {"package_id": MULTI_FILE, "name": name, "format": fmt},
            upload=io.BytesIO(body),
            filename=filename,
        )
    services.resource_create(
        system,
        {
            "package_id": MULTI_FILE,
            "name": "ระบบจัดซื้อจัดจ้างภาครัฐ",
            "format": "HTML",
            "url": "https://procurement.example.go.th/tharawadi-city",
        },
    )
    with serving(catalog) as url:
        yield Instance(catalog, url)


@pytest.fixture
def second(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Instance]:
    """A fresh second Khlang on its own folder and SQLite database, served over HTTP."""
    folder = tmp_path_factory.mktemp("second")
    shutil.copyfile(sqlite_template, folder / "khlang.db")
    settings = load_settings(
        overrides={
            "DATA_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'khlang.db'}",
            "SECRET_KEY": "khlang-second-secret",
        },
        environ={},
        config_file=None,
    )
    catalog = Catalog.open(settings)
    try:
        with serving(catalog) as url:
            yield Instance(catalog, url)
    finally:
        catalog.close()


def mirror_organisations(source: Instance, target: Instance) -> list[str]:
    """Create the source's organisations and groups on the target (a federation's setup step:
    the harvest config names the organisation that owns what it brings)."""
    orgs = action(source.url, "organization_list", all_fields="true")
    for org in orgs:
        services.organization_create(
            target.system,
            {k: org[k] for k in ORG_FIELDS if org.get(k) not in (None, "")},
        )
    for group in action(source.url, "group_list", all_fields="true"):
        keep = ("name", "title", "title_en", "description", "description_en", "family")
        services.group_create(
            target.system, {k: group[k] for k in keep if group.get(k) not in (None, "")}
        )
    return [org["name"] for org in orgs]


def harvest_config(folder: Path, org: str, source: str, groups: list[str]) -> Path:
    path = folder / f"{org}.yaml"
    path.write_text(
        f"organization: {org}\n"
        "delete_missing: true\n"
        "sources:\n"
        f"{source}"
        f"    groups: {{{', '.join(f'{g}: {g}' for g in groups)}}}\n",
        encoding="utf-8",
    )
    return path


def ckan_source(first: Instance, org: str, *, incremental: bool) -> str:
    return (
        f"  - id: khlang-{org}\n"
        "    kind: ckan\n"
        f"    url: {first.url}\n"
        f"    organization: {org}\n"
        "    fetch_files: uploads\n"
        f"    incremental: {str(incremental).lower()}\n"
        "    rows: 2\n"  # several pages, so paging is part of the round trip
    )


def dcat_source(first: Instance, org: str, fmt: str) -> str:
    return (
        f"  - id: khlang-dcat-{org}\n"
        "    kind: dcat\n"
        f"    url: {first.url}/catalog.{fmt}?organization={org}\n"
        "    fetch_files: uploads\n"
    )


def counts(summaries: list[dict[str, Any]]) -> dict[str, int]:
    """The outcomes of all jobs added up (created, updated, unchanged...)."""
    total: dict[str, int] = {}
    for summary in summaries:
        for status, n in summary["counts"].items():
            total[status] = total.get(status, 0) + n
    return total


def run_all(target: Instance, configs: list[Path]) -> list[dict[str, Any]]:
    summaries = []
    for path in configs:
        summaries.extend(harvest_run(target.system, load_config(path)))
    return summaries


def failures(target: Instance, summaries: list[dict[str, Any]]) -> list[Any]:
    out = []
    for summary in summaries:
        if summary["status"] != "done" or summary["counts"].get("failed"):
            report = harvest_report(target.system, summary["id"])
            out.append(
                (
                    summary["source"],
                    summary["errors"],
                    [(o["remote_id"], o["errors"]) for o in report["objects"] if o["errors"]],
                )
            )
    return out


# --- comparing the two catalogues ---------------------------------------------------------


def public_packages(instance: Instance) -> list[dict[str, Any]]:
    found = action(instance.url, "package_search", q="*:*", rows=1000)
    assert found["count"] == len(found["results"])
    return found["results"]


def profile(pkg: dict[str, Any]) -> dict[str, Any]:
    return {field: pkg.get(field) for field in PROFILE_FIELDS if pkg.get(field) not in (None, "")}


def published_profile(pkg: dict[str, Any]) -> dict[str, Any]:
    """`profile` as the first publishes it: without a `modified` of its own, a dataset's
    dct:modified (and CKAN's metadata_modified) is the day its record last changed, and that
    is what a harvester keeps."""
    out = profile(pkg)
    out.setdefault("modified", pkg["metadata_modified"][:10])
    return out


def tags(pkg: dict[str, Any]) -> set[str]:
    return {t["name"] for t in pkg["tags"]}


def resource_profile(res: dict[str, Any]) -> dict[str, Any]:
    """A resource's metadata as its page shows it: names, description, format, GDC fields."""
    keys = ("name", "name_en", "description", "format")
    return {
        k: v
        for k, v in res.items()
        if (k in keys or k.startswith("resource_")) and v not in (None, "", [])
    }


# Values of these fields are a set in RDF (a repeated property), so DCAT cannot keep their order.
LIST_FIELDS = ("objective", "data_format", "data_language", "disaggregate", "language")


def differences(
    first: Instance, second: Instance, *, by: str, ordered: bool = True
) -> list[tuple[str, str, Any]]:
    """What differs between the public datasets of the two: (dataset, what, (first, second)).

    Every public dataset of the first must be on the second with the same metadata, resources
    and bytes (downloaded from the second's own URLs), and nothing else may be there.

    :param by: the key that pairs datasets: ``name`` (CKAN keeps it) or ``title``.
    :param ordered: compare the order of list values too (see `LIST_FIELDS`); the order of
        resources is always compared.
    """
    ours = {p[by]: p for p in public_packages(first)}
    theirs = {p[by]: p for p in public_packages(second)}
    if sorted(theirs) != sorted(ours):
        return [("*", "datasets", (sorted(ours), sorted(theirs)))]
    found: list[tuple[str, str, Any]] = []

    def compare(key: str, what: str, a: Any, b: Any) -> None:
        if a != b:
            found.append((key, what, (a, b)))

    for key, pkg in ours.items():
        copy = action(second.url, "package_show", id=theirs[key]["id"])
        compare(key, "organization", pkg["organization"]["name"], copy["organization"]["name"])
        mine, its = published_profile(pkg), profile(copy)
        for field in sorted(set(mine) | set(its)):
            a, b = mine.get(field), its.get(field)
            if not ordered and field in LIST_FIELDS and isinstance(a, list):
                a, b = sorted(a), sorted(b or [])
            compare(key, field, a, b)
        compare(key, "tags", tags(pkg), tags(copy))
        compare(
            key, "groups", {g["name"] for g in pkg["groups"]}, {g["name"] for g in copy["groups"]}
        )
        copies = {r["name"]: r for r in copy["resources"]}
        compare(key, "resources", sorted(copies), sorted(r["name"] for r in pkg["resources"]))
        compare(key, "resource order", resource_order(pkg), resource_order(copy))
        for res in pkg["resources"]:
            copied = copies.get(res["name"])
            if copied is None:
                continue
            compare(key, res["name"], resource_profile(res), resource_profile(copied))
            if res.get("url_type") == "upload":
                # The second serves the file itself, from its own host, byte for byte.
                compare(key, "served by", second.url, copied["url"][: len(second.url)])
                compare(
                    key, f"sha256 of {res['name']}", sha256_of(res["url"]), sha256_of(copied["url"])
                )
            else:
                compare(key, f"url of {res['name']}", res["url"], copied["url"])
    return found


def resource_order(pkg: dict[str, Any]) -> list[str]:
    return [r["name"] for r in pkg["resources"]]


def all_datasets(instance: Instance) -> dict[str, str]:
    """Name -> title of every dataset the instance holds, whatever its state or visibility."""
    with instance.catalog.reader() as session:
        return dict(session.execute(select(Dataset.name, Dataset.title)).all())


def hidden(first: Instance) -> dict[str, str]:
    """The first's datasets that are not public (the demo's draft and private dataset)."""
    public = {p["name"] for p in public_packages(first)}
    found = {k: v for k, v in all_datasets(first).items() if k not in public}
    assert len(found) >= 2, "the demo should hold a draft and a private dataset"
    return found


# --- the tests ----------------------------------------------------------------------------


def test_second_khlang_harvests_the_first_through_the_ckan_api(
    first: Instance, second: Instance, tmp_path: Path
) -> None:
    groups = [g["name"] for g in action(first.url, "group_list", all_fields="true")]
    orgs = mirror_organisations(first, second)

    def configs(incremental: bool) -> list[Path]:
        return [
            harvest_config(tmp_path, org, ckan_source(first, org, incremental=incremental), groups)
            for org in orgs
        ]

    public = len(public_packages(first))
    summaries = run_all(second, configs(incremental=False))
    assert failures(second, summaries) == []
    assert counts(summaries) == {"created": public}
    assert differences(first, second, by="name") == []
    assert not set(all_datasets(second)) & set(hidden(first))

    # A full second run finds every dataset unchanged and publishes nothing.
    again = run_all(second, configs(incremental=False))
    assert failures(second, again) == []
    assert counts(again) == {"unchanged": public}
    assert differences(first, second, by="name") == []

    # An edit on the first is picked up by an incremental run, which asks only for what
    # changed since the last run (metadata_modified), so nothing else is even listed.
    services.package_patch(
        first.system,
        MULTI_FILE,
        {"notes": "ปรับปรุงรายการจัดซื้อจัดจ้าง ไตรมาสที่ 2", "tags": ["จัดซื้อจัดจ้าง", "ไตรมาส 2"]},
    )
    changed = run_all(second, configs(incremental=True))
    assert failures(second, changed) == []
    assert counts(changed) == {"updated": 1}
    copy = services.package_show(second.system, MULTI_FILE)
    assert copy["notes"] == "ปรับปรุงรายการจัดซื้อจัดจ้าง ไตรมาสที่ 2"
    assert differences(first, second, by="name") == []


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "rdf"])
def test_second_khlang_harvests_the_first_through_dcat(
    first: Instance, second: Instance, tmp_path: Path, fmt: str
) -> None:
    groups = [g["name"] for g in action(first.url, "group_list", all_fields="true")]
    configs = [
        harvest_config(tmp_path, org, dcat_source(first, org, fmt), groups)
        for org in mirror_organisations(first, second)
    ]

    summaries = run_all(second, configs)
    assert failures(second, summaries) == []
    public = len(public_packages(first))
    assert counts(summaries) == {"created": public}
    # Paired by name: the documents carry each dataset's name (adms:identifier), false GD
    # Catalog flags, resources' GD Catalog fields and the order of distributions
    # (schema:position); only the order of a multi-valued field's values is an RDF set.
    assert differences(first, second, by="name", ordered=False) == []
    assert not set(all_datasets(second)) & set(hidden(first))

    again = run_all(second, configs)
    assert failures(second, again) == []
    assert counts(again) == {"unchanged": public}
    assert differences(first, second, by="name", ordered=False) == []
