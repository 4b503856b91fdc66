"""Housekeeping of the file store: removing stored files nothing refers to.

Files are content-addressed and never deleted by the services: a resource's file stays for the
dataset's older versions. Some files end up referred to by nothing: the original and the
normalised CSV of a harvest that failed validation or was held back for personal data (PDPA),
the normalised CSV a newer one replaced, an upload whose transaction failed. `storage_sweep`
removes those once they are older than a grace period, and never while a harvest runs.

Why that is safe: a harvest or an upload stores its files before its transaction commits.
New bytes are young. Bytes stored already are not written again, so an old unreferenced file
may be about to be referred to: by a harvest, which is running (its job row is committed
before it fetches anything; the sweep checks before each removal), or by an upload, whose
window is its own commit (and a local store renews the file's time when it is stored again).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import clock
from catalog.models import DatasetVersion, HarvestJob, Resource
from catalog.services import auth
from catalog.services.context import Context
from catalog.storage.base import ObjectNotFound

#: Only content-addressed files are swept (catalog.storage.base.key_for_sha256).
SWEPT_PREFIX = "sha256/"
GRACE = timedelta(days=1)


def _referenced(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys of `keys` that a resource or a dataset version refers to."""
    wanted = set(keys)
    found: set[str] = set()
    keys = select(Resource.storage_key, Resource.normalised_key, Resource.datastore_key)
    for row in session.execute(keys):
        found.update(key for key in row if key in wanted)
    snapshots = session.scalars(select(DatasetVersion.snapshot).execution_options(yield_per=500))
    for snapshot in snapshots:
        for res in (snapshot or {}).get("resources") or ():
            if res.get("storage_key") in wanted:
                found.add(res["storage_key"])
    return found


def _harvest_running(ctx: Context) -> bool:
    with ctx.catalog.reader() as session:
        running = select(HarvestJob.id).where(HarvestJob.status == "running").limit(1)
        return session.scalar(running) is not None


def storage_sweep(
    ctx: Context, older_than: timedelta = GRACE, dry_run: bool = False
) -> dict[str, Any]:
    """Delete the stored files no resource and no dataset version refers to, last stored more
    than `older_than` ago (sysadmins only). Returns the keys removed (or, with `dry_run`, that
    would be), their bytes, how many unreferenced files were too recent to remove, and
    whether a running harvest stopped the sweep (it removes nothing while one runs)."""
    from catalog.services.harvest import harvest_reap

    with ctx.catalog.reader() as session:
        auth.require(ctx, session, "sweep_storage")
    harvest_reap(ctx)  # jobs left "running" by dead processes must not stop the sweep
    storage = ctx.catalog.storage
    cutoff = clock.utcnow() - older_than
    stored = list(storage.iter_keys(SWEPT_PREFIX))
    # Read after the listing: a commit that refers to a listed file is seen.
    with ctx.catalog.reader() as session:
        referenced = _referenced(session, stored)
    candidates = [key for key in stored if key not in referenced]
    removed: list[str] = []
    recent = size = 0
    stopped = False
    for key in candidates:
        modified = storage.modified(key)
        if modified is None:
            continue
        if modified > cutoff:
            recent += 1
            continue
        if _harvest_running(ctx):
            stopped = True
            break
        try:
            size += storage.size(key)
        except ObjectNotFound:  # removed meanwhile
            continue
        if not dry_run:
            storage.delete(key)
        removed.append(key)
    return {
        "removed": removed,
        "bytes": size,
        "recent": recent,
        "stopped_by_harvest": stopped,
        "dry_run": dry_run,
    }
