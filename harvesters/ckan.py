"""Harvest another CKAN site (an agency's GDC catalogue, data.go.th...) through its Action API.

Config (the source's entry of the harvest config):
- ``url``: the CKAN site's base URL (``https://catalog.example.go.th``);
- ``organization``: only that organisation's datasets (``fq=organization:<name>``);
- ``fq``: any other Solr filter, combined with the above;
- ``rows``: page size (default 100, at most 1000);
- ``fetch_files``: ``true`` fetches CSV/XLSX/JSON resources as tabular files instead of
  linking them; ``uploads`` copies byte for byte every file the source stores itself (see
  `resource_record`), which is how one Khlang mirrors another (docs/federation.md).

gather() pages through ``package_search`` sorted by ``metadata_modified asc``, with plain GET
requests (side-effect-free actions accept them, and ckanapi's POSTs break on redirects);
an incremental run adds ``metadata_modified:[<since>Z TO *]``. map() uses
`schemas.ckan.dataset_from_ckan`.

The helpers of this module (`fetch`, `fetch_json`, `build_record`...) are shared by the DCAT
and data.json kinds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from marshmallow import ValidationError

from harvesters.base import (
    FileRef,
    HarvestError,
    HarvestRecord,
    RemoteItem,
    ResourceRecord,
    SourceKind,
    register,
)
from schemas import vocab
from schemas.ckan import ascii_slug, dataset_from_ckan, parse_datetime
from schemas.dataset import validate_dataset

DEFAULT_ROWS = 100
MAX_ROWS = 1000  # CKAN's ckan.search.rows_max
FETCHABLE_FORMATS = frozenset({"CSV", "XLSX", "JSON"})
UPLOADS = "uploads"  # fetch_files: copy the source's own files as they are
# Keys a harvested record must keep: without them the item is malformed, not just incomplete.
ESSENTIAL = frozenset({"title", "name"})
ERROR_DETAIL_BYTES = 64 * 1024


# --- fetching, shared by the remote kinds ---------------------------------------------------


def _http_error_detail(error: BaseException) -> str:
    # urllib's HTTPError is also the response: CKAN puts its error envelope in the body.
    read = getattr(error, "read", None)
    if not callable(read) or not hasattr(error, "code"):
        return ""
    try:
        body = json.loads(read(ERROR_DETAIL_BYTES).decode("utf-8", "replace"))
    except (OSError, ValueError):
        return ""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return _envelope_error(body["error"])
    return ""


def fetch(opener: Callable[[str], Any], url: str) -> tuple[bytes, str]:
    """The body and Content-Type ("" when unknown) of `url`, read through the catalogue's
    opener (which applies the size limit).

    :raises HarvestError: naming the URL, whatever went wrong (the opener is injected and may
        raise urllib, boto or its own errors).
    """
    try:
        with opener(url) as stream:
            body = stream.read()
            headers = getattr(stream, "headers", None)
            content_type = headers.get("Content-Type", "") if headers is not None else ""
    except HarvestError as error:
        if url in error.message:
            raise
        raise HarvestError(f"{url}: {error.message}", f"{url}: {error.message_th}") from error
    except Exception as error:
        detail = _http_error_detail(error)
        reason = f"{error} ({detail})" if detail else str(error)
        raise HarvestError(
            f"Could not read {url}: {reason}", f"อ่านข้อมูลจาก {url} ไม่สำเร็จ: {reason}"
        ) from error
    return body, content_type or ""


def parse_json(body: bytes, url: str) -> Any:
    """`body` parsed as JSON, or a HarvestError naming `url`."""
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        start = body[:60].decode("utf-8", "replace").strip()
        raise HarvestError(
            f"{url} did not answer JSON ({error}); it starts with {start!r}",
            f"{url} ไม่ได้ตอบกลับเป็น JSON ({error}) เริ่มต้นด้วย {start!r}",
        ) from None


def fetch_json(opener: Callable[[str], Any], url: str) -> Any:
    """`url` read through `opener` and parsed as JSON (HarvestError naming the URL if not)."""
    body, _ = fetch(opener, url)
    return parse_json(body, url)


def source_url(config: Mapping[str, Any]) -> str:
    """The config's ``url`` without a trailing slash; HarvestError when missing."""
    url = config.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https", "file", "s3"}:
        raise HarvestError(
            "The source needs a url (http://, https://, file:// or s3://).",
            "แหล่งข้อมูลต้องระบุ url (http://, https://, file:// หรือ s3://)",
        )
    return url.rstrip("/")


# --- records, shared by the remote kinds ----------------------------------------------------


def config_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset defaults the harvest service merges under a record (config, then source)."""
    return {**(config.get("defaults") or {}), **(config.get("dataset") or {})}


def fit_to_defaults(dataset: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """`dataset` without the fields that break our profile once merged over `defaults`.

    A source's value can be valid alone and still clash with the config: a field the GDC form
    hides for the default data type, a ``*_other`` text without its ``อื่นๆ`` choice, a
    classification the category does not allow. Those record fields are dropped so the
    config's defaults apply; errors of fields the record does not hold (a default missing)
    are left for the harvest service to report.
    """
    data = dict(dataset)
    for _ in range(3):
        try:
            validate_dataset({**defaults, **data})
            return data
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, Mapping) else {}
        bad = set()
        for key in messages:
            if key in data:
                bad.add(key)
            for field, (other, _trigger) in vocab.DATASET_OTHER_COMPANIONS.items():
                if key == other and field in data:
                    bad.add(field)  # the record chose อื่นๆ but gave no text for it
        bad -= ESSENTIAL
        if not bad:
            return data
        for key in bad:
            data.pop(key, None)
    return data


def _file_name(url: str, name: str, fmt: str) -> str:
    last = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    if last and "." in last:
        return last
    return f"{ascii_slug(name) or 'resource'}.{fmt.lower()}"


def fetch_mode(config: Mapping[str, Any]) -> str:
    """The config's ``fetch_files`` as "" (links), "tables" (true) or "uploads".

    :raises HarvestError: for any other value.
    """
    value = config.get("fetch_files")
    if value in (None, False):
        return ""
    if value is True:
        return "tables"
    if value == UPLOADS:
        return UPLOADS
    raise HarvestError(
        f"fetch_files must be true, false or {UPLOADS}, not {value!r}",
        f"fetch_files ต้องเป็น true, false หรือ {UPLOADS} ไม่ใช่ {value!r}",
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def resource_record(
    res: Mapping[str, Any],
    *,
    fetch_files: bool | str = False,
    data_type: str | None = None,
    source: str = "",
) -> ResourceRecord:
    """A ResourceRecord from a mapped resource dict (`schemas.ckan.resource_from_ckan`).

    With `fetch_files` true, a CSV/XLSX/JSON resource becomes a tabular file the harvest
    service fetches and normalises; anything else stays a link. With ``"uploads"``, a file
    the source stores itself (marked ``upload`` by the mapper, as CKAN's url_type says, or
    served from the same origin as the `source` URL) is copied byte for byte, whatever its
    format; links to other sites stay links, as the source has them. GDC resource fields the
    form hides for the dataset's `data_type` are left out (the service would refuse them).
    """
    fmt = res.get("format", "")
    url = res["url"]
    extra = {
        k: v
        for k, v in res.items()
        if k not in {"name", "name_en", "format", "url", "description", "upload"}
        and (data_type is None or vocab.field_shown(k, data_type, resource=True))
    }
    # Only http(s) files: a remote catalogue must not make us read file:// or s3:// paths.
    web = urlsplit(url).scheme in {"http", "https"}
    hosted = bool(res.get("upload")) or bool(source and _origin(url) == _origin(source))
    if fetch_files == UPLOADS and web and hosted:
        size = res.get("size") if isinstance(res.get("size"), int) else None
        return ResourceRecord(
            name=res["name"],
            format=fmt,
            file=FileRef(url, _file_name(url, res["name"], fmt), size),
            description=res.get("description", ""),
            name_en=res.get("name_en", ""),
            extra={k: v for k, v in extra.items() if k != "size"},
        )
    if fetch_files is True and fmt in FETCHABLE_FORMATS and web:
        size = res.get("size") if isinstance(res.get("size"), int) else None
        return ResourceRecord(
            name=res["name"],
            format=fmt,
            file=FileRef(url, _file_name(url, res["name"], fmt), size),
            description=res.get("description", ""),
            name_en=res.get("name_en", ""),
            tabular=True,
            read_options={"format": fmt.lower()},
            extra={k: v for k, v in extra.items() if k != "size"},
        )
    return ResourceRecord(
        name=res["name"],
        format=fmt,
        url=url,
        description=res.get("description", ""),
        name_en=res.get("name_en", ""),
        extra=extra,
    )


def _unique_names(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The harvest service matches a dataset's resources by name: two "ข้อมูล" would collide.
    seen: dict[str, int] = {}
    out = []
    for res in resources:
        name = res["name"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            res = {**res, "name": f"{name} ({seen[name]})"}
        out.append(res)
    return out


def build_record(
    remote_id: str,
    dataset: Mapping[str, Any],
    config: Mapping[str, Any],
    modified: datetime | None = None,
) -> HarvestRecord:
    """A HarvestRecord from a mapped dataset dict (with its ``resources``) and the config.

    Groups are kept only when the config's ``groups`` mapping names them (source name ->
    our group): a group that does not exist here would make the whole dataset fail.
    """
    data = dict(dataset)
    resources = _unique_names([r for r in data.pop("resources", None) or [] if r])
    group_map = config.get("groups") or {}
    groups = [group_map[g] for g in data.pop("groups", None) or [] if g in group_map]
    if groups:
        data["groups"] = list(dict.fromkeys(groups))
    missing = sorted(k for k in ESSENTIAL if k not in data)
    if missing:
        raise HarvestError(
            f"Item {remote_id} has no valid {', '.join(missing)}",
            f"รายการ {remote_id} ไม่มี {', '.join(missing)} ที่ถูกต้อง",
        )
    defaults = config_defaults(config)
    data = fit_to_defaults(data, defaults)
    mode = fetch_mode(config)
    fetch_files: bool | str = UPLOADS if mode == UPLOADS else mode == "tables"
    data_type = data.get("data_type", defaults.get("data_type"))
    source = str(config.get("url") or "")
    return HarvestRecord(
        remote_id=remote_id,
        dataset=data,
        resources=[
            resource_record(r, fetch_files=fetch_files, data_type=data_type, source=source)
            for r in resources
        ],
        modified=modified,
    )


def modified_before(modified: datetime | None, since: datetime | None) -> bool:
    """Whether an item last modified at `modified` is older than `since` (unknown: no)."""
    if since is None or modified is None:
        return False
    since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
    # dct:modified is often a bare date: keep the dataset if it changed on since's day.
    if modified.time() == datetime.min.time():
        return modified.date() < since.date()
    return modified < since


def malformed(remote_id: str, problem: str, problem_th: str) -> HarvestError:
    """The HarvestError of an item that cannot be mapped at all."""
    return HarvestError(
        f"Item {remote_id} is malformed: {problem}", f"รายการ {remote_id} ผิดรูปแบบ: {problem_th}"
    )


# --- the CKAN kind --------------------------------------------------------------------------


def _envelope_error(error: Mapping[str, Any]) -> str:
    kind = error.get("__type") or "Error"
    message = error.get("message")
    if not message:  # a Validation Error holds field errors instead of a message
        fields = {k: v for k, v in error.items() if k != "__type"}
        message = json.dumps(fields, ensure_ascii=False)[:300]
    return f"{kind}: {message}"


def solr_time(moment: datetime) -> str:
    """`moment` as a Solr UTC timestamp without the Z (naive datetimes are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def search_url(base: str, *, rows: int, start: int, fq: str = "") -> str:
    """The package_search URL of one page."""
    params = {"q": "*:*", "rows": rows, "start": start, "sort": "metadata_modified asc"}
    if fq:
        params["fq"] = fq
    return f"{base}/api/3/action/package_search?{urlencode(params, quote_via=quote)}"


@register("ckan")
class CkanSource(SourceKind):
    """A CKAN site read through ``/api/3/action/package_search``."""

    def filter_query(self, since: datetime | None = None) -> str:
        """The ``fq`` of the search: the config's fq, organisation and `since`."""
        terms = []
        if self.config.get("fq"):
            terms.append(str(self.config["fq"]).strip())
        if self.config.get("organization"):
            terms.append(f"organization:{self.config['organization']}")
        if since is not None:
            terms.append(f"metadata_modified:[{solr_time(since)}Z TO *]")
        return " AND ".join(t for t in terms if t)

    def _rows(self) -> int:
        rows = self.config.get("rows")
        rows = DEFAULT_ROWS if rows is None else rows
        if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
            raise HarvestError(
                f"rows must be a whole number from 1 to {MAX_ROWS}, not {rows!r}",
                f"rows ต้องเป็นจำนวนเต็ม 1 ถึง {MAX_ROWS} ไม่ใช่ {rows!r}",
            )
        return rows

    def _page(self, url: str) -> tuple[int, list[Any]]:
        body = fetch_json(self.open, url)
        if not isinstance(body, Mapping) or "success" not in body:
            raise HarvestError(
                f"{url} did not answer a CKAN API envelope",
                f"{url} ไม่ได้ตอบกลับในรูปแบบของ CKAN API",
            )
        if body.get("success") is not True:
            error = body.get("error")
            detail = _envelope_error(error) if isinstance(error, Mapping) else str(error)
            raise HarvestError(
                f"CKAN at {url} answered success: false ({detail})",
                f"CKAN ที่ {url} ตอบกลับว่าไม่สำเร็จ ({detail})",
            )
        result = body.get("result")
        count = result.get("count") if isinstance(result, Mapping) else None
        results = result.get("results") if isinstance(result, Mapping) else None
        if not isinstance(count, int) or not isinstance(results, list):
            raise HarvestError(
                f"CKAN at {url} answered a result without count and results",
                f"CKAN ที่ {url} ตอบกลับผลลัพธ์ที่ไม่มี count และ results",
            )
        return count, results

    def gather(self, since: datetime | None = None) -> Iterator[RemoteItem]:
        """Every package of the search, page by page, oldest change first."""
        base = source_url(self.config)
        fetch_mode(self.config)  # a bad value fails the job, not every item
        rows = self._rows()
        fq = self.filter_query(since)
        start = 0
        seen: set[str] = set()
        while True:
            url = search_url(base, rows=rows, start=start, fq=fq)
            count, packages = self._page(url)
            new = 0
            for index, pkg in enumerate(packages):
                remote_id = _remote_id(pkg, url, start + index)
                if remote_id in seen:
                    continue  # a package modified mid-harvest moves to a later page
                seen.add(remote_id)
                new += 1
                modified = pkg.get("metadata_modified") if isinstance(pkg, Mapping) else None
                yield RemoteItem(remote_id, pkg, parse_datetime(modified))
            start += len(packages)
            # A server that ignores `start` would page forever: stop when nothing is new.
            if not packages or not new or start >= count:
                return

    def map(self, item: RemoteItem) -> HarvestRecord:
        """The package as our dataset fields and resource links (or files)."""
        pkg = item.payload
        if not isinstance(pkg, Mapping):
            raise malformed(item.remote_id, "not a package object", "ไม่ใช่ออบเจกต์ชุดข้อมูล")
        for key in ("resources", "tags", "extras", "groups"):
            if pkg.get(key) is not None and not isinstance(pkg[key], list):
                raise malformed(item.remote_id, f"{key} is not a list", f"{key} ไม่ใช่รายการ")
        if not isinstance(pkg.get("id"), str):
            raise malformed(item.remote_id, "no package id", "ไม่มีรหัสชุดข้อมูล")
        return build_record(item.remote_id, dataset_from_ckan(pkg), self.config, item.modified)


def _remote_id(pkg: Any, url: str, position: int) -> str:
    if isinstance(pkg, Mapping):
        for key in ("id", "name"):
            if isinstance(pkg.get(key), str) and pkg[key]:
                return pkg[key]
    # Still listed, so the job reports the broken item instead of silently skipping it.
    return f"{url}#{position}"
