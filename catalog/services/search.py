"""Search: the catalogue's datasets as plain documents in a search backend.

The database is the source of truth. A change writes a `SearchOutbox` row in its own
transaction; after the commit the outbox is drained into the index. A crash in between leaves
the rows, and the next drain (at the next write or start-up) repairs the index.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from catalog.models import Dataset, Group, Organization, SearchOutbox, dataset_group
from catalog.services import auth
from catalog.services.context import Catalog, Context
from catalog.services.datasets import dataset_loading
from catalog.services.dictize import dataset_rows, package_dicts
from catalog.services.errors import ValidationFailed
from catalog.services.registry import action
from catalog.services.types import PackageSearchDict, SearchFacet
from schemas.actions import PackageSearchParams
from search.documents import SearchDocument, SearchError, SearchQuery

BATCH = 500


def enqueue(session: Session, dataset_ids: Iterable[str]) -> None:
    """Ask for these datasets to be re-indexed once the current transaction commits."""
    rows = [SearchOutbox(dataset_id=i) for i in dict.fromkeys(dataset_ids)]
    session.add_all(rows)
    if rows:
        session.info["search_outbox"] = True  # Catalog.transaction drains after the commit


def enqueue_organization(session: Session, org_id: str) -> None:
    """Re-index every dataset of an organisation and of its children (their titles changed)."""
    ids = {org_id}
    frontier = {org_id}
    while frontier:
        frontier = (
            set(
                session.scalars(select(Organization.id).where(Organization.parent_id.in_(frontier)))
            )
            - ids
        )
        ids |= frontier
    enqueue(session, session.scalars(select(Dataset.id).where(Dataset.owner_org_id.in_(ids))))


def enqueue_group(session: Session, group_id: str) -> None:
    enqueue(
        session,
        session.scalars(
            select(dataset_group.c.dataset_id).where(dataset_group.c.group_id == group_id)
        ),
    )


def _org_lineage(org: Organization) -> list[Organization]:
    chain: list[Organization] = []
    current: Organization | None = org
    while current is not None and current not in chain:
        chain.append(current)
        current = current.parent
    return chain


def _schema_terms(schema: dict[str, Any] | None) -> list[str]:
    terms: list[str] = []
    for field in (schema or {}).get("fields", []):
        for key in ("name", "title", "title_en"):
            if field.get(key):
                terms.append(str(field[key]))
    return terms


def document_from_dataset(ds: Dataset) -> SearchDocument:
    """The plain search document of a dataset (what search/ indexes)."""
    lineage = _org_lineage(ds.organization)
    resources = [r for r in ds.resources if r.state == "active"]
    years = {ds.fiscal_year} if ds.fiscal_year else set()
    for key in ("first_year_of_data", "last_year_of_data"):
        if isinstance(ds.extras.get(key), int):
            years.add(ds.extras[key])
    return SearchDocument(
        id=ds.id,
        name=ds.name,
        title_th=ds.title,
        title_en=ds.title_en,
        notes_th=ds.notes,
        notes_en=ds.notes_en,
        tags=tuple(t.name for t in ds.tags),
        organization=ds.organization.name,
        organization_titles=tuple(t for o in lineage for t in (o.title, o.title_en) if t),
        organization_parents=tuple(o.name for o in lineage[1:]),
        groups=tuple(g.name for g in ds.active_groups),
        group_titles=tuple(t for g in ds.active_groups for t in (g.title, g.title_en) if t),
        res_names=tuple(n for r in resources for n in (r.name, r.name_en) if n),
        res_formats=tuple(dict.fromkeys(r.format.upper() for r in resources if r.format)),
        schema_fields=tuple(t for r in resources for t in _schema_terms(r.table_schema)),
        fiscal_years=tuple(sorted(years)),
        license_id=ds.license_id,
        data_type=ds.data_type,
        data_category=ds.data_category,
        update_frequency=ds.update_frequency_unit,
        high_value=ds.high_value_dataset,
        private=ds.private,
        state=ds.state,
        metadata_created=ds.created,
        metadata_modified=ds.modified,
    )


def _load(session: Session, ids: list[str]) -> list[Dataset]:
    return list(
        session.scalars(select(Dataset).where(Dataset.id.in_(ids)).options(*dataset_loading()))
    )


_warming: dict[str, threading.Thread] = {}


def warm_up(catalog: Catalog) -> threading.Thread:
    """Load the Thai analyzer (its dictionary takes about half a second) and the backend's
    modules on a worker thread, so the first indexing after a long step does not wait.
    Only the first call in a process starts the thread."""
    backend = catalog.settings.SEARCH_BACKEND
    if backend in _warming:
        return _warming[backend]

    def work() -> None:
        from search.thai import index_terms

        index_terms("งบประมาณรายจ่าย budget")
        if backend == "postgresql":
            import search.pg_backend  # noqa: F401
        else:
            import search.whoosh_backend  # noqa: F401

    thread = threading.Thread(target=work, name="khlang-search-warm-up", daemon=True)
    _warming[backend] = thread
    thread.start()
    return thread


def drain_outbox(catalog: Catalog, limit: int = 10_000) -> int:
    """Index the datasets waiting in the outbox; returns how many entries were handled.

    Entries are removed only after the index took the documents, so a crash here means
    indexing them again later, never losing them.
    """
    handled = 0
    backend = catalog.search
    # Concurrent first calls of the analyzer's cached loaders would each load the dictionary:
    # wait for the warm-up thread instead (at once when it has finished).
    warm_up(catalog).join()
    while handled < limit:
        with catalog.reader() as session:
            rows = session.execute(
                select(SearchOutbox.id, SearchOutbox.dataset_id)
                .order_by(SearchOutbox.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            ids = list(dict.fromkeys(r.dataset_id for r in rows))
            datasets = _load(session, ids)
            backend.index(document_from_dataset(ds) for ds in datasets)
            gone = set(ids) - {ds.id for ds in datasets}
            if gone:
                backend.delete(gone)
        with catalog.transaction(index=False) as session:
            session.execute(delete(SearchOutbox).where(SearchOutbox.id <= rows[-1].id))
        handled += len(rows)
    return handled


def _all_documents(catalog: Catalog) -> Iterator[SearchDocument]:
    with catalog.reader() as session:
        ids = list(session.scalars(select(Dataset.id).order_by(Dataset.id)))
        for start in range(0, len(ids), BATCH):
            for ds in _load(session, ids[start : start + BATCH]):
                yield document_from_dataset(ds)
            session.expunge_all()


def reindex(ctx: Context) -> int:
    """Rebuild the whole index from the database beside the live one, then swap it in."""
    with ctx.catalog.reader() as session:
        auth.require(ctx, session, "reindex")
    with ctx.catalog.transaction(index=False) as session:
        session.execute(delete(SearchOutbox))
    return ctx.catalog.search.rebuild(_all_documents(ctx.catalog))


def search_check(ctx: Context, repair: bool = False) -> dict[str, Any]:
    """Compare the index with the database: missing, stale and orphan entries, and counts kept
    beside them that differ from a recount; fix them."""
    with ctx.catalog.reader() as session:
        auth.require(ctx, session, "reindex")
        in_db = dict(session.execute(select(Dataset.id, Dataset.modified)).all())
    in_index = ctx.catalog.search.all_ids_with_modified()
    missing = sorted(set(in_db) - set(in_index))
    orphans = sorted(set(in_index) - set(in_db))
    stale = sorted(
        i
        for i in set(in_db) & set(in_index)
        if in_index[i] is None or abs((in_index[i] - in_db[i]).total_seconds()) > 0.001
    )
    if repair and (missing or stale or orphans):
        with ctx.catalog.transaction(index=False) as session:
            enqueue(session, missing + stale)
        if orphans:
            ctx.catalog.search.delete(orphans)
        drain_outbox(ctx.catalog)
    return {
        "datasets": len(in_db),
        "indexed": len(in_index),
        "missing": missing,
        "stale": stale,
        "orphans": orphans,
        # Counts some backends keep beside the documents (PostgreSQL's triggers).
        "counts": ctx.catalog.search.check_counts(repair=repair),
        "repaired": repair,
    }


@action("package_search", PackageSearchParams)
def package_search(
    ctx: Context,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    facet_fields: Iterable[str] = (),
    sort: str = "relevance",
    start: int = 0,
    rows: int = 20,
    facet_limit: int = 50,
    facet_mincount: int = 1,
    modified_since: datetime | None = None,
    modified_until: datetime | None = None,
    include_private: bool = True,
    include_drafts: bool | None = None,
) -> PackageSearchDict:
    """Search the datasets the caller may see, with Thai word segmentation.

    :param q: free text (AND by default, ``OR`` between words, ``"quoted phrases"``);
        empty or ``*:*`` matches every dataset.
    :param fq: filters in CKAN's syntax: ``organization:ban-suan``, ``tags:"งบประมาณ"``,
        ``res_format:CSV``, ``groups:budget``, ``license_id:...``, the GD Catalog fields
        ``data_type``, ``data_category``, ``fiscal_year``, ``update_frequency_unit``,
        ``high_value_dataset``, and ``metadata_modified:[2024-01-01T00:00:00Z TO *]``.
    :param fq_list: more filters, each in the syntax of ``fq``.
    :param facet: ``false`` to count no facets.
    :param facet.field: fields to count values of, e.g. ``["organization", "tags"]``.
    :param facet.limit: most values per facet (default 50; negative for all).
    :param facet.mincount: least count of a value shown (default 1).
    :param sort: ``score desc`` (relevance, the default), ``metadata_modified desc`` or
        ``asc``, ``metadata_created desc``, ``name asc``, ``title_string asc``.
    :param rows: datasets per page (default 10, at most 1000).
    :param start: skip this many datasets first.
    :param include_private: also private datasets of the caller's organisations.
    :param include_drafts: also drafts and withdrawn datasets the caller may see.
    :returns: ``count``, ``results`` (package dicts), ``facets``, ``search_facets`` (with
        display names), ``sort``; Khlang adds ``highlights`` and a ``suggestion``.
    :raises ValidationFailed: an unknown filter, facet or sort.
    """
    rows = max(0, min(int(rows), 1000))
    with ctx.catalog.reader() as session:
        readable = auth.readable_org_ids(ctx, session) if include_private else set()
        everything = readable is None
        drafts = everything if include_drafts is None else include_drafts
        extra: dict[str, Any] = {}
        if modified_since is not None or modified_until is not None:
            extra = {"modified_since": modified_since, "modified_until": modified_until}
        try:
            query = SearchQuery(
                q=q or "",
                filters={k: [str(v) for v in vs] for k, vs in (filters or {}).items()},
                facet_fields=tuple(facet_fields),
                sort=sort,
                start=max(0, int(start)),
                rows=rows,
                include_private=everything,
                include_drafts=drafts,
                allowed_orgs=frozenset(_org_names(session, readable)),
                facet_limit=facet_limit,
                **extra,
            )
            result = ctx.catalog.search.search(query)
        except (SearchError, TypeError) as exc:
            raise ValidationFailed({"search": [str(exc)]}) from None
        ids = [hit.id for hit in result.hits]
        conn = session.connection()
        by_id = {ds["id"]: ds for ds in dataset_rows(conn, ids=ids)}
        facets = {
            field: {value: n for value, n in counts.items() if n >= facet_mincount}
            for field, counts in result.facets.items()
        }
        return {
            "count": result.count,
            "results": package_dicts(
                conn,
                [by_id[i] for i in ids if i in by_id],
                site_url=ctx.site_url,
                private_resources_of=readable
                if include_private
                else (auth.readable_org_ids(ctx, session) if ctx.user else frozenset()),
            ),
            "facets": facets,
            "search_facets": _search_facets(ctx, session, facets),
            "sort": sort,
            "highlights": dict(result.highlights),
            "suggestion": result.suggestion,
        }


def _display_names(
    ctx: Context, session: Session, field: str, values: Iterable[str]
) -> dict[str, str]:
    english = ctx.lang == "en"
    if field in ("organization", "groups"):
        model = Organization if field == "organization" else Group
        rows = session.execute(
            select(model.name, model.title, model.title_en).where(model.name.in_(list(values)))
        )
        return {
            name: (title_en if english and title_en else title) for name, title, title_en in rows
        }
    if field == "license_id":
        from schemas.vocab import find_license

        found = {v: find_license(v) for v in values}
        return {v: (lic.en if english else lic.th) for v, lic in found.items() if lic}
    return {}


def _search_facets(
    ctx: Context, session: Session, facets: dict[str, dict[str, int]]
) -> dict[str, SearchFacet]:
    """CKAN's ``search_facets``: each value with a display name, in CKAN's order."""
    result: dict[str, SearchFacet] = {}
    for field, counts in facets.items():
        names = _display_names(ctx, session, field, counts)
        items = [
            {"name": value, "display_name": names.get(value, value), "count": n}
            for value, n in counts.items()
        ]
        items.sort(key=lambda item: item["display_name"], reverse=True)
        result[field] = {"title": field, "items": items}
    return result


def _org_names(session: Session, ids: set[str] | None) -> list[str]:
    if not ids:
        return []
    return list(session.scalars(select(Organization.name).where(Organization.id.in_(ids))))
