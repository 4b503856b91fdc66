"""One harvested item: fetch and prepare its files, then publish it in one transaction.

The item's outcome is one of created, updated, unchanged, failed or held; an `ItemFailed`
raised anywhere stops only that item.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import clock
from catalog.models import Dataset, HarvestMap, Organization, Resource
from catalog.services.context import Context
from catalog.services.datasets import _apply, _validate_dataset
from catalog.services.datastore import ACTIVE, PENDING
from catalog.services.errors import ValidationFailed
from catalog.services.history import record_activity, snapshot_version
from catalog.services.resources import apply_resource, validate_resource
from catalog.services.search import warm_up
from catalog.storage import StoredObject
from catalog.storage.base import CHUNK_SIZE, key_for_sha256
from harvesters.base import FileRef, HarvestError, RemoteItem, ResourceRecord
from harvesters.sink import HashingSink


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


def error_entry(message_en: str, message_th: str = "", **where: Any) -> dict[str, Any]:
    return {"message_en": message_en, "message_th": message_th or message_en, **where}


def _messages(value: Any) -> str:
    """A field's validation messages as one line (a list of them, or nested field errors)."""
    if isinstance(value, list | tuple):
        return "; ".join(map(_messages, value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_messages(v)}" for k, v in value.items())
    return str(value)


# --- one item -----------------------------------------------------------------------------


@dataclass
class _PreparedResource:
    record: ResourceRecord
    original: StoredObject | None = None
    spooled: Path | None = None
    prepared: Any = None
    report: dict[str, Any] = field(default_factory=dict)
    valid_rows: int = 0
    normalised: StoredObject | None = None
    checked: Any = None  # the CSV's validation, when prepare_table made it on the way


class _Writes:
    """Storage writes run on a worker thread while the item goes on (hashing is done, so the
    keys are known at once; what is left is the copy or link and fsync, or an S3 upload)."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="khlang-store")
        self.futures: list[Future] = []

    def adopt(self, path: Path, sha256: str, size: int) -> StoredObject:
        self.futures.append(self.pool.submit(self.storage.adopt, path, sha256, size))
        return StoredObject(key_for_sha256(sha256), sha256, size)

    def wait(self) -> None:
        """Return when every write is durable; re-raises the first write's error."""
        for future in self.futures:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)  # before the work folder the writes read is removed


def harvest_item(
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
    writes = _Writes(ctx.catalog.storage)
    try:
        record = kind.map(item)
        dataset = {**source.defaults, **_template(source), **record.dataset}
        dataset["owner_org"] = org.name
        try:
            clean = _validate_dataset(dataset)
        except ValidationFailed as exc:
            thai = exc.localised_errors("th")
            errors = [
                error_entry(f"{k}: {_messages(v)}", f"{k}: {_messages(thai.get(k, v))}", field=k)
                for k, v in exc.errors.items()
            ]
            raise ItemFailed("failed", errors) from None
        resources = [_fetch(ctx, res, workdir, writes) for res in record.resources]
        # Decided on the original bytes, before any preparation: an unchanged source costs
        # one read of each file.
        content_hash = _content_hash(clean, resources)
        with ctx.catalog.reader() as session:
            mapped = session.scalar(
                select(HarvestMap).where(
                    HarvestMap.source_id == source_id, HarvestMap.remote_id == item.remote_id
                )
            )
            mapped_state = session.get(Dataset, mapped.dataset_id).state if mapped else None
        wanted_state = clean.get("state") or "published"
        if mapped and mapped.content_hash == content_hash and mapped_state == wanted_state:
            outcome.status, outcome.dataset_id = "unchanged", mapped.dataset_id
            return outcome
        for res in resources:
            _prepare(res, workdir)
        outcome.report = {"resources": {r.record.name: r.report for r in resources}}
        held = {r.record.name: r.report["pii"] for r in resources if r.report.get("pii")}
        if held:
            raise ItemFailed(
                "held",
                [
                    error_entry(
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
        if not dry_run:
            for res in resources:
                _store_normalised(ctx, res, writes)
        outcome.rows = _validate_all(resources, outcome)
        if dry_run:
            outcome.status = "would-update" if mapped else "would-create"
            return outcome
        # The index is updated right after the commit: its analyzer loads while the files
        # are made durable (only now, so its memory does not add to the tables' peak).
        warm_up(ctx.catalog)
        outcome.dataset_id, outcome.rows, created = _publish(
            ctx, org, source_id, item.remote_id, clean, resources, content_hash, writes
        )
        outcome.status = "created" if created else "updated"
    except ItemFailed as stop:
        outcome.status = stop.status
        outcome.errors = stop.errors
        outcome.report = stop.report or outcome.report
    except HarvestError as exc:
        outcome.status = "failed"
        outcome.errors = [error_entry(exc.message, exc.message_th)]
    finally:
        writes.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return outcome


def _template(source: Any) -> dict[str, Any]:
    template = source.settings.get("dataset") or {}
    return dict(template)


def _content_hash(clean: Mapping[str, Any], resources: list[_PreparedResource]) -> str:
    digest = hashlib.sha256(json.dumps(to_json(clean), sort_keys=True, ensure_ascii=False).encode())
    for res in resources:
        digest.update(res.record.name.encode())
        digest.update((res.original.sha256 if res.original else res.record.url).encode())
        digest.update(json.dumps(to_json(res.record.table_schema or {}), sort_keys=True).encode())
    return digest.hexdigest()


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    with path.open("rb") as stream:
        yield stream


def _fetch(ctx: Context, res: ResourceRecord, workdir: Path, writes: _Writes) -> _PreparedResource:
    """Fetch a resource's file and store the original bytes."""
    result = _PreparedResource(res)
    if res.file is None:
        return result
    spooled = workdir / f"original-{len(list(workdir.iterdir()))}"
    sha256, size = _spool(ctx, res.file, spooled)
    result.original = writes.adopt(spooled, sha256, size)
    result.spooled = spooled
    result.report["original"] = {"sha256": result.original.sha256, "size": result.original.size}
    return result


def _prepare(result: _PreparedResource, workdir: Path) -> None:
    """Normalise a tabular resource's file into the CSV that is validated and published."""
    res = result.record
    if result.spooled is None or not res.tabular or res.file is None:
        return
    from harvesters.prepare import prepare_table

    with _opened(result.spooled) as stream:
        prepared = prepare_table(
            stream,
            name=res.file.name,
            fmt=res.read_options.get("format") or res.format,
            table_schema=dict(res.table_schema or {}),
            options=res.read_options,
            workdir=workdir,
            validate=True,
        )
    result.checked = prepared.checked
    result.prepared = prepared
    result.report.update(_prepared_report(prepared))
    problems = [p for p in prepared.problems if getattr(p, "level", "error") == "error"]
    if problems:
        raise ItemFailed(
            "failed",
            [_problem(p, res.name) for p in problems],
            {"resources": {res.name: result.report}},
        )


def _store_normalised(ctx: Context, res: _PreparedResource, writes: _Writes) -> None:
    prepared = res.prepared
    if prepared is None:
        return
    if prepared.csv_sha256:
        res.normalised = writes.adopt(
            Path(prepared.csv_path), prepared.csv_sha256, prepared.csv_size
        )
    else:
        with _opened(Path(prepared.csv_path)) as stream:
            res.normalised = ctx.catalog.storage.put(stream)


def _problem(problem: Any, resource: str) -> dict[str, Any]:
    if isinstance(problem, Mapping):
        return {**problem, "resource": resource}
    return error_entry(
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


def _spool(ctx: Context, ref: FileRef, target: Path) -> tuple[str, int]:
    """Copy the file to `target`, hashing it on the way; returns (sha256, size)."""
    from harvesters.fetch import open_location

    settings = ctx.catalog.settings
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    with (
        open_location(
            ref.location, max_bytes=limit, s3_endpoint_url=settings.S3_ENDPOINT_URL or None
        ) as stream,
        target.open("wb") as out,
    ):
        sink = HashingSink(out)
        try:
            while chunk := stream.read(CHUNK_SIZE):
                sink.write(chunk)
        finally:
            sha256 = sink.close()
        return sha256, sink.size


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


def _validate(res: _PreparedResource) -> list[dict[str, Any]]:
    from harvesters.validate import validate_csv

    try:
        result = res.checked or validate_csv(
            res.prepared.csv_path, dict(res.record.table_schema or {})
        )
    finally:
        # pyarrow's allocator keeps freed pages for reuse; hand them back before the commit
        # and the search indexing, so they do not add to the harvest's peak memory.
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    findings = [_finding_dict(f, res.prepared) for f in result.findings]
    res.report["validation"] = {
        "valid": not findings,
        "errors": findings[:1000],
        "error_count": len(findings),
        "truncated": result.truncated,
    }
    res.valid_rows = result.row_count
    return findings


def _validate_all(resources: list[_PreparedResource], outcome: Outcome) -> int:
    """Validate every table before anything is written; one invalid table fails the item."""
    errors = []
    for res in resources:
        if res.prepared is None:
            continue
        findings = _validate(res)
        if findings:
            name = res.record.name
            errors.append(
                error_entry(
                    f"{name}: {len(findings)} validation errors; nothing from this run was "
                    "published (an earlier version, if any, stays live).",
                    f"{name}: ตรวจสอบไม่ผ่าน {len(findings)} รายการ ไม่มีการเผยแพร่ข้อมูลจากรอบนี้ "
                    "(ฉบับที่เผยแพร่ก่อนหน้า ถ้ามี ยังคงใช้งานต่อไป)",
                    resource=name,
                )
            )
    if errors:
        raise ItemFailed("failed", errors, outcome.report)
    return sum(res.valid_rows for res in resources)


def _publish(
    ctx: Context,
    org: Organization,
    source_id: str,
    remote_id: str,
    clean: dict[str, Any],
    resources: list[_PreparedResource],
    content_hash: str,
    writes: _Writes,
) -> tuple[str, int, bool]:
    """Write one item in one transaction: dataset, resources, version, map; queue the datastore."""
    normalised = {r.record.name: r.normalised for r in resources if r.normalised is not None}
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
                        error_entry(
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
        # The rows may be written while the files reach the disk, but not committed before.
        writes.wait()
        return ds.id, rows, created


def _sync_resources(
    ctx: Context,
    session: Session,
    ds: Dataset,
    resources: list[_PreparedResource],
    normalised: dict[str, StoredObject],
) -> int:
    """Make the dataset's resources those of the record, matched by name."""
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
            schema = dict(record.table_schema or {})
            key = normalised[record.name].key
            loaded = (
                row.datastore_status == ACTIVE
                and row.normalised_key == key
                and row.table_schema == schema
            )
            row.table_schema = schema
            row.validation_status = "valid"
            row.validation_report = to_json(res.report)
            row.normalised_key = key
            if not loaded:
                # Loaded by load_pending after this commit; the old table serves until then.
                row.datastore_status = PENDING
            rows += res.valid_rows
        kept.append(row)
    for gone in existing.values():
        gone.state = "deleted"
    ds.resources = kept + list(existing.values())
    return rows


def to_json(value: Any) -> Any:
    from catalog.services.dictize import jsonable

    value = jsonable(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return to_json(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value
