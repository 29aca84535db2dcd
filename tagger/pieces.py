"""Pieces: the token sequences the network reads, cut from a caller's sentences, and back.

A model with document context reads consecutive sentences of a document as one piece (up to
its context budget); a sentence longer than a window is read in consecutive windows. The
``Layout`` remembers where each sentence's tokens went, so that tags come back per sentence;
``batches`` groups pieces of similar length under a padded-token cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagger import context
from tagger.types import TaskTags

MAX_PIECE_TOKENS = 256  # longer sentences are tagged in consecutive windows of this size
# Padded tokens per batch: bigger batches of long sequences (document pieces) spill out of the
# CPU caches; 16-32 pieces of 256 tokens were fastest (CoNLL-2003 test, one thread).
MAX_BATCH_TOKENS = 8192

Segment = tuple[int, int, int]  # (piece, start, end): a run of one sentence's tokens in a piece


@dataclass(frozen=True, slots=True)
class Layout:
    """The pieces to tag and, per input sentence, the segments of pieces that hold its tokens
    (none for an empty sentence)."""

    pieces: list[list[str]]
    segments: list[list[Segment]]

    @property
    def tokens(self) -> int:
        return sum(len(piece) for piece in self.pieces)

    def sentence_tags(
        self, piece_tags: Sequence[dict[str, TaskTags]], tasks: Sequence[str]
    ) -> list[dict[str, TaskTags]]:
        """Each sentence's tags, cut from (or joined across) the tags of its pieces."""
        if len(piece_tags) != len(self.pieces):
            raise ValueError(f"{len(piece_tags)} tag results for {len(self.pieces)} pieces")
        out = []
        for segments in self.segments:
            if len(segments) == 1 and _whole(segments[0], self.pieces):
                out.append(dict(piece_tags[segments[0][0]]))  # the common case: no copying
                continue
            tags = {}
            for task in tasks:
                labels: list[str] = []
                scores: list[float] = []
                for piece, start, end in segments:
                    labels += piece_tags[piece][task].labels[start:end]
                    scores += piece_tags[piece][task].scores[start:end]
                tags[task] = TaskTags(labels, scores)
            out.append(tags)
        return out


def _whole(segment: Segment, pieces: list[list[str]]) -> bool:
    piece, start, end = segment
    return start == 0 and end == len(pieces[piece])


def lay_out(
    sentences: Sequence[Sequence[str]],
    doc_ids: Sequence[int] | None = None,
    context_tokens: int = 0,
    window: int | None = None,
) -> Layout:
    """Pieces for ``sentences``: with ``context_tokens`` and ``doc_ids``, consecutive sentences
    of a document joined up to that many tokens (``context.pack``); every piece at most
    ``window`` tokens (default ``MAX_PIECE_TOKENS``). Empty sentences take no place in any
    piece."""
    window = window or MAX_PIECE_TOKENS
    if window < 1:
        raise ValueError(f"the window must be at least 1 token, got {window}")
    if doc_ids is not None and len(doc_ids) != len(sentences):
        raise ValueError(f"{len(sentences)} sentences but {len(doc_ids)} document ids")
    present = [i for i, sentence in enumerate(sentences) if sentence]
    if context_tokens and doc_ids is not None:
        groups = context.pack(
            [len(sentences[i]) for i in present], [doc_ids[i] for i in present], context_tokens
        )
        groups = [[present[g] for g in group] for group in groups]
    else:
        groups = [[i] for i in present]
    pieces: list[list[str]] = []
    segments: list[list[Segment]] = [[] for _ in sentences]
    for group in groups:
        tokens = (
            context.join(sentences, [group])[0] if len(group) > 1 else list(sentences[group[0]])
        )
        first_piece = len(pieces)
        pieces += [tokens[start : start + window] for start in range(0, len(tokens), window)]
        offset = 0
        for index in group:
            end = offset + len(sentences[index])
            segments[index] = _segments(offset, end, first_piece, window)
            offset = end
    return Layout(pieces, segments)


def _segments(start: int, end: int, first_piece: int, window: int) -> list[Segment]:
    """The windows that tokens ``start:end`` of a joined group fall into, as segments."""
    out = []
    while start < end:
        piece, at = divmod(start, window)
        stop = min(end, (piece + 1) * window)
        out.append((first_piece + piece, at, at + stop - start))
        start = stop
    return out


def batches(
    lengths: Sequence[int], size: int, max_tokens: int = MAX_BATCH_TOKENS
) -> list[list[int]]:
    """Indices of pieces, sorted by length, in runs of at most ``size`` pieces and
    ``max_tokens`` (default ``MAX_BATCH_TOKENS``) padded tokens each (one piece at least):
    little padding, cache-sized."""
    max_tokens = max_tokens or MAX_BATCH_TOKENS
    if size < 1:
        raise ValueError(f"the batch size must be at least 1, got {size}")
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    out: list[list[int]] = []
    for index in order:
        last = out[-1] if out else None
        if last is None or len(last) >= size or (len(last) + 1) * lengths[index] > max_tokens:
            out.append([index])
        else:
            last.append(index)
    return out
