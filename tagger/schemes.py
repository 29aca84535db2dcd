"""Span tag schemes (IOB1, IOB2, BIOES): validation and conversion between them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum


class Scheme(StrEnum):
    IOB1 = "iob1"
    IOB2 = "iob2"
    BIOES = "bioes"


class TagSequenceError(ValueError):
    """A tag sequence that the scheme forbids (for example I-PER after O in IOB2)."""

    def __init__(self, message: str, index: int = 0) -> None:
        super().__init__(message)
        self.index = index  # position of the offending tag in its sentence


def split_tag(tag: str) -> tuple[str, str | None]:
    """Split ``B-PER`` into ``("B", "PER")``; ``O`` into ``("O", None)``."""
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in {"B", "I", "E", "S"} or not label:
        raise TagSequenceError(f"not a span tag: {tag!r}")
    return prefix, label


def is_span_tagging(tags: Iterable[str]) -> bool:
    """True when every tag is ``O`` or PREFIX-TYPE with a B/I/E/S prefix (NER, chunks): the
    one rule that makes a task a span task."""
    try:
        for tag in tags:
            split_tag(tag)
    except TagSequenceError:
        return False
    return True


def bioes_labels(tags: Iterable[str]) -> list[str]:
    """The BIOES label set covering the span types of ``tags`` (in any scheme): what a span
    task learns internally, ``O`` first, then B/I/E/S of each type in alphabetical order."""
    types = sorted({split_tag(tag)[1] for tag in tags if tag != "O"})  # type: ignore[type-var]
    return ["O"] + [f"{prefix}-{kind}" for kind in types for prefix in "BIES"]


def spans(tags: Sequence[str], scheme: Scheme) -> list[tuple[str, int, int]]:
    """Decode tags into ``(label, start, end)`` token spans (end exclusive); lenient on errors."""
    result: list[tuple[str, int, int]] = []
    label: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, tag_label = split_tag(tag)
        begins = prefix in {"B", "S"} or (prefix in {"I", "E"} and tag_label != label)
        if prefix == "O" or begins:
            if label is not None:
                result.append((label, start, i))
            label, start = (None, i) if prefix == "O" else (tag_label, i)
        if prefix in {"E", "S"}:
            result.append((tag_label, start, i + 1))  # type: ignore[arg-type]
            label = None
    if label is not None:
        result.append((label, start, len(tags)))
    return result


def encode(spans_: Sequence[tuple[str, int, int]], length: int, scheme: Scheme) -> list[str]:
    """Write token spans as tags in ``scheme`` (IOB1: B- only between touching same-type spans)."""
    tags = ["O"] * length
    previous_end, previous_label = -1, None
    for label, start, end in spans_:
        for i in range(start, end):
            tags[i] = f"I-{label}"
        if scheme is Scheme.BIOES:
            if end - start == 1:
                tags[start] = f"S-{label}"
            else:
                tags[start], tags[end - 1] = f"B-{label}", f"E-{label}"
        elif scheme is Scheme.IOB2 or (previous_end == start and previous_label == label):
            tags[start] = f"B-{label}"
        previous_end, previous_label = end, label
    return tags


def convert(tags: Sequence[str], source: Scheme, target: Scheme) -> list[str]:
    """Convert a tag sequence from one scheme to another."""
    if source is target:
        return list(tags)
    return encode(spans(tags, source), len(tags), target)


def validate(tags: Sequence[str], scheme: Scheme) -> None:
    """Raise ``TagSequenceError`` when ``tags`` is not a well-formed sequence in ``scheme``."""
    allowed_prefixes = {"O", "B", "I"} if scheme is not Scheme.BIOES else {"O", "B", "I", "E", "S"}
    for i, tag in enumerate(tags):
        try:
            prefix, _ = split_tag(tag)
        except TagSequenceError as error:
            raise TagSequenceError(f"{error} at token {i + 1}", i) from None
        if prefix not in allowed_prefixes:
            message = f"tag {tag!r} at token {i + 1} is not allowed in {scheme.value}"
            raise TagSequenceError(message, i)
    if scheme is Scheme.IOB1:
        return
    for i, tag in enumerate(tags):
        previous = tags[i - 1] if i else "O"
        if not transition_allowed(previous, tag, scheme):
            message = f"tag {tag!r} at token {i + 1} cannot follow {previous!r} in {scheme.value}"
            raise TagSequenceError(message, i)
    if tags and not transition_allowed(tags[-1], "O", scheme):
        message = f"sequence ends inside a span ({tags[-1]!r}) in {scheme.value}"
        raise TagSequenceError(message, len(tags) - 1)


def transition_allowed(previous: str, current: str, scheme: Scheme) -> bool:
    """Whether ``current`` may follow ``previous`` (use ``"O"`` for sentence start or end)."""
    prev_prefix, prev_label = split_tag(previous)
    prefix, label = split_tag(current)
    if scheme is Scheme.IOB1:
        return prefix != "B" or (prev_prefix in {"B", "I"} and prev_label == label)
    if scheme is Scheme.IOB2:
        return prefix != "I" or (prev_prefix in {"B", "I"} and prev_label == label)
    inside = prev_prefix in {"B", "I"}
    if prefix in {"I", "E"}:
        return inside and prev_label == label
    return not inside


def detect_scheme(sentences: Sequence[Sequence[str]]) -> Scheme:
    """Guess a corpus' scheme: BIOES if it uses E-/S-; IOB2 if a B- tag ever starts a span
    after O (or at a sentence start), as IOB1 never does; else IOB1 if an I- tag starts a
    span. So an IOB2 file with a stray I- after O stays IOB2, and validation reports it."""
    if any(tag[0] in "ES" for tags in sentences for tag in tags):
        return Scheme.BIOES
    i_starts = False
    for tags in sentences:
        previous = "O"
        for tag in tags:
            if tag.startswith("B-") and previous == "O":
                return Scheme.IOB2
            if tag.startswith("I-") and previous[2:] != tag[2:]:
                i_starts = True
            previous = tag
    return Scheme.IOB1 if i_starts else Scheme.IOB2
