"""The demo catalogue (`khlang demo`): it loads through the services, twice without duplicates."""

from __future__ import annotations

import csv
import io
import re

import pytest

from catalog import services
from catalog.demo import FILES_DIR, demo_file, load_demo, read_catalogue
from catalog.services import Catalog, Context, NotAuthorized, NotFound

REQUIRED_GDC = (
    "data_type",
    "title",
    "maintainer",
    "maintainer_email",
    "tags",
    "notes",
    "objective",
    "update_frequency_unit",
    "geo_coverage",
    "data_source",
    "data_format",
    "data_category",
    "license_id",
    "owner_org",
    "name",
)
PRIVATE = "local-internal-audit-findings"
DRAFT = "thung-dao-rueang-regulations"


@pytest.fixture
def demo(catalog: Catalog) -> tuple[Context, dict[str, int]]:
    """A catalogue with the demo loaded once, and what that load created."""
    ctx = Context(catalog, system=True, lang="en")
    return ctx, load_demo(ctx)


def test_every_demo_entry_loads(demo: tuple[Context, dict[str, int]]) -> None:
    ctx, counts = demo
    spec = read_catalogue()
    assert counts == {
        "organizations": 7,
        "groups": 4,
        "users": 1,
        "members": 1,
        "datasets": 15,
        "resources": 15,
    }
    assert len(spec["datasets"]) == counts["datasets"]
    for entry in spec["datasets"]:
        shown = services.package_show(ctx, entry["name"])
        assert shown["title"] == entry["title"]
        assert [r["name"] for r in shown["resources"]] == [r["name"] for r in entry["resources"]]
        missing = [f for f in REQUIRED_GDC if not shown.get(f)]
        assert missing == [], entry["name"]
    assert sorted(services.group_list(ctx)) == sorted(g["name"] for g in spec["groups"])


def test_organisations_form_a_hierarchy(demo: tuple[Context, dict[str, int]]) -> None:
    anonymous = Context(demo[0].catalog)
    ministry = services.organization_show(anonymous, "ministry-of-local-development")
    assert ministry["parent"] is None and ministry["org_type"] == "ministry"
    assert ministry["children"] == ["department-of-local-finance-oversight"]
    department = services.organization_show(anonymous, "department-of-local-finance-oversight")
    assert department["parent"] == "ministry-of-local-development"
    assert department["children"] == [
        "khlong-mek-khao-subdistrict",
        "pong-saeng-chan-sao",
        "tharawadi-city",
        "tharawadi-pao",
        "thung-dao-rueang-town",
    ]
    types = sorted(o["org_type"] for o in services.organization_list(anonymous, all_fields=True))
    assert types == ["department", "ministry", "municipality", "municipality", "municipality"] + [
        "pao",
        "sao",
    ]


def test_private_and_draft_datasets_are_hidden_from_visitors(
    demo: tuple[Context, dict[str, int]],
) -> None:
    ctx = demo[0]
    anonymous = Context(ctx.catalog)
    public = services.package_list(anonymous)
    everything = {d["name"] for d in read_catalogue()["datasets"]}
    assert set(public) == everything - {PRIVATE, DRAFT}
    with pytest.raises(NotAuthorized):
        services.package_show(anonymous, PRIVATE)
    with pytest.raises(NotFound):
        services.package_show(anonymous, DRAFT)
    internal = services.package_show(ctx, PRIVATE)
    assert internal["private"] is True and internal["resources"] == []
    assert internal["data_classification"] == "ชั้นเผยแพร่ภายในองค์กร"
    assert services.package_show(ctx, DRAFT)["state"] == "draft"


def test_second_load_creates_nothing(demo: tuple[Context, dict[str, int]]) -> None:
    ctx = demo[0]
    before = {d["name"]: d["version_number"] for d in services.dataset_list(ctx, limit=1000)}
    assert load_demo(ctx) == dict.fromkeys(demo[1], 0)
    after = {d["name"]: d["version_number"] for d in services.dataset_list(ctx, limit=1000)}
    assert after == before
    assert len(services.organization_list(ctx)) == 7


def test_uploaded_files_come_back_byte_identical(demo: tuple[Context, dict[str, int]]) -> None:
    ctx = demo[0]
    checked = 0
    for entry in read_catalogue()["datasets"]:
        shown = services.package_show(ctx, entry["name"])
        for spec, resource in zip(entry["resources"], shown["resources"], strict=True):
            info, stream, url = services.resource_download(ctx, resource["id"])
            if "file" not in spec:
                assert stream is None and info["url"] == spec["url"]
                continue
            assert url is None and stream is not None
            with stream:
                assert stream.read() == demo_file(spec["file"]).read_bytes()
            assert info["filename"] == spec["file"] and info["format"] == "CSV"
            checked += 1
    assert checked == 14


def test_buddhist_era_dates_are_read(demo: tuple[Context, dict[str, int]]) -> None:
    shown = services.package_show(demo[0], "tharawadi-city-budget-2568")
    # "18 ก.ย. 2567" and "2567-10-01" in the catalogue: dates are stored in CE, years in BE.
    assert shown["issued"] == "2024-09-18"
    assert shown["last_updated_date"] == "2024-10-01"
    assert shown["fiscal_year"] == 2568


def test_demo_editor_edits_only_its_municipality(demo: tuple[Context, dict[str, int]]) -> None:
    catalog = demo[0].catalog
    assert services.check_password(Context(catalog), "demo-editor", "demo-editor-2567")
    editor = Context(catalog, user="demo-editor")
    changed = services.package_patch(editor, "tharawadi-city-regulations", {"version": "2568.2"})
    assert changed["version"] == "2568.2"
    with pytest.raises(NotAuthorized):
        services.package_patch(editor, "tharawadi-pao-budget-2568", {"version": "2.0"})


def test_demo_files_are_small_clean_csvs() -> None:
    named = {r["file"] for d in read_catalogue()["datasets"] for r in d["resources"] if "file" in r}
    assert named == {p.name for p in FILES_DIR.glob("*.csv")}
    for name in sorted(named):
        raw = demo_file(name).read_bytes()
        assert len(raw) < 20_000, name
        assert not raw.startswith(b"\xef\xbb\xbf"), name
        header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", column) for column in header), name
        assert 10 <= len(rows) <= 60, name
        assert all(len(row) == len(header) for row in rows), name
