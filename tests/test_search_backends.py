"""The search contract, run against every backend (`backend` fixture, parametrised by name).

To add a backend, add its name to BACKENDS and a branch to `make_backend`. Tests at the end use
Whoosh-only features (atomic rebuild, several writer processes).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from search.base import SearchBackend
from search.documents import SearchDocument, SearchError, SearchQuery

BACKENDS = [
    "whoosh",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    # Answers text queries from stored counts, kept by the triggers through every write of
    # the contract (tests/test_search_pg.py StoringBackend).
    pytest.param("postgresql-stored", marks=pytest.mark.postgres),
]


def make_backend(name: str, path: Path, request: pytest.FixtureRequest) -> SearchBackend:
    """A new, empty backend called `name`, storing its files under `path`."""
    if name == "whoosh":
        from search.whoosh_backend import WhooshBackend

        return WhooshBackend(path / "index", procs=1)
    if name in ("postgresql", "postgresql-stored"):
        # A new database from the `pg_server_url` server, migrated, dropped afterwards.
        from tests.test_search_pg import make_pg_backend

        return make_pg_backend(request, storing=name == "postgresql-stored")
    raise ValueError(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    made = make_backend(request.param, tmp_path, request)
    yield made
    made.close()


T0 = datetime(2024, 1, 1, tzinfo=UTC)


def doc(id: str, **values: object) -> SearchDocument:
    values.setdefault("name", id)
    values.setdefault("organization", "dept-x")
    values.setdefault("metadata_created", T0)
    values.setdefault("metadata_modified", T0)
    return SearchDocument(id=id, **values)


def ids(backend: SearchBackend, q: str = "", **query: object) -> list[str]:
    return backend.search(SearchQuery(q=q, rows=100, **query)).ids


# Indexing -----------------------------------------------------------------------------------


def test_index_count_and_update_by_id(backend: SearchBackend) -> None:
    backend.index([doc("a", title_th="งบประมาณ"), doc("b", title_th="ถนน")])
    assert backend.count() == 2
    backend.index([doc("a", title_th="ขยะมูลฝอย")])
    assert backend.count() == 2
    assert ids(backend, "ขยะ") == ["a"]
    assert ids(backend, "งบประมาณ") == []


def test_delete_and_clear(backend: SearchBackend) -> None:
    backend.index([doc("a", title_th="ถนน"), doc("b", title_th="ถนน"), doc("c", title_th="ถนน")])
    backend.delete(["b", "missing"])
    assert sorted(ids(backend, "ถนน")) == ["a", "c"]
    backend.clear()
    assert backend.count() == 0
    assert ids(backend) == []


def test_all_ids_with_modified(backend: SearchBackend) -> None:
    later = T0 + timedelta(days=3)
    backend.index([doc("a"), doc("b", metadata_modified=later), doc("c", state="draft")])
    backend.delete(["c"])
    assert backend.all_ids_with_modified() == {"a": T0, "b": later}


def test_modified_times_round_trip_naive_and_aware(backend: SearchBackend) -> None:
    bangkok = timezone(timedelta(hours=7))
    docs = [
        doc("naive", metadata_modified=datetime(2024, 5, 1, 12, 30, 15, 123456)),
        doc("aware", metadata_modified=datetime(2024, 5, 1, 12, 30, tzinfo=bangkok)),
        doc("none", metadata_modified=None),
    ]
    expected = {d.id: d.metadata_modified for d in docs}
    backend.rebuild(docs)
    assert backend.all_ids_with_modified() == expected
    backend.index([doc("later", metadata_modified=datetime(2025, 1, 1))])
    assert backend.all_ids_with_modified() == {**expected, "later": datetime(2025, 1, 1)}


# Queries ------------------------------------------------------------------------------------


def test_empty_query_lists_everything(backend: SearchBackend) -> None:
    backend.index([doc(str(i), title_th=f"ชุดข้อมูล {i}") for i in range(5)])
    result = backend.search(SearchQuery(q="  "))
    assert result.count == 5
    assert sorted(result.ids) == ["0", "1", "2", "3", "4"]


def test_words_are_anded_unless_or(backend: SearchBackend) -> None:
    backend.index(
        [
            doc("road", title_th="ถนน ขอนแก่น"),
            doc("waste", title_th="ขยะ ขอนแก่น"),
            doc("other", title_th="ถนน เชียงราย"),
        ]
    )
    assert ids(backend, "ถนน ขอนแก่น") == ["road"]
    assert sorted(ids(backend, "ถนน OR ขยะ")) == ["other", "road", "waste"]
    assert sorted(ids(backend, "ขอนแก่น ถนน OR ขยะ")) == ["road", "waste"]


def test_quoted_phrase_needs_adjacent_words_in_order(backend: SearchBackend) -> None:
    backend.index(
        [
            doc("phrase", title_en="annual budget report"),
            doc("apart", title_en="budget of the annual fair"),
        ]
    )
    assert sorted(ids(backend, "annual budget")) == ["apart", "phrase"]
    assert ids(backend, '"annual budget"') == ["phrase"]


@pytest.mark.parametrize(
    "q",
    ['"unclosed', "(ถนน", "title:", "***", "AND OR", "ถนน)", "a:b:c", "\\", "“งบ", "OR ถนน OR"],
)
def test_malformed_query_never_raises(backend: SearchBackend, q: str) -> None:
    backend.index([doc("a", title_th="ถนน", title_en="title budget")])
    result = backend.search(SearchQuery(q=q))
    assert result.count >= 0


def test_unknown_filter_facet_or_sort_is_an_error(backend: SearchBackend) -> None:
    with pytest.raises(SearchError):
        backend.search(SearchQuery(filters={"colour": ["red"]}))
    with pytest.raises(SearchError):
        backend.search(SearchQuery(facet_fields=("colour",)))
    with pytest.raises(SearchError):
        backend.search(SearchQuery(sort="random"))


def test_thai_analysis_applies_to_documents_and_queries(backend: SearchBackend) -> None:
    backend.index(
        [
            doc("decomposed", title_th="สาํนักงานเขต"),  # SARA AM typed as two characters
            doc("pao", title_th="ข้อบัญญัติ อบจ.เชียงใหม่"),
            doc("year", title_th="งบประมาณ ปี ๒๕๖๗"),
            doc("compound", title_th="โครงการก่อสร้างถนนคอนกรีตเสริมเหล็ก"),
        ]
    )
    assert ids(backend, "สำนักงาน") == ["decomposed"]
    assert ids(backend, "องค์การบริหารส่วนจังหวัด") == ["pao"]
    assert ids(backend, "อบจ") == ["pao"]
    for year in ("2567", "๒๕๖๗", "2024"):
        assert ids(backend, year) == ["year"], year
    assert ids(backend, "คอนกรีต") == ["compound"]


# Filters, facets, sorting, paging -----------------------------------------------------------


def _catalogue() -> list[SearchDocument]:
    return [
        doc("a", title_th="กข", tags=("ถนน", "งบประมาณ"), res_formats=("CSV",), fiscal_years=(2566,), license_id="cc-by", data_type="ข้อมูลสถิติ", high_value=True, groups=("economy",), update_frequency="ปี", data_category="ข้อมูลสาธารณะ"),
        doc("b", title_th="ขค", tags=("ถนน",), res_formats=("CSV", "PDF"), fiscal_years=(2567,), license_id="cc-by", organization="sao-nongbua"),
        doc("c", title_th="คง", tags=("ขยะ",), res_formats=("PDF",), fiscal_years=(2567,), license_id="odc", organization="sao-nongbua", groups=("environment",)),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"organization": ["sao-nongbua"]}, ["b", "c"]),
        ({"tags": ["ถนน"]}, ["a", "b"]),
        ({"tags": ["ขยะ", "งบประมาณ"]}, ["a", "c"]),
        ({"res_format": ["PDF"]}, ["b", "c"]),
        ({"groups": ["economy"]}, ["a"]),
        ({"license_id": ["odc"]}, ["c"]),
        ({"fiscal_year": ["2567"]}, ["b", "c"]),
        ({"fiscal_year": ["๒๕๖๖"]}, ["a"]),
        ({"fiscal_year": ["2024"]}, ["b", "c"]),
        ({"data_type": ["ข้อมูลสถิติ"]}, ["a"]),
        ({"data_category": ["ข้อมูลสาธารณะ"]}, ["a"]),
        ({"update_frequency": ["ปี"]}, ["a"]),
        ({"high_value": ["true"]}, ["a"]),
        ({"high_value": ["false"]}, ["b", "c"]),
        ({"tags": ["ถนน"], "res_format": ["PDF"]}, ["b"]),
        ({"tags": ["nothing"]}, []),
    ],
)
def test_filters(backend: SearchBackend, filters: dict, expected: list[str]) -> None:
    backend.index(_catalogue())
    assert sorted(ids(backend, filters=filters)) == expected


def test_facet_counts_follow_query_and_filters(backend: SearchBackend) -> None:
    backend.index(_catalogue())
    facets = ("tags", "res_format", "fiscal_year", "organization", "high_value")
    result = backend.search(SearchQuery(facet_fields=facets))
    assert result.facets["tags"] == {"ถนน": 2, "งบประมาณ": 1, "ขยะ": 1}
    assert result.facets["res_format"] == {"CSV": 2, "PDF": 2}
    assert result.facets["fiscal_year"] == {"2567": 2, "2566": 1}
    assert result.facets["organization"] == {"sao-nongbua": 2, "dept-x": 1}
    assert result.facets["high_value"] == {"false": 2, "true": 1}
    filtered = backend.search(SearchQuery(filters={"tags": ["ถนน"]}, facet_fields=facets))
    assert filtered.facets["res_format"] == {"CSV": 2, "PDF": 1}


@pytest.mark.parametrize("matching", [1, 5, 17, 20])
def test_facet_counts_of_text_queries(backend: SearchBackend, matching: int) -> None:
    # Few, some, most and all documents matching exercise the different counting strategies.
    docs = [
        doc(
            f"d{i}",
            title_th="ถนน" if i < matching else "ขยะ",
            tags=(f"t{i % 3}", "ทั้งหมด"),
            res_formats=("CSV",) if i % 2 else ("PDF",),
            private=i == 0,
        )
        for i in range(20)
    ]
    backend.index(docs)
    result = backend.search(SearchQuery(q="ถนน", facet_fields=("tags", "res_format")))
    visible = [d for d in docs if d.title_th == "ถนน" and not d.private]
    expected_tags: dict[str, int] = {}
    expected_formats: dict[str, int] = {}
    for d in visible:
        for tag in d.tags:
            expected_tags[tag] = expected_tags.get(tag, 0) + 1
        expected_formats[d.res_formats[0]] = expected_formats.get(d.res_formats[0], 0) + 1
    assert result.count == len(visible)
    assert result.facets["tags"] == expected_tags
    assert result.facets["res_format"] == expected_formats


def test_sorting(backend: SearchBackend) -> None:
    backend.index(
        [
            doc("old", title_th="เงินเดือน", title_en="Salaries", popularity=5, metadata_created=T0, metadata_modified=T0 + timedelta(days=9)),
            doc("new", title_th="กฎหมาย", title_en="Laws", popularity=1, metadata_created=T0 + timedelta(days=5), metadata_modified=T0 + timedelta(days=6)),
            doc("mid", title_th="ขยะ", title_en="waste", popularity=9, metadata_created=T0 + timedelta(days=2), metadata_modified=T0 + timedelta(days=1)),
        ]
    )  # fmt: skip
    assert ids(backend, sort="newest") == ["new", "mid", "old"]
    assert ids(backend, sort="modified") == ["old", "new", "mid"]
    assert ids(backend, sort="popularity") == ["mid", "old", "new"]
    # Thai dictionary order ignores the leading vowel: เงินเดือน sorts under ง, after ข.
    assert ids(backend, sort="title_th") == ["new", "mid", "old"]
    assert ids(backend, sort="title_en") == ["new", "old", "mid"]


def test_relevance_prefers_title_matches(backend: SearchBackend) -> None:
    backend.index(
        [
            doc("notes", title_th="รายงานประจำปี", notes_th="มีข้อมูลผู้สูงอายุบางส่วน"),
            doc("title", title_th="ผู้สูงอายุที่ได้รับเบี้ยยังชีพ"),
        ]
    )
    result = backend.search(SearchQuery(q="ผู้สูงอายุ"))
    assert result.ids == ["title", "notes"]
    assert result.hits[0].score > result.hits[1].score > 0


def test_paging(backend: SearchBackend) -> None:
    backend.index([doc(f"d{i}", metadata_created=T0 + timedelta(days=i)) for i in range(7)])
    first = backend.search(SearchQuery(sort="newest", start=0, rows=3))
    second = backend.search(SearchQuery(sort="newest", start=3, rows=3))
    last = backend.search(SearchQuery(sort="newest", start=6, rows=3))
    assert first.ids == ["d6", "d5", "d4"]
    assert second.ids == ["d3", "d2", "d1"]
    assert last.ids == ["d0"]
    assert first.count == second.count == last.count == 7


# The modified range and the sorts CKAN harvesters page with ------------------------------------

BANGKOK = timezone(timedelta(hours=7))


def _changes() -> list[SearchDocument]:
    """Ten datasets changed a day apart (m0 oldest), two of them ("m4", "m4b") at the same
    moment; titles for text queries, tags for facets, one private and one without a date."""
    docs = [
        doc(
            f"m{i}",
            title_th="ถนน" if i % 2 else "ขยะ",
            tags=("คู่",) if i % 2 == 0 else ("คี่",),
            metadata_modified=T0 + timedelta(days=i),
        )
        for i in range(10)
    ]
    return [
        *docs,
        doc("m4b", title_th="ขยะ", tags=("คู่",), metadata_modified=T0 + timedelta(days=4)),
        doc("secret", title_th="ถนน", organization="org-p", private=True, metadata_modified=T0),
        doc("undated", title_th="ขยะ", metadata_modified=None),
    ]


def _oldest_first(backend: SearchBackend, q: str = "", **query: object) -> list[str]:
    return ids(backend, q, sort="modified_asc", **query)


def test_modified_range_keeps_datasets_changed_within_both_bounds(backend: SearchBackend) -> None:
    backend.index(_changes())
    day = T0 + timedelta(days=3)
    # Bounds are inclusive, to the microsecond.
    assert _oldest_first(backend, modified_since=day) == ["m3", "m4", "m4b", *(f"m{i}" for i in range(5, 10))]  # fmt: skip
    assert _oldest_first(backend, modified_until=day) == ["m0", "m1", "m2", "m3"]
    assert _oldest_first(backend, modified_since=day, modified_until=day + timedelta(days=2)) == ["m3", "m4", "m4b", "m5"]  # fmt: skip
    tiny = timedelta(microseconds=1)
    assert _oldest_first(backend, modified_since=day + tiny, modified_until=day + timedelta(days=2) - tiny) == ["m4", "m4b"]  # fmt: skip
    assert _oldest_first(backend, modified_since=day, modified_until=day - tiny) == []
    # A dataset without a date is in no range, however wide.
    assert "undated" in ids(backend)
    assert "undated" not in ids(backend, modified_until=datetime(9999, 1, 1, tzinfo=UTC))
    assert "undated" not in ids(backend, modified_since=datetime(1, 1, 1, tzinfo=UTC))


def test_modified_range_bounds_naive_as_utc_and_aware_in_any_zone(backend: SearchBackend) -> None:
    backend.index(
        [
            *_changes(),
            # Stored naive: UTC, so 2024-01-03 23:30 UTC, before m3 (2024-01-04 00:00 UTC).
            doc("naive", metadata_modified=datetime(2024, 1, 3, 23, 30)),
            # 2024-01-04 06:00 in Bangkok is 2024-01-03 23:00 UTC.
            doc("bangkok", metadata_modified=datetime(2024, 1, 4, 6, 0, tzinfo=BANGKOK)),
        ]
    )
    since_utc = _oldest_first(backend, modified_since=T0 + timedelta(days=3))
    assert since_utc[:3] == ["m3", "m4", "m4b"]
    naive = datetime(2024, 1, 4)  # the same instant as T0 + 3 days, written naive
    aware = datetime(2024, 1, 4, 7, 0, tzinfo=BANGKOK)  # and in Bangkok time
    assert _oldest_first(backend, modified_since=naive) == since_utc
    assert _oldest_first(backend, modified_since=aware) == since_utc
    # From 23:00 UTC on the 3rd: the Bangkok dataset (23:00 exactly), then the naive one.
    evening = datetime(2024, 1, 3, 23, 0)
    assert _oldest_first(backend, modified_since=evening, modified_until=naive) == ["bangkok", "naive", "m3"]  # fmt: skip
    assert _oldest_first(backend, modified_since=evening.replace(tzinfo=UTC), modified_until=aware) == ["bangkok", "naive", "m3"]  # fmt: skip
    assert _oldest_first(backend, modified_since=datetime(2024, 1, 4, 6, 0, 1, tzinfo=BANGKOK), modified_until=datetime(2024, 1, 3, 23, 30)) == ["naive"]  # fmt: skip


def test_modified_range_combines_with_text_filters_and_visibility(backend: SearchBackend) -> None:
    backend.index(_changes())
    since = {"modified_since": T0 + timedelta(days=4)}
    assert _oldest_first(backend, "ถนน", **since) == ["m5", "m7", "m9"]
    assert _oldest_first(backend, "ขยะ", **since) == ["m4", "m4b", "m6", "m8"]
    assert _oldest_first(backend, filters={"tags": ["คู่"]}, **since) == ["m4", "m4b", "m6", "m8"]  # fmt: skip
    assert _oldest_first(backend, "ถนน", modified_until=T0) == []
    assert _oldest_first(backend, "ถนน", modified_until=T0, allowed_orgs={"org-p"}) == ["secret"]  # fmt: skip
    assert _oldest_first(backend, modified_until=T0, include_private=True) == ["m0", "secret"]
    # With relevance (the default sort) the range still decides which datasets come back.
    assert sorted(ids(backend, "ถนน", modified_until=T0 + timedelta(days=3))) == ["m1", "m3"]


@pytest.mark.parametrize("q", ["", "ขยะ OR ถนน"], ids=["no-text", "text"])
def test_counts_and_facets_follow_the_modified_range(backend: SearchBackend, q: str) -> None:
    backend.index(_changes())
    facets = ("tags", "organization")
    everything = backend.search(SearchQuery(q=q, facet_fields=facets))
    assert everything.count == 12  # all but the private one
    assert everything.facets["tags"] == {"คู่": 6, "คี่": 5}
    ranged = backend.search(
        SearchQuery(
            q=q,
            facet_fields=facets,
            modified_since=T0 + timedelta(days=2),
            modified_until=datetime(2024, 1, 6),  # naive: T0 + 5 days
        )
    )
    assert ranged.count == 5  # m2, m3, m4, m4b, m5
    assert ranged.facets == {"tags": {"คู่": 3, "คี่": 2}, "organization": {"dept-x": 5}}
    member = backend.search(
        SearchQuery(q=q, facet_fields=facets, modified_until=T0, allowed_orgs={"org-p"})
    )
    assert member.count == 2  # m0 and the member's private one
    assert member.facets["organization"] == {"dept-x": 1, "org-p": 1}
    # And back without a range: nothing of the ranged counts was kept as the general ones.
    again = backend.search(SearchQuery(q=q, facet_fields=facets))
    assert (again.count, again.facets) == (everything.count, everything.facets)


@pytest.mark.parametrize("q", ["", "ขยะ OR ถนน"], ids=["no-text", "text"])
def test_paging_a_modified_range_oldest_first_is_stable(backend: SearchBackend, q: str) -> None:
    backend.index(_changes())
    since = T0 + timedelta(days=1)
    pages = [
        backend.search(SearchQuery(q=q, sort="modified_asc", modified_since=since, start=s, rows=3))
        for s in (0, 3, 6, 9)
    ]
    assert [page.ids for page in pages] == [
        ["m1", "m2", "m3"],
        ["m4", "m4b", "m5"],  # the tie at day 4 goes to the smaller id, page after page
        ["m6", "m7", "m8"],
        ["m9"],
    ]
    assert {page.count for page in pages} == {10}


def test_modified_asc_is_oldest_first_with_ties_by_id(backend: SearchBackend) -> None:
    backend.index(
        [
            doc("b", metadata_modified=T0 + timedelta(days=1)),
            doc("a", metadata_modified=T0 + timedelta(days=1)),
            doc("c", metadata_modified=T0),
            doc("z", metadata_modified=None),  # a missing date counts as the oldest
            doc("d", metadata_modified=datetime(2024, 1, 1, 12)),  # naive: UTC
        ]
    )
    assert ids(backend, sort="modified_asc") == ["z", "c", "d", "a", "b"]
    # The reverse of "modified", except that ties still go to the smaller id.
    assert ids(backend, sort="modified") == ["a", "b", "d", "c", "z"]


def test_name_sort_is_code_point_order_with_ties_by_id(backend: SearchBackend) -> None:
    names = {
        "1": "road-2567",
        "2": "Road-2567",  # upper case before lower case
        "3": "road_2567",  # "-" (U+002D) < "_" (U+005F) < letters
        "4": "road2567",
        "5": "ถนน",  # Thai after every ASCII character
        "6": "road-2567",  # the same name: the smaller id first
        "7": "budget",
    }
    backend.index(
        [
            doc(key, name=name, title_en="Title", metadata_modified=T0 + timedelta(days=int(key)))
            for key, name in names.items()
        ]
    )
    expected = ["2", "7", "1", "6", "4", "3", "5"]
    assert ids(backend, sort="name") == expected
    pages = [backend.search(SearchQuery(sort="name", start=s, rows=2)).ids for s in (0, 2, 4, 6)]
    assert pages == [expected[0:2], expected[2:4], expected[4:6], expected[6:]]
    # With text and a range, the same order over what matches.
    assert ids(backend, "title", sort="name", modified_since=T0 + timedelta(days=3)) == ["7", "6", "4", "3", "5"]  # fmt: skip
    # A renamed dataset moves.
    backend.index([doc("7", name="zebra", metadata_modified=T0 + timedelta(days=7))])
    assert ids(backend, sort="name")[-2:] == ["7", "5"]


def test_highlights_are_escaped_and_marked(backend: SearchBackend) -> None:
    backend.index([doc("a", title_en="Budget <script>", notes_en="The budget & spending of 2024")])
    result = backend.search(SearchQuery(q="budget"))
    snippet = result.highlights["a"]
    assert "<mark>budget</mark>" in snippet
    assert "&amp;" in snippet
    assert "<script>" not in snippet


def test_did_you_mean(backend: SearchBackend) -> None:
    backend.index([doc("a", title_en="Population by province", title_th="จำนวนประชากร")])
    result = backend.search(SearchQuery(q="populaton"))
    assert result.suggestion == "population"
    assert result.corrected
    assert result.ids == ["a"]
    nothing = backend.search(SearchQuery(q="zzzzqqq"))
    assert nothing.count == 0
    assert nothing.suggestion is None


# Visibility ---------------------------------------------------------------------------------


def _visibility_docs() -> list[SearchDocument]:
    return [
        doc("public", title_th="ถนน"),
        doc("private-a", title_th="ถนน", organization="org-a", private=True),
        doc("draft-a", title_th="ถนน", organization="org-a", state="draft"),
        doc("withdrawn-a", title_th="ถนน", organization="org-a", state="withdrawn"),
        doc("private-b", title_th="ถนน", organization="org-b", private=True),
        doc("draft-b", title_th="ถนน", organization="org-b", state="draft"),
    ]


@pytest.mark.parametrize(
    ("rights", "expected"),
    [
        ({}, ["public"]),
        ({"allowed_orgs": {"org-a"}}, ["private-a", "public"]),
        ({"allowed_orgs": {"org-a"}, "include_drafts": True}, ["draft-a", "private-a", "public", "withdrawn-a"]),
        ({"include_drafts": True}, ["public"]),
        ({"include_private": True}, ["private-a", "private-b", "public"]),
        ({"include_private": True, "include_drafts": True}, ["draft-a", "draft-b", "private-a", "private-b", "public", "withdrawn-a"]),
    ],
)  # fmt: skip
def test_visibility(backend: SearchBackend, rights: dict, expected: list[str]) -> None:
    backend.index(_visibility_docs())
    assert sorted(ids(backend, "ถนน", **rights)) == expected
    assert sorted(ids(backend, "", **rights)) == expected


def test_rebuild_replaces_the_whole_index(backend: SearchBackend) -> None:
    backend.index([doc("gone", title_th="ถนน")])
    assert backend.rebuild([doc("new1", title_th="ถนน"), doc("new2", title_th="ขยะ")]) == 2
    assert sorted(ids(backend)) == ["new1", "new2"]
    assert ids(backend, "ถนน") == ["new1"]


# Whoosh only ----------------------------------------------------------------------------------


@pytest.fixture
def whoosh_path(tmp_path: Path) -> Path:
    return tmp_path / "index"


def _whoosh(path: Path) -> SearchBackend:
    from search.whoosh_backend import WhooshBackend

    return WhooshBackend(path, procs=1)


def another_user(backend: SearchBackend, tmp_path: Path) -> SearchBackend:
    """A second backend on the same index: another process of the same deployment."""
    if backend.name == "whoosh":
        return _whoosh(tmp_path / "index")
    from catalog import db
    from search.pg_backend import PostgresBackend

    url = backend.engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    return PostgresBackend(db.make_engine(url))


def test_rebuild_never_shows_an_empty_index_and_keeps_concurrent_writes(
    backend: SearchBackend, tmp_path: Path
) -> None:
    backend.index([doc(f"old{i}", title_th="ถนน") for i in range(3)])
    other = another_user(backend, tmp_path)
    seen: list[int] = []

    def documents() -> Iterator[SearchDocument]:
        for i in range(3):
            seen.append(other.search(SearchQuery(q="ถนน")).count)
            if i == 1:
                other.index([doc("written-meanwhile", title_th="ถนน")])
                other.delete(["new0"])
            yield doc(f"new{i}", title_th="ถนน")

    assert backend.rebuild(documents()) == 3
    assert seen == [3, 3, 4]
    assert sorted(ids(other, "ถนน")) == ["new1", "new2", "written-meanwhile"]
    assert sorted(ids(backend, "ถนน")) == ["new1", "new2", "written-meanwhile"]
    assert other.count() == 3
    other.close()


def test_whoosh_bulk_build_keeps_doc_values_beside_the_segment(whoosh_path: Path) -> None:
    backend = _whoosh(whoosh_path)
    backend.rebuild([doc(f"d{i}", title_th="ถนน", tags=("ถนน",)) for i in range(5)])
    assert list(whoosh_path.glob("gen-*/*.dvs"))
    fresh = _whoosh(whoosh_path)  # loads the doc values from the file, not the documents
    result = fresh.search(SearchQuery(q="ถนน", facet_fields=("tags",)))
    assert result.count == 5
    assert result.facets["tags"] == {"ถนน": 5}


def test_whoosh_doc_values_written_before_the_name_still_load() -> None:
    from search.whoosh_backend import document_fields
    from search.whoosh_docvalues import DV_FIELDS, doc_values_table

    # An index built before "name" joined the doc values stored one value fewer per document.
    old = document_fields(doc("a", name="road", title_en="Roads"))["dv"][: len(DV_FIELDS) - 1]
    new = document_fields(doc("b", name="road", title_en="Roads"))["dv"]
    table = doc_values_table(["a", "b"], [old, new])
    assert table["name"].to_pylist() == ["", "road"]  # sorts first until the index is rebuilt
    assert table["title_en_key"].to_pylist() == ["roads", "roads"]


def _write_many(path: str, prefix: str, n: int) -> None:
    backend = _whoosh(Path(path))
    for i in range(n):
        backend.index([doc(f"{prefix}{i}", title_th="ถนน")])
    backend.close()


def test_whoosh_several_processes_can_write_at_once(whoosh_path: Path) -> None:
    _whoosh(whoosh_path).close()
    context = multiprocessing.get_context("fork")
    procs = [
        context.Process(target=_write_many, args=(str(whoosh_path), prefix, 8))
        for prefix in ("x", "y", "z")
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    reader = _whoosh(whoosh_path)
    assert reader.count() == 24
    assert len(ids(reader, "ถนน")) == 24


def test_whoosh_rebuild_with_worker_processes(whoosh_path: Path) -> None:
    from search.whoosh_backend import WhooshBackend

    backend = WhooshBackend(whoosh_path, procs=2)
    docs = [doc(f"d{i}", title_th="ถนน" if i % 2 else "ขยะ") for i in range(2500)]
    assert backend.rebuild(docs) == 2500
    assert backend.search(SearchQuery(q="ถนน")).count == 1250
    assert backend.count() == 2500
