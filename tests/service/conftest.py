"""Fixtures: small random taggers (no trained model needed) served through a TestClient."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tagger import Tagger
from tagger.testing import random_tagger

NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
POS = ["NNP", "NN", "NNS", "VBZ", "VBD", "DT", "JJ", "IN", "PRP", ".", ","]
CHUNK = ["O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP"]
UPOS = ["PROPN", "NOUN", "VERB", "DET", "ADJ", "ADP", "PRON", "PUNCT"]
XPOS = ["NNP", "NN", "VBZ", "DT", "JJ", "IN", "PRP", "."]


def conll_random(seed: int = 0) -> Tagger:
    """A random CoNLL-2003-like tagger: ner, pos, chunk."""
    return random_tagger({"ner": NER, "pos": POS, "chunk": CHUNK}, seed=seed, name="conll-random")


def ud_random(seed: int = 1) -> Tagger:
    """A random UD-like tagger: upos, xpos."""
    return random_tagger({"upos": UPOS, "xpos": XPOS}, seed=seed, name="ud-random")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings in tests come from the test, not from TAGGER_* variables of the shell."""
    for name in list(os.environ):
        if name.startswith("TAGGER_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def conll_tagger() -> Tagger:
    return conll_random()


@pytest.fixture(scope="session")
def ud_tagger() -> Tagger:
    return ud_random()


ClientFactory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture()
def make_client(conll_tagger: Tagger, ud_tagger: Tagger) -> ClientFactory:
    """``with make_client(taggers=[...], **settings) as client``: an app with the given settings."""

    @contextmanager
    def factory(taggers: list[Any] | None = None, **settings: Any) -> Iterator[TestClient]:
        app = create_app(
            Settings(**settings), taggers=taggers if taggers is not None else [conll_tagger]
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client

    return factory


@pytest.fixture()
def client(make_client: ClientFactory) -> Iterator[TestClient]:
    """The CoNLL-like random model alone, default settings."""
    with make_client() as c:
        yield c


@pytest.fixture()
def client2(
    make_client: ClientFactory, conll_tagger: Tagger, ud_tagger: Tagger
) -> Iterator[TestClient]:
    """Two models side by side: conll-random (default) and ud-random."""
    with make_client(taggers=[conll_tagger, ud_tagger]) as c:
        yield c


def all_tokens(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every token of every document of a /v1/tag answer."""
    return [t for d in body["documents"] for s in d["sentences"] for t in s["tokens"]]


def assert_offsets(doc: dict[str, Any]) -> None:
    """Tokens, sentences and entities point at their own text in the document."""
    text = doc["text"]
    for sentence in doc["sentences"]:
        for token in sentence["tokens"]:
            assert text[token["start"] : token["end"]] == token["text"]
        if sentence["tokens"]:
            assert sentence["start"] == sentence["tokens"][0]["start"]
            assert sentence["end"] == sentence["tokens"][-1]["end"]
    for entity in doc["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"]
        assert 0.0 <= entity["score"] <= 1.0
