"""Pure mappers from another CKAN's package_show dicts to Khlang's dataset profile.

`dataset_from_ckan(pkg)` returns a dict of `DatasetSchema` fields only, each value checked on
its own, so a harvested record never carries a field our profile would refuse:

- CKAN's computed and site-specific keys (id, owner_org, organization, state, private,
  metadata_*, num_*, isopen, license_title...) are dropped or turned into profile fields;
- GDC fields (data_type, objective, ...) are carried over when valid, from the top level
  (ckanext-scheming) or from `extras`; an invalid value is left out, so the harvest
  config's defaults fill it instead;
- tags become a list of str (bad tags are left out one by one), licence titles map to our ids.

Missing required metadata is NOT invented here: the harvest service merges the config's
`dataset` defaults under the record. The helpers below (`clean_dataset`, `harvest_name`,
`license_fields`, ...) are shared by the DCAT and data.json mappers.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate

from schemas import vocab
from schemas.dataset import DatasetSchema, ResourceSchema
from schemas.fields import FORMAT_RE, Tags, is_empty

# Keys our schema knows but a harvester must not copy: they belong to our catalogue (ids,
# organisation, publication state, visibility derived from data_category).
NOT_HARVESTED = frozenset({"id", "owner_org", "private", "state", "resources"})
NOT_SPECIFIED = frozenset({"notspecified", "license not specified", "ไม่ระบุ", "not specified"})

# Media types (RFC 6838) of the formats agencies publish, for sources that give only one.
MEDIA_FORMATS: dict[str, str] = {
    "text/csv": "CSV",
    "application/csv": "CSV",
    "application/json": "JSON",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.ms-excel": "XLS",
    "application/pdf": "PDF",
    "application/xml": "XML",
    "text/xml": "XML",
    "application/zip": "ZIP",
    "application/geo+json": "GEOJSON",
    "application/vnd.geo+json": "GEOJSON",
    "text/html": "HTML",
    "text/plain": "TXT",
    "text/turtle": "TTL",
    "application/rdf+xml": "RDF",
    "application/ld+json": "JSON-LD",
    "application/vnd.google-earth.kml+xml": "KML",
    "application/x-shapefile": "SHP",
}

_OPAQUE = re.compile(r"[0-9a-f]{8,}(-[0-9a-f]{4,})*|[0-9a-f-]{32,}|\d+")
_RESOURCE_LINK = validate.URL(schemes={"http", "https", "ftp", "ftps"})


@cache
def _dataset_schema() -> Schema:
    return DatasetSchema()


@cache
def _resource_schema() -> Schema:
    return ResourceSchema()


def _plain(value: Any) -> Any:
    # Records may be stored as JSON by the harvest service: dates travel as ISO text.
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _valid(field: fields.Field, value: Any) -> bool:
    try:
        field.deserialize(value)
    except ValidationError:
        return False
    return True


def _list_items(value: Any) -> Any:
    # CKAN scheming stores multiple-choice fields as JSON text: '["a", "b"]'.
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def clean_fields(candidate: Mapping[str, Any], schema: Schema) -> dict[str, Any]:
    """The keys of `candidate` that `schema` knows and whose value it accepts, as plain values.

    Each field is checked on its own (cross-field rules need the defaults, see the harvester).
    List fields keep their valid items, so one bad tag does not lose all the others.
    """
    out: dict[str, Any] = {}
    for key, value in candidate.items():
        field = schema.fields.get(key)
        if field is None or key in NOT_HARVESTED or is_empty(value):
            continue
        if isinstance(field, fields.List):
            value = _list_items(value)
            if isinstance(value, (list, tuple)):
                value = [item for item in value if _valid(field.inner, item)]
        elif isinstance(field, Tags) and isinstance(value, (list, tuple)):
            value = [item for item in value if _valid(field, [item])]
        if is_empty(value):
            continue
        try:
            loaded = field.deserialize(value)
        except ValidationError:
            continue
        out[key] = _plain(loaded)
    return out


def clean_dataset(candidate: Mapping[str, Any]) -> dict[str, Any]:
    """`candidate` reduced to valid `DatasetSchema` fields (see `clean_fields`)."""
    return clean_fields(candidate, _dataset_schema())


def clean_resource(candidate: Mapping[str, Any]) -> dict[str, Any] | None:
    """`candidate` reduced to valid `ResourceSchema` fields; None when it has no usable link.

    A resource without a name gets one from its URL or format, as ResourceSchema needs one.
    """
    out = clean_fields(candidate, _resource_schema())
    out.pop("url_type", None)  # an upload of the source is a link for us
    url = out.get("url", "")
    if not url or not _valid_link(url):
        return None
    if "name" not in out:
        out["name"] = _name_from_url(url) or out.get("format") or "resource"
    return out


def _valid_link(url: str) -> bool:
    try:
        _RESOURCE_LINK(url)
    except ValidationError:
        return False
    return True


def _name_from_url(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1][:200]


def ascii_slug(text: str, max_length: int = 80) -> str:
    """Lower-case ASCII letters, digits and hyphens of `text` (Thai letters are dropped)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:max_length].strip("-")


def harvest_name(remote_id: str) -> str:
    """A dataset name (slug) for a remote id: a readable prefix and a short hash of the id.

    It depends on the remote id only, so a source renaming its title never renames our dataset
    URL; the hash keeps two ids with the same readable part apart.
    """
    digest = hashlib.sha1(remote_id.encode("utf-8")).hexdigest()[:8]
    prefix = ""
    for piece in reversed(re.split(r"[/#:?=&]+", remote_id)):
        slug = ascii_slug(re.sub(r"\.(json|jsonld|ttl|rdf|xml|html?)$", "", piece))
        if slug and not _OPAQUE.fullmatch(slug):
            prefix = slug
            break
    return f"{prefix or 'dataset'}-{digest}"


def date_text(value: Any) -> str | None:
    """The ISO date (YYYY-MM-DD, or a BE date as written) of a date or date-time value."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    found = re.match(r"\s*(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+)?(?:Z|[+-]\d{2}:?\d{2})?\s*$", value)
    return found.group(1) if found else None


def parse_datetime(value: Any) -> datetime | None:
    """A timezone-aware datetime from an ISO date or date-time (naive ones are UTC, as CKAN's)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _licence_key(url: str) -> str:
    # Compare licence URLs without scheme, "www.", version, "legalcode"/"deed" or slashes.
    text = url.strip().lower().split("://", 1)[-1].removeprefix("www.")
    found = re.match(r"creativecommons\.org/(?:licenses|publicdomain)/([a-z-]+)", text)
    if found:
        return "cc:" + found.group(1)
    return text.rstrip("/")


def find_license_by_url(url: str) -> vocab.License | None:
    """The licence whose URL is `url` (CC URLs match whatever their version), or whose id is
    the URL's last segment ("http://opendefinition.org/licenses/cc-by/")."""
    if "://" not in url:
        return None
    key = _licence_key(url)
    for lic in vocab.LICENSES:
        if lic.url and _licence_key(lic.url) == key:
            return lic
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return vocab.find_license(last) if last else None


def _known_license(text: str) -> vocab.License | None:
    return vocab.find_license(text) or find_license_by_url(text)


def license_fields(*candidates: Any) -> dict[str, str]:
    """`license_id` for the first candidate (id, title or URL) we know.

    An unknown licence, or our "other", becomes "other" with the unknown name in
    `license_id_other`; "not specified" and no candidate give {} (the harvest config's
    default licence applies).
    """
    texts = [c.strip() for c in candidates if isinstance(c, str) and c.strip()]
    known = [lic for lic in map(_known_license, texts) if lic is not None]
    if known and known[0].id != vocab.OTHER_LICENSE:
        return {"license_id": known[0].id}
    named = [t for t in texts if t.casefold() not in NOT_SPECIFIED and not _known_license(t)]
    if not known and not named:
        return {}
    out = {"license_id": vocab.OTHER_LICENSE}
    if named:
        # A title reads better than a URL in the "other licence" box.
        named.sort(key=lambda t: "://" in t)
        out["license_id_other"] = named[0][:500]
    return out


def format_from(format_text: Any, media_type: Any = "") -> str:
    """A format name ("CSV") from a source's format text or media type."""
    text = format_text.strip() if isinstance(format_text, str) else ""
    if "/" in text:  # some catalogues put a media type or a file-type URI in `format`
        text = MEDIA_FORMATS.get(text.lower(), text.rsplit("/", 1)[-1])
    if not text and isinstance(media_type, str):
        text = MEDIA_FORMATS.get(media_type.split(";")[0].strip().lower(), "")
    text = text.lstrip(".").upper()
    return text if re.match(FORMAT_RE, text) else ""


def media_type_of(format_name: str) -> str:
    """The usual media type of a format name ("CSV" -> "text/csv"), or ""."""
    for media, name in MEDIA_FORMATS.items():
        if name == format_name.upper():
            return media
    return ""


def _names(items: Any) -> list[str]:
    if isinstance(items, str):
        return [items]
    if not isinstance(items, list):
        return []
    found = []
    for item in items:
        name = item.get("name") if isinstance(item, Mapping) else item
        if isinstance(name, str) and name.strip():
            found.append(name.strip())
    return found


def _translated(pkg: Mapping[str, Any], field: str) -> dict[str, str]:
    # ckanext-fluent: "title_translated": {"th": ..., "en": ...}
    value = pkg.get(f"{field}_translated")
    if not isinstance(value, Mapping):
        return {}
    return {lang: text for lang, text in value.items() if isinstance(text, str) and text.strip()}


def dataset_from_ckan(pkg: Mapping[str, Any]) -> dict[str, Any]:
    """Map a CKAN package dict (package_show / package_search result) to our dataset fields.

    The result holds `name`, the valid profile fields and `resources` (resource dicts of
    `resource_from_ckan`); it is partial: the harvest config's defaults complete it.
    """
    candidate: dict[str, Any] = {}
    for extra in pkg.get("extras") or []:
        if isinstance(extra, Mapping) and isinstance(extra.get("key"), str):
            candidate[extra["key"]] = extra.get("value")
    candidate.update({key: value for key, value in pkg.items() if not is_empty(value)})
    for field, lang_key in (("title", "title_en"), ("notes", "notes_en")):
        translated = _translated(pkg, field)
        if translated.get("th"):
            candidate[field] = translated["th"]
        if translated.get("en") and not candidate.get(lang_key):
            candidate[lang_key] = translated["en"]
    candidate["tags"] = _names(pkg.get("tags")) or candidate.get("tag_string", "")
    candidate["groups"] = _names(pkg.get("groups"))
    # metadata_created/modified are the dates a DCAT export calls dct:issued/dct:modified,
    # for a CKAN without those fields. A source that has the field (Khlang sends "issued":
    # null) left it empty on purpose: guessing it would add a date its publisher never gave.
    given = set(pkg) | {e.get("key") for e in pkg.get("extras") or [] if isinstance(e, Mapping)}
    for key, stamp in (("issued", "metadata_created"), ("modified", "metadata_modified")):
        if key not in given:
            candidate.setdefault(key, date_text(pkg.get(stamp)))
    for key in ("issued", "modified", "created_date", "last_updated_date"):
        if isinstance(candidate.get(key), str):
            candidate[key] = date_text(candidate[key]) or candidate[key]
    # GDC catalogues store the licence title as license_id; a title names "other" best.
    licence = license_fields(
        pkg.get("license_title"), pkg.get("license_id"), pkg.get("license_url")
    )
    candidate.pop("license_id", None)
    candidate.update(licence)
    if licence.get("license_id") != vocab.OTHER_LICENSE:
        candidate.pop("license_id_other", None)
    dataset = clean_dataset(candidate)
    name = pkg.get("name")
    if not (isinstance(name, str) and name == dataset.get("name")):
        dataset["name"] = harvest_name(str(pkg.get("id") or name or ""))
    resources = pkg.get("resources") or []
    if isinstance(resources, list):
        mapped = (resource_from_ckan(r) for r in resources if isinstance(r, Mapping))
        dataset["resources"] = [r for r in mapped if r is not None]
    return dataset


def resource_from_ckan(res: Mapping[str, Any]) -> dict[str, Any] | None:
    """Map a CKAN resource dict to our resource fields; None when it has no usable URL."""
    candidate = {k: v for k, v in res.items() if k not in {"id", "package_id", "hash"}}
    candidate["format"] = format_from(res.get("format"), res.get("mimetype"))
    candidate["size"] = res.get("size") if isinstance(res.get("size"), int) else None
    for key in ("resource_created_date", "resource_last_updated_date"):
        if isinstance(candidate.get(key), str):
            candidate[key] = date_text(candidate[key]) or candidate[key]
    out = clean_resource(candidate)
    if out is not None and res.get("url_type") == "upload":
        # Not a profile field: tells the harvester the source stores the file itself, so
        # ``fetch_files: uploads`` copies it instead of linking to another catalogue.
        out["upload"] = True
    return out


def first_text(values: Iterable[Any]) -> str:
    """The first non-blank string of `values`, stripped, or ""."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""
