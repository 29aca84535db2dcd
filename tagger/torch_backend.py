"""The PyTorch backend: the network itself (what training builds and model.safetensors holds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tagger.config import ModelConfig, TaskSpec
from tagger.decoding import CRFScores
from tagger.features import Arrays, to_tensors
from tagger.glove import glove_mapped, glove_table
from tagger.model import SequenceTagger
from tagger.modelfile import ModelFile, ModelFileError, load_weights
from tagger.quantize import quantize_rnn


class TorchBackend:
    """Emissions from a ``SequenceTagger`` (fp32, or with an int8 recurrent layer)."""

    name = "torch"

    def __init__(self, network: SequenceTagger) -> None:
        self.network = network.eval()
        self.int8 = False  # True once the recurrent layer runs quantised (then it cannot be saved)

    @property
    def config(self) -> ModelConfig:
        return self.network.config

    @property
    def tasks(self) -> list[TaskSpec]:
        return list(self.network.tasks.values())

    @classmethod
    def create(
        cls, config: ModelConfig, tasks: list[TaskSpec], words: int, chars: int
    ) -> TorchBackend:
        """A new, untrained network (GloVe loaded from its package when the config asks)."""
        glove = glove_table() if config.use_glove else None
        return cls(SequenceTagger(config, tasks, words, chars, glove))

    @classmethod
    def load(cls, path: Path, model: ModelFile, int8: bool) -> TorchBackend:
        """The network of a model directory, from its weights; GloVe is the shared, read-only
        file mapping (a network to train gets its own copy, ``create``)."""
        glove = glove_mapped() if model.config.use_glove else None
        try:
            network = SequenceTagger(
                model.config, model.tasks, len(model.words), len(model.chars), glove
            )
        except ValueError as error:  # e.g. a task without labels, or labels not in its scheme
            raise ModelFileError(f"{path}: invalid model description ({error})") from None
        try:
            network.load_state_dict(load_weights(path), strict=True)
        except RuntimeError as error:
            raise ModelFileError(f"{path}: weights do not match the config ({error})") from None
        backend = cls(network)
        if int8:
            backend.int8 = quantize_rnn(network)
        return backend

    def emissions(self, arrays: Arrays, tasks: list[str]) -> dict[str, np.ndarray]:
        """Per-task label scores [B, T, K] of one batch."""
        with torch.inference_mode():
            scores = self.network.emissions(to_tensors(arrays), tasks)
        return {name: value.numpy() for name, value in scores.items()}

    def crf_scores(self) -> dict[str, CRFScores]:
        """The constrained scores of each CRF task."""
        return {name: self.network.crf(name).numpy_scores() for name in self.network.crfs}

    def state_dict(self) -> dict[str, torch.Tensor]:
        if self.int8:
            raise ValueError("an int8-quantised tagger cannot be saved: load it with int8=False")
        return self.network.state_dict()
