"""Khlang's demo catalogue: fictional Thai agencies, their datasets and their files.

The demo comes in two parts, and both go through the services, so it passes the same
validation and permission checks as real data:

- ``catalogue.json`` next to this module: the organisations, groups and demo account, and the
  datasets an agency would enter by hand (metadata only, a link, a statistical table, a
  draft), with their files in ``files/``;
- the harvest configs ``examples/demo/*.yaml`` of the source checkout (one per organisation):
  every tabular dataset (budgets, disbursement, project progress, regulations) is harvested
  from the agencies' own files, normalised and validated against its Table Schema, exactly as
  ``khlang harvest run`` does it.

The organisations, people, contractors and amounts are invented. ``load_demo`` can be run
again at any time: whatever exists is left alone, and unchanged harvest sources are reported
unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import catalog
from catalog.services import (
    Context,
    NotFound,
    ServiceError,
    group_create,
    group_show,
    member_create,
    organization_create,
    organization_show,
    package_create,
    package_show,
    resource_create,
    user_create,
    user_show,
)
from catalog.services.harvest import harvest_report, harvest_run
from harvesters.config import ConfigError, HarvestConfig, load_config

DEMO_DIR = Path(__file__).resolve().parent
CATALOGUE_FILE = DEMO_DIR / "catalogue.json"
FILES_DIR = DEMO_DIR / "files"
# Read from the source checkout: the examples are documentation, not part of the package.
EXAMPLES_DIR = Path(catalog.__file__).resolve().parents[1] / "examples" / "demo"

COUNT_KEYS = (
    "organizations",
    "groups",
    "users",
    "members",
    "datasets",
    "resources",
    "harvested",
    "harvest_failed",
)
HARVESTED = ("created", "updated")
NOT_LOADED = ("failed", "held")
MAX_FINDINGS = 5


class DemoError(ServiceError):
    """The demo cannot be loaded as shipped (``khlang demo`` prints the message)."""


class DemoHarvestFailed(DemoError):
    """A bundled harvest source did not load cleanly.

    :param failures: one entry per failing job or item: ``config``, ``source``, ``remote_id``
        (None when the source itself failed), ``status``, ``errors`` (English messages, the
        first validation findings included) and, for items, ``findings``: (resource, source
        row, field, error type) of every validation finding.
    :param counts: what the load created before it stopped, as ``load_demo`` returns it.
    """

    def __init__(self, failures: list[dict[str, Any]], counts: dict[str, int]) -> None:
        lines = [f"{len(failures)} demo harvest item(s) did not load:"]
        for failure in failures:
            where = f"{failure['config']}, source {failure['source']}"
            if failure.get("remote_id"):
                where += f", item {failure['remote_id']}"
            lines.append(f"  {where}: {failure['status']}")
            lines += [f"    - {error}" for error in failure["errors"]]
        super().__init__("\n".join(lines))
        self.failures = failures
        self.counts = counts


def read_catalogue(path: Path | None = None) -> dict[str, Any]:
    """The hand-entered part of the demo: ``organizations``, ``groups``, ``users`` and
    ``datasets`` lists.

    Each dataset is a package dict plus ``resources``, whose items name a ``file`` (relative to
    ``files/``) or a ``url``.
    """
    return json.loads((path or CATALOGUE_FILE).read_text(encoding="utf-8"))


def demo_file(name: str) -> Path:
    """The path of a demo data file named in the catalogue (relative to ``files/``)."""
    path = (FILES_DIR / name).resolve()
    if not path.is_relative_to(FILES_DIR):
        raise ValueError(f"Demo file outside {FILES_DIR.name}/: {name}")
    return path


def harvest_configs(folder: Path | None = None) -> list[Path]:
    """The demo's harvest configs, ``examples/demo/*.yaml`` in name order.

    :raises DemoError: the folder or its configs are missing (e.g. Khlang was installed from a
        wheel, which does not include ``examples/``).
    """
    folder = folder or EXAMPLES_DIR
    configs = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not configs:
        raise DemoError(
            f"The demo's harvest configs are missing: no *.yaml in {folder}. "
            "Run `khlang demo` from a source checkout of Khlang, which has examples/demo/."
        )
    return configs


def _exists(show: Callable[[Context, str], Any], ctx: Context, name: str) -> bool:
    try:
        show(ctx, name)
    except NotFound:
        return False
    return True


def _parents_first(orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Organisations ordered so that each parent is created before its children."""
    by_name = {o["name"]: o for o in orgs}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(org: dict[str, Any]) -> None:
        if org["name"] in seen:
            return
        seen.add(org["name"])
        parent = by_name.get(org.get("parent") or "")
        if parent is not None:
            visit(parent)
        ordered.append(org)

    for org in orgs:
        visit(org)
    return ordered


def _load_users(ctx: Context, users: list[dict[str, Any]], counts: dict[str, int]) -> None:
    for spec in users:
        try:
            account = user_show(ctx, spec["name"])
        except NotFound:
            account = user_create(
                ctx, spec["name"], spec["email"], spec["password"], spec.get("fullname", "")
            )
            account["organizations"] = []
            counts["users"] += 1
        held = {(m["name"], m["role"]) for m in account["organizations"]}
        if spec.get("organization") and (spec["organization"], spec["role"]) not in held:
            member_create(ctx, spec["organization"], spec["name"], spec["role"])
            counts["members"] += 1


def _load_resources(
    ctx: Context,
    dataset: Mapping[str, Any],
    resources: list[dict[str, Any]],
    counts: dict[str, int],
) -> None:
    # Resources are matched by name, so a load interrupted half-way is completed next time.
    present = {r["name"] for r in dataset["resources"]}
    for spec in resources:
        if spec["name"] in present:
            continue
        data = {k: v for k, v in spec.items() if k != "file"}
        data["package_id"] = dataset["name"]
        if "file" in spec:
            path = demo_file(spec["file"])
            with path.open("rb") as upload:
                resource_create(ctx, data, upload=upload, filename=path.name)
        else:
            resource_create(ctx, data)
        counts["resources"] += 1


def _load_catalogue(ctx: Context, data: Mapping[str, Any], counts: dict[str, int]) -> None:
    for org in _parents_first(data["organizations"]):
        if not _exists(organization_show, ctx, org["name"]):
            organization_create(ctx, org)
            counts["organizations"] += 1
    for group in data["groups"]:
        if not _exists(group_show, ctx, group["name"]):
            group_create(ctx, group)
            counts["groups"] += 1
    _load_users(ctx, data.get("users", []), counts)
    for spec in data["datasets"]:
        metadata = {k: v for k, v in spec.items() if k != "resources"}
        try:
            dataset = package_show(ctx, spec["name"])
        except NotFound:
            dataset = package_create(ctx, metadata)
            counts["datasets"] += 1
        _load_resources(ctx, dataset, spec.get("resources", []), counts)


def _findings(item: Mapping[str, Any]) -> list[tuple[str, int | None, str | None, str]]:
    """(resource, source row, field, error type) of each validation finding of an item."""
    resources = (item.get("report") or {}).get("resources") or {}
    return [
        (name, f.get("source_row") or f.get("row"), f.get("field"), str(f.get("type")))
        for name, report in resources.items()
        for f in ((report or {}).get("validation") or {}).get("errors") or []
    ]


def _item_errors(item: Mapping[str, Any]) -> list[str]:
    """An item's errors, then the first validation findings of each of its resources."""
    errors = [str(e.get("message_en") or e) for e in item.get("errors") or []]
    resources = (item.get("report") or {}).get("resources") or {}
    for name, report in resources.items():
        findings = ((report or {}).get("validation") or {}).get("errors") or []
        errors += [f"{name}: {f.get('message_en')}" for f in findings[:MAX_FINDINGS]]
    return errors


def _read_config(path: Path) -> HarvestConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise DemoError(f"{path.name}: {exc}") from None


def _harvest(
    ctx: Context,
    path: Path,
    config: HarvestConfig,
    counts: dict[str, int],
    failures: list[dict[str, Any]],
) -> None:
    for summary in harvest_run(ctx, config):
        job = summary["counts"]
        counts["harvested"] += sum(job.get(status, 0) for status in HARVESTED)
        counts["harvest_failed"] += sum(job.get(status, 0) for status in NOT_LOADED)
        where = {"config": path.name, "source": summary["source"]}
        if summary["status"] != "done":  # the source itself could not be read
            errors = [str(e.get("message_en") or e) for e in summary["errors"]]
            failures.append(
                {**where, "remote_id": None, "status": summary["status"], "errors": errors}
            )
            counts["harvest_failed"] += 1
        if not any(job.get(status) for status in NOT_LOADED):
            continue
        for item in harvest_report(ctx, summary["id"])["objects"]:
            if item["status"] in NOT_LOADED:
                failures.append(
                    {
                        **where,
                        "remote_id": item["remote_id"],
                        "status": item["status"],
                        "errors": _item_errors(item),
                        "findings": _findings(item),
                    }
                )


def load_demo(ctx: Context, *, examples_dir: Path | None = None) -> dict[str, int]:
    """Create the demo organisations, groups, account and hand-entered datasets, then harvest
    the demo's tabular datasets from ``examples/demo/*.yaml``; skip what exists.

    :param ctx: a context allowed to create organisations and accounts, normally
        ``Context(catalog, system=True)`` as ``khlang demo`` uses.
    :param examples_dir: the folder of harvest configs (default: ``examples/demo`` of the
        source checkout).
    :returns: how many of each were created by this call (``organizations``, ``groups``,
        ``users``, ``members``, ``datasets``, ``resources``), how many harvest items were
        published (``harvested``) and how many failed or were held (``harvest_failed``); all
        zero on a second run.
    :raises DemoError: the harvest configs are missing or invalid.
    :raises DemoHarvestFailed: a harvest source or item did not load; every other source
        has been run, and the message lists each failure with its errors.
    :raises catalog.services.ValidationFailed: a catalogue entry no longer fits the profile.
    """
    # Every config is read before anything is loaded, so a mistake in one changes nothing.
    configs = [(path, _read_config(path)) for path in harvest_configs(examples_dir)]
    counts = dict.fromkeys(COUNT_KEYS, 0)
    _load_catalogue(ctx, read_catalogue(), counts)
    failures: list[dict[str, Any]] = []
    for path, config in configs:
        _harvest(ctx, path, config, counts, failures)
    if failures:
        raise DemoHarvestFailed(failures, counts)
    return counts
