"""Training with document context: sequences built from a document's sentences, and batches."""

from __future__ import annotations

from tagger import Tagger
from tagger.data import read_corpus
from tests.training.conftest import tiny_config
from training.batches import Example, make_batches, make_examples
from training.config import TrainConfig
from training.evaluate import evaluate_tagger
from training.train import train


def sentences_in_documents() -> tuple[list[list[str]], list[dict[str, list[int]]], list[int]]:
    """Twelve sentences in three documents, with distinct gold ids to trace them."""
    sentences, gold, docs = [], [], []
    for index in range(12):
        tokens = [f"w{index}-{j}" for j in range(1 + index % 4)]
        sentences.append(tokens)
        gold.append({"ner": [index] * len(tokens)})
        docs.append(index // 5)
    return sentences, gold, docs


def test_without_context_every_sentence_is_an_example() -> None:
    sentences, gold, docs = sentences_in_documents()
    examples = make_examples(sentences, gold, docs, 0, seed=1)
    assert [(tokens, n) for tokens, _, n in examples] == [(s, 1) for s in sentences]


def test_context_examples_join_a_documents_sentences_with_their_tags() -> None:
    sentences, gold, docs = sentences_in_documents()
    examples = make_examples(sentences, gold, docs, 8, seed=1)
    assert sum(n for _, _, n in examples) == len(sentences)
    assert [t for tokens, _, _ in examples for t in tokens] == [t for s in sentences for t in s]
    for tokens, tags, count in examples:
        owners = [int(token[1:].split("-")[0]) for token in tokens]
        assert tags["ner"] == owners  # each token keeps its own sentence's tags
        assert len({docs[o] for o in owners}) == 1
        assert count == len(set(owners))
    assert any(n > 1 for _, _, n in examples)


def test_context_examples_are_cut_afresh_each_epoch_and_reproducibly() -> None:
    sentences, gold, docs = sentences_in_documents()
    cuts = [[n for _, _, n in make_examples(sentences, gold, docs, 8, s)] for s in (1, 1, 2, 3)]
    assert cuts[0] == cuts[1]
    assert len({tuple(c) for c in cuts}) > 1


def test_batches_hold_batch_size_sentences_however_they_are_joined() -> None:
    examples: list[Example] = [([f"t{i}"] * (1 + i % 7), {}, 1 + i % 3) for i in range(90)]
    batches = make_batches(examples, 6, seed=4)
    assert sorted(id(e) for b in batches for e in b) == sorted(id(e) for e in examples)
    sizes = [sum(n for _, _, n in batch) for batch in batches]
    assert all(size < 6 + 3 for size in sizes)  # a batch closes once it reaches 6 sentences
    assert sum(size < 6 for size in sizes) <= 1  # only the pool's last batch can be short


def test_a_context_model_trains_and_is_evaluated_with_its_documents(corpus, tmp_path) -> None:
    raw = tiny_config(corpus, tmp_path / "run", epochs=12)
    raw["model"]["context_tokens"] = 40
    results = train(TrainConfig.model_validate(raw))
    assert results["test"]["ner"]["f1"] > 80
    tagger = Tagger.load(tmp_path / "run" / "model")
    assert tagger.context_tokens == 40
    test = read_corpus(corpus["test"])
    assert evaluate_tagger(tagger, test) == results["test"]
    tags = tagger.predict([["Maria", "works", "for", "Reuters", "in", "Paris", "."]])[0]
    assert tags["ner"].labels == ["B-PER", "O", "O", "B-ORG", "O", "B-LOC", "O"]
