"""Model directories: weights in safetensors, everything else in JSON; nothing is unpickled."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from tagger.config import ModelConfig, TaskSpec
from tagger.locations import (  # noqa: F401 (re-exported: part of this module's interface)
    CONFIG,
    METRICS,
    MODEL_NAMES,
    VOCAB,
    WEIGHTS,
    default_model_dir,
    shipped_model_dirs,
)

FORMAT_VERSION = 1


class ModelFileError(RuntimeError):
    """A model directory that is missing, incomplete or corrupt."""


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment_versions() -> dict[str, str]:
    """Versions worth recording next to a model."""
    import numpy

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }


def save_model_dir(
    path: str | Path,
    state: dict[str, torch.Tensor],
    config: dict[str, Any],
    vocab: dict[str, list[str]],
    metrics: dict[str, Any] | None = None,
) -> None:
    """Write a model directory atomically (a temp directory renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        save_file({k: v.contiguous() for k, v in state.items()}, staging / WEIGHTS)
        write_json(staging / CONFIG, {"format_version": FORMAT_VERSION, **config})
        write_json(staging / VOCAB, vocab)
        write_json(staging / METRICS, metrics or {})
        # mkdtemp makes a private directory; a model is meant to be read by others (e.g. the
        # non-root user of the Docker image), so give it ordinary permissions.
        staging.chmod(0o755)
        for file in staging.iterdir():
            file.chmod(0o644)
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    """Pretty JSON, UTF-8, trailing newline."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    """Read JSON with an error naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(
            f"{path.parent}: incomplete model directory, {path.name} is missing"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: corrupt JSON ({error})") from None


def load_model_dir(path: str | Path) -> dict[str, Any]:
    """Read and check a model directory: weights, config (parsed), vocab and metrics."""
    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model directory")
    config = read_json(path / CONFIG)
    vocab = read_json(path / VOCAB)
    metrics = read_json(path / METRICS) if (path / METRICS).exists() else {}
    if not isinstance(config, dict):
        raise ModelFileError(
            f"{path / CONFIG}: expected a JSON object, got {type(config).__name__}"
        )
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path / CONFIG}: unsupported model format {config.get('format_version')!r}"
        )
    try:
        model_config = ModelConfig(**config["model"])
        tasks = [TaskSpec(**t) for t in config["tasks"]]
        words, chars = list(vocab["words"]), list(vocab["chars"])
    except (KeyError, TypeError, ValidationError) as error:
        raise ModelFileError(f"{path}: invalid model description ({error})") from None
    if not (path / WEIGHTS).is_file():
        raise ModelFileError(f"{path}: incomplete model directory, {WEIGHTS} is missing")
    try:
        state = load_file(path / WEIGHTS)
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelFileError(f"{path / WEIGHTS}: corrupt weights ({error})") from None
    return {
        "meta": config,
        "model": model_config,
        "tasks": tasks,
        "words": words,
        "chars": chars,
        "state": state,
        "metrics": metrics,
    }
