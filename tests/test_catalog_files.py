"""Sweeping the file store: files nothing refers to go, once older than the grace period;
files of resources and of older dataset versions stay."""

from __future__ import annotations

import io
import os
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog import clock, services
from catalog.models import HarvestJob
from catalog.services import Context, NotAuthorized
from catalog.services.files import storage_sweep
from catalog.services.harvest import harvest_run
from harvesters.config import load_config
from tests.factories import make_dataset, make_org, make_user
from tests.test_catalog_harvest import BUDGET_SOURCE, HEADER, write_config

NOW = timedelta(0)


@pytest.fixture
def editor(system: Context, catalog: services.Catalog) -> Context:
    org = make_org(system, "ban-suan", title="เทศบาลเมืองบ้านสวน")
    name = make_user(system, "somchai")
    services.member_create(system, org["name"], name, "editor")
    return Context(catalog, user=name, lang="en")


def upload(ctx: Context, dataset: str, body: bytes) -> dict[str, Any]:
    return services.resource_create(
        ctx, {"package_id": dataset, "name": "งบประมาณ"}, io.BytesIO(body), "budget.csv"
    )


def age(catalog: services.Catalog, key: str, days: float) -> None:
    """Make a local file look stored `days` ago."""
    then = time.time() - days * 86400
    os.utime(catalog.storage.path(key), (then, then))


def test_only_unreferenced_old_files_are_removed(editor: Context, system: Context) -> None:
    storage = editor.catalog.storage
    ds = make_dataset(editor, "ban-suan")
    res = upload(editor, ds["name"], "ปี,รายการ\n2567,ค่าจ้าง\n".encode())
    first = res["storage_key"]
    # A new file for the resource: the first stays for version history.
    services.resource_patch(editor, res["id"], {}, io.BytesIO(b"year,item\n2024,wages\n"), "b.csv")
    orphan = storage.put_bytes("ไฟล์ที่ไม่มีใครอ้างถึง".encode()).key
    fresh = storage.put_bytes(b"stored a moment ago").key
    for key in storage.iter_keys():
        age(editor.catalog, key, 3)
    age(editor.catalog, fresh, 0)

    preview = storage_sweep(system, dry_run=True)
    assert preview["removed"] == [orphan] and preview["recent"] == 1
    assert storage.exists(orphan)  # a dry run removes nothing

    result = storage_sweep(system)
    assert result["removed"] == [orphan] and result["bytes"] == len("ไฟล์ที่ไม่มีใครอ้างถึง".encode())
    assert not storage.exists(orphan) and storage.exists(fresh) and storage.exists(first)
    assert (
        services.dataset_version_show(editor, ds["name"], 2)["resources"][0]["storage_key"] == first
    )
    with pytest.raises(NotAuthorized):
        storage_sweep(editor)


def test_storing_bytes_again_makes_them_new(editor: Context, system: Context) -> None:
    storage = editor.catalog.storage
    key = storage.put_bytes(b"orphan for now").key
    age(editor.catalog, key, 3)
    # A harvest or upload storing the same bytes again, not yet committed, must keep them.
    storage.put_bytes(b"orphan for now")
    assert storage_sweep(system)["removed"] == []
    assert storage.exists(key)


def test_files_of_a_harvest_held_for_personal_data_are_swept(
    editor: Context, system: Context, tmp_path: Path
) -> None:
    pii = HEADER + "2567,กองคลัง โทร 081-234-5678,แผนงาน,งบบุคลากร,ติดต่อ somchai@example.org,100\n"
    (tmp_path / "budget.csv").write_text(pii, encoding="utf-8")
    (summary,) = harvest_run(editor, load_config(write_config(tmp_path, BUDGET_SOURCE)))
    assert summary["counts"] == {"held": 1}
    stored = list(editor.catalog.storage.iter_keys())
    assert stored  # the original with the personal data is in the store
    assert storage_sweep(system)["recent"] == len(stored)  # kept during the grace period
    removed = storage_sweep(system, older_than=NOW)["removed"]
    assert sorted(removed) == sorted(stored)
    assert list(editor.catalog.storage.iter_keys()) == []


def test_nothing_is_removed_while_a_harvest_runs(
    editor: Context, system: Context, tmp_path: Path
) -> None:
    pii = HEADER + "2567,กองคลัง โทร 081-234-5678,แผนงาน,งบบุคลากร,ติดต่อ somchai@example.org,100\n"
    (tmp_path / "budget.csv").write_text(pii, encoding="utf-8")
    harvest_run(editor, load_config(write_config(tmp_path, BUDGET_SOURCE)))
    with editor.catalog.transaction() as session:  # a live harvest, in this very process
        job = session.query(HarvestJob).one()
        job.status, job.pid, job.heartbeat = "running", os.getpid(), clock.utcnow()
        job.host = socket.gethostname()
    result = storage_sweep(system, older_than=NOW)
    assert result["removed"] == [] and result["stopped_by_harvest"]
    assert list(editor.catalog.storage.iter_keys())
