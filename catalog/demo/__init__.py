"""Khlang's demo catalogue: fictional Thai agencies, their datasets and small CSV files.

Everything is described in ``catalogue.json`` next to this module; the files live in ``files/``.
The organisations, people, contractors and amounts are invented. ``load_demo`` writes only through
the services, so the demo passes the same validation and permission checks as real data, and it
can be run again at any time: whatever already exists is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from catalog.services import (
    Context,
    NotFound,
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

DEMO_DIR = Path(__file__).resolve().parent
CATALOGUE_FILE = DEMO_DIR / "catalogue.json"
FILES_DIR = DEMO_DIR / "files"

COUNT_KEYS = ("organizations", "groups", "users", "members", "datasets", "resources")


def read_catalogue(path: Path | None = None) -> dict[str, Any]:
    """The demo description: ``organizations``, ``groups``, ``users`` and ``datasets`` lists.

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


def load_demo(ctx: Context) -> dict[str, int]:
    """Create the demo organisations, groups, account, datasets and files; skip what exists.

    :param ctx: a context allowed to create organisations and accounts, normally
        ``Context(catalog, system=True)`` as ``khlang demo`` uses.
    :returns: how many of each were created by this call (``organizations``, ``groups``,
        ``users``, ``members``, ``datasets``, ``resources``); all zero on a second run.
    :raises catalog.services.ValidationFailed: a demo entry no longer fits the metadata profile.
    """
    data = read_catalogue()
    counts = dict.fromkeys(COUNT_KEYS, 0)
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
    return counts
