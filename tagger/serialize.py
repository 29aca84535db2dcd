"""JSON-ready dicts for tagged documents: one shape shared by the REST service and `tagger tag`."""

from __future__ import annotations

from typing import Any

from tagger.types import Document, Entity, TaggedSentence, Token


def token_to_dict(sentence: TaggedSentence, index: int) -> dict[str, Any]:
    """One token with its offsets, its label per task and the label's confidence per task."""
    token: Token = sentence.tokens[index]
    out: dict[str, Any] = {"text": token.text, "start": token.start, "end": token.end}
    confidence: dict[str, float] = {}
    for task, tags in sentence.tags.items():
        out[task] = tags.labels[index]
        confidence[task] = float(tags.scores[index])
    out["confidence"] = confidence
    return out


def sentence_to_dict(sentence: TaggedSentence) -> dict[str, Any]:
    """One sentence: its character span and its tokens."""
    return {
        "start": sentence.start,
        "end": sentence.end,
        "tokens": [token_to_dict(sentence, i) for i in range(len(sentence.tokens))],
    }


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    """One entity span with its label and score."""
    return {
        "text": entity.text,
        "label": entity.label,
        "start": entity.start,
        "end": entity.end,
        "score": float(entity.score),
    }


def document_to_dict(doc: Document) -> dict[str, Any]:
    """A whole document as plain JSON types (the per-document answer of the API and CLI)."""
    return {
        "text": doc.text,
        "sentences": [sentence_to_dict(s) for s in doc.sentences],
        "entities": [entity_to_dict(e) for e in doc.entities],
    }
