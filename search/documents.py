"""Plain values that cross the boundary between the catalogue and a search backend.

The catalogue builds a `SearchDocument` from a dataset (the DB stays the source of truth), asks a
backend with a `SearchQuery` and gets a `SearchResult` back: ids, scores, counts and facets, never
ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

#: Dataset states. Only published datasets are visible to everyone.
STATES = ("draft", "published", "withdrawn")

#: Filter and facet names accepted in a query, mapped to the `SearchDocument` attribute they read.
FILTER_FIELDS: dict[str, str] = {
    "organization": "organization",
    "tags": "tags",
    "res_format": "res_formats",
    "groups": "groups",
    "license_id": "license_id",
    "fiscal_year": "fiscal_years",
    "data_type": "data_type",
    "data_category": "data_category",
    "update_frequency": "update_frequency",
    "high_value": "high_value",
}

#: Sort names accepted in a query. "modified" is latest change first, "modified_asc" oldest change
#: first (a missing date counts as the oldest: first here, last in "modified"), "name" the
#: dataset name (slug) in code-point order; ties go to the smaller id.
SORTS = (
    "relevance",
    "newest",
    "modified",
    "title_th",
    "title_en",
    "popularity",
    "modified_asc",
    "name",
)


@dataclass(frozen=True)
class SearchDocument:
    """Everything a backend indexes about one dataset, as plain values."""

    id: str
    name: str
    title_th: str = ""
    title_en: str = ""
    notes_th: str = ""
    notes_en: str = ""
    tags: tuple[str, ...] = ()
    organization: str = ""
    #: Thai and English titles of the organisation and of its parents.
    organization_titles: tuple[str, ...] = ()
    #: Names (slugs) of the parent organisations, nearest first.
    organization_parents: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    group_titles: tuple[str, ...] = ()
    res_names: tuple[str, ...] = ()
    res_formats: tuple[str, ...] = ()
    #: Field names and Thai/English titles of the resources' Table Schemas.
    schema_fields: tuple[str, ...] = ()
    #: Fiscal years in the Buddhist Era (2567 = 2023-10-01 .. 2024-09-30).
    fiscal_years: tuple[int, ...] = ()
    license_id: str = ""
    data_type: str = ""
    data_category: str = ""
    #: The GD Catalog `update_frequency_unit` (ปี, เดือน, ...).
    update_frequency: str = ""
    high_value: bool = False
    private: bool = False
    state: str = "published"
    metadata_created: datetime | None = None
    metadata_modified: datetime | None = None
    popularity: int = 0

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {STATES}, not {self.state!r}")
        # Accept lists from callers but keep the document hashable and immutable.
        for name in (
            "tags",
            "organization_titles",
            "organization_parents",
            "groups",
            "group_titles",
            "res_names",
            "res_formats",
            "schema_fields",
            "fiscal_years",
        ):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True)
class SearchQuery:
    """One search request.

    `filters` maps a name of `FILTER_FIELDS` to accepted values: values of one filter are OR-ed,
    different filters are AND-ed. `sort` is one of `SORTS`. Visibility: private datasets are
    returned when `include_private` is true or their organisation is in `allowed_orgs`; drafts and
    withdrawn datasets only when `include_drafts` is also true for that organisation (the caller
    decides whether the user has the right to see them).

    `modified_since` and `modified_until` keep the datasets whose `metadata_modified` lies
    within them (both bounds inclusive; naive datetimes are UTC), like CKAN's
    `fq=metadata_modified:[... TO ...]`; a dataset without one never matches a range. Counts and
    facets follow the range like any filter.
    """

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    facet_fields: tuple[str, ...] = ()
    sort: str = "relevance"
    start: int = 0
    rows: int = 20
    include_private: bool = False
    allowed_orgs: frozenset[str] = frozenset()
    include_drafts: bool = False
    #: Most values returned per facet, highest counts first.
    facet_limit: int = 50
    modified_since: datetime | None = None
    modified_until: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.facet_fields, tuple):
            object.__setattr__(self, "facet_fields", tuple(self.facet_fields))
        if not isinstance(self.allowed_orgs, frozenset):
            object.__setattr__(self, "allowed_orgs", frozenset(self.allowed_orgs))
        if self.start < 0 or self.rows < 0:
            raise ValueError("start and rows must not be negative")
        for bound in (self.modified_since, self.modified_until):
            # A date (not a datetime) has no time of day to compare: the caller must choose one.
            if bound is not None and not isinstance(bound, datetime):
                raise ValueError("modified_since and modified_until must be datetimes")

    @property
    def modified_range(self) -> tuple[datetime | None, datetime | None] | None:
        """(since, until) as aware UTC datetimes (naive ones are UTC), or None without a range."""
        if self.modified_since is None and self.modified_until is None:
            return None
        return as_utc(self.modified_since), as_utc(self.modified_until)


@dataclass(frozen=True)
class SearchHit:
    """One matching dataset and its relevance score (0.0 when sorted by something else)."""

    id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    """The answer to a `SearchQuery`.

    `count` is the exact number of visible matches; `hits` is the requested page. `highlights`
    maps an id of the page to an HTML-escaped snippet where matched words are wrapped in
    `<mark>`. `suggestion` is a corrected query ("did you mean"); when the original query found
    nothing and the suggestion did, `corrected` is true and the hits are the suggestion's.
    """

    count: int
    hits: tuple[SearchHit, ...] = ()
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    highlights: dict[str, str] = field(default_factory=dict)
    suggestion: str | None = None
    corrected: bool = False

    @property
    def ids(self) -> list[str]:
        """Ids of the page, best first."""
        return [hit.id for hit in self.hits]


def as_utc(value: datetime | None) -> datetime | None:
    """`value` as an aware UTC datetime; a naive one is taken as UTC (how documents store it)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class SearchError(ValueError):
    """A query names an unknown filter, facet or sort (a caller bug, not a user typo)."""
