"""Sentence styles and re-casing (tagger.casing), and the featurizer's use of them."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import torch

from tagger import casing
from tagger.casing import SentenceCase, case_of, recase, recase_mixed, style_count
from tagger.context import SentenceStart
from tagger.embedding import Embedder
from tagger.features import Featurizer
from tagger.predict import Tagger
from tagger.testing import random_tagger
from tagger.vocab import Vocabulary

S = SentenceCase


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Apple is a great company !", S.CASED),
        ("i like eating apple !", S.LOWER),
        ("APPLE TO BUY BEATS FOR 3 BILLION DOLLARS", S.UPPER),
        ("Apple To Buy Beats For 3 Billion Dollars", S.TITLE),
        ("Apple to Buy Beats for $ 3 Billion", S.TITLE),  # short words may stay lowercase
        ("Apple reported record sales", S.CASED),  # a long lowercase word: ordinary text
        ("1996-08-22 , 3:0", S.NO_LETTERS),
        ("I", S.UPPER),
        ("Peter Blackburn", S.TITLE),
        ("Reuters", S.CASED),  # one capitalised word says nothing about the style
    ],
)
def test_sentence_case(text: str, expected: SentenceCase) -> None:
    assert case_of(text.split()) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can you book a flight from boston to denver", S.FIRST_ONLY),
        ("Can I get a table at nobu tonight ?", S.FIRST_ONLY),  # the pronoun I says nothing
        ('" Apple is my favourite fruit', S.FIRST_ONLY),  # the first word with letters
        ("i think I saw joe biden", S.LOWER),
        ("I LOVE NEW YORK", S.UPPER),
        ("The Apple is a great company !", S.CASED),
        ("I met John in the park", S.CASED),  # a capital after the first word
        ("Reuters", S.CASED),  # nothing lowercase after it: no evidence
        ("Apple To Buy Beats For 3 Billion Dollars", S.TITLE),
    ],
)
def test_first_word_style(text: str, expected: SentenceCase) -> None:
    assert case_of(text.split(), first_word_style=True) is expected
    if expected is S.FIRST_ONLY:  # models trained without the style read it as before
        assert case_of(text.split()) is S.CASED


def reference_case(tokens: list[str], first_word_style: bool) -> SentenceCase:
    """The styles' definitions, written out plainly over the tokens themselves."""
    if first_word_style:
        tokens = [t for t in tokens if t != "I"]
    cased = [t for t in tokens if any(c.isupper() or c.islower() for c in t)]
    if not cased:
        return S.NO_LETTERS
    if not any(c.isupper() for t in cased for c in t):
        return S.LOWER
    if not any(c.islower() for t in cased for c in t):
        return S.UPPER
    later = "".join(cased[1:])
    if first_word_style and any(c.isupper() for c in cased[0]) and later.islower():
        return S.FIRST_ONLY
    long_words = [t for t in cased if len(t) >= 4 and t[0].isalpha()]
    if all(t[0].isupper() for t in long_words) and len(long_words) >= 2:
        return S.TITLE
    return S.CASED


# Tokens with every combination of casing facts: none, no case (CJK), short, long, the pronoun.
TOKEN_KINDS = [
    "1",
    "中文字符",
    "a",
    "A",
    "I",
    "the",
    "The",
    "THE",
    "word",
    "Word",
    "WORD",
    "iPhone",
]


@pytest.mark.parametrize("first_word_style", [False, True])
def test_sentence_case_matches_the_definitions_on_every_short_sentence(
    first_word_style: bool,
) -> None:
    for length in range(5):
        for tokens in itertools.product(TOKEN_KINDS, repeat=length):
            flags = [casing.token_flags(t) for t in tokens]
            got = casing.sentence_case(flags, first_word_style)
            assert got is reference_case(list(tokens), first_word_style), tokens


def test_caseless_styles() -> None:
    assert [s.name for s in S if s.is_caseless] == ["LOWER", "UPPER", "TITLE", "FIRST_ONLY"]


def test_recase_styles_keep_the_number_of_tokens() -> None:
    tokens = ["The", "Apple", "of", "iPhone", "fame", "!"]
    assert recase(tokens, "lower") == ["the", "apple", "of", "iphone", "fame", "!"]
    assert recase(tokens, "upper") == ["THE", "APPLE", "OF", "IPHONE", "FAME", "!"]
    assert recase(tokens, "title") == ["The", "Apple", "of", "IPhone", "Fame", "!"]
    assert recase(["of", "mice"], "title") == ["Of", "Mice"]  # the first word always
    assert case_of(recase(["the", "bank", "of", "england", "said"], "title")) is S.TITLE
    assert recase(["the", "Apple", "i", "liked", "!"], "first") == [
        "The",
        "apple",
        "I",
        "liked",
        "!",
    ]
    assert recase(["(", "Apple", ")"], "first") == ["(", "Apple", ")"]
    assert case_of(recase(tokens, "first"), first_word_style=True) is S.FIRST_ONLY
    with pytest.raises(ValueError, match="unknown casing style 'shout'"):
        recase(tokens, "shout")


def test_recase_mixed_is_seeded_and_uses_only_the_given_styles() -> None:
    sentences = [["Apple", "Inc"]] * 50
    first = recase_mixed(sentences, random.Random(3), ["as_written", "lower"])
    assert first == recase_mixed(sentences, random.Random(3), ["as_written", "lower"])
    assert {tuple(s) for s in first} == {("Apple", "Inc"), ("apple", "inc")}


# --- the featurizer ---------------------------------------------------------------------------

WORDS = Vocabulary(["the", "London", "LONDON", "london", "said", "Said"])  # most frequent first
CHARS = Vocabulary("abcdefghijklmnopqrstuvwxyzLONDTHESAI")


def styles(batch_ids: torch.Tensor, first_word_style: bool = False) -> list[tuple[str, bool]]:
    n = style_count(first_word_style)
    return [(S(int(i) % n).name, int(i) >= n) for i in batch_ids]


def test_each_sentence_of_a_piece_gets_its_own_style_and_start() -> None:
    featurizer = Featurizer(WORDS, CHARS, None, 8, sentence_casing=True)
    piece = ["the", "london", SentenceStart("LONDON"), "SAID", SentenceStart("London"), "said"]
    batch = featurizer.batch([piece, ["London", "said"]])
    assert batch.sentence_case is not None
    assert styles(batch.sentence_case[0]) == [
        ("LOWER", True),
        ("LOWER", False),
        ("UPPER", True),
        ("UPPER", False),
        ("CASED", True),
        ("CASED", False),
    ]
    assert styles(batch.sentence_case[1, :2]) == [("CASED", True), ("CASED", False)]
    assert batch.sentence_case[1, 2:].tolist() == [0, 0, 0, 0]  # padding
    assert Featurizer(WORDS, CHARS, None, 8).batch([piece]).sentence_case is None


def test_first_word_style_has_its_own_ids_shifted_by_one_more_style() -> None:
    featurizer = Featurizer(WORDS, CHARS, None, 8, sentence_casing=True, first_word_style=True)
    piece = ["The", "london", SentenceStart("Said"), "London", SentenceStart("the"), "said"]
    ids = featurizer.batch([piece]).sentence_case
    assert ids is not None
    assert styles(ids[0], first_word_style=True) == [
        ("FIRST_ONLY", True),
        ("FIRST_ONLY", False),
        ("TITLE", True),
        ("TITLE", False),
        ("LOWER", True),
        ("LOWER", False),
    ]
    assert ids[0].tolist() == [6 + 7, 6, 5 + 7, 5, 3 + 7, 3]
    legacy = Featurizer(WORDS, CHARS, None, 8, sentence_casing=True).batch([piece]).sentence_case
    assert legacy is not None and legacy[0, :2].tolist() == [2 + 6, 2]  # CASED, shifted by 6


def test_a_first_word_style_model_saves_and_loads_its_larger_style_table(tmp_path: Path) -> None:
    model = random_tagger(
        {"ner": ["O", "B-ORG", "I-ORG"]}, sentence_casing_dim=4, first_word_style=True
    )
    assert model.network.embedder.sentence_case.num_embeddings == 14
    model.save(tmp_path / "m")
    loaded = Tagger.load(tmp_path / "m")
    assert loaded.featurizer.first_word_style and loaded.featurizer.styles == 7
    sentences = [["Can", "you", "see", "apple", "?"], ["The", "Apple", "said"]]
    assert loaded.predict(sentences, with_scores=True) == model.predict(sentences, with_scores=True)
    legacy = random_tagger({"ner": ["O", "B-ORG", "I-ORG"]}, sentence_casing_dim=4)
    assert legacy.network.embedder.sentence_case.num_embeddings == 12


def test_first_word_sentences_are_truecased_only_with_the_style() -> None:
    tokens = [["The", "london", "said"]]
    with_style = Featurizer(WORDS, CHARS, None, 8, truecase=True, first_word_style=True)
    without = Featurizer(WORDS, CHARS, None, 8, truecase=True)
    assert with_style.batch(tokens).words[0].tolist() == [
        WORDS.id("the"),
        WORDS.id("London"),
        WORDS.id("said"),
    ]
    assert without.batch(tokens).words[0].tolist() == [1, WORDS.id("london"), WORDS.id("said")]


def test_truecasing_looks_up_caseless_sentences_as_their_most_frequent_form() -> None:
    plain = Featurizer(WORDS, CHARS, None, 8)
    truecased = Featurizer(WORDS, CHARS, None, 8, truecase=True)
    london, said = WORDS.id("London"), WORDS.id("said")
    for tokens in (["the", "london", "said"], ["THE", "LONDON", "SAID"]):
        assert truecased.batch([tokens]).words[0].tolist() == [WORDS.id("the"), london, said]
    assert plain.batch([["THE", "LONDON", "SAID"]]).words[0].tolist() == [
        1,
        WORDS.id("LONDON"),
        1,
    ]
    # In ordinary cased text every word is looked up as written.
    cased = ["the", "london", "Said", "London"]
    assert truecased.batch([cased]).words.tolist() == plain.batch([cased]).words.tolist()
    assert truecased.batch([["zzzz", "qqqq"]]).words[0].tolist() == [1, 1]  # unknown stays <unk>


def test_truecasing_changes_only_word_ids() -> None:
    plain = Featurizer(WORDS, CHARS, None, 8)
    truecased = Featurizer(WORDS, CHARS, None, 8, truecase=True)
    tokens = [["the", "london", "said"], ["LONDON", SentenceStart("the"), "said"]]
    a, b = plain.batch(tokens), truecased.batch(tokens)
    for name in ("glove", "casing", "chars", "token_index", "mask"):
        assert torch.equal(getattr(a, name), getattr(b, name))


def test_truecasing_only_unknown_forms_keeps_the_ones_the_vocabulary_has() -> None:
    unknown_only = Featurizer(WORDS, CHARS, None, 8, truecase=True, truecase_unknown_only=True)
    ids = unknown_only.batch([["THE", "LONDON", "SAID"]]).words[0].tolist()
    assert ids == [WORDS.id("the"), WORDS.id("LONDON"), WORDS.id("said")]  # LONDON is known
    assert unknown_only.batch([["the", "london"]]).words[0].tolist() == [
        WORDS.id("the"),
        WORDS.id("london"),
    ]


def test_word_dropout_rates_by_sentence_style_and_start() -> None:
    featurizer = Featurizer(WORDS, CHARS, None, 8, sentence_casing=True)
    piece = ["The", "London", SentenceStart("said"), "london", SentenceStart("Said"), "the"]
    batch = featurizer.batch([piece, ["London", "said"]])
    rates = Embedder.dropout_rates(batch, word=0.05, caseless=0.15, start=0.3)
    assert rates[0].tolist() == pytest.approx([0.3, 0.05, 0.3, 0.15, 0.3, 0.05])
    assert rates[1, :2].tolist() == pytest.approx([0.3, 0.05])
    # Without start dropout a lowercase sentence's first token keeps the caseless rate.
    rates = Embedder.dropout_rates(batch, word=0.05, caseless=0.5, start=0.0)
    assert rates[0].tolist() == pytest.approx([0.05, 0.05, 0.5, 0.5, 0.05, 0.05])
    with pytest.raises(ValueError, match="sentence_casing_dim"):
        Embedder.dropout_rates(Featurizer(WORDS, CHARS, None, 8).batch([piece]), 0.0, 0.0, 0.3)


def test_word_dropout_rates_with_the_first_word_style() -> None:
    featurizer = Featurizer(WORDS, CHARS, None, 8, sentence_casing=True, first_word_style=True)
    piece = ["The", "london", "said", SentenceStart("London"), "said", "The"]  # caseless, cased
    batch = featurizer.batch([piece])
    rates = Embedder.dropout_rates(batch, 0.05, 0.15, 0.3, styles=featurizer.styles)
    assert rates[0].tolist() == pytest.approx([0.3, 0.15, 0.15, 0.3, 0.05, 0.05])
