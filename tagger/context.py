"""Document context: read neighbouring sentences of a document together, in one RNN pass.

A model trained with ``context_tokens > 0`` sees consecutive sentences of a document joined
into one sequence, so a name's other mentions nearby (a headline, the previous sentence) inform
its tags. The same packing runs at inference; a sentence on its own is just a short document.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def document_ids(doc_starts: Sequence[bool]) -> list[int]:
    """Document index of each sentence, from the flags marking a document's first sentence.

    A corpus without any document marker has no known documents: every sentence stands alone.
    """
    if not any(doc_starts):
        return list(range(len(doc_starts)))
    ids, current = [], 0
    for index, starts in enumerate(doc_starts):
        if starts and index > 0:
            current += 1
        ids.append(current)
    return ids


def pack(
    lengths: Sequence[int],
    doc_ids: Sequence[int],
    budget: int,
    rng: random.Random | None = None,
) -> list[list[int]]:
    """Group consecutive sentences of one document into pieces of at most ``budget`` tokens.

    A sentence longer than the budget is a piece of its own. With ``rng`` (training), every
    piece draws its own budget from 1..budget, so the model also learns from short pieces and
    single sentences, as a one-sentence request will give it.
    """
    if len(lengths) != len(doc_ids):
        raise ValueError(f"{len(lengths)} sentence lengths but {len(doc_ids)} document ids")
    if budget < 1:
        raise ValueError(f"the context budget must be at least 1 token, got {budget}")
    pieces: list[list[int]] = []
    limit, used = budget, 0
    for index, length in enumerate(lengths):
        same_doc = bool(pieces) and doc_ids[index] == doc_ids[pieces[-1][-1]]
        if same_doc and used + length <= limit:
            pieces[-1].append(index)
            used += length
            continue
        pieces.append([index])
        used = length
        limit = rng.randint(1, budget) if rng is not None else budget
    return pieces


class SentenceStart(str):
    """The first token of a sentence inside a joined piece: a ``str`` equal to the token, whose
    type tells a model that marks sentence starts (``mark_sentence_starts``) where it begins."""

    __slots__ = ()


def join(sentences: Sequence[Sequence[str]], pieces: Sequence[Sequence[int]]) -> list[list[str]]:
    """The token sequence of each piece: its sentences' tokens, in order, each sentence's first
    token wrapped as a ``SentenceStart``."""
    return [[token for index in piece for token in _marked(sentences[index])] for piece in pieces]


def _marked(sentence: Sequence[str]) -> list[str]:
    return [SentenceStart(sentence[0]), *sentence[1:]] if sentence else []
