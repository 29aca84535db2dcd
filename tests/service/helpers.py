"""Helpers shared by the service tests: small random taggers and answer checks."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from fastapi.testclient import TestClient

from tagger import Tagger
from tagger.testing import random_tagger

NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
POS = ["NNP", "NN", "NNS", "VBZ", "VBD", "DT", "JJ", "IN", "PRP", ".", ","]
CHUNK = ["O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP"]
UPOS = ["PROPN", "NOUN", "VERB", "DET", "ADJ", "ADP", "PRON", "PUNCT"]
XPOS = ["NNP", "NN", "VBZ", "DT", "JJ", "IN", "PRP", "."]

ClientFactory = Callable[..., AbstractContextManager[TestClient]]


def conll_random(seed: int = 0) -> Tagger:
    """A random CoNLL-2003-like tagger: ner, pos, chunk."""
    return random_tagger({"ner": NER, "pos": POS, "chunk": CHUNK}, seed=seed, name="conll-random")


def ud_random(seed: int = 1) -> Tagger:
    """A random UD-like tagger: upos, xpos."""
    return random_tagger({"upos": UPOS, "xpos": XPOS}, seed=seed, name="ud-random")


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
