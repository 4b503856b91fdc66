"""The metadata feeds: DCAT-AP 3 catalogue and dataset documents (Turtle, JSON-LD, RDF/XML),
data.json (DCAT-US 1.1), Data Packages and the normalised CSVs they point at.

Catalogue documents are paged with Hydra as ckanext-dcat does (100 datasets a page, ``page``
from 1; without ``page`` the first page) and streamed batch by batch. Their ETag is made from
cheap facts (count and latest changes of what they show, the query) so a conditional request
is answered without building the document. Everything here is the public record: see
catalog.services.feeds.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Request, Response, current_app, request
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import DCAT, RDF, RDFS
from rdflib.term import Node

from catalog.services import ValidationFailed, feed_cache, feeds
from schemas.datajson import catalog_head, dataset_to_datajson
from schemas.datapackage import dataset_to_datapackage, tabular_resources
from schemas.dcat import (
    bind_prefixes,
    catalog_to_dcat,
    dataset_to_dcat,
    hydra_view,
    series_to_dcat,
)
from web.api.rdfstream import FORMATS, Triples, serialise

bp = Blueprint("api_dcat", __name__)

PAGE_SIZE = 100
#: Largest ``page_size``: a whole catalogue in one streamed document (a harvester's dump).
MAX_PAGE_SIZE = 100_000
_NEGOTIATED = {media: fmt for fmt, (_, media) in FORMATS.items()}


def _ctx() -> Any:
    from web.context import context

    return context()


def base_url() -> str:
    """Absolute URLs of the documents are built from the request's own host."""
    return request.host_url.rstrip("/")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValidationFailed({name: [f"Must be a whole number from {low} to {high}."]})
    return value


def _since() -> datetime | None:
    raw = (request.args.get("modified_since") or "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValidationFailed(
                {"modified_since": ["Must be an ISO date or date-time, e.g. 2024-10-01."]}
            ) from None
        parsed = datetime(day.year, day.month, day.day)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _feed_query() -> feeds.FeedQuery:
    return feeds.FeedQuery(
        q=(request.args.get("q") or "").strip(),
        organization=(request.args.get("organization") or "").strip(),
        modified_since=_since(),
    )


def _validators(response: Response, tag: str, modified: datetime | None) -> Response:
    if response.is_streamed:
        # Werkzeug's make_conditional counts the body for Content-Length, turning a generator
        # into a list first: the whole document was built in memory before its first byte
        # left. Without implicit conversion it leaves the length unset and the body streams.
        response.implicit_sequence_conversion = False
    response.set_etag(tag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = "public, no-cache"
    response.vary.add("Accept")
    return response.make_conditional(request)


def _settings() -> Any:
    return current_app.config["KHLANG"]


def _page_url(fmt: str, page: int, page_size: int) -> str:
    params = {k: v for k, v in request.args.items() if k not in ("page", "page_size") and v}
    if page_size != PAGE_SIZE:
        params["page_size"] = str(page_size)
    params["page"] = str(page)
    return f"{base_url()}/catalog.{fmt}?{urlencode(params)}"


@bp.get("/catalog.<any(ttl, jsonld, rdf):fmt>")
def catalog(fmt: str) -> Response:
    """The catalogue, one Hydra page: ``page``, ``page_size``, ``q``, ``organization``,
    ``modified_since``."""
    context = _ctx()
    query = _feed_query()
    page = _int_arg("page", 1, 1, 10**9)
    page_size = _int_arg("page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    stats = feeds.feed_stats(context, query)
    last = max(1, -(-stats.count // page_size))
    if page > last:
        raise feeds.NotFound(f"Not found: page {page} of the catalogue (last is {last})")
    base = base_url()
    settings = _settings()
    key = json.dumps([stats.fingerprint, fmt, base, sorted(request.args.items())])
    tag = hashlib.sha256(key.encode()).hexdigest()[:32]

    head = Triples()
    node = catalog_to_dcat(
        head,
        base,
        title_th=settings.SITE_TITLE_TH,
        title_en=settings.SITE_TITLE_EN,
        modified=stats.last_modified,
    )
    # The Hydra URLs read the request: the head is written now, the datasets while streaming.
    hydra_view(
        head,
        node,
        page_url=_page_url(fmt, page, page_size),
        total=stats.count,
        first=_page_url(fmt, 1, page_size),
        last=_page_url(fmt, last, page_size),
        next_url=_page_url(fmt, page + 1, page_size) if page < last else None,
        previous=_page_url(fmt, page - 1, page_size) if page > 1 else None,
    )
    framed = list(serialise(fmt, [head]))
    opening, closing = "".join(framed[:2]), "".join(framed[2:])
    cache = feed_cache.fragment_cache(settings.data_dir) if _cacheable(base) else None
    start = (page - 1) * page_size

    def chunks() -> Iterator[str]:
        yield opening
        # A series is described once per document, next to its first member; a block shared
        # by datasets (publisher, licence, code-list values, themes) is written once too.
        described: set[str] = set()
        shared: set[str] = set()
        for batch in feeds.feed_entries(context, query, start=start, limit=page_size):
            pieces = _fragments(fmt, batch, base, cache)
            new_series = {
                e.series_key: e.id
                for e in reversed(batch.entries)
                if e.series_key and e.series_key not in described
            }
            series = _series_blocks(fmt, batch, base, new_series)
            out: list[str] = []
            for entry in batch.entries:
                found = pieces.get(entry.id)
                if found is None:  # no longer public since the batch was listed
                    continue
                out.append(found[0])
                for block in found[1:]:
                    if block not in shared:
                        if len(shared) < _SHARED_BLOCKS_KEPT:
                            shared.add(block)
                        out.append(block)
                key = entry.series_key
                if key and key not in described and key in series:
                    described.add(key)
                    out.append(series[key])
            yield "".join(out)
        yield closing

    response = Response(chunks(), mimetype=FORMATS[fmt][1])
    return _validators(response, tag, stats.last_modified)


# --- the per-dataset fragments of the catalogue ------------------------------------------

#: The base URL fragments are made with and kept under; replaced by the request's when
#: written. ``.invalid`` is reserved (RFC 2606): no real URL has it (a publisher who typed it
#: into a text would see the site's URL there instead).
BASE_TOKEN = "http://khlang-feed-base.invalid"
#: Hosts whose URLs need no escaping in any format: only their documents use the cache (a
#: request with an odd Host header gets a document built for it, not kept).
_PLAIN_BASE = re.compile(r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
#: Distinct shared blocks a document remembers so as to write each once (then: repeated,
#: which is the same graph).
_SHARED_BLOCKS_KEPT = 50_000
# What every fragment's text is made by: a change to any of these modules changes it.
_MAPPING_MODULES = (
    "schemas.dcat",
    "schemas.dcat_vocab",
    "schemas.vocab",
    "schemas.ckan",
    "web.api.rdfstream",
    "catalog.services.dictize",
    "catalog.services.feeds",
    __name__,
)
_MAPPING_VERSION: list[str] = []
# A throwaway first node, so every fragment is written as a node that follows another (the
# JSON-LD writer puts a comma before all nodes but the first).
_PRIMER = Triples().add((BNode("primer"), RDF.type, RDFS.Resource))


def mapping_version() -> str:
    """A hash of the source of the mappers, writers and package dicts (and FEED_VERSION):
    fragments made by an older mapping are never used."""
    if not _MAPPING_VERSION:
        digest = hashlib.sha256(feeds.FEED_VERSION.encode())
        for name in _MAPPING_MODULES:
            digest.update(Path(sys.modules[name].__file__ or "").read_bytes())
        _MAPPING_VERSION.append(digest.hexdigest()[:16])
    return _MAPPING_VERSION[0]


def _cacheable(base: str) -> bool:
    return _PLAIN_BASE.fullmatch(base) is not None


def dataset_pieces(fmt: str, item: feeds.FeedItem, base: str) -> list[str]:
    """What the catalogue writes for one dataset in `fmt`: first the text of its own subjects
    (the dataset, its distributions and blank nodes, and the catalogue's dcat:dataset link to
    it), then one block per other subject it describes (publisher, licence, code-list
    values, themes...), which the document writes once however many datasets share it."""
    graph = Triples()
    member = dataset_to_dcat(item.dataset, graph, base, series=item.series)
    own = Triples()
    others: dict[Node, Triples] = {}
    inside = f"{member}/"
    for triple in graph:
        subject = triple[0]
        if subject == member or isinstance(subject, BNode) or str(subject).startswith(inside):
            own.add(triple)
        else:
            block = others.get(subject)
            if block is None:
                block = others[subject] = Triples()
            block.add(triple)
    own.add((URIRef(f"{base}/catalog"), DCAT.dataset, member))
    parts = list(serialise(fmt, [_PRIMER, own, *others.values()]))
    # The writers yield the document's opening, one text per graph, and maybe a closing.
    wanted = 1 + len(others)
    if len(parts) not in (2 + wanted, 3 + wanted):
        raise RuntimeError(f"the {fmt} writer no longer writes one text per graph")
    return parts[2 : 2 + wanted]


def _fragments(
    fmt: str, batch: feeds.FeedBatch, base: str, cache: feed_cache.FragmentCache | None
) -> dict[str, list[str]]:
    """id -> the pieces of each dataset of `batch` (see `dataset_pieces`), with `base`: kept
    ones from `cache` when their stamp holds, the others built (and kept)."""
    version = mapping_version()
    stamps = {e.id: f"{version}|{e.stamp}" for e in batch.entries}
    kept = cache.get_many(fmt, stamps) if cache is not None else {}
    out = {
        dataset_id: [piece.replace(BASE_TOKEN, base) for piece in feed_cache.unpack(text)]
        for dataset_id, text in kept.items()
    }
    missing = [dataset_id for dataset_id in stamps if dataset_id not in kept]
    if not missing:
        return out
    if cache is None:
        for dataset_id, item in batch.items(missing, base_url=base).items():
            out[dataset_id] = dataset_pieces(fmt, item, base)
        return out
    fresh = []
    for dataset_id, item in batch.items(missing, base_url=BASE_TOKEN).items():
        pieces = dataset_pieces(fmt, item, BASE_TOKEN)
        fresh.append((dataset_id, stamps[dataset_id], feed_cache.pack(pieces)))
        out[dataset_id] = [piece.replace(BASE_TOKEN, base) for piece in pieces]
    cache.put_many(fmt, fresh)
    return out


def _series_blocks(
    fmt: str, batch: feeds.FeedBatch, base: str, first_members: dict[str, str]
) -> dict[str, str]:
    """series key -> the text describing that series (not kept: few, and cheap to make)."""
    if not first_members:
        return {}
    items = batch.items(list(first_members.values()), base_url=base)
    out = {}
    for key, dataset_id in first_members.items():
        item = items.get(dataset_id)
        if item is None or not item.series:
            continue
        graph = Triples()
        series_to_dcat(item.series, graph, base)
        parts = list(serialise(fmt, [_PRIMER, graph]))
        out[key] = parts[2]
    return out


def dataset_document(name: str, fmt: str) -> Response:
    """One dataset as DCAT-AP in `fmt`; the same 404 for missing and non-public datasets."""
    base = base_url()
    item = feeds.feed_dataset(_ctx(), name, base_url=base)
    graph = bind_prefixes(Graph())
    dataset_to_dcat(item.dataset, graph, base, series=item.series)
    if item.series:
        series_to_dcat(item.series, graph, base)
    body = "".join(serialise(fmt, [graph]))
    response = Response(body, mimetype=FORMATS[fmt][1])
    # Not a hash of the body: blank-node labels differ on every serialisation.
    return _validators(response, _item_tag(item, fmt, base), item.extra.get("modified"))


def _item_tag(item: feeds.FeedItem, fmt: str, base: str) -> str:
    modified = item.extra.get("modified")
    facts = [feeds.FEED_VERSION, item.dataset["id"], str(modified), fmt, base, item.series]
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()[:32]


def negotiated_format(req: Request) -> str | None:
    """The RDF format a request's Accept header prefers over HTML, or None for HTML."""
    offers = ["text/html", *(_NEGOTIATED)]
    best = req.accept_mimetypes.best_match(offers, default="text/html")
    return _NEGOTIATED.get(best or "")


@bp.get("/dataset/<name>.<any(ttl, jsonld, rdf):fmt>")
def dataset(name: str, fmt: str) -> Response:
    return dataset_document(name, fmt)


@bp.get("/data.json")
def data_json() -> Response:
    """The whole public catalogue in DCAT-US 1.1 (Project Open Data) shape, streamed."""
    context = _ctx()
    query = feeds.FeedQuery()
    stats = feeds.feed_stats(context, query)
    base = base_url()
    tag = hashlib.sha256(f"{stats.fingerprint}|{base}".encode()).hexdigest()[:32]

    def chunks() -> Iterator[str]:
        head = json.dumps(catalog_head(base), ensure_ascii=False)
        yield head[:-1] + ', "dataset": [\n'
        first = True
        for batch in feeds.feed_items(context, query, base_url=base):
            for item in batch:
                entry = dataset_to_datajson(item.dataset, base, series=item.series)
                yield ("" if first else ",\n") + json.dumps(entry, ensure_ascii=False)
                first = False
        yield "\n]}\n"

    response = Response(chunks(), mimetype="application/json")
    return _validators(response, tag, stats.last_modified)


@bp.get("/dataset/<name>/datapackage.json")
def datapackage(name: str) -> Response:
    """A Frictionless Data Package of a public dataset's tabular resources."""
    base = base_url()
    item = feeds.feed_dataset(_ctx(), name, base_url=base)
    if not tabular_resources(item.dataset):
        raise feeds.NotFound(f"Not found: dataset {name} has no tabular resource")
    body = json.dumps(dataset_to_datapackage(item.dataset, base), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    tag = hashlib.sha256(body.encode()).hexdigest()[:32]
    return _validators(response, tag, item.extra.get("modified"))


@bp.get("/dataset/<dataset_id>/resource/<resource_id>/normalised.csv")
def normalised_csv(dataset_id: str, resource_id: str) -> Response:
    """The normalised UTF-8 CSV of a public resource, streamed from the store."""
    info, stream = feeds.normalised_csv(_ctx(), dataset_id, resource_id)

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(64 * 1024):
                yield block

    response = Response(chunks(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"inline; filename=data.csv; filename*=UTF-8''{quote(info['filename'])}"
    )
    # Stored files are content-addressed: the key names the bytes.
    return _validators(response, info["key"], info["modified"])
