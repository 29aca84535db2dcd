"""The ONNX backend: emissions from ``model.onnx`` under onnxruntime, with no torch at all.

The graph maps the featurizer's arrays to per-task emissions; GloVe vectors are gathered here
from the memory-mapped table (so worker processes share its pages) and fed as an input; CRF
decoding runs in numpy (``tagger.decoding``), as for the torch backend.

Graph inputs (B sequences of at most T tokens, U distinct tokens of W characters):

* ``words`` int64 [B, T]: trainable-vocabulary ids (0 on padding);
* ``glove_vectors`` float32 [B, T, D]: GloVe vectors (zeros for words outside GloVe), when the
  model uses GloVe;
* ``casing`` int64 [B, T]: casing classes, when ``casing_dim`` > 0;
* ``chars`` int64 [U, W] and ``token_index`` int64 [B, T]: the character ids of each distinct
  token and each token's row among them, with the character CNN;
* ``lengths`` int32 [B]: tokens per sequence (padding follows them);
* ``word_keys`` int64 [B, T]: one id per case-folded word form (-1 on padding), with word memory;
* ``sentence_case`` and ``case_prior`` int64 [B, T], with those features.

Outputs: ``emissions_<task>`` float32 [B, T, K_task] for every task, in the config's order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tagger.config import ModelConfig, TaskSpec
from tagger.decoding import CRFScores
from tagger.features import Arrays
from tagger.glove import glove_vectors
from tagger.modelfile import ModelFile, ModelFileError

ONNX_FILE = "model.onnx"
CRF_FILE = "crf.json"  # the constrained CRF scores of each CRF task


def input_names(config: ModelConfig) -> list[str]:
    """The graph inputs a model with this config has, in order."""
    names = ["words"]
    if config.use_glove:
        names.append("glove_vectors")
    if config.casing_dim:
        names.append("casing")
    if config.char_encoder == "cnn":
        names += ["chars", "token_index"]
    names.append("lengths")
    if config.word_memory:
        names.append("word_keys")
    if config.sentence_casing_dim:
        names.append("sentence_case")
    if config.case_prior_dim:
        names.append("case_prior")
    return names


def feeds(arrays: Arrays, config: ModelConfig) -> dict[str, np.ndarray]:
    """The graph's inputs for one batch."""
    values: dict[str, Any] = {
        "words": arrays.words,
        "casing": arrays.casing,
        "chars": arrays.chars,
        "token_index": arrays.token_index,
        "lengths": arrays.mask.sum(axis=1).astype(np.int32),
        "word_keys": arrays.word_keys,
        "sentence_case": arrays.sentence_case,
        "case_prior": arrays.case_prior,
    }
    if config.use_glove:
        values["glove_vectors"] = glove_vectors(arrays.glove)
    return {name: values[name] for name in input_names(config)}


class OnnxBackend:
    """Emissions from an onnxruntime session over an exported model."""

    name = "onnx"
    int8 = False  # int8 is decided at export (recorded as inference.onnx_int8)

    def __init__(
        self, session: Any, config: ModelConfig, tasks: list[TaskSpec], crfs: dict
    ) -> None:
        self.session, self.config, self.tasks, self._crfs = session, config, tasks, crfs

    @classmethod
    def load(cls, path: Path, model: ModelFile, threads: int | None = None) -> OnnxBackend:
        """Open ``model.onnx`` and check that its inputs and outputs match the config."""
        try:
            import onnxruntime
        except ModuleNotFoundError:
            raise ModelFileError(
                f"{path}: an ONNX model needs onnxruntime: pip install 'seqtagger[onnx]'"
            ) from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: onnxruntime's choice (all cores)
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(
                str(path / ONNX_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelFileError(f"{path / ONNX_FILE}: cannot be loaded ({error})") from None
        _check_signature(path, session, model)
        return cls(session, model.config, model.tasks, _read_crfs(path, model.tasks))

    def emissions(self, arrays: Arrays, tasks: list[str]) -> dict[str, np.ndarray]:
        """Per-task label scores [B, T, K] of one batch."""
        outputs = self.session.run([f"emissions_{t}" for t in tasks], feeds(arrays, self.config))
        return dict(zip(tasks, outputs, strict=True))

    def crf_scores(self) -> dict[str, CRFScores]:
        return self._crfs


def _check_signature(path: Path, session: Any, model: ModelFile) -> None:
    """The graph must take exactly the inputs the config implies and give every task's output."""
    expected = input_names(model.config)
    found = [i.name for i in session.get_inputs()]
    if found != expected:
        raise ModelFileError(
            f"{path / ONNX_FILE}: inputs {found} do not match the config (expected {expected})"
        )
    outputs = {o.name for o in session.get_outputs()}
    missing = [t.name for t in model.tasks if f"emissions_{t.name}" not in outputs]
    if missing:
        raise ModelFileError(f"{path / ONNX_FILE}: no emissions output for task(s) {missing}")


def _read_crfs(path: Path, tasks: list[TaskSpec]) -> dict[str, CRFScores]:
    crf_tasks = [t for t in tasks if t.decoder == "crf"]
    if not crf_tasks:
        return {}
    try:
        raw = json.loads((path / CRF_FILE).read_text(encoding="utf-8"))
        return {
            t.name: CRFScores(
                *(
                    np.asarray(raw[t.name][k], dtype=np.float64)
                    for k in ("transitions", "start", "end")
                )
            )
            for t in crf_tasks
        }
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ModelFileError(
            f"{path / CRF_FILE}: missing or invalid CRF scores ({error})"
        ) from None
