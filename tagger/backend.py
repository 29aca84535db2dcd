"""What runs the network: the torch backend (``model.safetensors``) or the ONNX backend
(``model.onnx``, no torch needed), chosen from a model directory's files or by name."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from tagger.config import ModelConfig, TaskSpec
from tagger.decoding import CRFScores
from tagger.errors import UsageError
from tagger.features import Arrays
from tagger.modelfile import ModelFile, ModelFileError


class Backend(Protocol):
    """What runs the network: ``TorchBackend`` (model.safetensors) or ``OnnxBackend``."""

    name: str
    int8: bool

    @property
    def config(self) -> ModelConfig: ...

    @property
    def tasks(self) -> list[TaskSpec]: ...

    def emissions(self, arrays: Arrays, tasks: list[str]) -> dict[str, np.ndarray]: ...

    def crf_scores(self) -> dict[str, CRFScores]: ...


def load_backend(
    path: Path, model: ModelFile, name: str | None, int8: bool | None, threads: int | None
) -> Backend:
    """The backend of a model directory: ``name`` if given, else ONNX when it has model.onnx.
    ``int8`` (torch) overrides the model's recorded choice; ``threads`` sizes an ONNX session."""
    from tagger.onnx_backend import ONNX_FILE

    chosen = name or ("onnx" if (path / ONNX_FILE).is_file() else "torch")
    if chosen == "onnx":
        from tagger.onnx_backend import OnnxBackend

        return OnnxBackend.load(path, model, threads)
    if chosen == "torch":
        try:
            from tagger.torch_backend import TorchBackend
        except ModuleNotFoundError as error:
            if (error.name or "").split(".")[0] != "torch":
                raise
            raise ModelFileError(
                f"{path}: a torch model (model.safetensors) needs torch: pip install "
                "torch==2.13.0 (or serve its export: tagger export MODEL --output DIR)"
            ) from None

        recorded = model.meta.get("inference", {})
        wanted = int8 if int8 is not None else isinstance(recorded, dict) and recorded.get("int8")
        return TorchBackend.load(path, model, bool(wanted))
    raise UsageError(f"unknown backend {name!r}; expected torch or onnx")
