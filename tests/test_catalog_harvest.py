"""The harvest service end to end: a config's sources become validated, versioned datasets."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog import clock, services
from catalog.models import HarvestJob
from catalog.services import Context, NotAuthorized
from catalog.services.datastore import datastore_search, load_pending
from catalog.services.harvest import harvest_jobs, harvest_reap, harvest_report, harvest_run
from harvesters.base import HarvestRecord, RemoteItem, SourceKind, register
from harvesters.config import HarvestConfig, SourceConfig, load_config
from tests.factories import make_org, make_user

DEFAULTS = """
defaults:
  license_id: odc-thai
  maintainer: กองคลัง
  maintainer_email: finance@example.org
  data_type: ข้อมูลระเบียน
  objective: [พันธกิจหน่วยงาน]
  update_frequency_unit: ปี
  geo_coverage: เทศบาล/อบต.
  data_source: กองคลัง
  data_format: [CSV]
  data_category: ข้อมูลสาธารณะ
  tags: [งบประมาณ]
"""

HEADER = "fiscal_year,agency,plan,budget_type,item,amount\n"
GOOD = HEADER + (
    '2567,กองคลัง,แผนงานบริหารงานทั่วไป,งบบุคลากร,เงินเดือนพนักงาน,"1,200,000"\n'
    '๒๕๖๗,กองช่าง,แผนงานเคหะและชุมชน,งบลงทุน,ก่อสร้างถนนคอนกรีตเสริมเหล็ก,"2,500,000.50 บาท"\n'
    'รวม,,,,,"3,700,000.50"\n'
)


def write_config(folder: Path, sources: str, *, delete_missing: bool = False) -> Path:
    path = folder / "harvest.yaml"
    text = f"organization: ban-suan\ndelete_missing: {str(delete_missing).lower()}\n"
    path.write_text(text + DEFAULTS + "sources:\n" + sources, encoding="utf-8")
    return path


BUDGET_SOURCE = """
  - id: budget-2567
    kind: tabular
    path: budget.csv
    table_schema: budget
    dataset:
      name: ban-suan-budget-2567
      title: งบประมาณรายจ่ายประจำปี พ.ศ. 2567
      notes: ข้อบัญญัติงบประมาณรายจ่าย
"""


@pytest.fixture
def org(system: Context) -> dict[str, Any]:
    return make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน")


@pytest.fixture
def publisher(catalog: services.Catalog, system: Context, org: dict) -> Context:
    name = make_user(system, "publisher")
    services.member_create(system, org["name"], name, "editor")
    return Context(catalog, user=name, lang="en")


def run(ctx: Context, config_path: Path, **kwargs: Any) -> dict[str, Any]:
    (summary,) = harvest_run(ctx, load_config(config_path), **kwargs)
    return summary


def test_csv_is_normalised_validated_published_and_loaded(
    publisher: Context, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    summary = run(publisher, write_config(tmp_path, BUDGET_SOURCE))
    assert summary["status"] == "done" and summary["counts"] == {"created": 1}

    ds = services.package_show(Context(publisher.catalog), "ban-suan-budget-2567")
    assert ds["title"] == "งบประมาณรายจ่ายประจำปี พ.ศ. 2567"
    assert ds["organization"]["name"] == "ban-suan"
    (res,) = ds["resources"]
    assert res["validation_status"] == "valid"
    assert res["validation_report"]["totals_rows"] == [4]  # flagged, not imported
    assert res["storage_key"]  # the original bytes are kept as published
    original = publisher.catalog.storage.open(res["storage_key"]).read()
    assert original == GOOD.encode()

    table = datastore_search(Context(publisher.catalog), res["id"])
    assert table["total"] == 2
    assert [r["amount"] for r in table["records"]] == [1200000.0, 2500000.5]
    assert [r["fiscal_year"] for r in table["records"]] == [2567, 2567]  # Thai digits folded

    report = harvest_report(publisher, summary["id"])
    (item,) = report["objects"]
    kinds = {
        (n["column"], n["kind"]) for n in item["report"]["resources"]["budget.csv"]["normalisation"]
    }
    assert ("amount", "amount") in kinds and ("fiscal_year", "thai-digits") in kinds


def test_rerun_is_idempotent_and_a_change_makes_one_new_version(
    publisher: Context, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    config = write_config(tmp_path, BUDGET_SOURCE)
    run(publisher, config)
    assert run(publisher, config)["counts"] == {"unchanged": 1}
    assert services.package_show(publisher, "ban-suan-budget-2567")["version_number"] == 1

    changed = GOOD.replace('"1,200,000"', '"1,300,000"')
    (tmp_path / "budget.csv").write_text(changed, encoding="utf-8")
    assert run(publisher, config)["counts"] == {"updated": 1}
    ds = services.package_show(publisher, "ban-suan-budget-2567")
    assert ds["version_number"] == 2
    assert len(ds["resources"]) == 1
    rows = datastore_search(publisher, ds["resources"][0]["id"])["records"]
    assert rows[0]["amount"] == 1300000.0


def test_invalid_file_fails_and_the_published_version_stays_live(
    publisher: Context, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    config = write_config(tmp_path, BUDGET_SOURCE)
    run(publisher, config)
    before = services.package_show(publisher, "ban-suan-budget-2567")

    bad = HEADER + "2567,กองคลัง,แผนงาน,งบประมาณผิดประเภท,รายการ,ไม่ใช่ตัวเลข\n"
    (tmp_path / "budget.csv").write_text(bad, encoding="utf-8")
    summary = run(publisher, config)
    assert summary["counts"] == {"failed": 1}
    after = services.package_show(publisher, "ban-suan-budget-2567")
    assert after == before  # nothing half-imported: same version, same file, same datastore
    assert datastore_search(publisher, after["resources"][0]["id"])["total"] == 2

    (item,) = harvest_report(publisher, summary["id"])["objects"]
    findings = item["report"]["resources"]["budget.csv"]["validation"]["errors"]
    found = {(f["source_row"], f["field"], f["type"]) for f in findings}
    assert (2, "budget_type", "constraint-error") in found
    assert (2, "amount", "type-error") in found
    assert all(f["message_th"] for f in findings)


def test_a_file_the_fast_path_hands_back_is_validated_from_the_final_csv(
    publisher: Context, tmp_path: Path
) -> None:
    # A BOM, then a bad amount: the vectorised path starts writing, gives the file up to the
    # row-by-row path, and the report must still come from the CSV that is published.
    bad = (
        HEADER + '2567,กองคลัง,แผนงาน,งบบุคลากร,เงินเดือน,"1,000"\n2567,กองช่าง,แผนงาน,งบลงทุน,ถนน,abc\n'
    )
    (tmp_path / "budget.csv").write_bytes(b"\xef\xbb\xbf" + bad.encode("utf-8"))
    summary = run(publisher, write_config(tmp_path, BUDGET_SOURCE))
    assert summary["counts"] == {"failed": 1}
    (item,) = harvest_report(publisher, summary["id"])["objects"]
    findings = item["report"]["resources"]["budget.csv"]["validation"]["errors"]
    assert {(f["source_row"], f["field"], f["type"]) for f in findings} == {
        (3, "amount", "type-error")
    }
    good = GOOD.encode("utf-8")
    (tmp_path / "budget.csv").write_bytes(b"\xef\xbb\xbf" + good)
    assert run(publisher, write_config(tmp_path, BUDGET_SOURCE))["counts"] == {"created": 1}
    (res,) = services.package_show(publisher, "ban-suan-budget-2567")["resources"]
    assert datastore_search(publisher, res["id"])["total"] == 2


def _datastore_table(ctx: Context, resource_id: str) -> tuple[str | None, str | None]:
    """The resource's datastore file (its storage key) and its load status."""
    from catalog.models import Resource

    with ctx.catalog.reader() as session:
        res = session.get(Resource, resource_id)
        return res.datastore_key, res.datastore_status


def test_deferred_datastore_load_keeps_the_old_table_until_the_new_one_is_whole(
    publisher: Context, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    config = write_config(tmp_path, BUDGET_SOURCE)
    run(publisher, config, load_datastore=False)
    (res,) = services.package_show(publisher, "ban-suan-budget-2567")["resources"]
    assert _datastore_table(publisher, res["id"]) == (None, "pending")
    with pytest.raises(services.NotFound, match="queued"):
        datastore_search(publisher, res["id"])
    (loaded,) = load_pending(publisher.catalog)
    assert loaded["status"] == "active" and loaded["rows"] == 2
    first_table, _ = _datastore_table(publisher, res["id"])

    (tmp_path / "budget.csv").write_text(GOOD.replace('"1,200,000"', '"7"'), encoding="utf-8")
    assert run(publisher, config, load_datastore=False)["counts"] == {"updated": 1}
    assert _datastore_table(publisher, res["id"]) == (first_table, "pending")
    assert datastore_search(publisher, res["id"])["records"][0]["amount"] == 1200000.0
    load_pending(publisher.catalog)
    second_table, status = _datastore_table(publisher, res["id"])
    assert status == "active" and second_table != first_table
    assert datastore_search(publisher, res["id"])["records"][0]["amount"] == 7.0
    # The first file stays stored (content addressed) until `storage sweep` finds it unused.
    assert publisher.catalog.storage.exists(first_table)
    assert load_pending(publisher.catalog) == []  # nothing left to do


def test_a_failed_datastore_load_is_reported_and_the_published_data_stays(
    publisher: Context, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    config = write_config(tmp_path, BUDGET_SOURCE)
    run(publisher, config)
    (res,) = services.package_show(publisher, "ban-suan-budget-2567")["resources"]
    (tmp_path / "budget.csv").write_text(GOOD.replace('"1,200,000"', '"7"'), encoding="utf-8")
    run(publisher, config, load_datastore=False)
    # The normalised file vanishes from storage before its load (a disk or bucket fault).
    with publisher.catalog.reader() as session:
        from catalog.models import Resource

        normalised = session.get(Resource, res["id"]).normalised_key
    publisher.catalog.storage.delete(normalised)
    (loaded,) = load_pending(publisher.catalog)
    assert loaded["status"] == "failed"
    (after,) = services.package_show(publisher, "ban-suan-budget-2567")["resources"]
    assert after["validation_status"] == "valid"  # the publish stands
    assert "datastore_error" in after["validation_report"]
    # Readers keep the previous table rather than nothing.
    assert datastore_search(publisher, res["id"])["records"][0]["amount"] == 1200000.0


def test_personal_data_holds_the_resource_back(publisher: Context, tmp_path: Path) -> None:
    pii = HEADER + "2567,กองคลัง โทร 081-234-5678,แผนงาน,งบบุคลากร,ติดต่อ somchai@example.org,100\n"
    (tmp_path / "budget.csv").write_text(pii, encoding="utf-8")
    summary = run(publisher, write_config(tmp_path, BUDGET_SOURCE))
    assert summary["counts"] == {"held": 1}
    with pytest.raises(services.NotFound):
        services.package_show(publisher, "ban-suan-budget-2567")
    (item,) = harvest_report(publisher, summary["id"])["objects"]
    message = item["errors"][0]["message_en"]
    assert "agency" in message and "item" in message
    assert "081-234-5678" not in str(item)  # the report never repeats the personal data


def test_dry_run_validates_but_publishes_nothing(publisher: Context, tmp_path: Path) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    summary = run(publisher, write_config(tmp_path, BUDGET_SOURCE), dry_run=True)
    assert summary["counts"] == {"would-create": 1} and summary["dry_run"]
    assert services.package_list(publisher) == []


def test_folder_source_with_delete_missing_withdraws_vanished_files(
    publisher: Context, tmp_path: Path
) -> None:
    data = tmp_path / "budgets"
    data.mkdir()
    for year in (2566, 2567):
        (data / f"budget_{year}.csv").write_text(GOOD.replace("2567", str(year)), encoding="utf-8")
    source = """
  - id: budgets
    kind: tabular
    folder: budgets
    per_file: true
    table_schema: budget
    dataset:
      name: ban-suan-{stem}
      title: งบประมาณ {stem}
      notes: งบประมาณรายจ่ายรายปี
"""
    config = write_config(tmp_path, source, delete_missing=True)
    assert run(publisher, config)["counts"] == {"created": 2}
    (data / "budget_2566.csv").unlink()
    summary = run(publisher, config)
    assert summary["counts"] == {"unchanged": 1, "withdrawn": 1}
    names = services.package_list(Context(publisher.catalog))
    assert names == ["ban-suan-budget_2567"]
    withdrawn = services.package_show(publisher, "ban-suan-budget_2566")
    assert withdrawn["state"] == "withdrawn"


def test_outsiders_cannot_harvest_into_an_organisation(
    catalog: services.Catalog, system: Context, org: dict, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    outsider = Context(catalog, user=make_user(system, "outsider"))
    with pytest.raises(NotAuthorized):
        run(outsider, write_config(tmp_path, BUDGET_SOURCE))


# --- crashes ------------------------------------------------------------------------------


@register("test-flaky")
class FlakySource(SourceKind):
    """Three records; map() raises what the config says on the second one."""

    def gather(self, since: Any = None) -> Iterator[RemoteItem]:
        for n in (1, 2, 3):
            yield RemoteItem(f"item-{n}", n)

    def map(self, item: RemoteItem) -> HarvestRecord:
        if item.payload == 2 and self.config.get("fail_with"):
            raise {"interrupt": KeyboardInterrupt, "bug": ZeroDivisionError}[
                self.config["fail_with"]
            ]()
        if item.payload == 2 and self.config.get("bad_record"):
            return HarvestRecord(item.remote_id, {"name": "flaky-2", "title": ""})
        return HarvestRecord(
            item.remote_id, {"name": f"flaky-{item.payload}", "title": f"ชุดข้อมูล {item.payload}"}
        )


def flaky_config(tmp_path: Path, **settings: Any) -> HarvestConfig:
    defaults = load_config(write_config(tmp_path, BUDGET_SOURCE)).defaults
    source = SourceConfig(
        id="flaky",
        kind="test-flaky",
        settings={"notes": "x", **settings},
        delete_missing=False,
        organization="ban-suan",
        defaults={**defaults, "notes": "ชุดข้อมูลทดสอบ"},
        base_dir=tmp_path,
    )
    return HarvestConfig("ban-suan", source.defaults, False, [source], tmp_path)


def test_one_bad_record_never_aborts_the_job(publisher: Context, tmp_path: Path) -> None:
    (summary,) = harvest_run(publisher, flaky_config(tmp_path, bad_record=True))
    assert summary["status"] == "done"
    assert summary["counts"] == {"created": 2, "failed": 1}
    (failed,) = [
        o for o in harvest_report(publisher, summary["id"])["objects"] if o["status"] == "failed"
    ]
    assert failed["remote_id"] == "item-2" and failed["errors"][0]["field"] == "title"


def test_ctrl_c_mid_run_keeps_what_was_published_and_the_next_run_carries_on(
    publisher: Context, tmp_path: Path
) -> None:
    with pytest.raises(KeyboardInterrupt):
        harvest_run(publisher, flaky_config(tmp_path, fail_with="interrupt"))
    assert services.package_list(publisher) == ["flaky-1"]
    (job,) = harvest_jobs(publisher)
    assert job["status"] == "interrupted"
    (summary,) = harvest_run(publisher, flaky_config(tmp_path))
    assert summary["counts"] == {"unchanged": 1, "created": 2}
    assert services.package_list(publisher) == ["flaky-1", "flaky-2", "flaky-3"]


def test_a_bug_in_a_source_fails_the_job_not_the_catalogue(
    publisher: Context, tmp_path: Path
) -> None:
    (summary,) = harvest_run(publisher, flaky_config(tmp_path, fail_with="bug"))
    assert summary["status"] == "failed"
    assert "ZeroDivisionError" in summary["errors"][0]["message_en"]
    assert services.package_list(publisher) == ["flaky-1"]


def test_job_left_running_by_a_dead_process_is_closed_as_failed(
    publisher: Context, tmp_path: Path
) -> None:
    harvest_run(publisher, flaky_config(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    with publisher.catalog.transaction() as session:
        job = session.query(HarvestJob).one()
        job.status, job.pid = "running", int(dead.stdout)
        job.finished = None
    assert harvest_reap(publisher) == 1
    (job,) = harvest_jobs(publisher)
    assert job["status"] == "failed"
    assert "stopped" in job["errors"][-1]["message_en"]
    with publisher.catalog.transaction() as session:  # a live but silent job is closed too
        job = session.query(HarvestJob).one()
        job.status, job.pid = "running", os.getpid()
        job.heartbeat = clock.utcnow() - timedelta(hours=2)
    assert harvest_reap(publisher) == 1


# --- another catalogue, over HTTP -------------------------------------------------------------


def test_ckan_catalogue_is_harvested_over_http_with_incremental_runs(
    publisher: Context, tmp_path: Path
) -> None:
    from tests.httpserver import recorded_server

    data = Path(__file__).parent / "data" / "harvest" / "ckan"
    search = "/api/3/action/package_search"
    with recorded_server(data) as server:
        server.route(search, "package_search_page1.json", query="start=0")
        server.route(search, "package_search_page2.json", query="start=2")
        server.route(search, "package_search_page3.json", query="start=4")
        source = f"""
  - id: national
    kind: ckan
    url: {server.url("/")}
    rows: 2
    incremental: true
"""
        summary = run(publisher, write_config(tmp_path, source))
        assert summary["status"] == "done"
        created = summary["counts"].get("created", 0)
        assert created >= 3 and created + summary["counts"].get("failed", 0) == 5
        names = services.package_list(Context(publisher.catalog))
        assert len(names) == created
        shown = services.package_show(publisher, names[0])
        assert shown["organization"]["name"] == "ban-suan"  # published under our organisation

        server.route(search, "package_search_since.json", query="start=0")
        again = run(publisher, write_config(tmp_path, source))
        since = server.seen(search)[-1].params["fq"][0]
        assert since.startswith("metadata_modified:[")  # only what changed since the last run
        assert again["status"] == "done"
        assert services.package_list(Context(publisher.catalog))[: len(names)] == names


def test_stored_sources_run_when_due(publisher: Context, tmp_path: Path) -> None:
    from catalog.services.harvest import harvest_run_due

    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    config = write_config(
        tmp_path, BUDGET_SOURCE.replace("kind: tabular", "kind: tabular\n    frequency: daily")
    )
    run(publisher, config)
    assert harvest_run_due(publisher) == []  # ran just now: not due
    with publisher.catalog.transaction() as session:
        from catalog.models import HarvestSource

        source = session.query(HarvestSource).one()
        source.last_success = clock.utcnow() - timedelta(days=2)
    (tmp_path / "budget.csv").write_text(GOOD.replace("1,200,000", "1,250,000"), encoding="utf-8")
    (summary,) = harvest_run_due(publisher)
    assert summary["counts"] == {"updated": 1}


def test_resources_take_their_names_from_the_source_config(
    publisher: Context, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    named = (
        BUDGET_SOURCE
        + """    resource:
      name: งบประมาณรายจ่ายแยกตามรายการ
      name_en: Budget by line item
      description: ไฟล์ CSV จากกองคลัง
"""
    )
    run(publisher, write_config(tmp_path, named))
    (res,) = services.package_show(publisher, "ban-suan-budget-2567")["resources"]
    assert (res["name"], res["name_en"]) == ("งบประมาณรายจ่ายแยกตามรายการ", "Budget by line item")
    assert res["description"] == "ไฟล์ CSV จากกองคลัง"
    assert res["filename"] == "budget.csv"


PROJECTS_SOURCE = """
  - id: projects-2567
    kind: tabular
    path: projects.csv
    table_schema: project_progress
    dataset:
      name: ban-suan-projects-2567
      title: ความก้าวหน้าโครงการ ปี 2567
      notes: ความก้าวหน้าโครงการก่อสร้างของเทศบาล
"""


def test_project_progress_loads_typed_into_the_datastore(
    publisher: Context, tmp_path: Path
) -> None:
    rows = (
        "project_id,project_name,agency,fiscal_year,budget,contract_date,progress_percent,status\n"
        'P-001,"ก่อสร้างถนน คสล. หมู่ 3, ตำบลบ้านสวน",กองช่าง,2567,"1,250,000",15 ม.ค. 2567,45.5,'
        "อยู่ระหว่างดำเนินการ\n"
        "P-002,ขุดลอกคลอง,กองช่าง,๒๕๖๗,980000 บาท,,,\n"
    )
    (tmp_path / "projects.csv").write_text(rows, encoding="utf-8")
    summary = run(publisher, write_config(tmp_path, PROJECTS_SOURCE))
    assert summary["counts"] == {"created": 1}, summary
    (res,) = services.package_show(publisher, "ban-suan-projects-2567")["resources"]
    records = datastore_search(publisher, res["id"])["records"]
    first, second = records
    assert first["project_name"] == "ก่อสร้างถนน คสล. หมู่ 3, ตำบลบ้านสวน"
    assert (first["fiscal_year"], first["budget"], first["progress_percent"]) == (
        2567,
        1250000.0,
        45.5,
    )
    assert first["contract_date"] == "2024-01-15"  # a date, given as ISO text in JSON
    assert (second["fiscal_year"], second["budget"]) == (2567, 980000.0)
    assert second["contract_date"] is None and second["status"] is None


def test_a_template_missing_a_required_field_fails_with_thai_and_english_messages(
    publisher: Context, tmp_path: Path
) -> None:
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    source = BUDGET_SOURCE.replace("      notes: ข้อบัญญัติงบประมาณรายจ่าย\n", "")
    summary = run(publisher, write_config(tmp_path, source))
    assert summary["counts"] == {"failed": 1}
    (item,) = harvest_report(publisher, summary["id"])["objects"]
    (error,) = item["errors"]
    assert error["field"] == "notes"
    assert error["message_en"] == "notes: Missing data for required field."
    assert error["message_th"].startswith("notes: ") and error["message_th"] != error["message_en"]
