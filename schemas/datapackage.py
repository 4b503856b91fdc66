"""Pure mapper from a dataset dict to a Frictionless Data Package (v1 descriptor).

Only tabular resources go in: those with a Table Schema. Each points at its normalised UTF-8
CSV when a harvest made one (its columns are the schema's fields), else at the file itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from schemas import vocab

_NAME_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def _slug(text: str) -> str:
    return _NAME_UNSAFE.sub("-", text.lower()).strip("-._")


def _resource_name(res: Mapping[str, Any], taken: set[str]) -> str:
    # Data Package names are lower-case ASCII; Thai names give way to the file name or id.
    candidates = [res.get("name_en"), (res.get("filename") or "").rsplit(".", 1)[0], res.get("id")]
    name = next((_slug(str(c)) for c in candidates if c and _slug(str(c))), "resource")
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}-{n}", n + 1
    taken.add(unique)
    return unique


def tabular_resources(dataset: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The resources of `dataset` a Data Package lists: those with a Table Schema."""
    return [r for r in dataset.get("resources") or [] if r.get("schema")]


def dataset_to_datapackage(dataset: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """The Data Package descriptor of `dataset` (a feed item's dict: public resources, with
    ``normalised_url`` where a normalised CSV exists)."""
    base = base_url.rstrip("/")
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": _slug(dataset["name"]) or "dataset",
        "id": f"{base}/dataset/{dataset.get('id') or dataset['name']}",
        "title": dataset.get("title") or dataset["name"],
        "homepage": f"{base}/dataset/{dataset['name']}",
    }
    if dataset.get("notes"):
        package["description"] = dataset["notes"]
    if dataset.get("version"):
        package["version"] = dataset["version"]
    if dataset.get("metadata_created"):
        package["created"] = str(dataset["metadata_created"]).split(".")[0] + "Z"
    keywords = [t["name"] if isinstance(t, Mapping) else str(t) for t in dataset.get("tags") or []]
    if keywords:
        package["keywords"] = keywords
    licence = vocab.find_license(str(dataset.get("license_id") or ""))
    if licence is not None:
        entry = {"name": licence.id, "title": licence.title}
        if licence.url:
            entry["path"] = licence.url
        package["licenses"] = [entry]
    organization = dataset.get("organization") or {}
    if organization.get("title"):
        package["contributors"] = [{"title": organization["title"], "role": "publisher"}]
    taken: set[str] = set()
    resources = []
    for res in tabular_resources(dataset):
        item: dict[str, Any] = {
            "name": _resource_name(res, taken),
            "title": res.get("name") or "",
            "profile": "tabular-data-resource",
            "schema": res["schema"],
        }
        if res.get("normalised_url"):
            item.update(
                path=res["normalised_url"],
                format="csv",
                mediatype="text/csv",
                encoding="utf-8",
            )
        else:
            item["path"] = res["url"]
            if res.get("format"):
                item["format"] = str(res["format"]).lower()
            if res.get("mimetype"):
                item["mediatype"] = res["mimetype"]
        if res.get("description"):
            item["description"] = res["description"]
        resources.append(item)
    package["resources"] = resources
    return package
