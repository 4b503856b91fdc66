"""Pure mappers between DCAT-US (Project Open Data v1.1) data.json entries and our datasets.

`dataset_from_datajson` reads an entry for the harvester; `dataset_to_datajson` and
`catalog_head` write the /data.json feed (docs/dcat.md).

data.json has no language tags: `title` and `description` fill `title` and `notes`. The
publisher's name maps to `data_source` (the GDC "แหล่งที่มา"); `accessLevel` to
`access_rights`. Like the other mappers the result is partial: the harvest config's
defaults fill the GDC fields data.json does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from schemas.ckan import (
    clean_dataset,
    clean_resource,
    date_text,
    first_text,
    format_from,
    harvest_name,
    license_fields,
    media_type_of,
    parse_datetime,
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


# --- writing ----------------------------------------------------------------------------------

CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
DESCRIBED_BY = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
# The federal schema requires OMB bureau and program codes, which Thai agencies do not have:
# the "not applicable" placeholders non-federal publishers use.
BUREAU_CODE = "000:00"
PROGRAM_CODE = "000:000"
# EU frequency codes (schemas.dcat_vocab) -> ISO 8601 repeating durations of data.json.
PERIODICITY = {
    "ANNUAL": "R/P1Y",
    "ANNUAL_2": "R/P6M",
    "ANNUAL_3": "R/P4M",
    "QUARTERLY": "R/P3M",
    "MONTHLY": "R/P1M",
    "MONTHLY_2": "R/P0.5M",
    "MONTHLY_3": "R/P10D",
    "WEEKLY": "R/P1W",
    "WEEKLY_2": "R/P3.5D",
    "WEEKLY_3": "R/P0.33W",
    "DAILY": "R/P1D",
    "DAILY_2": "R/PT12H",
    "HOURLY": "R/PT1H",
    "CONT": "R/PT1S",
    "OTHER": "irregular",
}
_ACCESS_LEVELS = {v: k for k, v in ACCESS_LEVELS.items()}


def catalog_head(base_url: str) -> dict[str, Any]:
    """The catalogue object of a data.json without its ``dataset`` list."""
    return {
        "@context": CONTEXT,
        "@id": f"{base_url.rstrip('/')}/data.json",
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": DESCRIBED_BY,
    }


def _timestamp(value: Any) -> str | None:
    parsed = parse_datetime(value) if isinstance(value, str) and "T" in value else None
    if parsed is not None:
        return parsed.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return date_text(value)


def _distribution_to_datajson(res: Mapping[str, Any], base: str, dataset_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "dcat:Distribution", "title": res.get("name") or "resource"}
    if res.get("description"):
        out["description"] = res["description"]
    fmt = str(res.get("format") or "")
    media = str(res.get("mimetype") or media_type_of(fmt))
    if res.get("normalised_url"):
        out["downloadURL"], media, fmt = res["normalised_url"], "text/csv", "CSV"
    elif res.get("url_type") == "upload" and media:
        out["downloadURL"] = res["url"]
    else:
        out["accessURL"] = res["url"]
    if media:
        out["mediaType"] = media
    if fmt:
        out["format"] = fmt
    if res.get("schema"):
        out["describedBy"] = f"{base}/dataset/{dataset_id}/datapackage.json"
        out["describedByType"] = "application/json"
    return out


def dataset_to_datajson(
    dataset: Mapping[str, Any], base_url: str, *, series: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A dataset dict (with its public resources) as one entry of data.json's ``dataset``.

    data.json has no language tags: Thai texts are given (with the English title in
    ``title`` only when there is no Thai one). The identifier is the dataset's DCAT IRI.
    """
    from schemas import dcat_vocab, vocab

    base = base_url.rstrip("/")
    key = dataset.get("id") or dataset["name"]
    organization = dataset.get("organization") or {}
    publisher = organization.get("title") or dataset.get("data_source") or "-"
    tags = [t["name"] if isinstance(t, Mapping) else str(t) for t in dataset.get("tags") or []]
    entry: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": f"{base}/dataset/{key}",
        "title": dataset.get("title") or dataset.get("title_en") or dataset["name"],
        "description": dataset.get("notes") or dataset.get("notes_en") or dataset.get("title"),
        "keyword": tags or [dataset.get("title")],
        "modified": _timestamp(dataset.get("modified"))
        or _timestamp(dataset.get("metadata_modified")),
        "publisher": {"@type": "org:Organization", "name": publisher},
        "contactPoint": {
            "@type": "vcard:Contact",
            "fn": dataset.get("maintainer") or publisher,
            "hasEmail": f"mailto:{dataset.get('maintainer_email')}",
        },
        "accessLevel": _ACCESS_LEVELS.get(str(dataset.get("access_rights") or ""), "public"),
        "bureauCode": [BUREAU_CODE],
        "programCode": [PROGRAM_CODE],
        "landingPage": dataset.get("url") or f"{base}/dataset/{dataset['name']}",
    }
    licence = vocab.find_license(str(dataset.get("license_id") or ""))
    if licence is not None:
        entry["license"] = licence.url or f"{base}/licenses/{licence.id}"
    if dataset.get("issued"):
        entry["issued"] = date_text(dataset["issued"])
    if dataset.get("temporal_start") and dataset.get("temporal_end"):
        entry["temporal"] = (
            f"{date_text(dataset['temporal_start'])}/{date_text(dataset['temporal_end'])}"
        )
    interval = dataset.get("update_frequency_interval")
    code = dcat_vocab.frequency(
        str(dataset.get("update_frequency_unit") or ""),
        interval if isinstance(interval, int) else None,
    )
    if code in PERIODICITY:
        entry["accrualPeriodicity"] = PERIODICITY[code]
    languages = [str(lang) for lang in dataset.get("language") or [] if str(lang).isalpha()]
    if languages:
        entry["language"] = languages
    themes = [
        g.get("title") or g.get("name")
        for g in dataset.get("groups") or []
        if isinstance(g, Mapping)
    ]
    if themes:
        entry["theme"] = themes
    if isinstance(dataset.get("spatial"), str) and dataset["spatial"].strip():
        entry["spatial"] = dataset["spatial"]
    if series is not None:
        entry["isPartOf"] = f"{base}/dataset-series/{series['key']}"
    distributions = [
        _distribution_to_datajson(r, base, str(key)) for r in dataset.get("resources") or []
    ]
    if distributions:
        entry["distribution"] = distributions
    return entry
