"""Where models live: the files of a model directory and the places of the shipped models.

Kept free of torch so that what only needs paths (the service's settings, the process that
supervises its workers) does not pay torch's import time and memory.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

WEIGHTS, CONFIG, VOCAB, METRICS = "model.safetensors", "config.json", "vocab.json", "metrics.json"
MODEL_NAMES = ("conll03-en", "conll03-pos-chunk", "ud-ewt-upos")


def shipped_models_root() -> Path:
    """The installed package ``seqtagger_models`` (the repository's ``models/``)."""
    spec = importlib.util.find_spec("seqtagger_models")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[1] / "models"  # a checkout that is not installed


def default_model_dir(name: str = MODEL_NAMES[0]) -> Path:
    """Where a shipped model lives: ``$TAGGER_MODELS_DIR/name`` or the installed models."""
    override = os.environ.get("TAGGER_MODELS_DIR")
    if override and (Path(override) / name / CONFIG).is_file():
        return Path(override) / name
    return shipped_models_root() / name


def shipped_model_dirs() -> list[Path]:
    """The shipped models that are present, the default (CoNLL-2003 NER) model first."""
    return [path for path in map(default_model_dir, MODEL_NAMES) if (path / CONFIG).is_file()]
