"""The public Tagger on small random models: predict, windows, raw text, labels, round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tagger.pieces
from tagger.predict import Tagger
from tagger.schemes import Scheme, TagSequenceError, convert, spans, validate
from tagger.testing import random_tagger
from tagger.types import TaskTags

NER = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
POS = ["DT", "NN", "VB", "JJ", "."]
TASKS = {"ner": NER, "pos": POS}
WORDS = ["the", "Apple", "is", "a", "company", "I", "like", "Paris", "zebra", "42", "!", "ÉTÉ"]
SENTENCES = [
    ["The", "Apple", "is", "a", "company", "!"],
    ["I", "like", "Paris"],
    ["zebra"],
    ["42", "is", "a", "number", "in", "Paris", ",", "France", "."],
]


def spiky(seed: int, **config: Any) -> Tagger:
    """A random tagger with strong emissions and transitions, so constraints really bind."""
    model = random_tagger(TASKS, seed=seed, **config)
    with torch.no_grad():
        for task in TASKS:
            model.network.heads[task].weight.normal_(0.0, 2.0)
            model.network.heads[task].bias.normal_(0.0, 2.0)
            for param in model.network.crfs[task].parameters():
                param.normal_(0.0, 2.0)
    return model


@pytest.fixture(scope="module")
def model() -> Tagger:
    return spiky(0)


SPIKY = [spiky(seed) for seed in range(3)]


def as_lists(results: list[dict[str, TaskTags]]) -> list[dict[str, list[str]]]:
    return [{task: tags.labels for task, tags in result.items()} for result in results]


def assert_same(got: list[dict[str, TaskTags]], want: list[dict[str, TaskTags]]) -> None:
    """Same labels; same scores up to float noise (batches of other shapes sum differently)."""
    assert as_lists(got) == as_lists(want)
    for one, other in zip(got, want, strict=True):
        for task, tags in one.items():
            assert tags.scores == pytest.approx(other[task].scores, abs=1e-5)


def test_predict_returns_one_result_per_sentence(model: Tagger) -> None:
    results = model.predict(SENTENCES)
    assert len(results) == len(SENTENCES)
    for sentence, result in zip(SENTENCES, results, strict=True):
        assert set(result) == {"ner", "pos"}
        for task, tags in result.items():
            assert len(tags.labels) == len(tags.scores) == len(sentence)
            assert set(tags.labels) <= set(TASKS[task])
            assert all(0.0 <= score <= 1.0 for score in tags.scores)


def test_predictions_are_not_constant(model: Tagger) -> None:
    """Guards the other tests: the spiky model does tell tokens apart."""
    labels = [label for result in model.predict(SENTENCES) for label in result["pos"].labels]
    assert len(set(labels)) > 1


def test_predict_agrees_with_the_network_decoded_one_sentence_at_a_time(model: Tagger) -> None:
    results = model.predict(SENTENCES)
    for sentence, result in zip(SENTENCES, results, strict=True):
        with torch.no_grad():
            decoded = model.network.decode(model.featurizer.batch([sentence]))
        best, marginals = decoded["ner"]
        bioes = [model.task_specs["ner"].labels[k] for k in best[0].tolist()]
        assert result["ner"].labels == convert(bioes, Scheme.BIOES, Scheme.IOB2)
        assert marginals is not None
        assert result["ner"].scores == pytest.approx(marginals[0].tolist(), abs=1e-5)
        pos = [model.task_specs["pos"].labels[k] for k in decoded["pos"][0][0].tolist()]
        assert result["pos"].labels == pos


def test_scores_are_the_chosen_labels_marginals(model: Tagger) -> None:
    """With several paths possible, a score is below 1; without scores every score is 1."""
    results = model.predict(SENTENCES)
    assert any(score < 0.999 for r in results for score in r["ner"].scores)
    plain = model.predict(SENTENCES, with_scores=False)
    assert as_lists(plain) == as_lists(results)
    assert all(score == 1.0 for r in plain for t in r.values() for score in t.scores)


def test_predict_subset_of_tasks(model: Tagger) -> None:
    results = model.predict(SENTENCES, tasks=["pos", "pos"])
    assert all(set(r) == {"pos"} for r in results)
    assert [r["pos"] for r in results] == [r["pos"] for r in model.predict(SENTENCES)]


def test_unknown_task_is_rejected(model: Tagger) -> None:
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['chunk'\]"):
        model.predict(SENTENCES, tasks=["ner", "chunk"])


def test_empty_inputs(model: Tagger) -> None:
    assert model.predict([]) == []
    empty, one = model.predict([[], ["Paris"]])
    assert empty == {"ner": TaskTags([], []), "pos": TaskTags([], [])}
    assert len(one["ner"].labels) == 1


def test_batch_order_independence(model: Tagger) -> None:
    a, b = SENTENCES[0], SENTENCES[3]
    assert_same(model.predict([a, b]), model.predict([b, a])[::-1])


def test_padding_does_not_change_predictions(model: Tagger) -> None:
    together = model.predict(SENTENCES, batch_size=len(SENTENCES))
    assert_same(together, model.predict(SENTENCES, batch_size=1))


def test_long_sentences_are_tagged_in_windows(
    model: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = SENTENCES[3] + SENTENCES[0]  # 15 tokens
    monkeypatch.setattr(tagger.pieces, "MAX_PIECE_TOKENS", 4)
    [result, short] = model.predict([long, ["I", "like"]], batch_size=2)
    assert all(len(tags.labels) == len(tags.scores) == 15 for tags in result.values())
    windows = model.predict([long[i : i + 4] for i in range(0, 15, 4)])
    for task in TASKS:
        assert result[task].labels == [label for w in windows for label in w[task].labels]
    assert len(short["ner"].labels) == 2
    validate(result["ner"].labels, Scheme.IOB2)


def test_save_load_round_trip_gives_identical_predictions(model: Tagger, tmp_path: Path) -> None:
    model.save(tmp_path / "model", metrics={"f1": 0.5})
    loaded = Tagger.load(tmp_path / "model")
    assert loaded.predict(SENTENCES) == model.predict(SENTENCES)
    assert (loaded.name, loaded.version, loaded.metrics) == ("random", "0", {"f1": 0.5})
    assert loaded.labels == model.labels and loaded.span_tasks == model.span_tasks
    assert loaded.words.itos == model.words.itos and loaded.chars.itos == model.chars.itos


def test_save_overwrites_an_existing_directory(tmp_path: Path) -> None:
    SPIKY[1].save(tmp_path / "model")
    SPIKY[2].save(tmp_path / "model")
    assert Tagger.load(tmp_path / "model").predict(SENTENCES) == SPIKY[2].predict(SENTENCES)
    assert Tagger.load(tmp_path / "model").predict(SENTENCES) != SPIKY[1].predict(SENTENCES)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging directory left


def test_labels_tasks_and_span_tasks(model: Tagger) -> None:
    assert model.tasks == ["ner", "pos"]
    assert model.span_tasks == {"ner"}
    assert model.labels == {"ner": sorted(NER), "pos": sorted(POS)}
    internal = model.task_specs["ner"].labels
    assert {label[0] for label in internal} == {"O", "B", "I", "E", "S"}
    assert model.task_specs["ner"].scheme is Scheme.BIOES


# --- span tasks: the constrained CRF gives well-formed IOB2 ------------------------------------

sentence_lists = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=9), max_size=4)


@settings(max_examples=25, deadline=None)
@given(sentences=sentence_lists, index=st.integers(0, len(SPIKY) - 1))
def test_span_labels_are_valid_iob2(sentences: list[list[str]], index: int) -> None:
    for result in SPIKY[index].predict(sentences):
        validate(result["ner"].labels, Scheme.IOB2)


def test_without_constraints_labels_would_be_invalid() -> None:
    """Guards the property above: the spiky models need the constraints to stay valid."""
    invalid = 0
    for model in SPIKY:
        crf = model.network.crfs["ner"]
        saved = [crf.allowed.clone(), crf.allowed_start.clone(), crf.allowed_end.clone()]
        crf.allowed.fill_(True), crf.allowed_start.fill_(True), crf.allowed_end.fill_(True)
        try:
            for result in model.predict([[w] * 5 for w in WORDS] + SENTENCES):
                try:
                    validate(result["ner"].labels, Scheme.IOB2)
                except TagSequenceError:
                    invalid += 1
        finally:
            crf.allowed.copy_(saved[0]), crf.allowed_start.copy_(saved[1])
            crf.allowed_end.copy_(saved[2])
    assert invalid > 0


def test_iob1_output_scheme_converts_predictions(model: Tagger) -> None:
    network = model.network
    spec = network.tasks["ner"]
    network.tasks["ner"] = spec.model_copy(update={"output_scheme": Scheme.IOB1})
    try:
        iob1 = Tagger(network, model.words, model.chars)
    finally:
        network.tasks["ner"] = spec
    for got, want in zip(iob1.predict(SENTENCES), model.predict(SENTENCES), strict=True):
        assert got["ner"].labels == convert(want["ner"].labels, Scheme.IOB2, Scheme.IOB1)
        assert spans(got["ner"].labels, Scheme.IOB1) == spans(want["ner"].labels, Scheme.IOB2)


# --- raw text --------------------------------------------------------------------------------


def test_tag_offsets_point_into_the_text(model: Tagger) -> None:
    text = "I like eating apple!"
    doc = model.tag(text)
    assert doc.text == text
    tokens = [t for s in doc.sentences for t in s.tokens]
    assert [t.text for t in tokens] == ["I", "like", "eating", "apple", "!"]
    assert all(text[t.start : t.end] == t.text for t in tokens)
    [sentence] = doc.sentences
    assert (sentence.start, sentence.end) == (0, len(text))
    assert sentence.tags["ner"].labels == model.predict([[t.text for t in tokens]])[0]["ner"].labels


def test_entities_come_from_ner_spans(model: Tagger) -> None:
    text = "The Apple company likes Paris. New York New York City, ÉTÉ ÉTÉ!"
    doc = model.tag(text)
    expected = [
        (label, s.tokens[a].start, s.tokens[b - 1].end, s.tags["ner"].scores[a:b])
        for s in doc.sentences
        for label, a, b in spans(s.tags["ner"].labels, Scheme.IOB2)
    ]
    assert any(len(x[3]) > 1 for x in expected), "the spiky model should find a long entity"
    assert [(e.label, e.start, e.end) for e in doc.entities] == [x[:3] for x in expected]
    means = [sum(x[3]) / len(x[3]) for x in expected]  # an entity's score: its tokens' mean
    assert [e.score for e in doc.entities] == pytest.approx(means, abs=1e-6)
    assert all(text[e.start : e.end] == e.text and 0 <= e.score <= 1 for e in doc.entities)


def test_tag_many_keeps_documents_apart(model: Tagger) -> None:
    texts = ["I like Paris. The Apple is a company!", "", "Zebra 42."]
    docs = model.tag_many(texts, batch_size=2)
    assert [d.text for d in docs] == texts
    assert [len(d.sentences) for d in docs] == [2, 0, 1]
    for text, doc in zip(texts, docs, strict=True):
        alone = model.tag(text)
        assert_same([s.tags for s in doc.sentences], [s.tags for s in alone.sentences])
        assert [e.text for e in doc.entities] == [e.text for e in alone.entities]


def test_tag_with_subset_of_tasks(model: Tagger) -> None:
    doc = model.tag("I like Paris.", tasks=["pos"])
    assert all(set(s.tags) == {"pos"} for s in doc.sentences)
    assert doc.entities == []


def test_tag_tokens_joins_tokens_with_spaces(model: Tagger) -> None:
    doc = model.tag_tokens([["I", "like", "Paris"], ["The", "Apple", "!"]])
    assert doc.text == "I like Paris The Apple !"
    assert [[(t.start, t.end) for t in s.tokens] for s in doc.sentences] == [
        [(0, 1), (2, 6), (7, 12)],
        [(13, 16), (17, 22), (23, 24)],
    ]
    assert all(doc.text[t.start : t.end] == t.text for s in doc.sentences for t in s.tokens)
    expected = model.predict([["I", "like", "Paris"], ["The", "Apple", "!"]])
    assert_same([s.tags for s in doc.sentences], expected)


def test_int8_rnn_keeps_predictions_close_and_cannot_be_saved(tmp_path) -> None:
    model = random_tagger({"ner": ["O", "B-PER", "I-PER"], "pos": ["NN", "VB"]}, seed=4)
    model.save(tmp_path / "m")
    sentences = [["the", "apple", "is", "a", "company"], ["i", "like", "the", "apple", "!"]]
    plain = Tagger.load(tmp_path / "m").predict(sentences)
    quantized = Tagger.load(tmp_path / "m", int8=True)
    assert quantized.int8 and "quantized" in type(quantized.network.rnn).__module__
    fast = quantized.predict(sentences)
    for a, b in zip(plain, fast, strict=True):
        for task in ("ner", "pos"):
            assert len(a[task].labels) == len(b[task].labels)
            pairs = zip(a[task].scores, b[task].scores, strict=True)
            assert max(abs(x - y) for x, y in pairs) < 0.05
    with pytest.raises(ValueError, match="int8"):
        quantized.save(tmp_path / "again")
