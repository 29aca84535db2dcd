"""Span scores agree with seqeval (the conlleval convention) on any IOB2-like tag sequences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report

from training.metrics import accuracy, span_scores

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]
corpora = st.integers(1, 6).flatmap(
    lambda n: st.tuples(
        st.lists(st.lists(st.sampled_from(TAGS), min_size=n, max_size=n), min_size=1, max_size=4),
        st.lists(st.lists(st.sampled_from(TAGS), min_size=n, max_size=n), min_size=1, max_size=4),
    )
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # seqeval on sentences without spans
@settings(max_examples=300, deadline=None)
@given(corpora)
def test_span_scores_match_seqeval(pair: tuple[list[list[str]], list[list[str]]]) -> None:
    gold, pred = pair
    pred = (pred * len(gold))[: len(gold)]  # the same number of sentences
    ours = span_scores(gold, pred)
    theirs = classification_report(gold, pred, output_dict=True, zero_division=0)
    micro = theirs.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    assert ours["precision"] == pytest.approx(100 * micro["precision"])
    assert ours["recall"] == pytest.approx(100 * micro["recall"])
    assert ours["f1"] == pytest.approx(100 * micro["f1-score"])
    for label, row in theirs.items():
        if label.endswith(" avg"):
            continue
        assert ours["per_type"][label]["f1"] == pytest.approx(100 * row["f1-score"])
        assert ours["per_type"][label]["support"] == row["support"]


def test_span_scores_by_hand() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"]]
    scores = span_scores(gold, pred)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 50.0
    assert scores["per_type"]["PER"] == {
        "precision": 100.0,
        "recall": 100.0,
        "f1": 100.0,
        "support": 1,
    }
    assert scores["per_type"]["ORG"]["support"] == 0
    assert span_scores([["O"]], [["O"]])["f1"] == 0.0


def test_accuracy() -> None:
    assert accuracy([["a", "b"], ["c"]], [["a", "x"], ["c"]]) == {"accuracy": 200 / 3, "tokens": 3}
