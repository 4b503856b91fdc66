"""The demo catalogue (`khlang demo`): hand-entered entries plus the bundled harvest configs in
examples/demo/, loaded through the services, cleanly, twice without duplicates."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalog import services
from catalog.demo import (
    EXAMPLES_DIR,
    FILES_DIR,
    DemoError,
    DemoHarvestFailed,
    demo_file,
    harvest_configs,
    load_demo,
    read_catalogue,
)
from catalog.services import Catalog, Context, NotAuthorized, NotFound
from catalog.services.datastore import datastore_search
from catalog.services.harvest import harvest_jobs
from harvesters.config import load_config

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
DATA = EXAMPLES_DIR / "data"
SRC = EXAMPLES_DIR / "src"

Demo = tuple[Context, dict[str, int]]


@pytest.fixture
def demo(catalog: Catalog) -> Demo:
    """A catalogue with the demo loaded once, and what that load created."""
    ctx = Context(catalog, system=True, lang="en")
    return ctx, load_demo(ctx)


def harvested() -> dict[str, dict[str, Any]]:
    """Dataset name -> its source's settings, for every source of the demo's configs."""
    return {
        source.settings["dataset"]["name"]: source.settings
        for path in harvest_configs()
        for source in load_config(path).sources
    }


def only_resource(ctx: Context, dataset: str) -> dict[str, Any]:
    (resource,) = services.package_show(ctx, dataset)["resources"]
    return resource


def records(ctx: Context, resource: dict[str, Any]) -> list[dict[str, Any]]:
    return datastore_search(ctx, resource["id"], limit=1000)["records"]


def source_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def be_to_ce(iso_be: str) -> str:
    """``2567-11-06`` (a BE year in ISO form) -> ``2024-11-06``."""
    year, rest = iso_be.split("-", 1)
    return f"{int(year) - 543}-{rest}"


def test_everything_loads_cleanly(demo: Demo) -> None:
    ctx, counts = demo
    spec = read_catalogue()
    sources = harvested()
    assert counts == {
        "organizations": 7,
        "groups": 4,
        "users": 1,
        "members": 1,
        "datasets": 4,
        "resources": 3,
        "harvested": 12,
        "harvest_failed": 0,
    }
    assert len(spec["datasets"]) == counts["datasets"]
    assert len(sources) == counts["harvested"]
    for entry in spec["datasets"]:
        shown = services.package_show(ctx, entry["name"])
        assert shown["title"] == entry["title"]
        assert [r["name"] for r in shown["resources"]] == [r["name"] for r in entry["resources"]]
        assert [f for f in REQUIRED_GDC if not shown.get(f)] == [], entry["name"]
    for name, source in sources.items():
        shown = services.package_show(ctx, name)
        assert shown["title"] == source["dataset"]["title"]
        assert shown["title_en"] == source["dataset"]["title_en"]
        assert [f for f in REQUIRED_GDC if not shown.get(f)] == [], name
        (resource,) = shown["resources"]
        assert resource["name"] == source["resource"]["name"]
        assert resource["filename"] == Path(source["path"]).name
        assert resource["validation_status"] == "valid", name
        assert datastore_search(ctx, resource["id"], limit=0)["total"] >= 10, name
    assert sorted(services.group_list(ctx)) == sorted(g["name"] for g in spec["groups"])


def test_organisations_form_a_hierarchy(demo: Demo) -> None:
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


def test_private_and_draft_datasets_are_hidden_from_visitors(demo: Demo) -> None:
    ctx = demo[0]
    anonymous = Context(ctx.catalog)
    public = services.package_list(anonymous)
    everything = {d["name"] for d in read_catalogue()["datasets"]} | set(harvested())
    assert set(public) == everything - {PRIVATE, DRAFT}
    with pytest.raises(NotFound):  # answered exactly like a missing dataset
        services.package_show(anonymous, PRIVATE)
    with pytest.raises(NotFound):
        services.package_show(anonymous, DRAFT)
    internal = services.package_show(ctx, PRIVATE)
    assert internal["private"] is True and internal["resources"] == []
    assert internal["data_classification"] == "ชั้นเผยแพร่ภายในองค์กร"
    assert services.package_show(ctx, DRAFT)["state"] == "draft"


def test_second_load_creates_nothing(demo: Demo) -> None:
    ctx = demo[0]
    before = {d["name"]: d["version_number"] for d in services.dataset_list(ctx, limit=1000)}
    assert load_demo(ctx) == dict.fromkeys(demo[1], 0)
    after = {d["name"]: d["version_number"] for d in services.dataset_list(ctx, limit=1000)}
    assert after == before
    assert len(services.organization_list(ctx)) == 7
    latest = harvest_jobs(ctx, limit=len(harvested()))
    assert [job["counts"] for job in latest] == [{"unchanged": 1}] * len(harvested())


def test_original_files_come_back_byte_identical(demo: Demo) -> None:
    ctx = demo[0]
    expected: dict[str, list[tuple[dict[str, Any], Path | None]]] = {}
    for entry in read_catalogue()["datasets"]:
        expected[entry["name"]] = [
            (spec, demo_file(spec["file"]) if "file" in spec else None)
            for spec in entry["resources"]
        ]
    for name, source in harvested().items():
        expected[name] = [({"name": Path(source["path"]).name}, Path(source["path"]))]
    files = 0
    for name, resources in expected.items():
        shown = services.package_show(ctx, name)
        for (spec, path), resource in zip(resources, shown["resources"], strict=True):
            info, stream, url = services.resource_download(ctx, resource["id"])
            if path is None:
                assert stream is None and info["url"] == spec["url"]
                continue
            assert url is None and stream is not None
            with stream:
                assert stream.read() == path.read_bytes(), path.name
            assert info["filename"] == path.name
            files += 1
    assert files == 14


def test_cp874_file_reads_exactly_as_its_utf8_source(demo: Demo) -> None:
    anonymous = Context(demo[0].catalog)
    raw = (DATA / "tharawadi_city_budget_2568.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really a TIS-620 file, as Excel on Thai Windows saves it
    resource = only_resource(anonymous, "tharawadi-city-budget-2568")
    assert resource["validation_report"]["encoding"] == "cp874"
    loaded = records(anonymous, resource)
    source = source_rows(SRC / "tharawadi_city_budget_2568.csv")
    text = ("plan", "budget_type", "category", "item")
    labels = ("แผนงาน", "งบรายจ่าย", "หมวดรายจ่าย", "รายการ")
    assert [tuple(r[f] for f in text) for r in loaded] == [
        tuple(s[label] for label in labels) for s in source
    ]
    assert {r["agency"] for r in loaded} == {"เทศบาลนครธาราวดี"}
    amounts = [Decimal(s["จำนวนเงิน (บาท)"].replace(",", "")) for s in source]
    assert [Decimal(str(r["amount"])) for r in loaded] == amounts


def test_spreadsheet_title_rows_are_skipped_and_the_two_row_header_mapped(demo: Demo) -> None:
    anonymous = Context(demo[0].catalog)
    resource = only_resource(anonymous, "tharawadi-city-projects-2568")
    assert resource["format"] == "XLSX"
    report = resource["validation_report"]
    assert report["header_row"] == 4  # below the title, the subtitle with หน่วย : บาท, a blank
    source = source_rows(SRC / "tharawadi_city_projects_2568.csv")
    assert report["totals_rows"] == [4 + 2 + len(source)]  # the รวม row under the projects
    loaded = records(anonymous, resource)
    assert [r["project_id"] for r in loaded] == [s["project_id"] for s in source]
    for field in ("planned_start", "planned_end", "contract_date"):
        # "ระยะเวลาตามสัญญา" over "เริ่ม" / "สิ้นสุด"; "สัญญา" over "ลงวันที่"
        got = [str(r[field]) if r[field] else "" for r in loaded]
        assert got == [be_to_ce(s[field]) if s[field] else "" for s in source], field
    assert [r["contract_no"] or "" for r in loaded] == [s["contract_no"] for s in source]
    assert [r["status"] for r in loaded] == [s["status"] for s in source]
    assert [r["budget"] for r in loaded] == [float(s["budget"]) for s in source]


def test_buddhist_era_dates_become_iso_dates(demo: Demo) -> None:
    anonymous = Context(demo[0].catalog)
    resource = only_resource(anonymous, "tharawadi-city-regulations")
    by_number = {r["number"]: r for r in records(anonymous, resource)}
    # Written "15 ม.ค. 2567" and "01/02/2567", then "18 ก.ย. 2567" and "01/10/2567" in the file.
    assert str(by_number["2/2567"]["announced_date"]) == "2024-01-15"
    assert str(by_number["2/2567"]["effective_date"]) == "2024-02-01"
    assert str(by_number["3/2567"]["effective_date"]) == "2024-10-01"
    changes = {(n["column"], n["kind"]) for n in resource["validation_report"]["normalisation"]}
    assert {("announced_date", "be-date"), ("effective_date", "be-date")} <= changes
    # Dataset metadata too: "18 ก.ย. 2567" and "2567-10-01" in the config; years stay BE.
    shown = services.package_show(anonymous, "tharawadi-city-budget-2568")
    assert shown["issued"] == "2024-09-18"
    assert shown["last_updated_date"] == "2024-10-01"
    assert shown["fiscal_year"] == 2568


def test_totals_row_is_flagged_and_not_loaded(demo: Demo) -> None:
    anonymous = Context(demo[0].catalog)
    resource = only_resource(anonymous, "tharawadi-city-budget-2567")
    *lines, totals = source_rows(DATA / "tharawadi_city_budget_2567.csv")
    assert totals["รายการ"] == "รวมทั้งสิ้น"
    assert resource["validation_report"]["totals_rows"] == [len(lines) + 2]
    loaded = records(anonymous, resource)
    assert len(loaded) == len(lines)
    assert "รวมทั้งสิ้น" not in {r["item"] for r in loaded}
    total = Decimal(totals["จำนวนเงิน (บาท)"].replace(",", ""))
    assert sum(Decimal(str(r["amount"])) for r in loaded) == total


def test_demo_editor_edits_only_its_municipality(demo: Demo) -> None:
    catalog = demo[0].catalog
    assert services.check_password(Context(catalog), "demo-editor", "demo-editor-2567")
    editor = Context(catalog, user="demo-editor")
    changed = services.package_patch(editor, "tharawadi-city-regulations", {"version": "2568.2"})
    assert changed["version"] == "2568.2"
    with pytest.raises(NotAuthorized):
        services.package_patch(editor, "tharawadi-pao-budget-2568", {"version": "2.0"})


BROKEN = """organization: tharawadi-city
defaults:
  license_id: odc-thai
  maintainer: กองคลัง เทศบาลนครธาราวดี
  maintainer_email: klang.tharawadi-city@example.org
  data_type: ข้อมูลระเบียน
  objective: [พันธกิจหน่วยงาน]
  update_frequency_unit: ปี
  geo_coverage: เทศบาล/อบต.
  data_source: กองคลัง เทศบาลนครธาราวดี
  data_format: [CSV]
  data_category: ข้อมูลสาธารณะ
  tags: [งบประมาณ]
sources:
  - id: broken-budget
    kind: tabular
    path: broken.csv
    table_schema: budget
    dataset:
      name: tharawadi-city-broken-budget
      title: งบประมาณที่ไฟล์ผิดรูปแบบ
      notes: ไฟล์ทดสอบ
"""


def test_a_failing_source_stops_the_demo_with_its_errors(catalog: Catalog, tmp_path: Path) -> None:
    (tmp_path / "broken.csv").write_text(
        "ปีงบประมาณ,หน่วยรับงบประมาณ,งบรายจ่าย,รายการ,จำนวนเงิน (บาท)\n"
        "2568,เทศบาลนครธาราวดี,งบพิเศษ,จัดซื้อวัสดุ,ไม่ทราบ\n",
        encoding="utf-8",
    )
    (tmp_path / "tharawadi-city.yaml").write_text(BROKEN, encoding="utf-8")
    ctx = Context(catalog, system=True, lang="en")
    with pytest.raises(DemoHarvestFailed) as caught:
        load_demo(ctx, examples_dir=tmp_path)
    (failure,) = caught.value.failures
    assert failure["config"] == "tharawadi-city.yaml"
    assert (failure["source"], failure["status"]) == ("broken-budget", "failed")
    assert ("broken.csv", 2, "budget_type", "constraint-error") in failure["findings"]
    assert ("broken.csv", 2, "amount", "type-error") in failure["findings"]
    message = str(caught.value)  # what `khlang demo` prints
    assert "broken-budget" in message and "budget_type" in message and "amount" in message
    assert caught.value.counts["organizations"] == 7  # the rest of the demo is loaded
    with pytest.raises(NotFound):
        services.package_show(ctx, "tharawadi-city-broken-budget")


def test_missing_harvest_configs_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="source checkout"):
        harvest_configs(tmp_path / "examples" / "demo")


def test_the_cp874_file_is_generated_from_its_utf8_source() -> None:
    # examples/make_demo_files.py writes it; a stale copy would test an old file.
    text = (SRC / "tharawadi_city_budget_2568.csv").read_text(encoding="utf-8")
    expected = text.replace("\n", "\r\n").encode("cp874")
    assert (DATA / "tharawadi_city_budget_2568.csv").read_bytes() == expected
    assert (DATA / "tharawadi_city_projects_2568.xlsx").is_file()


def test_demo_files_are_small_and_named_once() -> None:
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
    paths = [Path(source["path"]) for source in harvested().values()]
    assert sorted(p.name for p in paths) == sorted(p.name for p in DATA.iterdir())
    assert all(p.stat().st_size < 20_000 for p in paths)
