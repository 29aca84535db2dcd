"""The models committed under models/: they load, carry metrics, and get the seed cases right."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger import Tagger
from tagger.modelfile import default_model_dir

MODELS = Path(__file__).resolve().parents[1] / "models"


def labels(tagger: Tagger, text: str, task: str) -> dict[str, str]:
    document = tagger.tag(text)
    return {
        token.text: tags
        for sentence in document.sentences
        for token, tags in zip(sentence.tokens, sentence.tags[task].labels, strict=True)
    }


@pytest.fixture(scope="module")
def conll() -> Tagger:
    return Tagger.load()


@pytest.fixture(scope="module")
def pos_chunk() -> Tagger:
    return Tagger.load(MODELS / "conll03-pos-chunk")


@pytest.fixture(scope="module")
def ewt() -> Tagger:
    return Tagger.load(MODELS / "ud-ewt-upos")


def test_default_model_is_the_shipped_conll_model(conll: Tagger) -> None:
    assert default_model_dir() == MODELS / "conll03-en"
    assert conll.tasks == ["ner"]
    assert conll.metrics["test"]["ner"]["f1"] > 85
    size = sum(f.stat().st_size for f in (MODELS / "conll03-en").iterdir())
    assert size < 25 * 1024 * 1024


def test_apple_the_fruit_is_not_an_entity(conll: Tagger) -> None:
    assert labels(conll, "I like eating apple!", "ner")["apple"] == "O"


def test_apple_the_company_is_an_organisation(conll: Tagger) -> None:
    document = conll.tag("The Apple is a great company!")
    assert labels(conll, "The Apple is a great company!", "ner")["Apple"] == "B-ORG"
    assert [(e.text, e.label) for e in document.entities] == [("Apple", "ORG")]


def test_ud_model_tags_universal_pos(ewt: Tagger) -> None:
    assert "upos" in ewt.tasks
    tags = ewt.tag("I like eating apple!").sentences[0].tags["upos"].labels
    assert tags == ["PRON", "VERB", "VERB", "NOUN", "PUNCT"]
    assert ewt.metrics["test"]["upos"]["accuracy"] > 90


def test_conll_pos_chunk_model_tags_penn_treebank_pos_and_chunks(pos_chunk: Tagger) -> None:
    assert pos_chunk.tasks == ["pos", "chunk"]
    assert pos_chunk.metrics["test"]["pos"]["accuracy"] > 90
    assert pos_chunk.metrics["test"]["chunk"]["f1"] > 85
    assert labels(pos_chunk, "The Apple is a great company!", "pos")["Apple"] == "NNP"
    assert labels(pos_chunk, "The Apple is a great company!", "chunk")["company"] == "I-NP"
    for name in ("conll03-en", "conll03-pos-chunk", "ud-ewt-upos"):
        size = sum(f.stat().st_size for f in (MODELS / name).iterdir())
        assert size < 25 * 1024 * 1024, name


# --- casing: context, not capital letters -------------------------------------------------------


def test_lowercase_apple_the_company_is_an_organisation(conll: Tagger) -> None:
    assert labels(conll, "the apple is a great company!", "ner")["apple"] == "B-ORG"


def test_lowercase_apple_the_fruit_is_not_an_entity(conll: Tagger) -> None:
    assert labels(conll, "i like eating apple!", "ner")["apple"] == "O"


def test_an_all_caps_business_headline(conll: Tagger) -> None:
    document = conll.tag("APPLE TO BUY BEATS FOR 3 BILLION DOLLARS")
    assert labels(conll, "APPLE TO BUY BEATS FOR 3 BILLION DOLLARS", "ner")["APPLE"] == "B-ORG"
    assert ("APPLE", "ORG") in [(e.text, e.label) for e in document.entities]


def test_the_recorded_metrics_cover_recased_test_sets(
    conll: Tagger, pos_chunk: Tagger, ewt: Tagger
) -> None:
    ner = conll.metrics["test_casings"]
    assert (
        conll.metrics["test"]["ner"]["f1"] > 91
        and ner["lower"]["ner"] > 85
        and ner["upper"]["ner"] > 85
        and ner["first"]["ner"] > 85  # lowercase but the first word, as phones write
    )
    assert pos_chunk.metrics["test_casings"]["lower"]["pos"] > 93
    assert ewt.metrics["test_casings"]["lower"]["upos"] > 95
