"""Property: for any Unicode text, every token (and entity) points at its own text, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.main import create_app
from service.settings import Settings
from tests.service.helpers import all_tokens, assert_offsets, conll_random, ud_random

# Whole Unicode minus lone surrogates (not encodable; the API answers 422 for them), with a bias
# towards text-like input: words, spaces, punctuation, newlines.
ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.lists(
        st.one_of(
            st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12),
            st.sampled_from([" ", "  ", "\n", "\n\n", "\t", ". ", "! ", "'s ", "n't ", "U.S. "]),
        ),
        max_size=40,
    ).map("".join),
)


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    app = create_app(Settings(), taggers=[conll_random(), ud_random()])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT)
def test_token_offsets_hold_for_any_text(api: TestClient, text: str) -> None:
    tasks = ["ner", "pos", "chunk", "upos", "xpos"]  # both models, tokenised once
    r = api.post("/v1/tag", json={"text": text, "tasks": tasks})
    assert r.status_code == 200, r.text
    body = r.json()
    [doc] = body["documents"]
    assert doc["text"] == text
    assert_offsets(doc)
    tokens = all_tokens(body)
    for token in tokens:
        assert token["text"] and token["end"] > token["start"]
        assert {"ner", "pos", "chunk", "upos", "xpos"} <= token.keys()
    # Tokens are in order, do not overlap, and cover every non-whitespace character.
    covered = set()
    last_end = 0
    for token in tokens:
        assert token["start"] >= last_end
        last_end = token["end"]
        covered.update(range(token["start"], token["end"]))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sentences=st.lists(
        st.lists(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8)),
        max_size=6,
    )
)
def test_pretokenised_offsets_hold(api: TestClient, sentences: list[list[str]]) -> None:
    r = api.post("/v1/tag", json={"tokens": sentences})
    assert r.status_code == 200, r.text
    [doc] = r.json()["documents"]
    assert doc["text"] == " ".join(t for s in sentences for t in s)
    assert [[t["text"] for t in s["tokens"]] for s in doc["sentences"]] == sentences
    assert_offsets(doc)
