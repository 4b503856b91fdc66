"""The interface every search backend implements (Whoosh now, PostgreSQL later).

A backend holds a derived copy of the catalogue: the DB is the source of truth, so the index can
always be rebuilt from `SearchDocument`s. The shared contract tests (tests/test_search_backends.py)
run against every backend.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from datetime import datetime

from search.documents import (
    FILTER_FIELDS,
    SORTS,
    SearchDocument,
    SearchError,
    SearchQuery,
    SearchResult,
)


class SearchBackend(abc.ABC):
    """Index plain documents; answer queries with ids, counts and facets."""

    #: Registry name ("whoosh", "postgres").
    name: str = ""

    @abc.abstractmethod
    def index(self, docs: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by id); return how many were written."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        """Run a query. Malformed query text never raises; unknown filter, facet or sort names
        raise `SearchError`."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every document."""

    @abc.abstractmethod
    def count(self) -> int:
        """Number of indexed documents (all states and visibilities)."""

    @abc.abstractmethod
    def all_ids_with_modified(self) -> dict[str, datetime | None]:
        """Every indexed id with its `metadata_modified`, to compare with the DB (drift check)."""

    def check_counts(self, repair: bool = False) -> list[str]:
        """Counts the backend keeps beside its documents (if any) that differ from a recount,
        named for people; with `repair`, set right. The default keeps none."""
        return []

    def rebuild(self, docs: Iterable[SearchDocument]) -> int:
        """Replace the whole index with `docs`; return how many were written.

        The default clears then indexes, so searches briefly see an empty index; backends that
        can build aside and swap (Whoosh) override it."""
        self.clear()
        return self.index(docs)

    def close(self) -> None:
        """Release files and connections; the backend must not be used afterwards."""
        return None


def check_query(query: SearchQuery) -> None:
    """Raise `SearchError` when `query` names an unknown filter, facet or sort."""
    unknown = [name for name in query.filters if name not in FILTER_FIELDS]
    unknown += [name for name in query.facet_fields if name not in FILTER_FIELDS]
    if unknown:
        raise SearchError(f"unknown filter or facet: {', '.join(sorted(set(unknown)))}")
    if query.sort not in SORTS:
        raise SearchError(f"unknown sort {query.sort!r}; use one of {', '.join(SORTS)}")
