"""Relevance: each query of tests/relevance_cases.py must rank its dataset in the top 3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.base import SearchBackend
from search.documents import SearchQuery
from tests.relevance_cases import CASES, corpus
from tests.test_search_backends import BACKENDS, make_backend


@pytest.fixture(scope="module", params=BACKENDS)
def indexed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchBackend]:
    backend = make_backend(request.param, Path(tmp_path_factory.mktemp(request.param)), request)
    backend.rebuild(corpus())
    yield backend
    backend.close()


def test_corpus_and_cases_are_big_enough() -> None:
    names = {doc.name for doc in corpus()}
    assert len(names) >= 60
    assert len(CASES) >= 40
    assert {expected for _, expected in CASES} <= names


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
def test_expected_dataset_in_top_3(indexed: SearchBackend, query: str, expected: str) -> None:
    result = indexed.search(SearchQuery(q=query, rows=3))
    assert expected in result.ids, (query, result.ids, result.suggestion)
