"""Entities as character spans, built from a span task's IOB2 labels and token offsets."""

from __future__ import annotations

from collections.abc import Sequence

from tagger.schemes import Scheme, spans
from tagger.types import Entity, TaskTags, Token

ENTITY_TASK = "ner"


def entities(text: str, tokens: Sequence[Token], tags: TaskTags) -> list[Entity]:
    """Entity spans of one sentence; score is the mean marginal of the span's tokens."""
    found = []
    for label, first, last in spans(tags.labels, Scheme.IOB2):
        start, end = tokens[first].start, tokens[last - 1].end
        score = sum(tags.scores[first:last]) / (last - first)
        found.append(Entity(text[start:end], label, start, end, round(score, 6)))
    return found
