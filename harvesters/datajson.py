"""Harvest a DCAT-US / Project Open Data ``data.json`` catalogue.

Config: ``url`` of the data.json document; ``fetch_files`` as for CKAN.

The whole catalogue is one document (v1.1: an object with a ``dataset`` list; v1.0: the list
itself). remote_id is each entry's ``identifier``; with `since`, entries whose ``modified``
is older are left out. map() uses `schemas.datajson.dataset_from_datajson`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from harvesters.base import HarvestError, HarvestRecord, RemoteItem, SourceKind, register
from harvesters.ckan import build_record, fetch_json, malformed, modified_before, source_url
from schemas.ckan import parse_datetime
from schemas.datajson import dataset_from_datajson


def catalogue_entries(doc: Any, url: str) -> list[Any]:
    """The dataset entries of a data.json document (v1.1 object or v1.0 list)."""
    if isinstance(doc, Mapping) and isinstance(doc.get("dataset"), list):
        return doc["dataset"]
    if isinstance(doc, list):
        return doc
    raise HarvestError(
        f"{url} is not a data.json catalogue (no dataset list)",
        f"{url} ไม่ใช่แค็ตตาล็อก data.json (ไม่มีรายการ dataset)",
    )


@register("datajson")
class DataJsonSource(SourceKind):
    """A data.json catalogue."""

    def gather(self, since: datetime | None = None) -> Iterator[RemoteItem]:
        """Every entry of the catalogue (modified on or after `since`, when given)."""
        url = source_url(self.config)
        seen: set[str] = set()
        for index, entry in enumerate(catalogue_entries(fetch_json(self.open, url), url)):
            identifier = entry.get("identifier") if isinstance(entry, Mapping) else None
            if not isinstance(identifier, str) or not identifier.strip():
                # Listed anyway, so the job reports the broken entry.
                yield RemoteItem(f"{url}#dataset-{index}", entry)
                continue
            modified = parse_datetime(entry.get("modified"))
            if identifier in seen or modified_before(modified, since):
                continue
            seen.add(identifier)
            yield RemoteItem(identifier.strip(), entry, modified)

    def map(self, item: RemoteItem) -> HarvestRecord:
        """The entry as our dataset fields and distribution links (or files)."""
        entry = item.payload
        if not isinstance(entry, Mapping):
            raise malformed(item.remote_id, "not a dataset object", "ไม่ใช่ออบเจกต์ชุดข้อมูล")
        if not isinstance(entry.get("identifier"), str) or not entry["identifier"].strip():
            raise malformed(item.remote_id, "no identifier", "ไม่มี identifier")
        for key in ("distribution", "keyword"):
            if entry.get(key) is not None and not isinstance(entry[key], (list, str)):
                raise malformed(item.remote_id, f"{key} is not a list", f"{key} ไม่ใช่รายการ")
        if isinstance(entry.get("distribution"), str):
            raise malformed(item.remote_id, "distribution is not a list", "distribution ไม่ใช่รายการ")
        return build_record(
            item.remote_id, dataset_from_datajson(entry), self.config, item.modified
        )
