"""Model directories: weights in safetensors (or an ONNX graph), everything else in JSON;
nothing is unpickled. Reading a directory's description needs no torch; its weights do."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tagger.atomic import clean_staging, replace_directory
from tagger.config import ModelConfig, TaskSpec
from tagger.errors import TaggerError
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
# Keys of config.json that ``ModelFile`` holds in fields of their own (not in ``meta``).
_STRUCTURE_KEYS = frozenset({"model", "tasks", "format_version"})


class ModelFileError(TaggerError, RuntimeError):
    """A model directory that is missing, incomplete or corrupt."""


@dataclass(frozen=True, slots=True)
class ModelFile:
    """The parts of a model directory: architecture, tasks, vocabularies, weights, and the
    description (name, version, training data, GloVe fingerprint...) and metrics beside them."""

    config: ModelConfig
    tasks: list[TaskSpec]
    words: list[str]
    chars: list[str]
    state: dict[str, Any]  # name -> torch tensor (empty when only the description was read)
    meta: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    case_prior: dict[str, int] = field(default_factory=dict)  # word -> tagger.casing.CasePrior


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model_dir(
    path: str | Path, model: ModelFile, extra_files: dict[str, bytes] | None = None
) -> None:
    """Write a model directory atomically: a complete staging directory takes the place of the
    old one in one step (``tagger.atomic``); leftovers of a killed earlier save are removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_staging(path)
    meta = {k: v for k, v in model.meta.items() if k not in _STRUCTURE_KEYS}
    config = {
        "format_version": FORMAT_VERSION,
        **meta,
        "model": model.config.model_dump(mode="json"),
        "tasks": [task.model_dump(mode="json") for task in model.tasks],
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        if model.state:
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in model.state.items()}, staging / WEIGHTS)
        for name, content in (extra_files or {}).items():
            (staging / name).write_bytes(content)
        write_json(staging / CONFIG, config)
        vocab: dict[str, Any] = {"words": model.words, "chars": model.chars}
        if model.case_prior:
            vocab["case_prior"] = model.case_prior
        write_json(staging / VOCAB, vocab)
        write_json(staging / METRICS, model.metrics)
        # mkdtemp makes a private directory; a model is meant to be read by others (e.g. the
        # non-root user of the Docker image), so give it ordinary permissions.
        staging.chmod(0o755)
        for file in staging.iterdir():
            file.chmod(0o644)
        replace_directory(staging, path)
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


def load_model_dir(path: str | Path, weights: bool = True) -> ModelFile:
    """Read and check a model directory: config (parsed), vocab, metrics and (``weights``)
    the safetensors weights."""
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
        case_prior = {str(k): int(v) for k, v in vocab.get("case_prior", {}).items()}
    except (KeyError, TypeError, AttributeError, ValueError, ValidationError) as error:
        raise ModelFileError(f"{path}: invalid model description ({error})") from None
    if not isinstance(metrics, dict):
        raise ModelFileError(f"{path / METRICS}: expected a JSON object")
    check_glove(path, model_config, config.get("glove"))
    state = load_weights(path) if weights else {}
    meta = {k: v for k, v in config.items() if k not in _STRUCTURE_KEYS}
    return ModelFile(model_config, tasks, words, chars, state, meta, metrics, case_prior)


def load_weights(path: Path) -> dict[str, Any]:
    """The safetensors weights of a model directory, as torch tensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not (path / WEIGHTS).is_file():
        raise ModelFileError(f"{path}: incomplete model directory, {WEIGHTS} is missing")
    try:
        return load_file(path / WEIGHTS)
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelFileError(f"{path / WEIGHTS}: corrupt weights ({error})") from None


def check_glove(path: Path, config: ModelConfig, recorded: Any) -> None:
    """A model that uses GloVe must have been trained with the vectors installed here."""
    if recorded is None:
        return
    if not isinstance(recorded, dict):
        raise ModelFileError(f"{path}: invalid model description ('glove' is not an object)")
    from tagger.glove import glove_fingerprint

    sha = recorded.get("sha256")
    if config.use_glove and sha and sha != glove_fingerprint():
        raise ModelFileError(f"{path}: trained with different GloVe vectors than installed")
