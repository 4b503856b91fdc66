"""Facet value codes and facet counting for the PostgreSQL search backend (search/pg_backend.py).

Each facet value has an integer code (`search_index.facet_value` id * 16 + the facet's number);
each set of values a document has for a facet of many values (tags, formats, groups, fiscal
years) has an id (`search_index.facet_set`, migration 0005). A document row holds one integer
key per facet (`KEY_COLUMNS`): its value's code, or its set's id. Counting facets is then one
grouping pass over integers (`facet_keys_sql`); the few thousand (set, count) results are
expanded into value counts here. Codes and sets never change once assigned, so every process
keeps them in memory.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from search.documents import SearchQuery
from search.pg_documents import (
    DOCUMENT,
    FACET_NUMBERS,
    FILTERS,
    beyond_public,
    facet_keys_sql,
    unmatched,
    where_clause,
)

#: Facet numbers of the facets whose key is a set id.
SET_FACETS = frozenset(FACET_NUMBERS[name] for name, (_, kind) in FILTERS.items() if kind == "many")


class FacetCodes:
    """The codes of facet values and the ids of value sets known to this process."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], int] = {}
        self.values: dict[int, tuple[str, str]] = {}
        self.sets: dict[tuple[int, tuple[int, ...]], int] = {}
        self.members: dict[int, tuple[int, ...]] = {}

    def assign(self, cur: psycopg.Cursor, pairs: Iterable[tuple[str, str]]) -> None:
        """Make sure every (facet, value) of `pairs` has a code (assigning new ones)."""
        missing = sorted(set(pairs) - self.codes.keys())
        if not missing:
            return
        arrays = ([f for f, _ in missing], [v for _, v in missing])
        cur.execute(
            "INSERT INTO search_index.facet_value (facet, value) SELECT * FROM "
            "unnest(%s::text[], %s::text[]) ORDER BY 1, 2 ON CONFLICT DO NOTHING",
            arrays,
        )
        cur.execute(
            "SELECT v.id, v.facet, v.value FROM search_index.facet_value AS v "
            "JOIN unnest(%s::text[], %s::text[]) AS m(facet, value) "
            "ON v.facet = m.facet AND v.value = m.value",
            arrays,
        )
        self.learn(cur.fetchall())

    def learn(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Remember (id, facet, value) rows of search_index.facet_value."""
        for number, facet, value in rows:
            code = number * 16 + FACET_NUMBERS[facet]
            self.codes[(facet, value)] = code
            self.values[code] = (facet, value)

    def assign_sets(self, cur: psycopg.Cursor, sets: Iterable[tuple[int, tuple[int, ...]]]) -> None:
        """Make sure every (facet number, sorted codes) of `sets` has an id."""
        missing = sorted(set(sets) - self.sets.keys())
        if not missing:
            return
        # Arrays of unequal length cannot form one 2-D array: pass the codes as text.
        numbers = [number for number, _ in missing]
        texts = ["{" + ",".join(map(str, codes)) + "}" for _, codes in missing]
        cur.execute(
            "INSERT INTO search_index.facet_set (number, codes) SELECT n, c::int[] FROM "
            "unnest(%s::int[], %s::text[]) AS m(n, c) ORDER BY 1, 2 ON CONFLICT DO NOTHING",
            (numbers, texts),
        )
        cur.execute(
            "SELECT s.id, s.number, s.codes FROM search_index.facet_set AS s "
            "JOIN unnest(%s::int[], %s::text[]) AS m(n, c) "
            "ON s.number = m.n AND s.codes = m.c::int[]",
            (numbers, texts),
        )
        self.learn_sets(cur.fetchall())

    def learn_sets(self, rows: Iterable[tuple[int, int, list[int]]]) -> None:
        """Remember (id, number, codes) rows of search_index.facet_set."""
        for set_id, number, codes in rows:
            self.sets[(number, tuple(codes))] = set_id
            self.members[set_id] = tuple(codes)

    def expand(
        self, cur: psycopg.Cursor, rows: Iterable[tuple[int, int, int]], names: list[str]
    ) -> dict[int, int]:
        """Value code -> count (0 -> documents) from the (grouping, key, count) rows of
        `facet_keys_sql` over the facets `names`."""
        rows = list(rows)
        width = len(names)
        counted: dict[int, int] = {}
        keyed: list[tuple[int, int, int]] = []  # (facet number, key, count)
        for grouping, key, n in rows:
            if not names or grouping == (1 << width) - 1:
                counted[0] = counted.get(0, 0) + n
                continue
            index = next(i for i in range(width) if not grouping >> (width - 1 - i) & 1)
            keyed.append((FACET_NUMBERS[names[index]], key, n))
        unknown = [key for number, key, _ in keyed if number in SET_FACETS]
        unknown = [key for key in unknown if key not in self.members]
        if unknown:  # sets another process added
            cur.execute(
                "SELECT id, number, codes FROM search_index.facet_set WHERE id = ANY(%s::int[])",
                (unknown,),
            )
            self.learn_sets(cur.fetchall())
        for number, key, n in keyed:
            for code in self.members[key] if number in SET_FACETS else (key,):
                counted[code] = counted.get(code, 0) + n
        return counted

    def label(
        self, cur: psycopg.Cursor, counted: dict[int, int], names: list[str], limit: int
    ) -> dict[str, dict[str, int]]:
        """The facets of `names` (value -> count, the `limit` largest) from code counts."""
        unknown = [code // 16 for code in counted if code and code not in self.values]
        if unknown:  # values another process added
            cur.execute(
                "SELECT id, facet, value FROM search_index.facet_value WHERE id = ANY(%s::int[])",
                (unknown,),
            )
            self.learn(cur.fetchall())
        facets: dict[str, dict[str, int]] = {name: {} for name in names}
        for code, n in counted.items():
            if code and n > 0:
                facet, value = self.values[code]
                if facet in facets:
                    facets[facet][value] = n
        return {
            name: dict(sorted(found.items(), key=lambda item: (-item[1], item[0]))[:limit])
            for name, found in facets.items()
        }


def count_matches(
    cur: psycopg.Cursor, codes: FacetCodes, names: list[str], where: sql.Composed, params: dict
) -> dict[int, int]:
    """Value code -> count of the facets `names` over the documents satisfying `where`
    (0 -> the number of documents)."""
    source = sql.SQL("{} AS d WHERE {}").format(DOCUMENT, where)
    cur.execute(facet_keys_sql(source, names), params)
    return codes.expand(cur, cur.fetchall(), names)


def public_counts(cur: psycopg.Cursor, names: list[str]) -> dict[int, int]:
    """The counts of the public documents that the triggers keep (search_index.facet_count)."""
    numbers = [0, *(FACET_NUMBERS[name] for name in names)]
    cur.execute(
        "SELECT code, n FROM search_index.facet_count WHERE n > 0 AND (code & 15) = ANY(%s::int[])",
        (numbers,),
    )
    return dict(cur.fetchall())


def count_by_complement(
    cur: psycopg.Cursor,
    codes: FacetCodes,
    query: SearchQuery,
    names: list[str],
    where: sql.Composed,
    params: dict,
    share: float,
) -> dict[int, int] | None:
    """Counts (code -> n) of a text query that matches most of what its user may see, as
    the counts of all visible documents minus those of the visible documents that do not
    match; None when the planner expects fewer matches than `share` of the public documents.
    Counting costs per document counted, so this counts the few instead of the many. Exact:
    the whole-set counts come from the trigger-kept public counts plus the user's own
    non-public documents, read in the same snapshot."""
    cur.execute(
        sql.SQL("EXPLAIN (FORMAT JSON) SELECT FROM {} AS d WHERE {}").format(DOCUMENT, where),
        params,
    )
    expected = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
    cur.execute("SELECT n FROM search_index.facet_count WHERE code = 0")
    public = cur.fetchone()
    if public is None or expected < share * public[0]:
        return None
    counts = public_counts(cur, names)
    if query.allowed_orgs:
        cur.execute(facet_keys_sql(beyond_public(query), names), params)
        for code, n in codes.expand(cur, cur.fetchall(), names).items():
            counts[code] = counts.get(code, 0) + n
    visible, _ = where_clause(query, None)
    cur.execute(facet_keys_sql(unmatched(visible), names), params)
    for code, n in codes.expand(cur, cur.fetchall(), names).items():
        counts[code] = counts.get(code, 0) - n
    return {code: n for code, n in counts.items() if n > 0 or code == 0}
