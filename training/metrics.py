"""Scores: entity-level P/R/F1 (conlleval convention) for span tasks, accuracy for the others."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tagger.config import TaskSpec
from tagger.schemes import Scheme, convert, spans


def span_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Micro P/R/F1 and per-type scores in percent; inputs in IOB2.

    Spans are read as conlleval (and seqeval's default mode) reads IOB2: an ``I-`` tag that
    does not continue a span of its type starts one. ``tests/training/test_metrics.py`` checks
    the figures against seqeval, which was used before and is 3x slower (selection scores the
    validation split several times an epoch).
    """
    found: Counter[tuple[str, bool]] = Counter()  # (type, gold?) -> spans
    correct: Counter[str] = Counter()
    for gold_tags, pred_tags in zip(gold, pred, strict=True):
        gold_spans = set(spans(gold_tags, Scheme.IOB2))
        pred_spans = set(spans(pred_tags, Scheme.IOB2))
        found.update((label, True) for label, _, _ in gold_spans)
        found.update((label, False) for label, _, _ in pred_spans)
        correct.update(label for label, _, _ in gold_spans & pred_spans)
    types = sorted({label for label, _ in found})
    per_type = {
        label: {
            **_prf(correct[label], found[label, False], found[label, True]),
            "support": found[label, True],
        }
        for label in types
    }
    total = _prf(
        sum(correct.values()),
        sum(found[t, False] for t in types),
        sum(found[t, True] for t in types),
    )
    return {**total, "per_type": per_type}


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    """Precision, recall and F1 in percent (0 where undefined)."""
    precision = 100 * correct / predicted if predicted else 0.0
    recall = 100 * correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def accuracy(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Token accuracy in percent."""
    total = sum(len(g) for g in gold)
    right = sum(a == b for g, p in zip(gold, pred, strict=True) for a, b in zip(g, p, strict=True))
    return {"accuracy": 100 * right / max(total, 1), "tokens": total}


def score_task(
    spec: TaskSpec, gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """The task's metrics against gold tags in the file's own scheme."""
    if not spec.is_span:
        return accuracy(gold, pred)
    source = spec.output_scheme or Scheme.IOB2
    to_iob2 = [convert(tags, source, Scheme.IOB2) for tags in gold]
    pred_iob2 = [convert(tags, source, Scheme.IOB2) for tags in pred]
    return span_scores(to_iob2, pred_iob2)


def headline(metrics: dict[str, Any]) -> float:
    """The one number a task is selected on: F1 for span tasks, accuracy otherwise."""
    return float(metrics["f1"] if "f1" in metrics else metrics["accuracy"])
