"""The `khlang` command line, run in-process against a real catalogue in a temp folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.cli import main


@pytest.fixture
def khlang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # no khlang.toml from elsewhere
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, ["--data-dir", str(tmp_path / "data"), *args], input=input)

    return run


def test_commands_refuse_to_run_before_init(khlang) -> None:
    result = khlang("dataset", "list")
    assert result.exit_code != 0
    assert "khlang init" in result.output


def test_init_user_org_token_and_export(khlang, tmp_path: Path) -> None:
    result = khlang("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "khlang.db").exists()
    assert (tmp_path / "data" / "index").is_dir()
    assert khlang("init").exit_code == 0  # upgrading an up-to-date database is harmless

    result = khlang(
        "user", "create", "somchai", "--email", "s@example.org", "--password", "pass-2567-x"
    )
    assert result.exit_code == 0, result.output
    result = khlang(
        "org",
        "create",
        "ban-suan",
        "--title",
        "เทศบาลเมืองบ้านสวน",
        "--type",
        "municipality",
        "--admin",
        "somchai",
    )
    assert result.exit_code == 0, result.output
    token = khlang("token", "create", "somchai", "--name", "harvester")
    assert token.exit_code == 0 and token.output.strip().startswith("khl_")

    out = tmp_path / "export.json"
    result = khlang("dataset", "export", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == []


def test_bad_input_gives_a_clear_error_and_nonzero_exit(khlang) -> None:
    assert khlang("init").exit_code == 0
    result = khlang("org", "create", "Bad Name!", "--title", "x", "--type", "municipality")
    assert result.exit_code == 1
    assert "name" in result.output
    result = khlang("user", "create", "x", "--email", "nope", "--password", "short")
    assert result.exit_code == 1
    assert "email" in result.output and "password" in result.output
    result = khlang("dataset", "show", "no-such-dataset")
    assert result.exit_code == 1
    assert "Not found" in result.output
    result = khlang("org", "create", "child", "--title", "ลูก", "--parent", "missing")
    assert result.exit_code == 1 and "parent" in result.output


def test_bad_setting_stops_with_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KHLANG_DEFAULT_LANGUAGE", "fr")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "init"])
    assert result.exit_code == 1
    assert "DEFAULT_LANGUAGE" in result.output


def test_search_reindex_and_check_from_the_command_line(khlang, tmp_path: Path) -> None:
    from catalog.services import Catalog, Context
    from catalog.settings import load_settings
    from tests.factories import make_dataset, make_org

    assert khlang("init").exit_code == 0
    settings = load_settings(
        overrides={"DATA_DIR": str(tmp_path / "data")}, environ={}, config_file=None
    )
    catalog = Catalog.open(settings)
    system = Context(catalog, system=True)
    make_org(system, "korat", title="เทศบาลนครนครราชสีมา")
    make_dataset(system, "korat", name="korat-roads", title="โครงการซ่อมสร้างถนนลาดยาง")
    catalog.close()

    result = khlang("search", "ถนน")
    assert result.exit_code == 0, result.output
    assert "korat-roads" in result.output
    result = khlang("search", "ถนน", "--filter", "organization=korat", "--json")
    data = json.loads(result.output)
    assert data["count"] == 1 and data["results"][0]["organization"] == "korat"
    assert data["facets"]["organization"] == {"korat": 1}
    assert khlang("search", "ถนน", "--filter", "nonsense").exit_code != 0
    assert "Indexed 1 datasets" in khlang("reindex").output
    check = khlang("search", "check")
    assert check.exit_code == 0 and "0 missing" in check.output


def test_harvest_commands_report_progress_jobs_and_errors(khlang, tmp_path: Path) -> None:
    from tests.test_catalog_harvest import BUDGET_SOURCE, GOOD, HEADER, write_config

    assert khlang("init").exit_code == 0
    assert khlang("org", "create", "ban-suan", "--title", "เทศบาลเมืองบ้านสวน").exit_code == 0
    (tmp_path / "budget.csv").write_text(GOOD, encoding="utf-8")
    config = write_config(tmp_path, BUDGET_SOURCE)

    dry = khlang("harvest", "run", str(config), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would-create" in dry.output
    result = khlang("harvest", "run", str(config))
    assert result.exit_code == 0, result.output
    assert "budget-2567" in result.output and "rows/s" in result.output
    assert "datastore" in result.output and "active, 2 rows" in result.output
    jobs = khlang("harvest", "jobs")
    assert jobs.output.count("budget-2567") == 2 and "created 1" in jobs.output

    # Publish now, load the datastore later (a cron job or a worker runs the second command).
    (tmp_path / "budget.csv").write_text(GOOD.replace('"1,200,000"', '"7"'), encoding="utf-8")
    deferred = khlang("harvest", "run", str(config), "--defer-datastore")
    assert deferred.exit_code == 0 and "active," not in deferred.output
    loaded = khlang("datastore", "load")
    assert loaded.exit_code == 0 and "Loaded 1 of 1 tables" in loaded.output
    assert "Loaded 0 of 0 tables" in khlang("datastore", "load").output

    (tmp_path / "budget.csv").write_text(
        HEADER + "2567,กองคลัง,แผนงาน,งบผิด,รายการ,abc\n", encoding="utf-8"
    )
    failed = khlang("harvest", "run", str(config))
    assert failed.exit_code == 2  # a failed item makes the command fail, for cron and CI
    job = khlang("harvest", "jobs").output.splitlines()[0].split()[0]
    report = khlang("harvest", "report", job)
    assert "row 2, field amount: type-error" in report.output

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "organization: ban-suan\nsources:\n  - id: x\n    kind: tabular\n    colour: red\n"
    )
    result = khlang("harvest", "run", str(bad))
    assert result.exit_code == 1 and "line 5" in result.output and "colour" in result.output

    sheet = tmp_path / "catalogue.xlsx"
    assert "Exported 1 datasets" in khlang("export-metadata", "--xlsx", str(sheet)).output
    again = khlang("import-metadata", str(sheet))
    assert again.exit_code == 0 and "unchanged 1" in again.output


def test_storage_sweep_lists_and_removes_unreferenced_files(khlang, tmp_path: Path) -> None:
    assert khlang("init").exit_code == 0
    from catalog.storage import open_storage

    store = open_storage(str(tmp_path / "data" / "files"))
    orphan = store.put_bytes("ไฟล์กำพร้า".encode()).key
    result = khlang("storage", "sweep", "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "Would remove 0 files" in result.output
        and "1 unreferenced files are more recent" in result.output
    )
    result = khlang("storage", "sweep", "--older-than-hours", "0")
    assert result.exit_code == 0, result.output
    assert orphan in result.output and "Removed 1 files" in result.output
    assert not store.exists(orphan)
