"""Plain result types returned by the tagger: tokens with offsets, tagged sentences, entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Token(NamedTuple):
    """A token and its character span in the original text: ``text[start:end] == token.text``.

    A NamedTuple rather than a dataclass: tokenisation creates one per word, and this is the
    cheapest immutable record Python has.
    """

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class TaskTags:
    """Labels of one task for one sentence, with the marginal probability of each label."""

    labels: list[str]
    scores: list[float]


@dataclass(frozen=True, slots=True)
class Entity:
    """A labelled span of the original text (character offsets), with a confidence in [0, 1]."""

    text: str
    label: str
    start: int
    end: int
    score: float


@dataclass(slots=True)
class TaggedSentence:
    """One sentence: its tokens, per task name the predicted tags, and its character span
    (for an empty sentence, the offset where it sits)."""

    tokens: list[Token]
    tags: dict[str, TaskTags]
    start: int
    end: int


@dataclass(slots=True)
class Document:
    """A tagged document: the original text, its sentences and the entities found in it."""

    text: str
    sentences: list[TaggedSentence]
    entities: list[Entity] = field(default_factory=list)
