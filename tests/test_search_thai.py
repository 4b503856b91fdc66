"""The Thai/English analyzer, the query parser and highlighting (no index needed)."""

from __future__ import annotations

import pytest

from search.highlight import snippet
from search.query import All, Any, Phrase, Term, parse
from search.synonyms import SYNONYM_GROUPS
from search.thai import analyze, compound_split, normalise, synonym_key, thai_sort_key


def terms(text: str) -> list[str]:
    return [tok.term for tok in analyze(text)]


def indexed(text: str) -> set[str]:
    """Everything indexed for `text`: terms, synonym keys and alternates."""
    found: set[str] = set()
    for tok in analyze(text):
        found.add(tok.term)
        found.update(tok.alternates)
        if tok.synonym:
            found.add(tok.synonym)
    return found


# Normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "\u0e2a\u0e32\u0e4d\u0e19\u0e31\u0e01",  # สาํนัก: SARA AA then NIKHAHIT (PDF extraction)
        "\u0e2a\u0e4d\u0e32\u0e19\u0e31\u0e01",  # NIKHAHIT then SARA AA
        "ส\u200bำนัก",  # zero-width space inside the word
    ],
)
def test_broken_sara_am_and_zero_width_are_repaired(typed: str) -> None:
    assert normalise(typed) == "สำนัก"
    assert terms(typed) == terms("สำนัก")


def test_sara_am_with_tone_mark() -> None:
    assert normalise("น\u0e4d\u0e49\u0e32") == "น้ำ"
    assert normalise("น\u0e49\u0e4d\u0e32") == "น้ำ"


def test_thai_digits_fold_and_years_index_both_eras() -> None:
    assert normalise("๒๕๖๗") == "2567"
    assert {"2567", "2024"} <= indexed("ปีงบประมาณ ๒๕๖๗")
    assert {"2567", "2024"} <= indexed("FY2024")
    assert indexed("1200") == {"1200"}  # not a year: no second form


@pytest.mark.parametrize(
    ("dotted", "plain"),
    [("อบจ.", "อบจ"), ("อบต.", "อบต"), ("พ.ร.บ.", "พรบ"), ("พ.ร.บ", "พรบ"), ("กทม.", "กทม")],
)
def test_abbreviation_dots_are_optional(dotted: str, plain: str) -> None:
    assert terms(dotted) == terms(plain) == [plain]


def test_abbreviation_dot_ends_a_word() -> None:
    assert terms("อบจ.เชียงใหม่") == ["อบจ", "เชียงใหม่"]
    assert terms("ร่างพ.ร.บ.งบประมาณ") == ["ร่าง", "พรบ", "งบประมาณ"]


# Segmentation, compounds, stop words, English ------------------------------------------------


def test_thai_is_segmented_into_words_without_stop_words() -> None:
    assert terms("งบประมาณรายจ่ายของเทศบาล") == ["งบประมาณ", "รายจ่าย", "เทศบาล"]


@pytest.mark.parametrize(
    ("compound", "part"),
    [
        ("จัดซื้อจัดจ้าง", "จัดซื้อ"),
        ("จัดซื้อจัดจ้าง", "จัดจ้าง"),
        ("คอนกรีตเสริมเหล็ก", "คอนกรีต"),
        ("ปีงบประมาณ", "งบประมาณ"),
        ("องค์การบริหารส่วนจังหวัด", "จังหวัด"),
    ],
)
def test_compounds_also_index_their_parts(compound: str, part: str) -> None:
    assert part in indexed(compound)


def test_single_words_are_not_cut_into_syllables() -> None:
    assert compound_split("จังหวัด") == ()
    assert compound_split("โครงการ") == ()
    assert "หวัด" not in indexed("จังหวัด")


def test_english_is_lowercased_stemmed_and_stopped() -> None:
    assert terms("The Budgets of Bangkok") == ["budget", "bangkok"]
    assert terms("procurement PROCUREMENTS") == ["procur", "procur"]


# Synonyms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("อบจ.", "องค์การบริหารส่วนจังหวัด"),
        ("อบต", "องค์การบริหารส่วนตำบล"),
        ("กทม.", "กรุงเทพมหานคร"),
        ("ทต.", "เทศบาลตำบล"),
        ("อยุธยา", "พระนครศรีอยุธยา"),
        ("โคราช", "นครราชสีมา"),
        ("ร่างกฎหมาย", "ร่าง พ.ร.บ."),
        ("ร่างกฎหมาย", "ร่างพระราชบัญญัติ"),
        ("งบ", "งบประมาณ"),
        ("chiang mai", "เชียงใหม่"),
    ],
)
def test_synonyms_share_a_key(one: str, other: str) -> None:
    assert synonym_key(one) is not None
    assert synonym_key(one) == synonym_key(other)


def test_every_synonym_member_is_recognised() -> None:
    for group in SYNONYM_GROUPS:
        keys = {synonym_key(member) for member in group}
        assert len(keys) == 1 and None not in keys, group


def test_municipality_kinds_still_find_plain_เทศบาล() -> None:
    key = synonym_key("เทศบาล")
    assert key in indexed("เทศบาลนครขอนแก่น")
    assert key in indexed("เทศบาลตำบลดอนแก้ว")


# Sorting ------------------------------------------------------------------------------------


def test_thai_sort_key_uses_dictionary_order() -> None:
    words = ["เงิน", "กา", "ไก่", "ขา", "โค"]
    assert sorted(words, key=thai_sort_key) == ["กา", "ไก่", "ขา", "โค", "เงิน"]


# Query parsing ------------------------------------------------------------------------------


def test_words_are_anded_and_or_binds_neighbours() -> None:
    query = parse("ถนน ขยะ OR น้ำ ขอนแก่น")
    assert isinstance(query.root, All)
    first, middle, last = query.root.children
    assert first == Term("ถนน")
    assert isinstance(middle, Any)
    assert isinstance(last, Term)


def test_quotes_make_a_phrase() -> None:
    assert parse('"annual budget"').root == Phrase(("annual", "budget"))
    assert parse("“งบประมาณรายจ่าย”").root == Phrase(("งบประมาณ", "รายจ่าย"))


def test_compound_query_also_matches_its_parts() -> None:
    root = parse("คอนกรีตเสริมเหล็ก").root
    assert root == Any((Term("คอนกรีตเสริมเหล็ก"), All((Term("คอนกรีต"), Term("เสริมเหล็ก")))))


def test_multi_word_synonym_in_query() -> None:
    assert parse("ร่าง พ.ร.บ.").root == Term(synonym_key("ร่างกฎหมาย"))
    assert parse("chiang mai").root == Term(synonym_key("เชียงใหม่"))


@pytest.mark.parametrize("q", ['"', "((", "OR", "AND", ":", "***", "\\", "", "   ", "the of"])
def test_syntax_only_queries_are_empty_not_errors(q: str) -> None:
    assert parse(q).root is None


def test_stray_syntax_is_read_as_plain_words() -> None:
    assert parse('(ถนน "ขยะ').root == All((Term("ถนน"), Term("ขยะ")))


# Highlighting -------------------------------------------------------------------------------


def test_snippet_marks_matches_and_escapes_html() -> None:
    found = snippet("<b>งบประมาณ</b> & อบจ.เชียงใหม่", parse("อบจ").terms())
    assert found == "&lt;b&gt;งบประมาณ&lt;/b&gt; &amp; <mark>อบจ</mark>.เชียงใหม่"


def test_snippet_marks_a_synonym_and_keeps_original_text() -> None:
    text = "ข้อมูลขององค์การบริหารส่วนจังหวัดขอนแก่น"
    assert "<mark>องค์การบริหารส่วนจังหวัด</mark>" in snippet(text, parse("อบจ.").terms())


def test_snippet_of_long_text_starts_near_the_match() -> None:
    text = "ก" * 10 + " " + "ข้อมูล " * 80 + "ผู้สูงอายุ ท้ายเรื่อง"
    found = snippet(text, parse("ผู้สูงอายุ").terms())
    assert found.startswith("\u2026")
    assert "<mark>ผู้สูงอายุ</mark>" in found


def test_no_snippet_without_match() -> None:
    assert snippet("ถนน", parse("ขยะ").terms()) is None
