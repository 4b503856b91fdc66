"""Search documents as PostgreSQL rows and queries as SQL conditions, for search/pg_backend.py.

Pure functions, no database: what a `SearchDocument` becomes in `search_index.document` (see
migration 0004), what a `SearchQuery` asks of it, and the statements that write rows. The text
fields are the Whoosh backend's (`document_fields`) analysed by search/thai.py, with the same
positions: alternates (compound parts, synonym keys, BE/CE years) at their token's position and
a gap between values, so a phrase never spans two of them. Title terms are indexed a second
time with TITLE_PREFIX, so the GIN index alone finds title matches.

The tsvector and tsquery are literals rather than to_tsvector('simple', ...): PostgreSQL's parser
would cut Thai words at vowel marks and drop synonym keys (≡...). Callers bind them as parameters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from psycopg import sql

from search.documents import SearchDocument, SearchQuery
from search.query import All, Node, Phrase, Term
from search.thai import SYNONYM_PREFIX, analyze, index_terms, normalise, thai_sort_key
from search.whoosh_backend import VALUE_GAP, document_fields

#: Title terms are indexed a second time with this prefix (never produced by the analyzer).
TITLE_PREFIX = "\u2020"
FIELD_WEIGHTS = (("title", "A"), ("keywords", "B"), ("body", "C"))
# PostgreSQL limits: positions 1..16383, 255 positions per lexeme, 2 kB per lexeme.
MAX_POSITION = 16383
MAX_POSITIONS = 255
MAX_LEXEME_BYTES = 2046

#: Column name -> PostgreSQL type, in table order (the types read a batch from JSON).
COLUMNS = dict(
    col.split(":")
    for col in (
        "id:text state:text private:boolean organization:text license_id:text data_type:text "
        "data_category:text update_frequency:text high_value:boolean tags:text[] groups:text[] "
        "res_formats:text[] fiscal_years:text[] metadata_created:timestamptz "
        "metadata_modified:timestamptz modified_naive:boolean popularity:bigint "
        "title_th_key:text title_en_key:text facet_codes:integer[] tsv:tsvector texts:text[] "
        "key_organization:integer key_tags:integer key_res_format:integer key_groups:integer "
        "key_license_id:integer key_fiscal_year:integer key_data_type:integer "
        "key_data_category:integer key_update_frequency:integer key_high_value:integer "
        "name:text"
    ).split()
)

#: Filter/facet name -> (column, kind): "one" value, "many" (an array) or "bool". The columns
#: are named after the SearchDocument attributes they hold.
FILTERS: dict[str, tuple[str, str]] = {
    "organization": ("organization", "one"),
    "tags": ("tags", "many"),
    "res_format": ("res_formats", "many"),
    "groups": ("groups", "many"),
    "license_id": ("license_id", "one"),
    "fiscal_year": ("fiscal_years", "many"),
    "data_type": ("data_type", "one"),
    "data_category": ("data_category", "one"),
    "update_frequency": ("update_frequency", "one"),
    "high_value": ("high_value", "bool"),
}
#: A facet value's code is its facet_value id * 16 + its facet's number; code 0 is "a document".
FACET_NUMBERS = {name: number for number, name in enumerate(FILTERS, 1)}
#: Filter/facet name -> the column holding its key: the document's value code for a facet of
#: one value, the id of its set of value codes (search_index.facet_set) for the others. Facets
#: are counted by grouping on these integers (see `facet_keys_sql`).
KEY_COLUMNS = {name: f"key_{name}" for name in FILTERS}
FACET_NAMES = {number: name for name, number in FACET_NUMBERS.items()}
#: The dataset name in a row, for the "name" sort: a COLLATE "C" column (code points) with an
#: index on (name, id), the sort's order (migration 0010); '' in rows written before the name
#: was stored, until they are written again or the index is rebuilt.
NAME_TEXT = "d.name"
DOCUMENT = sql.Identifier("search_index", "document")


@lru_cache(maxsize=16384)
def _terms(text: str) -> tuple[tuple[tuple[int, str], ...], int]:
    """(position, term) pairs of a text and its last position, cached: organisation names,
    tags and formats repeat across thousands of datasets."""
    pairs = tuple(index_terms(text))
    return pairs, max((pos for pos, _ in pairs), default=0)


@lru_cache(maxsize=16384)
def _english_words(text: str) -> frozenset[str]:
    return frozenset(
        t.surface for t in analyze(text) if t.surface.isascii() and t.surface.isalpha()
    )


@lru_cache(maxsize=262144)
def lexeme(term: str) -> str:
    """`term` quoted for a tsvector or tsquery literal (cut to PostgreSQL's length limit)."""
    if len(term) * 4 > MAX_LEXEME_BYTES:
        term = term.encode()[:MAX_LEXEME_BYTES].decode(errors="ignore")
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_text(fields: dict[str, tuple[str, ...]]) -> str:
    """The weighted tsvector literal of a document's Whoosh fields (`document_fields`)."""
    positions: dict[str, list[str]] = {}
    base = 1
    for field, weight in FIELD_WEIGHTS:
        for text in fields[field]:
            if not text:
                continue
            pairs, last = _terms(text)
            title = weight == "A"
            for pos, term in pairs:
                at = f"{min(base + pos, MAX_POSITION)}{weight}"
                found = positions.setdefault(term, [])
                if len(found) < MAX_POSITIONS:
                    found.append(at)
                if title:
                    found = positions.setdefault(TITLE_PREFIX + term, [])
                    if len(found) < MAX_POSITIONS:
                        found.append(at)
            base += last + VALUE_GAP
    return " ".join(f"{lexeme(term)}:{','.join(found)}" for term, found in positions.items())


def tsquery_text(node: Node, prefix: str = "") -> str:
    """The tsquery literal of a query tree (& AND, | OR, <-> in phrases); with `prefix`
    (TITLE_PREFIX) it matches titles only."""
    if isinstance(node, Term):
        return lexeme(prefix + node.term)
    if isinstance(node, Phrase):
        return "(" + " <-> ".join(lexeme(prefix + term) for term in node.terms) + ")"
    joiner = " & " if isinstance(node, All) else " | "
    return "(" + joiner.join(tsquery_text(child, prefix) for child in node.children) + ")"


def clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; thai_sort_key uses it as a separator that sorts first.
    return text.replace("\x00", "\x01")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()  # naive is UTC


def facet_pairs(doc: SearchDocument) -> list[tuple[str, str]]:
    """(facet, value) pairs of `doc`, as facets show them (FILTERS columns are also the
    SearchDocument attributes)."""
    pairs: list[tuple[str, str]] = []
    for name, (attr, kind) in FILTERS.items():
        value = getattr(doc, attr)
        if kind == "many":
            pairs.extend((name, clean(str(item))) for item in value)
        else:
            pairs.append((name, ("true" if value else "false") if kind == "bool" else clean(value)))
    return list(dict.fromkeys(pairs))


def value_sets(
    doc: SearchDocument, codes: dict[tuple[str, str], int]
) -> dict[int, tuple[int, ...]]:
    """Facet number -> the sorted codes of `doc`'s values, for each facet of many values."""
    found: dict[int, list[int]] = {
        FACET_NUMBERS[name]: [] for name, (_, kind) in FILTERS.items() if kind == "many"
    }
    for facet, value in facet_pairs(doc):
        number = FACET_NUMBERS[facet]
        if number in found:
            found[number].append(codes[(facet, value)])
    return {number: tuple(sorted(values)) for number, values in found.items()}


Analysis = tuple[str, list[str], set[tuple[str, str]]]


def analyse(doc: SearchDocument) -> Analysis:
    """The costly part of a row, with no database: the tsvector literal, the texts kept for
    highlighting and the spelling words of `doc`."""
    fields = document_fields(doc)
    return tsvector_text(fields), [clean(text) for text in fields["text"]], spelling_words(fields)


def document_row(
    doc: SearchDocument,
    analysis: Analysis,
    codes: dict[tuple[str, str], int],
    sets: dict[tuple[int, tuple[int, ...]], int],
) -> dict[str, object]:
    """The table row of `doc` (COLUMNS) as JSON values, given its `analysis`, the codes of its
    facet values and the ids of its sets of values ((facet number, codes) -> id)."""
    row: dict[str, object] = {"id": clean(doc.id), "state": doc.state, "private": doc.private}
    for attr, kind in FILTERS.values():
        value = getattr(doc, attr)
        if kind == "many":
            row[attr] = [clean(str(item)) for item in value]
        else:
            row[attr] = value if kind == "bool" else clean(value)
    pairs = facet_pairs(doc)
    for facet, value in pairs:
        if FILTERS[facet][1] != "many":
            row[KEY_COLUMNS[facet]] = codes[(facet, value)]
    for number, members in value_sets(doc, codes).items():
        row[KEY_COLUMNS[FACET_NAMES[number]]] = sets[(number, members)]
    modified = doc.metadata_modified
    row.update(
        metadata_created=_iso(doc.metadata_created),
        metadata_modified=_iso(modified),
        modified_naive=modified is not None and modified.tzinfo is None,
        popularity=int(doc.popularity),
        title_th_key=clean(thai_sort_key(doc.title_th or doc.title_en)),
        title_en_key=clean((doc.title_en or doc.title_th).casefold()),
        facet_codes=[0, *(codes[pair] for pair in pairs)],
        tsv=analysis[0],
        texts=analysis[1],
        name=clean(doc.name),
    )
    return row


def spelling_words(fields: dict[str, tuple]) -> set[tuple[str, str]]:
    """(kind, word) of a document's Whoosh fields for "did you mean", as in the Whoosh backend:
    English words as written ("e"), Thai terms of titles and keywords ("t")."""
    words = {("e", w) for text in fields["spell"] if text for w in _english_words(text)}
    for field in ("title", "keywords"):
        for text in fields[field]:
            for _pos, term in _terms(text)[0] if text else ():
                if not term[0].isascii() and not term.startswith(SYNONYM_PREFIX):
                    words.add(("t", term))
    return words


def filter_values(name: str, values: list[str]) -> list[str]:
    """Filter values as stored (the Whoosh backend's rules): Thai digits and CE fiscal years
    become BE years, high_value takes true/false."""
    cleaned: set[str] = set()
    for value in values:
        value = str(value).strip()
        if name == "fiscal_year":
            value = normalise(value)
            if value.isdigit():
                year = int(value)
                value = str(year + 543 if year < 2400 else year)
        elif name == "high_value":
            value = "true" if value.lower() in {"true", "1", "yes", "y"} else "false"
        cleaned.add(value)
    return sorted(cleaned)


def within(a: str, b: str, limit: int) -> bool:
    """Whether the Levenshtein distance between `a` and `b` is at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def where_clause(query: SearchQuery, tsquery: str | None) -> tuple[sql.Composed, dict]:
    """SQL condition over alias `d` (visibility, filters, modified range, text) and its
    parameters."""
    params: dict[str, object] = {}
    if query.include_private:
        clauses = [] if query.include_drafts else [sql.SQL("d.state = 'published'")]
    else:
        params["orgs"] = sorted(query.allowed_orgs)
        insider = "d.organization = ANY(%(orgs)s::text[])"
        seen = f"d.state = 'published' AND (NOT d.private OR {insider})"
        clauses = [sql.SQL(f"({seen} OR {insider})" if query.include_drafts else f"({seen})")]
    for number, (name, values) in enumerate(sorted(query.filters.items())):
        column, kind = FILTERS[name]
        cleaned: list = filter_values(name, values)
        test = {"many": "{} && {}::text[]", "one": "{} = ANY({}::text[])"}
        if kind == "bool":
            cleaned = [value == "true" for value in cleaned]
        clause = sql.SQL(test.get(kind, "{} = ANY({}::boolean[])"))
        clauses.append(clause.format(sql.Identifier("d", column), sql.Placeholder(f"f{number}")))
        params[f"f{number}"] = cleaned
    bounds = query.modified_range
    if bounds is not None:
        # Bound as aware UTC datetimes: a naive one would be read in the session's time zone.
        # A row without a date (NULL) fails either comparison, so it never matches a range.
        for key, value, test in zip(("since", "until"), bounds, (">=", "<="), strict=True):
            if value is not None:
                clauses.append(sql.SQL(f"d.metadata_modified {test} %({key})s::timestamptz"))
                params[key] = value
    if tsquery is not None:
        clauses.append(sql.SQL("d.tsv @@ %(q)s::tsquery"))
        params["q"] = tsquery
    return sql.SQL(" AND ").join(clauses or [sql.SQL("TRUE")]), params


def upsert(source: sql.Composable, table: sql.Identifier = DOCUMENT) -> sql.Composed:
    """INSERT of the rows of `source` (alias s, with its WHERE) into the document table (or
    `table`, shaped alike), in id order, replacing rows with the same id."""
    names = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    rest = list(COLUMNS)[1:]
    return sql.SQL(
        "INSERT INTO {table} AS d ({names}) SELECT {names} FROM {source} ORDER BY s.id "
        "ON CONFLICT (id) DO UPDATE SET (version, {rest}) = (EXCLUDED.version, {excluded})"
    ).format(
        table=table,
        names=names,
        source=source,
        rest=sql.SQL(", ").join(map(sql.Identifier, rest)),
        excluded=sql.SQL(", ").join(sql.Identifier("excluded", c) for c in rest),
    )


def json_rows() -> sql.Composed:
    """A batch of rows (COLUMNS) passed as one JSON parameter %(rows)s, as a table `s`."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
        for name, kind in COLUMNS.items()
    )
    return sql.SQL("jsonb_to_recordset(%(rows)s) AS s({})").format(columns)


def facet_keys_sql(source: sql.Composable, names: list[str]) -> sql.Composed:
    """(facet number, key, count) of the documents `d` of `source` (a FROM ... WHERE ...) for
    each facet of `names`, and (0, 0, count) for the documents, in one pass: one hash table
    per facet, fed with an integer per document (no array to unnest)."""
    if not names:
        return sql.SQL("SELECT 0, 0, count(*) FROM {}").format(source)
    keys = [sql.Identifier("d", KEY_COLUMNS[name]) for name in names]
    # GROUPING() tells which set a row belongs to: bit i (from the right) is 1 when keys[-1-i]
    # is not grouped in it.
    which = sql.SQL("GROUPING({})").format(sql.SQL(", ").join(keys))
    return sql.SQL(
        "SELECT {which}, COALESCE({keys}), count(*) FROM {source} GROUP BY GROUPING SETS ({sets})"
    ).format(
        which=which,
        keys=sql.SQL(", ").join([*keys, sql.SQL("0")]),
        source=source,
        sets=sql.SQL(", ").join([*(sql.SQL("({})").format(key) for key in keys), sql.SQL("()")]),
    )


def unmatched(visible: sql.Composable) -> sql.Composed:
    """FROM/WHERE of the documents `d` satisfying `visible` that do not match %(q)s.

    Testing `NOT d.tsv @@ q` would read every tsvector out of line; instead the matches come
    from the GIN index (a bitmap scan that never reads tsvectors) and are anti-joined by
    physical row address."""
    return sql.SQL(
        "{} AS d WHERE {} AND NOT EXISTS (SELECT FROM {} AS m "
        "WHERE m.ctid = d.ctid AND m.tsv @@ %(q)s::tsquery)"
    ).format(DOCUMENT, visible, DOCUMENT)


def beyond_public(query: SearchQuery) -> sql.Composed:
    """FROM/WHERE of the documents `d` visible to `query` (no filters, not include_private)
    that are not public: only documents of its allowed organisations can be."""
    visible, _ = where_clause(query, None)
    return sql.SQL(
        "{} AS d WHERE {} AND d.organization = ANY(%(orgs)s::text[]) "
        "AND NOT (d.state = 'published' AND NOT d.private)"
    ).format(DOCUMENT, visible)
