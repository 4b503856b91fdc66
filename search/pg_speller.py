""" "Did you mean" for the PostgreSQL search backend, over its vocabulary table."""

from __future__ import annotations

import psycopg
from psycopg import sql

from search.pg_documents import DOCUMENT, lexeme, within
from search.query import correct_words
from search.thai import SYNONYM_PREFIX, english_stem


class Speller:
    """ "Did you mean", as in the Whoosh backend: each unknown word is replaced by the most
    frequent vocabulary word within Levenshtein distance 1 (then 2 for words of five characters
    or more) that shares its first character."""

    def __init__(self, cur: psycopg.Cursor) -> None:
        self.cur = cur
        self._known: dict[tuple[str, str | None], bool] = {}

    def suggest(self, words: tuple[str, ...]) -> str | None:
        """The corrected query, or None when no word changes."""
        return correct_words(words, self.known, self.closest)

    def known(self, term: str, synonym: str | None) -> bool:
        """Whether any document has `term` (or its synonym key)."""
        key = (term, synonym)
        if key not in self._known:
            either = " | ".join(lexeme(t) for t in (term, synonym) if t is not None)
            self.cur.execute(
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE tsv @@ %s::tsquery)").format(
                    DOCUMENT
                ),
                (either,),
            )
            self._known[key] = self.cur.fetchone()[0]
        return self._known[key]

    def closest(self, word: str) -> str | None:
        """The most frequent vocabulary word near `word`, or None."""
        if len(word) < 3:
            return None
        kind = "e" if word.isascii() else "t"
        for distance in (1, 2) if len(word) >= 5 else (1,):
            self.cur.execute(
                "SELECT word FROM search_index.vocabulary WHERE kind = %s "
                "AND word >= %s AND word < %s AND length(word) BETWEEN %s AND %s",
                (kind, word[0], chr(ord(word[0]) + 1), len(word) - distance, len(word) + distance),
            )
            near = [
                w
                for (w,) in self.cur.fetchall()
                if w != word and not w.startswith(SYNONYM_PREFIX) and within(word, w, distance)
            ]
            # English words are indexed stemmed. Whoosh counts documents in the spelling or
            # title/keyword fields only; this only orders candidates at the same distance.
            frequency = {w: self._frequency(english_stem(w) if kind == "e" else w) for w in near}
            found = [w for w in near if frequency[w]]
            if found:
                return min(found, key=lambda w: (-frequency[w], w))
        return None

    def _frequency(self, term: str) -> int:
        self.cur.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE tsv @@ %s::tsquery").format(DOCUMENT),
            (lexeme(term),),
        )
        return self.cur.fetchone()[0]
