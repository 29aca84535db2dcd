"""Scores: entity-level P/R/F1 (seqeval, conlleval convention) for span tasks, accuracy else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqeval.metrics import classification_report

from tagger.config import TaskSpec
from tagger.schemes import Scheme, convert


def span_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Micro P/R/F1 and per-type scores in percent; inputs in IOB2."""
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    per_type = {
        label: {
            "precision": 100 * row["precision"],
            "recall": 100 * row["recall"],
            "f1": 100 * row["f1-score"],
            "support": int(row["support"]),
        }
        for label, row in report.items()
        if not label.endswith(" avg")
    }
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    return {
        "precision": 100 * micro["precision"],
        "recall": 100 * micro["recall"],
        "f1": 100 * micro["f1-score"],
        "per_type": per_type,
    }


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
