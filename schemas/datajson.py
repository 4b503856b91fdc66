"""Pure mapper from a DCAT-US (Project Open Data v1.1) data.json entry to our dataset fields.

data.json has no language tags: `title` and `description` fill `title` and `notes`. The
publisher's name maps to `data_source` (the GDC "แหล่งที่มา"); `accessLevel` to
`access_rights`. Like the other mappers the result is partial: the harvest config's
defaults fill the GDC fields data.json does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.ckan import (
    clean_dataset,
    clean_resource,
    date_text,
    first_text,
    format_from,
    harvest_name,
    license_fields,
)

ACCESS_LEVELS = {"public": "public", "restricted public": "restricted", "non-public": "non-public"}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _temporal(value: Any) -> dict[str, Any]:
    # "2000-01-15T00:45:00Z/2010-01-15T00:06:00Z"; a duration part ("P1Y") is not a date.
    parts = _text(value).split("/")
    if len(parts) != 2:
        return {}
    return {"temporal_start": date_text(parts[0]), "temporal_end": date_text(parts[1])}


def distribution_from_datajson(dist: Mapping[str, Any]) -> dict[str, Any] | None:
    """A data.json distribution as our resource fields; None without a usable URL."""
    media = _text(dist.get("mediaType"))
    candidate = {
        "url": first_text([dist.get("downloadURL"), dist.get("accessURL")]),
        "name": _text(dist.get("title")),
        "description": _text(dist.get("description")),
        "format": format_from(dist.get("format"), media),
        "mimetype": media,
    }
    return clean_resource(candidate)


def dataset_from_datajson(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Map one entry of a data.json ``dataset`` list to our dataset fields and ``resources``.

    ``name`` is derived from ``identifier`` only, so it is stable across harvests.
    """
    publisher = entry.get("publisher")
    contact = entry.get("contactPoint")
    contact = contact if isinstance(contact, Mapping) else {}
    candidate: dict[str, Any] = {
        "title": _text(entry.get("title")),
        "notes": _text(entry.get("description")),
        "tags": _strings(entry.get("keyword")),
        "issued": date_text(entry.get("issued")),
        "modified": date_text(entry.get("modified")),
        "url": _text(entry.get("landingPage")),
        "language": [lang.lower() for lang in _strings(entry.get("language"))],
        "access_rights": ACCESS_LEVELS.get(_text(entry.get("accessLevel")).lower(), ""),
        "groups": [theme.lower() for theme in _strings(entry.get("theme"))],
        "spatial": entry.get("spatial") if isinstance(entry.get("spatial"), str) else "",
        "data_source": _text(publisher.get("name")) if isinstance(publisher, Mapping) else "",
        "maintainer": _text(contact.get("fn")),
        "maintainer_email": _text(contact.get("hasEmail")).removeprefix("mailto:"),
        **_temporal(entry.get("temporal")),
        **license_fields(entry.get("license")),
    }
    dataset = clean_dataset(candidate)
    dataset["name"] = harvest_name(_text(entry.get("identifier")))
    distributions = entry.get("distribution")
    parts = distributions if isinstance(distributions, list) else []
    mapped = (distribution_from_datajson(d) for d in parts if isinstance(d, Mapping))
    dataset["resources"] = [r for r in mapped if r is not None]
    return dataset
