"""Pieces: every sentence's tokens are read exactly once and come back in place (an oracle
over random sentences, documents, context budgets and windows), and batches' caps hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagger.context import SentenceStart
from tagger.pieces import Layout, batches, lay_out
from tagger.types import TaskTags

sentences_st = st.lists(st.integers(0, 9), max_size=12).map(
    lambda lengths: [[f"s{i}t{j}" for j in range(n)] for i, n in enumerate(lengths)]
)


def echo(layout: Layout) -> list[dict[str, TaskTags]]:
    """Tags that name their own token: what a perfect model returns."""
    return [
        {"echo": TaskTags(list(piece), [float(len(t)) for t in piece])} for piece in layout.pieces
    ]


@settings(max_examples=300, deadline=None)
@given(sentences_st, st.integers(0, 3), st.integers(0, 20), st.integers(1, 7), st.data())
def test_sentences_come_back_whole_and_in_place(sentences, documents, budget, window, data):
    doc_ids = sorted(
        data.draw(
            st.lists(st.integers(0, documents), min_size=len(sentences), max_size=len(sentences))
        )
    )
    layout = lay_out(sentences, doc_ids, budget, window)
    assert all(0 < len(piece) <= window for piece in layout.pieces)
    assert layout.tokens == sum(len(s) for s in sentences)
    tags = layout.sentence_tags(echo(layout), ["echo"])
    assert [t["echo"].labels for t in tags] == sentences
    assert [t["echo"].scores for t in tags] == [[float(len(w)) for w in s] for s in sentences]
    owner = {token: doc_ids[i] for i, s in enumerate(sentences) for token in s}
    for piece in layout.pieces:
        assert len({owner[token] for token in piece}) == 1  # never two documents in one piece
    if budget == 0:
        assert all(
            len(segments) <= 1 or len(sentences[i]) > window
            for i, segments in enumerate(layout.segments)
        )


def test_context_joins_a_documents_sentences_and_marks_their_starts() -> None:
    sentences = [["a", "b"], [], ["c"], ["d", "e"], ["f"]]
    layout = lay_out(sentences, [0, 0, 0, 0, 1], context_tokens=4)
    assert layout.pieces == [["a", "b", "c"], ["d", "e"], ["f"]]
    assert isinstance(layout.pieces[0][2], SentenceStart)  # "c" begins a sentence
    assert layout.segments == [[(0, 0, 2)], [], [(0, 2, 3)], [(1, 0, 2)], [(2, 0, 1)]]
    alone = lay_out(sentences, None, context_tokens=4)  # no documents: every sentence alone
    assert alone.pieces == [["a", "b"], ["c"], ["d", "e"], ["f"]]


def test_long_sentence_is_cut_into_windows() -> None:
    layout = lay_out([list("abcdefg"), ["h"]], window=3)
    assert layout.pieces == [list("abc"), list("def"), ["g"], ["h"]]
    assert layout.segments == [[(0, 0, 3), (1, 0, 3), (2, 0, 1)], [(3, 0, 1)]]


def test_empty_sentences_get_empty_tags_for_every_task() -> None:
    layout = lay_out([[], ["a"], []])
    tags = layout.sentence_tags(
        [{"x": TaskTags(["X"], [1.0]), "y": TaskTags(["Y"], [0.5])}], ["x", "y"]
    )
    assert tags[0] == tags[2] == {"x": TaskTags([], []), "y": TaskTags([], [])}
    assert tags[1]["y"] == TaskTags(["Y"], [0.5])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="2 sentences but 1 document ids"):
        lay_out([["a"], ["b"]], [0])
    with pytest.raises(ValueError, match="1 tag results for 2 pieces"):
        lay_out([["a"], ["b"]]).sentence_tags([{}], [])
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        batches([1, 2], 0)


def test_batches_cap_pieces_and_padded_tokens() -> None:
    lengths = [3, 1, 12, 2, 5, 3, 2]
    out = batches(lengths, size=3, max_tokens=10)
    assert [[lengths[i] for i in batch] for batch in out] == [[1, 2, 2], [3, 3], [5], [12]]
    assert sorted(i for batch in out for i in batch) == list(range(len(lengths)))
