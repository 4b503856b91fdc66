"""Thai/English text analysis shared by indexing, querying and highlighting.

One function, `analyze`, turns text into `Token`s; every backend indexes and queries through it so
both sides always agree. The steps, in order:

* NFC, then abbreviation dots made optional (พ.ร.บ. -> พรบ, อบจ. -> อบจ; a dot that ends a
  Thai abbreviation becomes a word boundary), zero-width characters removed, Thai digits folded,
  a decomposed or reordered SARA AM repaired (U+0E4D U+0E32 and U+0E32 U+0E4D -> U+0E33) and a
  tone mark typed before its vowel moved after it.
* Thai runs are segmented with PyThaiNLP's newmm over its dictionary plus our `EXTRA_WORDS`.
  newmm and "mm" cost about 0.35 ms per 200 characters, "longest" 4.4 ms; "mm" glues words
  (โครงการก่อสร้าง, ขององค์การ...), so newmm it is. Segmentations are cached per run because
  agency metadata repeats the same phrases (organisation names, budget headings) constantly.
* Compounds also index their dictionary parts at the same position (จัดซื้อจัดจ้าง also
  indexes จัดซื้อ and จัดจ้าง), so a query for a part finds the compound.
* Latin words are case-folded and Porter-stemmed; small stop lists for both languages.
* Years: a 4-digit number in 2400-2700 (BE) also indexes its CE year and one in 1857-2157 (CE)
  its BE year, so 2567, ๒๕๖๗ and 2024 all find fiscal year 2567.
* Synonyms (search/synonyms.py): a member of a group also indexes the group's key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from search.synonyms import EXTRA_WORDS, SYNONYM_GROUPS

#: Prefix of the indexed key shared by all members of a synonym group.
SYNONYM_PREFIX = "\u2261"

TH_STOPWORDS = frozenset(
    "ที่ ของ และ ใน การ ความ เป็น ให้ กับ จาก โดย แห่ง ได้ มี ว่า นี้ นั้น ซึ่ง อยู่ ต่อ แก่ ตาม "
    "เพื่อ หรือ ทั้ง ไป มา จะ คือ ก็ ถึง แล้ว ด้วย อัน เรื่อง ๆ".split()
)
EN_STOPWORDS = frozenset(
    "a an the of and or in on for to by with at from is are was were be as this that it its "
    "into per not no".split()
)

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_CHAR_TABLE = str.maketrans(
    {**{chr(0x0E50 + i): str(i) for i in range(10)}, **dict.fromkeys(map(ord, _ZERO_WIDTH))}
)
_SARA_AM = re.compile(
    "\u0e4d([\u0e48-\u0e4b]?)\u0e32|([\u0e48-\u0e4b]?)\u0e32([\u0e48-\u0e4b]?)\u0e4d"
)
_TONE_BEFORE_VOWEL = re.compile("([\u0e48-\u0e4b])([\u0e31\u0e34-\u0e37\u0e38-\u0e3a\u0e47])")
# พ.ร.บ. / ก.พ. (each letter dotted) and พ.ร.บ (last dot missing). Multi-letter abbreviations
# such as อบจ. need nothing special: their dot is simply a word boundary.
_ABBREVIATION = re.compile(
    "(?:[\u0e01-\u0e2e]\\.)+[\u0e01-\u0e2e](?![\u0e01-\u0e4e])|(?:[\u0e01-\u0e2e]\\.){2,}"
)
# Thai runs may contain zero-width characters (removed later); digits are scanned separately so
# that ปี๒๕๖๗ gives the word ปี and the year 2567.
_WORD = re.compile(
    "([\u0e01-\u0e4f\u0e5a\u0e5b\u200b\u200c\u200d\u2060\ufeff\u00ad]+)"
    "|([0-9\u0e50-\u0e59]+)"
    "|([^\\W\\d_\u0e00-\u0e7f]+)"
)
_LEADING_VOWELS = "\u0e40\u0e41\u0e42\u0e43\u0e44"
_THAI_MARKS = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")


def normalise(text: str) -> str:
    """Return `text` in the form the analyzer compares: NFC, no zero-width characters, ASCII
    digits, SARA AM composed and tone marks after vowels. Abbreviation dots are kept."""
    text = unicodedata.normalize("NFC", text).translate(_CHAR_TABLE)
    if "\u0e4d" in text:
        text = _SARA_AM.sub(_compose_sara_am, text)
    return _TONE_BEFORE_VOWEL.sub(r"\2\1", text)


def _compose_sara_am(match: re.Match[str]) -> str:
    tones = "".join(g for g in match.groups() if g)
    return tones + "\u0e33"


@dataclass(slots=True)
class Token:
    """One word of analysed text.

    `term` is what is indexed (stemmed for English); `surface` the normalised word as written
    (for spelling suggestions); `start`/`end` are offsets in the NFC form of the input.
    `synonym` is the shared key of a synonym group whose member starts here and covers `span`
    tokens; `alternates` are further terms indexed at the same position (BE/CE year, compound
    parts and their synonym keys).
    """

    term: str
    surface: str
    pos: int
    start: int
    end: int
    synonym: str | None = None
    span: int = 1
    alternates: tuple[str, ...] = ()


def analyze(text: str) -> list[Token]:
    """Split `text` into tokens; see the module docstring for the steps."""
    return _analyze(text, True)


def _analyze(text: str, full: bool) -> list[Token]:
    # full=False skips compound parts and synonyms: used to analyse the synonym table itself.
    text = unicodedata.normalize("NFC", text)
    if "." in text:
        text = _ABBREVIATION.sub(_mark_abbreviation, text)
    tokens: list[Token] = []
    pos = 0
    for match in _WORD.finditer(text):
        thai, digits, latin = match.groups()
        start = match.start()
        if thai is not None:
            for word, wstart, wend, parts in _run_words(thai, full):
                tokens.append(Token(word, word, pos, start + wstart, start + wend, None, 1, parts))
                pos += 1
        elif digits is not None:
            number = digits.translate(_CHAR_TABLE)
            tokens.append(Token(number, number, pos, start, match.end(), None, 1, _years(number)))
            pos += 1
        else:
            word = latin.casefold()
            if word in EN_STOPWORDS:
                continue
            tokens.append(Token(english_stem(word), word, pos, start, match.end()))
            pos += 1
    if full and tokens:
        _mark_synonyms(tokens)
    return tokens


def index_terms(text: str) -> list[tuple[int, str]]:
    """(position, term) pairs to index for `text`: each token's term, its synonym key and its
    alternates, all at the token's position."""
    pairs: list[tuple[int, str]] = []
    for tok in analyze(text):
        pairs.append((tok.pos, tok.term))
        if tok.synonym is not None:
            pairs.append((tok.pos, tok.synonym))
        for alt in tok.alternates:
            pairs.append((tok.pos, alt))
    return pairs


def _mark_abbreviation(match: re.Match[str]) -> str:
    # Keep the text length so offsets stay valid for highlighting: inner dots become zero-width
    # spaces (removed when the run is normalised, joining the letters), a final dot a space.
    found = match.group()
    if found.endswith("."):
        return found[:-1].replace(".", "\u200b") + " "
    return found.replace(".", "\u200b")


@lru_cache(maxsize=262144)
def _run_words(run: str, full: bool) -> tuple[tuple[str, int, int, tuple[str, ...]], ...]:
    """(word, start, end, compound parts) of the indexable words of one Thai run, cached: the
    same phrases come back in title after title."""
    return tuple(
        (word, start, end, compound_parts(word) if full else ())
        for word, start, end in _thai_words(run)
        if len(word) > 1 and word not in TH_STOPWORDS
    )


def _thai_words(run: str) -> list[tuple[str, int, int]]:
    """Normalised words of one Thai run with their offsets in the run."""
    norm = run.translate(_CHAR_TABLE)
    if "\u0e4d" in norm:
        norm = _SARA_AM.sub(_compose_sara_am, norm)
    norm = _TONE_BEFORE_VOWEL.sub(r"\2\1", norm)
    words = segment(norm)
    out: list[tuple[str, int, int]] = []
    offset = 0
    if len(norm) == len(run):
        for word in words:
            out.append((word, offset, offset + len(word)))
            offset += len(word)
        return out
    # Rare: characters were removed or composed; map offsets back through the original run.
    mapping = _offset_map(run)
    last = len(mapping) - 1
    for word in words:
        end = offset + len(word)
        out.append((word, mapping[min(offset, last)], mapping[min(end - 1, last)] + 1))
        offset = end
    return out


def _offset_map(run: str) -> list[int]:
    """For each character of the normalised run, its index in the original run."""
    mapping: list[int] = []
    i = 0
    while i < len(run):
        ch = run[i]
        if ch in _ZERO_WIDTH:
            i += 1
            continue
        found = _SARA_AM.match(run, i)
        if found:
            composed = _compose_sara_am(found)
            mapping.extend([i] * len(composed))
            i = found.end()
            continue
        mapping.append(i)
        i += 1
    return mapping


@lru_cache(maxsize=1)
def _trie() -> _Words:
    from pythainlp.corpus import thai_words

    words = set(thai_words())
    words.update(EXTRA_WORDS)
    for group in SYNONYM_GROUPS:
        for member in group:
            member = normalise(member).replace(".", "")
            if " " not in member and _is_thai(member):
                words.add(member)
    return _Words(words)


class _Words:
    """The dictionary as newmm uses it (`prefixes` only), in two sets of strings: a third of
    the memory of pythainlp's node-per-character trie (about 25 MB instead of 75 MB)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w for w in words if w)
        self.stems = frozenset(w[:i] for w in self.words for i in range(1, len(w)))

    def __len__(self) -> int:
        return len(self.words)

    def prefixes(self, text: str, start: int = 0) -> list[str]:
        """The words of the dictionary that `text` has at `start`, shortest first."""
        found = []
        for end in range(start + 1, len(text) + 1):
            piece = text[start:end]
            if piece in self.words:
                found.append(piece)
            elif piece not in self.stems:
                break
        return found


def _is_thai(word: str) -> bool:
    return all("\u0e01" <= ch <= "\u0e5b" for ch in word)


@lru_cache(maxsize=65536)
def segment(run: str) -> tuple[str, ...]:
    """Thai words of a normalised run without spaces (newmm over our dictionary), cached."""
    from pythainlp.tokenize import newmm

    return tuple(w for w in newmm.segment(run, custom_dict=_trie()) if not w.isspace())


@lru_cache(maxsize=131072)
def compound_parts(word: str) -> tuple[str, ...]:
    """Dictionary words that make up a Thai compound, recursively (คอนกรีตเสริมเหล็ก ->
    คอนกรีต, เสริมเหล็ก, เสริม, เหล็ก), plus the synonym keys of those parts. Empty when the
    word is not a compound of dictionary words."""
    found: list[str] = []
    for part in compound_split(word):
        found.append(part)
        key = _synonym_index()[1].get((part,))
        if key is not None:
            found.append(key)
        found.extend(compound_parts(part))
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=131072)
def compound_split(word: str) -> tuple[str, ...]:
    """The top-level split of a Thai compound into dictionary words, stop words left out
    (จัดซื้อจัดจ้าง -> จัดซื้อ, จัดจ้าง); empty when `word` is not such a compound."""
    if len(word) < 4:
        return ()
    split = _split_compound(word)
    return tuple(p for p in split if p not in TH_STOPWORDS) if split else ()


def _split_compound(word: str) -> list[str] | None:
    """The split of `word` into the fewest dictionary words shorter than it, or None.

    Parts have at least two characters and at least one part must be more than one syllable:
    Thai words are built from one-syllable morphemes, and cutting a word into its syllables
    (จังหวัด -> จัง + หวัด, "very" + "a cold") only adds noise."""
    trie = _trie()
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[n] = []
    for i in range(n - 1, -1, -1):
        for prefix in trie.prefixes(word[i:]):
            j = i + len(prefix)
            if len(prefix) < 2 or len(prefix) == n or best[j] is None:
                continue
            candidate = [prefix, *best[j]]
            if best[i] is None or len(candidate) < len(best[i]):
                best[i] = candidate
    split = best[0]
    syllables = _syllables()
    if split is None or all(part in syllables for part in split):
        return None
    return split


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    from pythainlp.corpus import thai_syllables

    return frozenset(thai_syllables())


def _years(number: str) -> tuple[str, ...]:
    if len(number) != 4:
        return ()
    year = int(number)
    if 2400 <= year <= 2700:
        return (str(year - 543),)
    if 1857 <= year <= 2157:
        return (str(year + 543),)
    return ()


@lru_cache(maxsize=65536)
def english_stem(word: str) -> str:
    """Porter stem of a case-folded English word, cached."""
    from whoosh.lang.porter import stem

    return stem(word)


@lru_cache(maxsize=1)
def _synonym_index() -> tuple[dict[str, list[tuple[tuple[str, ...], str]]], dict]:
    """(first term -> [(member terms, key)] longest first, member terms -> key)."""
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    by_terms: dict[tuple[str, ...], str] = {}
    for group in SYNONYM_GROUPS:
        members = [tuple(t.term for t in _analyze(m, False)) for m in group]
        key = SYNONYM_PREFIX + "_".join(members[0])
        for terms in members:
            if terms:
                by_terms.setdefault(terms, key)
                by_first.setdefault(terms[0], []).append((terms, key))
    for entries in by_first.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return by_first, by_terms


def _mark_synonyms(tokens: list[Token]) -> None:
    # Every position gets the longest group member starting there, even inside another member
    # (ร่าง พ.ร.บ. -> ร่างกฎหมาย at ร่าง and พระราชบัญญัติ at พรบ); queries pick spans greedily.
    by_first = _synonym_index()[0]
    for i, tok in enumerate(tokens):
        for terms, key in by_first.get(tok.term, ()):
            n = len(terms)
            if n == 1 or tuple(t.term for t in tokens[i : i + n]) == terms:
                tok.synonym = key
                tok.span = n
                break


def synonym_key(text: str) -> str | None:
    """The synonym key of `text` if the whole text is a member of a group, else None."""
    terms = tuple(t.term for t in _analyze(text, False))
    return _synonym_index()[1].get(terms)


def thai_sort_key(text: str) -> str:
    """A key that sorts Thai titles in dictionary order (leading vowels เ แ โ ใ ไ are ordered
    by the consonant after them, tone marks only break ties); Latin text sorts case-folded."""
    text = normalise(text).casefold().strip()
    swapped = re.sub(f"([{_LEADING_VOWELS}])([\u0e01-\u0e2e])", r"\2\1", text)
    return _THAI_MARKS.sub("", swapped) + "\x00" + swapped
