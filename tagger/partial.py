"""Partial labels: gold tags that leave a token open (any label may stand there) or say only
that it is inside some name (any label but O). Text whose names are known but not their kinds,
such as a treebank's proper nouns, trains a name tagger this way (``training.open_names``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the ids are read without torch (training data); the masks need it
    from torch import Tensor

UNKNOWN = -1  # any label
IN_NAME = -2  # any label but the outside one (O)


def has_partial(tags: Tensor) -> bool:
    """Whether a [B, T] tensor of gold label ids holds a partial label."""
    return bool((tags < 0).any())


def allowed_labels(tags: Tensor, num_labels: int, outside: int | None) -> Tensor:
    """[B, T, K] bool: the labels each gold id allows (itself; all for ``UNKNOWN``; all but
    ``outside`` for ``IN_NAME``, which a task without an outside label cannot take)."""
    import torch

    if bool((tags < IN_NAME).any()) or bool((tags >= num_labels).any()):
        raise ValueError(f"label ids must be in [0, {num_labels}), {UNKNOWN} or {IN_NAME}")
    labels = torch.arange(num_labels)  # [K]
    given = tags.unsqueeze(2)  # [B, T, 1]
    allowed = (given == labels) | (given == UNKNOWN)  # [B, T, K]
    if bool((tags == IN_NAME).any()):
        if outside is None:
            raise ValueError(f"{IN_NAME} (inside a name) needs a task with an outside label")
        allowed |= (given == IN_NAME) & (labels != outside)  # [B, T, K]
    return allowed
