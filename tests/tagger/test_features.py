"""Featurizer id tensors, and GloVe rows reaching the embedder for words outside the vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tagger.context import SentenceStart
from tagger.features import Featurizer
from tagger.glove import load_glove
from tagger.modelfile import CONFIG, WEIGHTS, ModelFileError, load_model_dir
from tagger.predict import Tagger
from tagger.testing import random_tagger
from tagger.vocab import CASINGS, Vocabulary, casing

WORDS = Vocabulary(["the", "cat", "0000"])
CHARS = Vocabulary("abcdefghijklmnopqrstuvwxyzT")
FAKE_GLOVE = {"the": 0, "cat": 1, "dog": 2}


@pytest.fixture
def featurizer() -> Featurizer:
    return Featurizer(WORDS, CHARS, FAKE_GLOVE, max_word_length=4, lowercase_words=True)


def test_token_ids(featurizer: Featurizer) -> None:
    assert featurizer.token_ids("The") == (2, 0, casing("The"), (28, 9, 6))
    assert featurizer.token_ids("dog") == (1, 2, casing("dog"), (5, 16, 8))  # GloVe only
    assert featurizer.token_ids("1996") == (4, 3, casing("1996"), (1, 1, 1, 1))  # digits folded
    assert featurizer.token_ids("zzz!")[:2] == (1, 3)  # in neither: <unk>, missing row


def test_case_preserving_vocabulary_keeps_cased_words_apart() -> None:
    cased = Featurizer(Vocabulary(["the", "The"]), CHARS, FAKE_GLOVE, max_word_length=4)
    assert cased.token_ids("the")[:2] == (2, 0)
    assert cased.token_ids("The")[:2] == (3, 0)  # own trainable vector, same GloVe row
    assert cased.token_ids("THE")[:2] == (1, 0)  # unseen casing: <unk>, GloVe still found


def test_characters_are_cut_at_max_word_length(featurizer: Featurizer) -> None:
    assert featurizer.token_ids("catcatcat")[3] == (4, 2, 21, 4)
    assert Featurizer(WORDS, CHARS, None, 20).token_ids("catcatcat")[3] == (4, 2, 21) * 3


def test_missing_glove_row_is_one_past_the_index() -> None:
    assert Featurizer(WORDS, CHARS, FAKE_GLOVE, 4).glove_missing == 3
    without = Featurizer(WORDS, CHARS, None, 4)
    assert without.glove_missing == 0
    assert without.token_ids("the")[1] == 0


def test_sentence_starts_get_casing_classes_of_their_own() -> None:
    tokens = ["The", "cat", SentenceStart("The"), "cat"]
    plain = Featurizer(WORDS, CHARS, FAKE_GLOVE, 4).batch([tokens])
    marked = Featurizer(WORDS, CHARS, FAKE_GLOVE, 4, mark_starts=True).batch([tokens])
    classes = [casing(t) for t in tokens]
    assert plain.casing[0].tolist() == classes  # a plain featurizer ignores the marks
    assert marked.casing[0].tolist() == [
        classes[0] + len(CASINGS),  # a sequence's first token starts a sentence
        classes[1],
        classes[2] + len(CASINGS),
        classes[3],
    ]
    for name in ("words", "glove", "chars", "token_index", "mask"):
        assert torch.equal(getattr(plain, name), getattr(marked, name))


def test_token_ids_are_cached(featurizer: Featurizer) -> None:
    featurizer.batch([["the", "cat", "the"], ["the"]])
    info = featurizer.token_features.cache_info()
    assert (info.misses, info.hits) == (2, 2)


def test_batch_shapes_padding_and_mask(featurizer: Featurizer) -> None:
    batch = featurizer.batch([["The", "cat"], ["dog", "1996", "ab"], ["x"]])
    assert batch.words.shape == batch.glove.shape == batch.casing.shape == (3, 3)
    assert batch.chars.shape == (6, 4)  # six distinct tokens
    assert batch.token_index.tolist() == [[0, 1, 0], [2, 3, 4], [5, 0, 0]]
    assert batch.mask.dtype == torch.bool
    assert all(t.dtype == torch.int64 for t in (batch.words, batch.glove, batch.casing))
    assert batch.mask.tolist() == [[True, True, False], [True, True, True], [True, False, False]]
    assert batch.words.tolist() == [[2, 3, 0], [1, 4, 1], [1, 0, 0]]
    assert batch.glove.tolist() == [[0, 1, 3], [2, 3, 3], [3, 3, 3]]  # padding: missing row
    assert batch.casing[~batch.mask].tolist() == [0, 0, 0]
    assert batch.casing[0, :2].tolist() == [casing("The"), casing("cat")]
    assert batch.chars[batch.token_index[0, 1]].tolist() == [4, 2, 21, 0]
    assert batch.chars[batch.token_index[1, 1]].tolist() == [1, 1, 1, 1]


def test_repeated_tokens_share_one_character_row(featurizer: Featurizer) -> None:
    batch = featurizer.batch([["the", "cat", "the"], ["cat", "the"]])
    assert batch.chars.shape[0] == 2
    assert batch.token_index[batch.mask].tolist() == [0, 1, 0, 1, 0]


def test_batch_matches_token_ids(featurizer: Featurizer) -> None:
    sentences = [["a", "Cat", "sat"], ["on", "the", "mat", "today", "7"]]
    batch = featurizer.batch(sentences)
    for i, sentence in enumerate(sentences):
        for j, token in enumerate(sentence):
            word, glove, case, chars = featurizer.token_ids(token)
            assert (batch.words[i, j], batch.glove[i, j], batch.casing[i, j]) == (word, glove, case)
            row = batch.chars[batch.token_index[i, j]]
            assert row[: len(chars)].tolist() == list(chars)


@pytest.mark.parametrize("sentences", [[], [[]], [["a"], []]])
def test_empty_batches_are_rejected(featurizer: Featurizer, sentences: list[list[str]]) -> None:
    with pytest.raises(ValueError, match="at least one sentence and no empty sentence"):
        featurizer.batch(sentences)


# --- GloVe: the real 400k table -----------------------------------------------------------------

TASKS = {"ner": ["O", "B-PER", "I-PER"]}


@pytest.fixture(scope="module")
def glove() -> tuple[dict[str, int], np.ndarray]:
    return load_glove()


@pytest.fixture(scope="module")
def glove_tagger() -> Tagger:
    return random_tagger(TASKS, seed=5, use_glove=True)


def test_glove_table(glove: tuple[dict[str, int], np.ndarray]) -> None:
    index, vectors = glove
    assert vectors.shape == (400_000, 50) and vectors.dtype == np.float32
    assert len(index) == 400_000 and index["the"] == 0
    assert load_glove() is glove  # loaded once per process


def test_word_outside_the_vocabulary_gets_its_glove_row(
    glove_tagger: Tagger, glove: tuple[dict[str, int], np.ndarray]
) -> None:
    index, vectors = glove
    featurizer = glove_tagger.featurizer
    assert "zebra" not in glove_tagger.words
    word_id, row, _, _ = featurizer.token_ids("zebra")
    assert word_id == 1
    assert row == index["zebra"] != featurizer.glove_missing == 400_000
    assert featurizer.token_ids("Zebra")[1] == row  # GloVe is looked up lowercased
    assert featurizer.token_ids("qwzxvbnmlkj")[1] == featurizer.glove_missing


def test_embedder_adds_glove_to_the_word_vector(
    glove_tagger: Tagger, glove: tuple[dict[str, int], np.ndarray]
) -> None:
    index, vectors = glove
    embedder = glove_tagger.network.embedder
    assert not embedder.training
    assert torch.equal(embedder.words.weight[1], torch.zeros(50))  # <unk> offset starts at zero
    batch = glove_tagger.featurizer.batch([["the", "zebra", "qwzxvbnmlkj"]])
    with torch.no_grad():
        out = embedder(batch)  # [1, 3, 50 + chars + casing]
        assert out.shape[:2] == (1, 3) and out.size(2) == embedder.output_size
        zebra = torch.from_numpy(vectors[index["zebra"]].copy())
        assert torch.allclose(out[0, 1, :50], zebra)
        assert zebra.abs().sum() > 0
        assert torch.equal(out[0, 2, :50], torch.zeros(50))  # in neither table
        the = torch.from_numpy(vectors[index["the"]].copy())
        assert torch.allclose(out[0, 0, :50], embedder.words.weight[2] + the)


def test_trained_unk_offset_is_added_to_the_glove_vector(
    glove: tuple[dict[str, int], np.ndarray],
) -> None:
    index, vectors = glove
    model = random_tagger(TASKS, seed=6, use_glove=True)
    embedder = model.network.embedder
    with torch.no_grad():
        embedder.words.weight[1] = torch.full((50,), 0.5)
        out = embedder(model.featurizer.batch([["zebra"]]))
    expected = torch.from_numpy(vectors[index["zebra"]].copy()) + 0.5
    assert torch.allclose(out[0, 0, :50], expected)


def test_glove_model_saves_without_the_table_and_round_trips(
    glove_tagger: Tagger, tmp_path: Path
) -> None:
    path = tmp_path / "glove-model"
    glove_tagger.save(path)
    assert "embedder.glove" not in load_model_dir(path).state
    assert (path / WEIGHTS).stat().st_size < 10_000_000  # the 80 MB table is not in there
    config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    assert config["glove"]["name"] == "glove.6B.50d" and len(config["glove"]["sha256"]) == 64
    sentences = [["A", "zebra", "ate", "the", "apple"], ["Zebras", "qwzxvbnmlkj"]]  # last: no row
    loaded = Tagger.load(path)
    assert loaded.predict(sentences) == glove_tagger.predict(sentences)
    # A loaded model reads GloVe's memory-mapped file itself (shared by every process on the
    # machine), not a copy of it; the model it was saved from (training) has its own copy.
    vectors = load_glove()[1]
    assert loaded.network.embedder.glove.data_ptr() == vectors.ctypes.data
    assert glove_tagger.network.embedder.glove.data_ptr() != vectors.ctypes.data


def test_a_row_past_the_glove_table_is_zeros_with_or_without_a_zero_row(
    glove_tagger: Tagger,
) -> None:
    embedder = glove_tagger.network.embedder
    table = torch.arange(12, dtype=torch.float32).reshape(3, 4) + 1  # [3, 4], no zero row
    rows = torch.tensor([[0, 3, 2], [3, 1, 0]])  # [2, 3]; 3: "not in GloVe"
    expected = torch.cat([table, torch.zeros(1, 4)])[rows]  # [2, 3, 4]
    original = embedder.glove
    try:
        for candidate in (table, torch.cat([table, torch.zeros(1, 4)])):
            embedder.glove = candidate
            assert torch.equal(embedder.glove_vectors(rows), expected)
    finally:
        embedder.glove = original  # the module's fixture, as it was


def test_model_trained_with_other_glove_vectors_is_refused(
    glove_tagger: Tagger, tmp_path: Path
) -> None:
    path = tmp_path / "glove-model"
    glove_tagger.save(path)
    config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    config["glove"]["sha256"] = "0" * 64
    (path / CONFIG).write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelFileError, match="different GloVe vectors"):
        Tagger.load(path)
