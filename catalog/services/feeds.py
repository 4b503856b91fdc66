"""The public metadata feeds: what /catalog.*, /data.json, the dataset RDF documents and the
Data Packages show, read in batches so a catalogue of any size streams in bounded memory.

Feeds are the public record: only public, published datasets and their public resources
appear, whoever asks (so responses are the same for everyone and can be cached); anything
else answers NotFound exactly like a missing dataset.

Datasets published every fiscal year form a dataset series: same organisation, same title once
the year is taken out (``... พ.ศ. 2567 ...`` / ``... พ.ศ. 2568 ...``), each with its
`fiscal_year`, at least two different years. The GD Catalog has no field that names a series,
so this rule is the one place that decides it (docs/dcat.md).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, BinaryIO

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from catalog.models import Dataset, Group, Organization, Resource
from catalog.services.context import Context
from catalog.services.datasets import dataset_loading
from catalog.services.dictize import (
    dataset_dict,
    dataset_rows,
    organization_dict,
    package_dicts,
)
from catalog.services.errors import NotFound, ValidationFailed
from catalog.storage import StorageError

#: Datasets read from the database at a time while streaming.
BATCH = 500
#: Most datasets a free-text (``q``) feed can match: the search returns ids, the feed pages them.
MAX_TEXT_MATCHES = 10_000
#: Bumped when the shape of the feeds changes, so caches holding older documents miss.
FEED_VERSION = "1"
#: Databases whose series index a process keeps (one in production; tests open many).
_SERIES_CACHED_DATABASES = 4
_SeriesIndex = dict[tuple[str, str], set[int]]
#: database -> (stamp, index, members: dataset id -> series key).
_SERIES_CACHE: dict[str, tuple[tuple[int, Any], _SeriesIndex, dict[str, str]]] = {}
_SERIES_LOCK = threading.Lock()

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_THAI_DIGIT = re.compile("[๐-๙]")
_SPACES = re.compile(r"\s+")
# A year in a title, with the era or "fiscal year" word written just before it.
_YEAR = re.compile(
    r"(?:(?:พ\.\s?ศ\.|ค\.\s?ศ\.|B\.?E\.?|FY|fiscal year)\s*)?(?<!\d)(?:19|20|25)\d\d(?!\d)", re.I
)


@dataclass(frozen=True)
class FeedQuery:
    """Which datasets a feed lists: free text, one organisation, changed since a moment."""

    q: str = ""
    organization: str = ""
    modified_since: datetime | None = None


@dataclass(frozen=True)
class FeedStats:
    """What a feed's validators are made of, read without building the feed."""

    count: int
    last_modified: datetime | None
    fingerprint: str


@dataclass
class FeedItem:
    """One dataset of a feed: its package dict (public resources only) and its series, if any."""

    dataset: dict[str, Any]
    series: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _public() -> Any:
    return (Dataset.private.is_(False)) & (Dataset.state == "published")


def series_title(title: str) -> str:
    """`title` without its year: the title of the series it belongs to."""
    # translate() on a Thai string costs more than the search that usually spares it.
    if _THAI_DIGIT.search(title):
        title = title.translate(_THAI_DIGITS)
    return _SPACES.sub(" ", _YEAR.sub(" ", title)).strip(" ,;:-")


def series_key(org_id: str, title: str) -> str:
    """A stable id of the series of datasets of `org_id` titled `title` (any year)."""
    digest = hashlib.sha256(f"{org_id}\x1f{series_title(title)}".encode()).hexdigest()
    return digest[:20]


def _series_index(session: Session) -> dict[tuple[str, str], set[int]]:
    """(organisation id, series title) -> fiscal years, for public datasets with a fiscal year.

    Made from one narrow query (four short columns) and every title without its year: about
    6 s for 100,000 datasets, so it is kept per process and database and made again only
    when the count or the latest change of those datasets moves (any edit of a title,
    organisation, year or visibility changes one of them). Checking costs one aggregate.
    """
    return _series(session)[0]


def _series_members(session: Session) -> dict[str, str]:
    """Dataset id -> series key, for the public datasets that are members of a series."""
    return _series(session)[1]


def _series(session: Session) -> tuple[_SeriesIndex, dict[str, str]]:
    public_with_year = (_public(), Dataset.fiscal_year.is_not(None))
    count, latest = session.execute(
        select(func.count(), func.max(Dataset.modified)).where(*public_with_year)
    ).one()
    database = str(session.get_bind().url)
    stamp = (count, latest)
    with _SERIES_LOCK:
        cached = _SERIES_CACHE.get(database)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
    years: dict[tuple[str, str], set[int]] = defaultdict(set)
    titled: list[tuple[str, tuple[str, str]]] = []
    rows = session.execute(
        select(Dataset.id, Dataset.owner_org_id, Dataset.title, Dataset.fiscal_year).where(
            *public_with_year
        )
    )
    for dataset_id, org_id, title, year in rows:
        key = (org_id, series_title(title))
        years[key].add(year)
        titled.append((dataset_id, key))
    index = {key: found for key, found in years.items() if len(found) > 1}
    # series_key(org, title) is this hash of the year-less title (computed once here).
    members = {
        dataset_id: hashlib.sha256(f"{key[0]}\x1f{key[1]}".encode()).hexdigest()[:20]
        for dataset_id, key in titled
        if key in index
    }
    with _SERIES_LOCK:
        _SERIES_CACHE.pop(database, None)
        _SERIES_CACHE[database] = (stamp, index, members)
        while len(_SERIES_CACHE) > _SERIES_CACHED_DATABASES:
            del _SERIES_CACHE[next(iter(_SERIES_CACHE))]
    return index, members


def _series_of(
    ds: Dataset, index: dict[tuple[str, str], set[int]], org: dict[str, Any]
) -> dict[str, Any] | None:
    if ds.fiscal_year is None:
        return None
    title = series_title(ds.title)
    years = index.get((ds.owner_org_id, title))
    if not years:
        return None
    return {
        "key": series_key(ds.owner_org_id, ds.title),
        "title": title,
        "title_en": series_title(ds.title_en) if ds.title_en else "",
        "organization": org,
        "fiscal_years": sorted(years),
    }


def _filtered(ctx: Context, session: Session, query: FeedQuery, stmt: Select) -> Select:
    stmt = stmt.where(_public())
    if query.organization:
        org_id = session.scalar(
            select(Organization.id).where(
                Organization.name == query.organization, Organization.state == "active"
            )
        )
        if org_id is None:
            raise NotFound(f"Not found: organization {query.organization}")
        stmt = stmt.where(Dataset.owner_org_id == org_id)
    if query.modified_since is not None:
        stmt = stmt.where(Dataset.modified >= query.modified_since)
    if query.q.strip():
        stmt = stmt.where(Dataset.id.in_(_text_matches(ctx, query)))
    return stmt


def _text_matches(ctx: Context, query: FeedQuery) -> list[str]:
    # The catalogue's own search (Thai analysis, acronyms, both eras) picks the datasets; the
    # database then filters, orders and pages them like any other feed.
    from search.base import SearchError
    from search.documents import SearchQuery

    filters = {"organization": [query.organization]} if query.organization else {}
    try:
        result = ctx.catalog.search.search(
            SearchQuery(q=query.q, filters=filters, sort="modified", rows=MAX_TEXT_MATCHES)
        )
    except SearchError as exc:
        raise ValidationFailed({"q": [str(exc)]}) from None
    return [hit.id for hit in result.hits]


def feed_stats(ctx: Context, query: FeedQuery) -> FeedStats:
    """Count and latest change of a feed's datasets, and of what their documents show of
    organisations, groups and resources; cheap enough to answer a conditional request."""
    with ctx.catalog.reader() as session:
        stmt = _filtered(ctx, session, query, select(func.count(), func.max(Dataset.modified)))
        count, latest = session.execute(stmt).one()
        others = [
            session.scalar(select(func.max(Organization.modified))),
            session.scalar(select(func.max(Group.modified))),
            session.scalar(select(func.max(Resource.modified))),
        ]
    stamps = [s for s in (latest, *others) if s is not None]
    last = max(stamps) if stamps else None
    parts = [FEED_VERSION, str(count), *(s.isoformat() if s else "-" for s in (latest, *others))]
    return FeedStats(
        count=count,
        last_modified=last,
        fingerprint=hashlib.sha256("|".join(parts).encode()).hexdigest()[:32],
    )


def _item(
    ds: Dataset,
    base_url: str,
    index: dict[tuple[str, str], set[int]],
) -> FeedItem:
    data = dataset_dict(ds, site_url=base_url.rstrip("/"))
    # A private resource of a public dataset is not part of the public record.
    public = {r.id: r for r in ds.resources if r.state == "active" and not r.private}
    data["resources"] = [r for r in data["resources"] if r["id"] in public]
    data["num_resources"] = len(data["resources"])
    for res in data["resources"]:
        row = public[res["id"]]
        if row.normalised_key:
            res["normalised_url"] = (
                f"{base_url.rstrip('/')}/dataset/{ds.id}/resource/{row.id}/normalised.csv"
            )
    return FeedItem(dataset=data, series=_series_of(ds, index, data["organization"]))


def _batches(
    session: Session, base: Select[Any], start: int, limit: int | None, *, orm: bool
) -> Iterator[list[Any]]:
    """The rows of `base` (ordered newest change first, then id) in batches of at most
    `BATCH`: the first from an OFFSET, the next ones continuing from the last row (keyset), so
    a long page costs no repeated OFFSET scans. `orm`: the rows are Dataset objects, else
    tuples starting (id, modified)."""
    remaining = limit
    after: tuple[datetime, str] | None = None
    while remaining is None or remaining > 0:
        size = BATCH if remaining is None else min(BATCH, remaining)
        stmt = base.limit(size)
        if after is None:
            stmt = stmt.offset(max(0, start))
        else:
            # Written out rather than as a row value so the column's own type binds the
            # timestamp on every database.
            stamp, last_id = after
            stmt = stmt.where(
                (Dataset.modified < stamp) | ((Dataset.modified == stamp) & (Dataset.id < last_id))
            )
        rows = list(session.scalars(stmt) if orm else session.execute(stmt))
        if not rows:
            return
        yield rows
        last = rows[-1]
        after = (last.modified, last.id) if orm else (last[1], last[0])
        if remaining is not None:
            remaining -= len(rows)
        if len(rows) < size:
            return


def feed_items(
    ctx: Context,
    query: FeedQuery,
    *,
    base_url: str,
    start: int = 0,
    limit: int | None = None,
) -> Iterator[list[FeedItem]]:
    """The feed's datasets, newest change first, in batches of at most `BATCH`.

    A generator: each batch is read when asked for, so a whole catalogue streams with one
    batch in memory. Pages after the first start with an OFFSET; batches within a page
    continue from the last row (keyset), so a long page costs no repeated OFFSET scans.
    """
    with ctx.catalog.reader() as session:
        index = _series_index(session)
        base = _filtered(ctx, session, query, select(Dataset)).order_by(
            Dataset.modified.desc(), Dataset.id.desc()
        )
        for rows in _batches(session, base.options(*dataset_loading()), start, limit, orm=True):
            yield [_item(ds, base_url, index) for ds in rows]
            # Forget the batch's objects: the session would otherwise keep every row read.
            session.expunge_all()


@dataclass(frozen=True)
class FeedEntry:
    """One dataset of a feed as listed, without its contents: its id, a `stamp` that changes
    whenever anything its document shows changes (its row, organisation, groups, resources
    and series; the caller adds the mapping's version), and its series key if a member."""

    id: str
    stamp: str
    series_key: str | None


@dataclass
class FeedBatch:
    """Up to `BATCH` entries of a feed, in order, and a way to build any of them in full."""

    entries: list[FeedEntry]
    session: Session
    index: _SeriesIndex

    def items(self, ids: list[str], *, base_url: str) -> dict[str, FeedItem]:
        """id -> FeedItem of those of `ids` that are (still) public: the package dicts read
        as Core rows (`dictize.package_dicts`, a few statements per batch), public resources
        only. ``normalised_url`` is not set (the DCAT mapping does not show it)."""
        conn = self.session.connection()
        rows = [
            row
            for row in dataset_rows(conn, ids=ids)
            if not row["private"] and row["state"] == "published"
        ]
        packages = package_dicts(
            conn, rows, site_url=base_url.rstrip("/"), private_resources_of=frozenset()
        )
        return {
            row["id"]: FeedItem(
                dataset=package,
                series=_series_of(SimpleNamespace(**row), self.index, package["organization"]),
            )
            for row, package in zip(rows, packages, strict=True)
        }


_D, _O = Dataset.__table__, Organization.__table__
_R, _G = Resource.__table__, Group.__table__


def _entry_columns() -> list[Any]:
    from catalog.models import dataset_group

    of_dataset = _R.c.dataset_id == _D.c.id
    groups = (
        select(dataset_group.c.group_id)
        .where(dataset_group.c.dataset_id == _D.c.id)
        .scalar_subquery()
    )
    linked = _G.c.id.in_(groups)
    return [
        Dataset.id,
        Dataset.modified,
        Dataset.version_number,
        _O.c.modified,
        select(func.count()).where(of_dataset).scalar_subquery(),
        select(func.max(_R.c.modified)).where(of_dataset).scalar_subquery(),
        select(func.count()).where(linked, _G.c.state == "active").scalar_subquery(),
        select(func.max(_G.c.modified)).where(linked).scalar_subquery(),
    ]


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def feed_entries(
    ctx: Context,
    query: FeedQuery,
    *,
    start: int = 0,
    limit: int | None = None,
) -> Iterator[FeedBatch]:
    """The feed's datasets as `FeedEntry`s, in `feed_items`' order and batches: one narrow
    statement a batch, for callers that keep what they made of a dataset while its stamp
    holds (web.api.dcat's fragment cache). Which datasets and in what order is decided
    here every time; `FeedBatch.items` builds the ones the caller has not kept."""
    with ctx.catalog.reader() as session:
        index, members = _series(session)
        base = (
            _filtered(ctx, session, query, select(*_entry_columns()))
            .select_from(_D.join(_O, _O.c.id == _D.c.owner_org_id))
            .order_by(Dataset.modified.desc(), Dataset.id.desc())
        )
        for rows in _batches(session, base, start, limit, orm=False):
            entries = []
            for dataset_id, modified, *others in rows:
                series_key = members.get(dataset_id)
                facts = [_text(modified), *(_text(o) for o in others), series_key or ""]
                entries.append(FeedEntry(dataset_id, "|".join(facts), series_key))
            yield FeedBatch(entries, session, index)


def _public_dataset(session: Session, name_or_id: str) -> Dataset:
    ds = session.scalar(
        select(Dataset)
        .where((Dataset.name == name_or_id) | (Dataset.id == name_or_id))
        .where(_public())
        .options(*dataset_loading())
    )
    if ds is None:
        # The same answer for a private, draft or withdrawn dataset as for a missing one.
        raise NotFound(f"Not found: dataset {name_or_id}")
    return ds


def feed_dataset(ctx: Context, name_or_id: str, *, base_url: str) -> FeedItem:
    """One public dataset as a feed item (for its RDF document and Data Package).

    :raises NotFound: missing, private, draft or withdrawn.
    """
    with ctx.catalog.reader() as session:
        ds = _public_dataset(session, name_or_id)
        index = _series_index(session) if ds.fiscal_year is not None else {}
        item = _item(ds, base_url, index)
        item.extra["modified"] = max(
            [ds.modified, ds.organization.modified, *(r.modified for r in ds.resources)]
        )
        return item


def organization_agent(ctx: Context, name: str) -> dict[str, Any]:
    """An active organisation's dict (the publisher of a series or of datasets)."""
    with ctx.catalog.reader() as session:
        org = session.scalar(
            select(Organization).where(Organization.name == name, Organization.state == "active")
        )
        if org is None:
            raise NotFound(f"Not found: organization {name}")
        return organization_dict(org)


def normalised_csv(
    ctx: Context, dataset_id: str, resource_id: str
) -> tuple[dict[str, Any], BinaryIO]:
    """The normalised UTF-8 CSV a harvest made of a public resource: (info, open stream).

    ``info`` has ``filename``, ``size`` and ``modified``. Raises NotFound for a resource that
    is missing, private, of a non-public dataset or without a normalised CSV.
    """
    with ctx.catalog.reader() as session:
        ds = _public_dataset(session, dataset_id)
        res = next(
            (
                r
                for r in ds.resources
                if r.id == resource_id and r.state == "active" and not r.private
            ),
            None,
        )
        if res is None or not res.normalised_key:
            raise NotFound(f"Not found: normalised CSV of resource {resource_id}")
        key, modified = res.normalised_key, res.modified
        stem = (res.filename or res.name or "data").rsplit(".", 1)[0]
    try:
        stream = ctx.catalog.storage.open(key)
    except StorageError as exc:
        raise NotFound(f"Not found: normalised CSV of resource {resource_id} ({exc})") from None
    return {"filename": f"{stem}.csv", "modified": modified, "key": key}, stream
