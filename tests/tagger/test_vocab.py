"""Vocabularies, label sets, word keys and casing classes."""

from __future__ import annotations

from collections import Counter

import pytest

from tagger.vocab import CASINGS, PAD, UNK, LabelSet, Vocabulary, casing, word_key


def test_vocabulary_reserves_padding_and_unknown() -> None:
    vocab = Vocabulary(["the", "cat"])
    assert vocab.itos == [PAD, UNK, "the", "cat"]
    assert (vocab.id(PAD), vocab.id(UNK), vocab.id("the"), vocab.id("cat")) == (0, 1, 2, 3)
    assert vocab.stoi == {PAD: 0, UNK: 1, "the": 2, "cat": 3}
    assert len(vocab) == 4


def test_unknown_items_get_id_one() -> None:
    vocab = Vocabulary(["the"])
    assert vocab.id("dog") == 1
    assert vocab.id("The") == 1  # no normalisation inside the vocabulary
    assert "dog" not in vocab and "the" in vocab
    assert len(vocab) == 3  # looking up does not add


def test_add_is_idempotent_and_returns_the_id() -> None:
    vocab = Vocabulary()
    assert vocab.add("a") == 2
    assert vocab.add("b") == 3
    assert vocab.add("a") == 2
    assert vocab.add(PAD) == 0
    assert vocab.itos == [PAD, UNK, "a", "b"]


def test_duplicates_in_the_constructor_keep_the_first_position() -> None:
    assert Vocabulary(["b", "a", "b"]).itos == [PAD, UNK, "b", "a"]


def test_vocabulary_without_specials() -> None:
    vocab = Vocabulary([PAD, UNK, "x"], specials=())
    assert vocab.itos == [PAD, UNK, "x"] and vocab.id("x") == 2 and vocab.id("zzz") == 1
    chars = Vocabulary("abca")
    assert chars.itos == [PAD, UNK, "a", "b", "c"]


def test_from_counts_orders_by_frequency_then_alphabetically() -> None:
    counts = Counter({"b": 3, "a": 3, "c": 5, "d": 1, "e": 2})
    assert Vocabulary.from_counts(counts).itos == [PAD, UNK, "c", "a", "b", "e", "d"]
    assert Vocabulary.from_counts(counts, min_count=3).itos == [PAD, UNK, "c", "a", "b"]
    assert Vocabulary.from_counts(counts, min_count=6).itos == [PAD, UNK]
    assert Vocabulary.from_counts(Counter()).itos == [PAD, UNK]


def test_label_set() -> None:
    labels = LabelSet(["O", "B-PER", "I-PER", "O", "B-LOC"])
    assert labels.itos == ["O", "B-PER", "I-PER", "B-LOC"]
    assert labels.stoi == {"O": 0, "B-PER": 1, "I-PER": 2, "B-LOC": 3}
    assert len(labels) == 4
    assert len(LabelSet([])) == 0


@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("Apple", "apple"),
        ("EU", "eu"),
        ("1996-08-22", "0000-00-00"),
        ("COVID19", "covid00"),
        ("3.14", "0.00"),
        ("\u0663x", "0x"),  # an Arabic-Indic digit folds too
        ("naïve", "naïve"),
        ("", ""),
    ],
)
def test_word_key_lowercases_and_folds_digits(token: str, key: str) -> None:
    assert word_key(token) == key


@pytest.mark.parametrize(
    ("token", "name"),
    [
        ("the", "lower"),
        ("abc1", "lower"),  # lower wins over has_digit (Chiu & Nichols' order)
        ("EU", "upper"),
        ("A4", "upper"),
        ("Peter", "title"),
        ("McDonald", "title"),
        ("1996", "numeric"),
        ("1996-08-22", "mainly_numeric"),
        ("12,000", "mainly_numeric"),
        ("3-", "has_digit"),
        ("x1-", "lower"),
        ("-1-", "has_digit"),
        (".", "other"),
        ("iPhone", "other"),
        ("", "other"),
    ],
)
def test_casing_classes(token: str, name: str) -> None:
    assert CASINGS[casing(token)] == name


def test_casing_ids_are_within_the_table_and_never_padding() -> None:
    tokens = ["a", "A", "Aa", "1", "11a", "1a-b", "!", "Ünïcödé", "ß", "\u0663"]
    ids = {casing(t) for t in tokens}
    assert ids <= set(range(1, len(CASINGS)))
    assert len(CASINGS) == 8 and CASINGS[0] == PAD
