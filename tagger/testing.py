"""Small randomly initialised taggers for tests and examples: no training, no trained model."""

from __future__ import annotations

from typing import Any

import torch

from tagger.config import ModelConfig, TaskSpec
from tagger.predict import Tagger
from tagger.schemes import Scheme, is_span_tagging
from tagger.vocab import Vocabulary

WORDS = ["the", "apple", "is", "a", "company", "i", "like"]
CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?"
SMALL = {"hidden_size": 16, "char_filters": 8, "char_dim": 8}


def random_tagger(
    tasks: dict[str, list[str]],
    seed: int = 0,
    use_glove: bool = False,
    name: str = "random",
    **config: Any,
) -> Tagger:
    """A small random tagger with a toy vocabulary. ``tasks`` maps each task to its labels
    (span tasks in IOB2, answered in IOB2); keyword arguments set ``ModelConfig`` fields
    (e.g. ``context_tokens=12``)."""
    torch.manual_seed(seed)
    specs = [
        TaskSpec.span(task, labels, Scheme.IOB2)
        if is_span_tagging(labels) and any(label != "O" for label in labels)
        else TaskSpec(name=task, labels=list(dict.fromkeys(labels)))
        for task, labels in tasks.items()
    ]
    model_config = ModelConfig(**{**SMALL, "use_glove": use_glove, **config})
    meta = {"name": name, "version": "0"}
    return Tagger.create(model_config, specs, Vocabulary(WORDS), Vocabulary(CHARS), meta)
