"""Training batches: each epoch's sequences (sentences, or runs of a document's sentences when
the model reads context), shuffled and grouped by length, and their gold labels as tensors."""

from __future__ import annotations

import random

import torch

from tagger import context

Example = tuple[list[str], dict[str, list[int]], int]  # tokens, gold ids per task, sentences


def make_examples(
    sentences: list[list[str]],
    gold: list[dict[str, list[int]]],
    doc_ids: list[int],
    context_tokens: int,
    seed: int,
) -> list[Example]:
    """This epoch's training sequences: single sentences, or (with document context) runs of
    consecutive sentences of a document, cut at fresh random lengths every epoch."""
    if context_tokens == 0:
        return [(tokens, g, 1) for tokens, g in zip(sentences, gold, strict=True)]
    rng = random.Random(f"pack-{seed}")
    groups = context.pack([len(tokens) for tokens in sentences], doc_ids, context_tokens, rng)
    tokens = context.join(sentences, groups)
    return [
        (
            words,
            {task: [i for index in group for i in gold[index][task]] for task in gold[0]},
            len(group),
        )
        for words, group in zip(tokens, groups, strict=True)
    ]


def make_batches(examples: list[Example], batch_size: int, seed: int) -> list[list[Example]]:
    """Shuffle, group similar lengths (less padding), then shuffle the batches; seeded.

    A batch holds ``batch_size`` sentences, however they were joined into sequences.
    """
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches: list[list[Example]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(examples[i][0]))
        batch: list[Example] = []
        sentences = 0
        for i in chunk:
            batch.append(examples[i])
            sentences += examples[i][2]
            if sentences >= batch_size:
                batches.append(batch)
                batch, sentences = [], 0
        if batch:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


def pad_tags(rows: list[list[int]], length: int) -> torch.Tensor:
    """Label ids padded with 0 to ``length``: [B, T]."""
    out = torch.zeros(len(rows), length, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row)
    return out
