"""The harvest service: runs a harvest config's sources and publishes what they give.

Stages per source: gather → fetch → prepare (normalise) and validate → publish. The service
records a job per source and an outcome per remote item (created / updated / unchanged /
failed / held / withdrawn), so one bad item never aborts a job. Each item is published in one
transaction (metadata, files, datastore table, version, map), so a crash or Ctrl-C leaves the
catalogue as it was before that item, and the next run carries on. A job left "running" by a
dead process is closed as failed by the next run (`harvest_reap`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import clock
from catalog.models import (
    Dataset,
    HarvestJob,
    HarvestMap,
    HarvestObject,
    HarvestSource,
    Organization,
    Resource,
)
from catalog.services import auth
from catalog.services.context import Context
from catalog.services.datasets import _apply, _validate_dataset, find_org
from catalog.services.datastore import Loader, table_name
from catalog.services.errors import NotFound, ValidationFailed
from catalog.services.history import record_activity, snapshot_version
from catalog.services.resources import apply_resource, validate_resource
from catalog.storage import StoredObject
from harvesters.base import FileRef, HarvestError, HarvestRecord, RemoteItem, ResourceRecord

Progress = Callable[..., None]
STALE_AFTER = timedelta(minutes=30)
FREQUENCIES = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
}


@dataclass
class Outcome:
    """What happened to one remote item."""

    remote_id: str
    status: str = "failed"
    dataset_id: str | None = None
    rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


class ItemFailed(Exception):
    """Stops one item with a status (failed or held) and its errors; the job goes on."""

    def __init__(self, status: str, errors: list[dict[str, Any]], report: dict | None = None):
        super().__init__(status)
        self.status = status
        self.errors = errors
        self.report = report or {}


def _error(message_en: str, message_th: str = "", **where: Any) -> dict[str, Any]:
    return {"message_en": message_en, "message_th": message_th or message_en, **where}


# --- jobs ---------------------------------------------------------------------------------


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def harvest_reap(ctx: Context) -> int:
    """Close as failed the jobs left "running" by a process that died; returns how many."""
    now = clock.utcnow()
    host = socket.gethostname()
    closed = 0
    with ctx.catalog.transaction() as session:
        for job in session.scalars(select(HarvestJob).where(HarvestJob.status == "running")):
            dead = (job.host == host and not _process_alive(job.pid)) or (
                now - job.heartbeat > STALE_AFTER
            )
            if dead:
                job.status = "failed"
                job.finished = now
                job.errors = [
                    *job.errors,
                    _error(
                        "The harvest process stopped before the job finished.",
                        "กระบวนการเก็บเกี่ยวข้อมูลหยุดทำงานก่อนงานเสร็จ",
                    ),
                ]
                closed += 1
    return closed


def _save_source(ctx: Context, org: Organization, source: Any, config: Any) -> str:
    with ctx.catalog.transaction() as session:
        row = session.scalar(
            select(HarvestSource).where(
                HarvestSource.organization_id == org.id, HarvestSource.name == source.id
            )
        )
        if row is None:
            row = HarvestSource(organization_id=org.id, name=source.id, kind=source.kind, config={})
            session.add(row)
        row.kind = source.kind
        row.config = _jsonable(
            {
                "settings": source.settings,
                "defaults": source.defaults,
                "delete_missing": source.delete_missing,
            }
        )
        row.config_dir = str(config.base_dir)
        row.frequency = str(source_option(source, "frequency", "manual"))
        session.flush()
        return row.id


def _start_job(ctx: Context, source_id: str, dry_run: bool) -> str:
    with ctx.catalog.transaction() as session:
        user = auth.acting_user(ctx, session)
        job = HarvestJob(
            source_id=source_id,
            dry_run=dry_run,
            host=socket.gethostname(),
            pid=os.getpid(),
            user_id=user.id if user else None,
            status="running",
        )
        session.add(job)
        session.flush()
        return job.id


def _record(ctx: Context, job_id: str, outcome: Outcome, started: float, stage: str) -> None:
    with ctx.catalog.transaction() as session:
        session.add(
            HarvestObject(
                job_id=job_id,
                remote_id=outcome.remote_id[:1000],
                dataset_id=outcome.dataset_id,
                status=outcome.status,
                duration_ms=int((time.monotonic() - started) * 1000),
                rows=outcome.rows,
                errors=_jsonable(outcome.errors),
                report=_jsonable(outcome.report),
            )
        )
        job = session.get(HarvestJob, job_id)
        job.heartbeat = clock.utcnow()
        job.stage = stage
        counts = dict(job.counts)
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        job.counts = counts


def _finish_job(ctx: Context, job_id: str, status: str, errors: list[dict[str, Any]]) -> None:
    with ctx.catalog.transaction() as session:
        job = session.get(HarvestJob, job_id)
        job.status = status
        job.finished = clock.utcnow()
        job.errors = [*job.errors, *_jsonable(errors)]
        if status == "done" and not job.dry_run:
            session.get(HarvestSource, job.source_id).last_success = job.started


# --- running ------------------------------------------------------------------------------


def source_option(source: Any, key: str, default: Any = None) -> Any:
    """A source setting (``frequency``, ``incremental``, ``dataset`` ...) or `default`."""
    return source.settings.get(key, default)


def harvest_run(
    ctx: Context,
    config: Any,
    *,
    dry_run: bool = False,
    only: list[str] | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run the sources of a harvest config; returns one job summary per source.

    :param config: a `harvesters.config.HarvestConfig` (see `khlang harvest run CONFIG.yaml`).
    :param dry_run: fetch, normalise and validate, but publish nothing.
    :param only: run only the sources with these ids.
    :param progress: called as ``progress(event, **info)`` for the CLI's progress display.
    :raises NotAuthorized: the caller may not publish for the config's organisation.
    """
    with ctx.catalog.reader() as session:
        org = find_org(session, config.organization)
        if org is None:
            raise ValidationFailed({"organization": ["Organization does not exist."]})
        auth.require(ctx, session, "write_dataset", org.id)
        session.expunge(org)
    harvest_reap(ctx)
    summaries = []
    for source in config.sources:
        if only and source.id not in only:
            continue
        source_id = _save_source(ctx, org, source, config)
        summaries.append(_run_source(ctx, org, source, config, source_id, dry_run, progress))
    return summaries


def _run_source(
    ctx: Context,
    org: Organization,
    source: Any,
    config: Any,
    source_id: str,
    dry_run: bool,
    progress: Progress | None,
) -> dict[str, Any]:
    from harvesters.base import get_kind
    from harvesters.fetch import make_opener

    job_id = _start_job(ctx, source_id, dry_run)
    notify = progress or (lambda *a, **k: None)
    notify("source", source=source.id, job=job_id)
    settings = ctx.catalog.settings
    opener = make_opener(settings.MAX_UPLOAD_MB * 1024 * 1024, settings.S3_ENDPOINT_URL or None)
    errors: list[dict[str, Any]] = []
    status = "done"
    seen: set[str] = set()
    try:
        kind = get_kind(source.kind)(source.as_mapping(), opener)
        incremental = bool(source_option(source, "incremental", False))
        since = _last_success(ctx, source_id) if incremental else None
        gathered_all = True
        try:
            for item in kind.gather(since):
                seen.add(item.remote_id)
                started = time.monotonic()
                outcome = _harvest_item(ctx, org, source, config, source_id, kind, item, dry_run)
                _record(ctx, job_id, outcome, started, "publish")
                notify(
                    "item", source=source.id, outcome=outcome, seconds=time.monotonic() - started
                )
        except HarvestError as exc:
            gathered_all = False
            status = "failed"
            errors.append(_error(exc.message, exc.message_th, stage="gather"))
        if gathered_all and source.delete_missing and since is None:
            for outcome in _withdraw_missing(ctx, source_id, seen, dry_run):
                _record(ctx, job_id, outcome, time.monotonic(), "publish")
    except KeyboardInterrupt:
        _finish_job(ctx, job_id, "interrupted", [_error("Stopped by the user.", "ผู้ใช้สั่งหยุด")])
        raise
    except Exception as exc:  # a bug or an unreadable source: the job fails, the catalogue stays
        status = "failed"
        errors.append(_error(f"{type(exc).__name__}: {exc}", stage="run"))
    _finish_job(ctx, job_id, status, errors)
    return harvest_report(ctx, job_id, objects=False)


def _last_success(ctx: Context, source_id: str) -> datetime | None:
    with ctx.catalog.reader() as session:
        return session.scalar(
            select(HarvestSource.last_success).where(HarvestSource.id == source_id)
        )


def _withdraw_missing(
    ctx: Context, source_id: str, seen: set[str], dry_run: bool
) -> Iterator[Outcome]:
    with ctx.catalog.reader() as session:
        rows = session.execute(
            select(HarvestMap.remote_id, HarvestMap.dataset_id)
            .join(Dataset, Dataset.id == HarvestMap.dataset_id)
            .where(HarvestMap.source_id == source_id, Dataset.state != "withdrawn")
        ).all()
    for remote_id, dataset_id in rows:
        if remote_id in seen:
            continue
        if not dry_run:
            with ctx.catalog.transaction() as session:
                ds = session.get(Dataset, dataset_id)
                ds.state = "withdrawn"
                ds.modified = clock.utcnow()
                snapshot_version(ctx, session, ds, "withdrawn: gone from the harvest source")
                record_activity(
                    ctx, session, "deleted package", "dataset", ds.id, {"name": ds.name}
                )
        yield Outcome(remote_id, "would-withdraw" if dry_run else "withdrawn", dataset_id)


# --- one item -----------------------------------------------------------------------------


@dataclass
class _PreparedResource:
    record: ResourceRecord
    original: StoredObject | None = None
    spooled: Path | None = None
    prepared: Any = None
    report: dict[str, Any] = field(default_factory=dict)


def _harvest_item(
    ctx: Context,
    org: Organization,
    source: Any,
    config: Any,
    source_id: str,
    kind: Any,
    item: RemoteItem,
    dry_run: bool,
) -> Outcome:
    outcome = Outcome(item.remote_id)
    workdir = Path(tempfile.mkdtemp(prefix="khlang-harvest-"))
    try:
        record = kind.map(item)
        dataset = {**source.defaults, **_template(source), **record.dataset}
        dataset["owner_org"] = org.name
        try:
            clean = _validate_dataset(dataset)
        except ValidationFailed as exc:
            errors = [_error(f"{k}: {v}", field=k) for k, v in exc.errors.items()]
            raise ItemFailed("failed", errors) from None
        resources = [_prepare(ctx, res, workdir) for res in record.resources]
        outcome.report = {"resources": {r.record.name: r.report for r in resources}}
        held = {r.record.name: r.report["pii"] for r in resources if r.report.get("pii")}
        if held:
            raise ItemFailed(
                "held",
                [
                    _error(
                        f"Personal data found in {name}: "
                        + ", ".join(f"{p['column']} ({p['kind']} × {p['count']})" for p in hits),
                        f"พบข้อมูลส่วนบุคคลใน {name}: "
                        + ", ".join(f"{p['column']} ({p['kind']} × {p['count']})" for p in hits),
                        resource=name,
                    )
                    for name, hits in held.items()
                ],
                outcome.report,
            )
        content_hash = _content_hash(clean, resources)
        with ctx.catalog.reader() as session:
            mapped = session.scalar(
                select(HarvestMap).where(
                    HarvestMap.source_id == source_id, HarvestMap.remote_id == item.remote_id
                )
            )
            mapped_state = session.get(Dataset, mapped.dataset_id).state if mapped else None
        if mapped and mapped.content_hash == content_hash and mapped_state == "published":
            outcome.status, outcome.dataset_id = "unchanged", mapped.dataset_id
            outcome.rows = sum(_rows(r) for r in resources)
            return outcome
        if dry_run:
            outcome.rows = _validate_only(resources, outcome)
            outcome.status = "would-update" if mapped else "would-create"
            return outcome
        outcome.dataset_id, outcome.rows, created = _publish(
            ctx, org, source_id, item.remote_id, clean, resources, content_hash, outcome
        )
        outcome.status = "created" if created else "updated"
    except ItemFailed as stop:
        outcome.status = stop.status
        outcome.errors = stop.errors
        outcome.report = stop.report or outcome.report
    except HarvestError as exc:
        outcome.status = "failed"
        outcome.errors = [_error(exc.message, exc.message_th)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return outcome


def _template(source: Any) -> dict[str, Any]:
    template = source_option(source, "dataset", None) or {}
    return dict(template)


def _rows(res: _PreparedResource) -> int:
    return int(getattr(res.prepared, "rows_written", 0) or 0)


def _content_hash(clean: Mapping[str, Any], resources: list[_PreparedResource]) -> str:
    digest = hashlib.sha256(
        json.dumps(_jsonable(clean), sort_keys=True, ensure_ascii=False).encode()
    )
    for res in resources:
        digest.update(res.record.name.encode())
        digest.update((res.original.sha256 if res.original else res.record.url).encode())
        digest.update(json.dumps(_jsonable(res.record.table_schema or {}), sort_keys=True).encode())
    return digest.hexdigest()


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    with path.open("rb") as stream:
        yield stream


def _prepare(ctx: Context, res: ResourceRecord, workdir: Path) -> _PreparedResource:
    """Fetch a resource's file, store the original bytes, and normalise a tabular one."""
    result = _PreparedResource(res)
    if res.file is None:
        return result
    spooled = workdir / f"original-{len(list(workdir.iterdir()))}"
    _spool(ctx, res.file, spooled)
    with _opened(spooled) as stream:
        result.original = ctx.catalog.storage.put(stream)
    result.spooled = spooled
    result.report["original"] = {"sha256": result.original.sha256, "size": result.original.size}
    if not res.tabular:
        return result
    from harvesters.prepare import prepare_table

    with _opened(spooled) as stream:
        prepared = prepare_table(
            stream,
            name=res.file.name,
            fmt=res.read_options.get("format") or res.format,
            table_schema=dict(res.table_schema or {}),
            options=res.read_options,
            workdir=workdir,
        )
    result.prepared = prepared
    result.report.update(_prepared_report(prepared))
    problems = [p for p in prepared.problems if getattr(p, "level", "error") == "error"]
    if problems:
        raise ItemFailed(
            "failed",
            [_problem(p, res.name) for p in problems],
            {"resources": {res.name: result.report}},
        )
    return result


def _problem(problem: Any, resource: str) -> dict[str, Any]:
    if isinstance(problem, Mapping):
        return {**problem, "resource": resource}
    return _error(
        getattr(problem, "message_en", str(problem)),
        getattr(problem, "message_th", ""),
        resource=resource,
    )


def _prepared_report(prepared: Any) -> dict[str, Any]:
    pii = getattr(prepared, "pii", None)
    pii_rows = []
    if pii is not None and getattr(pii, "found", False):
        pii_rows = [
            {"column": column, "kind": kind, "count": count}
            for (column, kind), count in sorted(pii.counts.items())
        ]
    header = getattr(prepared, "header", None)
    return {
        "encoding": getattr(prepared, "encoding", None),
        "source_rows": getattr(prepared, "source_rows", None),
        "rows": getattr(prepared, "rows_written", None),
        "header_row": header.header_row_index + 1 if header is not None else None,
        "totals_rows": list(getattr(prepared, "totals_rows", []) or []),
        "blank_rows": getattr(prepared, "blank_rows", 0),
        "normalisation": getattr(prepared, "normalisation", None) or [],
        "pii": pii_rows,
    }


def _spool(ctx: Context, ref: FileRef, target: Path) -> None:
    from harvesters.fetch import open_location

    settings = ctx.catalog.settings
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    with (
        open_location(
            ref.location, max_bytes=limit, s3_endpoint_url=settings.S3_ENDPOINT_URL or None
        ) as stream,
        target.open("wb") as out,
    ):
        shutil.copyfileobj(stream, out, 1 << 20)


def _finding_dict(finding: Any, prepared: Any) -> dict[str, Any]:
    row = finding.row
    source_row = None
    if row is not None and row >= 2:
        to_source = getattr(prepared, "source_row", None)
        source_row = to_source(row) if callable(to_source) else None
    return {
        "row": row,
        "source_row": source_row,
        "field": finding.field,
        "type": finding.type,
        "message_en": finding.message_en,
        "message_th": finding.message_th,
        "value": finding.value,
    }


def _validate(res: _PreparedResource, on_batch: Callable | None) -> tuple[list[dict], int]:
    from harvesters.validate import validate_csv

    result = validate_csv(
        res.prepared.csv_path, dict(res.record.table_schema or {}), on_batch=on_batch
    )
    findings = [_finding_dict(f, res.prepared) for f in result.findings]
    res.report["validation"] = {
        "valid": not findings,
        "errors": findings[:1000],
        "error_count": len(findings),
        "truncated": result.truncated,
    }
    return findings, result.row_count


def _validate_only(resources: list[_PreparedResource], outcome: Outcome) -> int:
    rows = 0
    failed = []
    for res in resources:
        if res.prepared is None:
            continue
        findings, count = _validate(res, None)
        rows += count
        if findings:
            failed.append(res.record.name)
    if failed:
        raise ItemFailed(
            "failed",
            [_error(f"Validation failed: {n}", f"ตรวจสอบไม่ผ่าน: {n}", resource=n) for n in failed],
            outcome.report,
        )
    return rows


def _publish(
    ctx: Context,
    org: Organization,
    source_id: str,
    remote_id: str,
    clean: dict[str, Any],
    resources: list[_PreparedResource],
    content_hash: str,
    outcome: Outcome,
) -> tuple[str, int, bool]:
    """Write one item in one transaction: dataset, resources, datastore, version, map."""
    normalised: dict[str, StoredObject] = {}
    for res in resources:
        if res.prepared is not None:
            with _opened(Path(res.prepared.csv_path)) as stream:
                normalised[res.record.name] = ctx.catalog.storage.put(stream)
    with ctx.catalog.transaction() as session:
        mapped = session.scalar(
            select(HarvestMap).where(
                HarvestMap.source_id == source_id, HarvestMap.remote_id == remote_id
            )
        )
        ds = session.get(Dataset, mapped.dataset_id) if mapped else None
        created = ds is None
        if ds is None:
            if session.scalar(select(Dataset.id).where(Dataset.name == clean["name"])):
                raise ItemFailed(
                    "failed",
                    [
                        _error(
                            f"Dataset name {clean['name']} is already used by another dataset.",
                            f"ชื่อชุดข้อมูล {clean['name']} ถูกใช้โดยชุดข้อมูลอื่นแล้ว",
                            field="name",
                        )
                    ],
                )
            ds = Dataset(name=clean["name"], title=clean["title"], owner_org_id=org.id)
            session.add(ds)
        ds.owner_org_id = org.id
        _apply(session, ds, clean)
        ds.state = clean.get("state") or "published"
        ds.modified = clock.utcnow()
        session.flush()
        rows = _sync_resources(ctx, session, ds, resources, normalised)
        message = "harvested" if created else "harvested: source changed"
        snapshot_version(ctx, session, ds, message)
        record_activity(
            ctx,
            session,
            "new package" if created else "changed package",
            "dataset",
            ds.id,
            {"name": ds.name, "harvest_source": source_id},
        )
        if mapped is None:
            mapped = HarvestMap(source_id=source_id, remote_id=remote_id, dataset_id=ds.id)
            session.add(mapped)
        mapped.content_hash = content_hash
        mapped.last_seen = clock.utcnow()
        return ds.id, rows, created


def _sync_resources(
    ctx: Context,
    session: Session,
    ds: Dataset,
    resources: list[_PreparedResource],
    normalised: dict[str, StoredObject],
) -> int:
    """Make the dataset's resources those of the record, matched by name; load datastores."""
    existing = {r.name: r for r in ds.resources if r.state == "active"}
    kept: list[Resource] = []
    rows = 0
    for position, res in enumerate(resources):
        record = res.record
        data = {"name": record.name, "format": record.format, "description": record.description}
        if record.name_en:
            data["name_en"] = record.name_en
        if not record.file:
            data["url"] = record.url
        data.update({k: v for k, v in record.extra.items() if v not in (None, "")})
        clean = validate_resource(data, data_type=ds.data_type, upload=record.file is not None)
        row = existing.pop(record.name, None) or Resource(dataset=ds, name=record.name)
        apply_resource(row, clean)
        row.position = position
        row.modified = clock.utcnow()
        if res.original is not None:
            row.storage_key = res.original.key
            row.sha256 = res.original.sha256
            row.size = res.original.size
            row.filename = record.file.name
            row.url = ""
            row.format = (record.format or record.file.name.rsplit(".", 1)[-1]).upper()[:40]
        if res.prepared is not None:
            session.add(row)
            session.flush()
            row.table_schema = dict(record.table_schema or {})
            loader = Loader(session.connection(), table_name(row.id), row.table_schema)
            findings, count = _validate(res, loader.append)
            if findings:
                raise ItemFailed(
                    "failed",
                    [
                        _error(
                            f"{record.name}: {len(findings)} validation errors; the published "
                            "version stays live.",
                            f"{record.name}: ตรวจสอบไม่ผ่าน {len(findings)} รายการ "
                            "ฉบับที่เผยแพร่อยู่ยังคงใช้งานต่อไป",
                            resource=record.name,
                        )
                    ],
                )
            row.validation_status = "valid"
            row.validation_report = _jsonable(res.report)
            row.normalised_key = normalised[record.name].key
            row.datastore_table = loader.table.name
            row.datastore_rows = loader.rows
            rows += count
        kept.append(row)
    for gone in existing.values():
        gone.state = "deleted"
    ds.resources = kept + list(existing.values())
    return rows


# --- reading jobs -------------------------------------------------------------------------


def harvest_jobs(ctx: Context, limit: int = 20) -> list[dict[str, Any]]:
    """The latest harvest jobs the caller may see, newest first."""
    with ctx.catalog.reader() as session:
        readable = auth.readable_org_ids(ctx, session)
        stmt = (
            select(HarvestJob, HarvestSource)
            .join(HarvestSource, HarvestSource.id == HarvestJob.source_id)
            .order_by(HarvestJob.started.desc())
            .limit(limit)
        )
        if readable is not None:
            stmt = stmt.where(HarvestSource.organization_id.in_(readable))
        return [_job_dict(job, src) for job, src in session.execute(stmt).all()]


def _job_dict(job: HarvestJob, src: HarvestSource) -> dict[str, Any]:
    return {
        "id": job.id,
        "source": src.name,
        "kind": src.kind,
        "status": job.status,
        "dry_run": job.dry_run,
        "started": job.started.isoformat(),
        "finished": job.finished.isoformat() if job.finished else None,
        "counts": dict(job.counts),
        "errors": list(job.errors),
    }


def harvest_report(ctx: Context, job_id: str, *, objects: bool = True) -> dict[str, Any]:
    """A job with its counts, errors and (with `objects`) each item's outcome and report."""
    with ctx.catalog.reader() as session:
        job = session.get(HarvestJob, job_id)
        if job is None:
            matches = session.scalars(
                select(HarvestJob).where(HarvestJob.id.startswith(job_id)).limit(2)
            ).all()
            job = matches[0] if len(matches) == 1 else None
        if job is None:
            raise NotFound(f"Not found: harvest job {job_id}")
        src = session.get(HarvestSource, job.source_id)
        auth.require(ctx, session, "read_private", src.organization_id)
        result = _job_dict(job, src)
        items = session.scalars(
            select(HarvestObject)
            .where(HarvestObject.job_id == job.id)
            .order_by(HarvestObject.created)
        ).all()
        result["rows"] = sum(o.rows for o in items)
        result["seconds"] = sum(o.duration_ms for o in items) / 1000
        if objects:
            result["objects"] = [
                {
                    "remote_id": o.remote_id,
                    "dataset_id": o.dataset_id,
                    "status": o.status,
                    "duration_ms": o.duration_ms,
                    "rows": o.rows,
                    "errors": o.errors,
                    "report": o.report,
                }
                for o in items
            ]
        return result


def harvest_run_due(ctx: Context, progress: Progress | None = None) -> list[dict[str, Any]]:
    """Run the stored sources whose frequency says they are due (for cron or a timer)."""
    from harvesters.config import HarvestConfig, SourceConfig

    now = clock.utcnow()
    with ctx.catalog.reader() as session:
        due = [
            (src, org.name)
            for src, org in session.execute(
                select(HarvestSource, Organization).join(
                    Organization, Organization.id == HarvestSource.organization_id
                )
            ).all()
            if src.active
            and src.frequency in FREQUENCIES
            and (src.last_success is None or now - src.last_success >= FREQUENCIES[src.frequency])
        ]
    summaries = []
    for src, org_name in due:
        stored = src.config
        base_dir = Path(src.config_dir or ".")
        source = SourceConfig(
            id=src.name,
            kind=src.kind,
            settings=dict(stored.get("settings", {})),
            delete_missing=bool(stored.get("delete_missing")),
            organization=org_name,
            defaults=dict(stored.get("defaults", {})),
            base_dir=base_dir,
        )
        config = HarvestConfig(
            organization=org_name,
            defaults=source.defaults,
            delete_missing=source.delete_missing,
            sources=[source],
            base_dir=base_dir,
        )
        summaries.extend(harvest_run(ctx, config, progress=progress))
    return summaries


def _jsonable(value: Any) -> Any:
    from catalog.services.dictize import jsonable

    value = jsonable(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


__all__ = [
    "HarvestRecord",
    "harvest_jobs",
    "harvest_reap",
    "harvest_report",
    "harvest_run",
    "harvest_run_due",
]
