"""Document context: document ids, packing sentences into pieces, and a context model's predict."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagger import context
from tagger.predict import Tagger
from tests.tagger.test_predict import SENTENCES, TASKS, assert_same, spiky


def test_document_ids_follow_document_starts() -> None:
    assert context.document_ids([True, False, False, True, False]) == [0, 0, 0, 1, 1]
    assert context.document_ids([False, False, True, False]) == [0, 0, 1, 1]


def test_without_document_markers_every_sentence_stands_alone() -> None:
    assert context.document_ids([False, False, False]) == [0, 1, 2]
    assert context.document_ids([]) == []


def test_pack_fills_pieces_up_to_the_budget_within_a_document() -> None:
    lengths = [3, 4, 2, 5, 1, 6]
    docs = [0, 0, 0, 0, 1, 1]
    assert context.pack(lengths, docs, 9) == [[0, 1, 2], [3], [4, 5]]
    assert context.pack(lengths, docs, 1) == [[0], [1], [2], [3], [4], [5]]
    assert context.pack(lengths, docs, 100) == [[0, 1, 2, 3], [4, 5]]


def test_a_sentence_longer_than_the_budget_is_a_piece_of_its_own() -> None:
    assert context.pack([2, 50, 2], [0, 0, 0], 10) == [[0], [1], [2]]


def test_pack_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="document ids"):
        context.pack([1, 2], [0], 10)
    with pytest.raises(ValueError, match="at least 1 token"):
        context.pack([1, 2], [0, 0], 0)


@given(
    st.lists(st.tuples(st.integers(1, 30), st.booleans()), max_size=40),
    st.integers(1, 64),
    st.integers(0, 1000),
)
def test_random_packing_keeps_order_documents_and_budget(
    rows: list[tuple[int, bool]], budget: int, seed: int
) -> None:
    lengths = [length for length, _ in rows]
    docs = context.document_ids([starts for _, starts in rows])
    pieces = context.pack(lengths, docs, budget, random.Random(seed))
    assert [i for piece in pieces for i in piece] == list(range(len(rows)))  # order, no loss
    for piece in pieces:
        assert len({docs[i] for i in piece}) == 1  # never across a document break
        assert len(piece) == 1 or sum(lengths[i] for i in piece) <= budget


def test_join_concatenates_each_pieces_sentences() -> None:
    sentences = [["a", "b"], ["c"], ["d", "e"]]
    assert context.join(sentences, [[0, 1], [2]]) == [["a", "b", "c"], ["d", "e"]]


def test_join_marks_each_sentences_first_token() -> None:
    [joined] = context.join([["a", "b"], [], ["c", "d"]], [[0, 1, 2]])
    assert [isinstance(token, context.SentenceStart) for token in joined] == [1, 0, 1, 0]


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "starts-marked"])
def context_model(request: pytest.FixtureRequest) -> Tagger:
    return spiky(1, context_tokens=12, mark_sentence_starts=request.param)


def test_context_model_reads_a_documents_sentences_together(context_model: Tagger) -> None:
    doc_ids = [0, 0, 1, 1]  # pieces: sentences 0+1 (9 tokens), 2+3 (10 tokens)
    got = context_model.predict(SENTENCES, doc_ids=doc_ids)
    joined = context_model.predict(context.join(SENTENCES, [[0, 1], [2, 3]]))
    n0, n2 = len(SENTENCES[0]), len(SENTENCES[2])
    want = [
        {t: type(v)(v.labels[:n0], v.scores[:n0]) for t, v in joined[0].items()},
        {t: type(v)(v.labels[n0:], v.scores[n0:]) for t, v in joined[0].items()},
        {t: type(v)(v.labels[:n2], v.scores[:n2]) for t, v in joined[1].items()},
        {t: type(v)(v.labels[n2:], v.scores[n2:]) for t, v in joined[1].items()},
    ]
    assert_same(got, want)
    assert [len(r["ner"].labels) for r in got] == [len(s) for s in SENTENCES]


def test_context_changes_what_the_model_sees(context_model: Tagger) -> None:
    alone = context_model.predict(SENTENCES)
    together = context_model.predict(SENTENCES, doc_ids=[0] * len(SENTENCES))
    assert [r["ner"].scores for r in alone] != [r["ner"].scores for r in together]


def test_without_context_doc_ids_change_nothing() -> None:
    model = spiky(1)
    assert model.network.config.context_tokens == 0
    assert_same(model.predict(SENTENCES, doc_ids=[0] * len(SENTENCES)), model.predict(SENTENCES))


def test_tag_many_gives_each_text_its_own_context(context_model: Tagger) -> None:
    texts = ["The Apple is a company! I like Paris.", "zebra"]
    together = context_model.tag_many(texts)
    alone = context_model.tag("zebra").sentences[0].tags
    for task, tags in together[1].sentences[0].tags.items():  # equal up to batching round-off
        assert tags.labels == alone[task].labels
        assert tags.scores == pytest.approx(alone[task].scores, abs=1e-6)
    assert set(TASKS) == set(together[0].sentences[0].tags)


def test_empty_sentences_keep_their_place_in_a_document(context_model: Tagger) -> None:
    got = context_model.predict([["The", "Apple"], [], ["zebra"], []], doc_ids=[0, 0, 0, 1])
    assert [len(r["ner"].labels) for r in got] == [2, 0, 1, 0]
    assert got[3]["ner"].scores == []


def test_marked_sentence_starts_change_what_a_context_model_sees() -> None:
    marking = spiky(1, context_tokens=12, mark_sentence_starts=True)
    joined = context.join(SENTENCES, [[0, 1]])
    plain = [[str(token) for token in joined[0]]]
    assert marking.predict(joined)[0]["ner"].scores != marking.predict(plain)[0]["ner"].scores


@pytest.mark.parametrize("feature", ["mark_sentence_starts", "word_memory"])
def test_a_context_model_with_a_feature_survives_save_and_load(
    feature: str, tmp_path: Path
) -> None:
    model = spiky(2, context_tokens=12, **{feature: True})
    model.save(tmp_path / "model")
    loaded = Tagger.load(tmp_path / "model", int8=False)
    assert getattr(loaded.network.config, feature)
    doc_ids = [0] * len(SENTENCES)
    assert_same(
        loaded.predict(SENTENCES, doc_ids=doc_ids), model.predict(SENTENCES, doc_ids=doc_ids)
    )
