"""Where models live: the files of a model directory and the places of the shipped models.

Kept free of torch so that what only needs paths (the service's settings, the process that
supervises its workers) does not pay torch's import time and memory.
"""

from __future__ import annotations

import os
from pathlib import Path

WEIGHTS, CONFIG, VOCAB, METRICS = "model.safetensors", "config.json", "vocab.json", "metrics.json"
MODEL_NAMES = ("conll03-en", "conll03-pos-chunk", "ud-ewt-upos")


def default_model_dir(name: str = MODEL_NAMES[0]) -> Path:
    """Where a shipped model lives: ``$TAGGER_MODELS_DIR/name`` or the repository's ``models/``."""
    roots = [os.environ.get("TAGGER_MODELS_DIR"), Path(__file__).resolve().parents[1] / "models"]
    for root in roots:
        if root and (Path(root) / name / CONFIG).is_file():
            return Path(root) / name
    return Path(roots[1]) / name  # type: ignore[arg-type]


def shipped_model_dirs() -> list[Path]:
    """The shipped models that are present, the default (CoNLL-2003 NER) model first."""
    return [path for path in map(default_model_dir, MODEL_NAMES) if (path / CONFIG).is_file()]
