"""Export a trained model to ONNX: a complete model directory with ``model.onnx`` in place of
the safetensors weights, that ``Tagger.load`` (and every command) runs without torch.

The graph is written node by node from the network's weights (not traced), so every part is
explicit: embeddings and GloVe vectors, the character CNN, the (bi)RNN of any cell and depth
with ``sequence_lens`` (padding handled in both directions), word memory, the task heads.
Inputs and outputs are documented in ``tagger.onnx_backend``. Needs torch, the ``onnx`` package
and ``onnxruntime`` (for ``int8``): ``pip install 'seqtagger[export]'``.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tagger.errors import TaggerError
from tagger.onnx_backend import CRF_FILE, ONNX_FILE, input_names

OPSET = 17
# torch's gate order -> ONNX's, as chunk indices of torch's stacked weights
GATES = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn": [0]}  # i f g o -> i o f c; r z n -> z r n
OPS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


class ExportError(TaggerError):
    """A model the exporter cannot express, or an export tool that is missing."""


def export_onnx(tagger: Any, out_dir: Path, int8: bool = False) -> Path:
    """Write ``out_dir`` as an ONNX model directory for a torch ``Tagger`` (fp32 weights)."""
    try:
        import onnx
    except ModuleNotFoundError:
        raise ExportError(
            "ONNX export needs the onnx package: pip install 'seqtagger[export]'"
        ) from None
    if tagger.int8:
        raise ExportError("export from fp32 weights: load the model with int8=False")
    state = {k: v.detach().float().numpy() for k, v in tagger.network.state_dict().items()}
    graph = _Graph(state)
    _build(graph, tagger.network.config, list(tagger.task_specs.values()))
    model = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes, "seqtagger", graph.inputs, graph.outputs, graph.initializers
        ),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="seqtagger",
    )
    onnx.checker.check_model(model)
    content = model.SerializeToString()
    if int8:
        content = _quantize(content)
    meta = {**tagger.meta, "inference": {"backend": "onnx", "onnx_int8": int8, "opset": OPSET}}
    crfs = {
        name: {key: value.tolist() for key, value in scores._asdict().items()}
        for name, scores in tagger.backend.crf_scores().items()
    }
    tagger.save_description(
        out_dir, meta, {ONNX_FILE: content, CRF_FILE: json.dumps(crfs).encode()}
    )
    return out_dir


def _quantize(content: bytes) -> bytes:
    """onnxruntime's dynamic int8 quantisation of the matrix products and the LSTM.

    Weights use 7 bits (``reduce_range``): on x86 CPUs without VNNI (AVX2 only) onnxruntime's
    u8 x s8 kernel sums pairs of products in 16 bits, which full-range weights overflow; there
    a random model's int8 labels agreed with fp32 on 74% of tokens instead of over 90%."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ModuleNotFoundError:
        raise ExportError("int8 export needs onnxruntime: pip install 'seqtagger[onnx]'") from None
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # its chatter
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(content)
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            reduce_range=True,
            op_types_to_quantize=["MatMul", "LSTM"],
        )
        return target.read_bytes()


class _Graph:
    """Nodes, inputs, outputs and initializers under construction."""

    def __init__(self, state: dict[str, np.ndarray]) -> None:
        import onnx

        self.helper, self.numpy_helper, self.tensor = (
            onnx.helper,
            onnx.numpy_helper,
            onnx.TensorProto,
        )
        self.state = state
        self.used: set[str] = set()
        self.nodes: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def weight(self, key: str) -> str:
        if key not in self.state:
            raise ExportError(f"the network has no weight {key!r}: this model cannot be exported")
        self.used.add(key)
        return self.const(self.state[key], key.replace(".", "_"))

    def const(self, value: np.ndarray, name: str | None = None) -> str:
        name = name or self.fresh("const")
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def op(self, kind: str, *inputs: str, outputs: int = 1, **attributes: Any) -> Any:
        names = [self.fresh(kind.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(kind, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else names

    def input(self, name: str, dtype: int, shape: list[Any]) -> str:
        self.inputs.append(self.helper.make_tensor_value_info(name, dtype, shape))
        return name

    def output(self, source: str, name: str, shape: list[Any]) -> None:
        self.nodes.append(self.helper.make_node("Identity", [source], [name]))
        self.outputs.append(self.helper.make_tensor_value_info(name, self.tensor.FLOAT, shape))


def _build(g: _Graph, config: Any, tasks: list[Any]) -> None:
    """The whole network, input by input (see ``tagger.onnx_backend`` for the signature)."""
    int64, b_t = g.tensor.INT64, ["batch", "time"]
    names = input_names(config)
    inputs = {"words": g.input("words", int64, b_t)}
    for name in names[1:]:
        if name == "glove_vectors":
            inputs[name] = g.input(name, g.tensor.FLOAT, [*b_t, config.word_dim])
        elif name == "chars":
            inputs[name] = g.input(name, int64, ["distinct", "width"])
        elif name == "lengths":
            inputs[name] = g.input(name, g.tensor.INT32, ["batch"])
        else:
            inputs[name] = g.input(name, int64, b_t)
    parts = [g.op("Gather", g.weight("embedder.words.weight"), inputs["words"])]  # [B, T, D]
    if config.use_glove:
        parts[0] = g.op("Add", parts[0], inputs["glove_vectors"])
    if config.char_encoder == "cnn":
        parts.append(_char_cnn(g, config, inputs["chars"], inputs["token_index"]))
    for feature, key in (
        ("casing", "casing"),
        ("sentence_case", "sentence_case"),
        ("case_prior", "case_prior"),
    ):
        if feature in inputs:
            parts.append(g.op("Gather", g.weight(f"embedder.{key}.weight"), inputs[feature]))
    x = g.op("Concat", *parts, axis=2) if len(parts) > 1 else parts[0]  # [B, T, E]
    h = _rnn(g, config, x, inputs["lengths"])  # [B, T, H]
    if config.word_memory:
        h = g.op("Concat", h, _word_memory(g, h, inputs["word_keys"]), axis=2)  # [B, T, 2H]
    for task in tasks:
        weight = g.const(g.state[f"heads.{task.name}.weight"].T.copy())  # [H, K]
        g.used.add(f"heads.{task.name}.weight")
        logits = g.op("Add", g.op("MatMul", h, weight), g.weight(f"heads.{task.name}.bias"))
        g.output(logits, f"emissions_{task.name}", [*b_t, len(task.labels)])
    unused = sorted(k for k in g.state if k not in g.used and not k.startswith("crfs."))
    if unused:
        raise ExportError(
            f"the exporter does not know the weights {unused}: cannot export this model"
        )


def _char_cnn(g: _Graph, config: Any, chars: str, token_index: str) -> str:
    """Character embeddings, a convolution over each word, max over its characters: [B, T, F]."""
    kernel = config.char_kernel
    # Padded with the padding character, not with zero vectors: the network reads the padding
    # row's embedding (trained, not zero) wherever a window reaches past a word's ends.
    pads = g.const(np.array([0, kernel // 2, 0, kernel - 1 - kernel // 2], dtype=np.int64))
    padded = g.op("Pad", chars, pads)  # [U, W + k - 1], 0 = the padding character
    embedded = g.op("Gather", g.weight("embedder.chars.embed.weight"), padded)  # [U, W+k-1, C]
    channels = g.op("Transpose", embedded, perm=[0, 2, 1])  # [U, C, W + k - 1]
    weight, bias = g.weight("embedder.chars.conv.weight"), g.weight("embedder.chars.conv.bias")
    conv = g.op("Conv", channels, weight, bias)  # [U, F, W]
    padding = g.op(
        "Cast", g.op("Equal", chars, g.const(np.array(0, dtype=np.int64))), to=g.tensor.FLOAT
    )
    penalty = g.op(
        "Unsqueeze",
        g.op("Mul", padding, g.const(np.array(-1e4, np.float32))),
        g.const(np.array([1])),
    )
    pooled = g.op("ReduceMax", g.op("Add", conv, penalty), axes=[2], keepdims=0)  # [U, F]
    return g.op("Gather", pooled, token_index)  # [B, T, F]


def _rnn(g: _Graph, config: Any, x: str, lengths: str) -> str:
    """The stacked (bi)RNN over [B, T, E] with sequence lengths -> [B, T, dirs * H]."""
    cell, hidden = config.cell, config.hidden_size
    suffixes = ["", "_reverse"] if config.bidirectional else [""]
    steps = g.op("Transpose", x, perm=[1, 0, 2])  # [T, B, E]
    for layer in range(config.num_layers):
        w, r, b = [], [], []
        for suffix in suffixes:
            w.append(_gates(g.state[f"rnn.weight_ih_l{layer}{suffix}"], cell))  # [G*H, in]
            r.append(_gates(g.state[f"rnn.weight_hh_l{layer}{suffix}"], cell))  # [G*H, H]
            b.append(np.concatenate([
                _gates(g.state[f"rnn.bias_ih_l{layer}{suffix}"], cell),
                _gates(g.state[f"rnn.bias_hh_l{layer}{suffix}"], cell),
            ]))  # fmt: skip
            g.used.update(
                f"rnn.{kind}_l{layer}{suffix}"
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
        attributes: dict[str, Any] = {
            "hidden_size": hidden,
            "direction": "bidirectional" if config.bidirectional else "forward",
        }
        if cell == "gru":
            attributes["linear_before_reset"] = 1
        if cell == "rnn":
            attributes["activations"] = ["Tanh"] * len(suffixes)
        weights = [g.const(np.stack(stack)) for stack in (w, r, b)]
        y = g.op(OPS[cell], steps, *weights, lengths, **attributes)  # [T, dirs, B, H]
        steps = g.op(
            "Reshape", g.op("Transpose", y, perm=[0, 2, 1, 3]), g.const(np.array([0, 0, -1]))
        )
    return g.op("Transpose", steps, perm=[1, 0, 2])  # [B, T, dirs * H]


def _gates(weight: np.ndarray, cell: str) -> np.ndarray:
    """torch's stacked gate weights in ONNX's gate order."""
    chunks = np.split(weight, len(GATES[cell]), axis=0)
    return np.concatenate([chunks[i] for i in GATES[cell]], axis=0)


def _word_memory(g: _Graph, h: str, keys: str) -> str:
    """Per token, the mean encoding of the same word at its other places: [B, T, H]."""
    same = g.op(
        "Cast",
        g.op(
            "Equal",
            g.op("Unsqueeze", keys, g.const(np.array([2]))),
            g.op("Unsqueeze", keys, g.const(np.array([1]))),
        ),
        to=g.tensor.FLOAT,
    )  # [B, T, T]
    sums = g.op("MatMul", same, h)  # [B, T, H]
    others = g.op(
        "Sub",
        g.op("ReduceSum", same, g.const(np.array([2])), keepdims=1),
        g.const(np.array(1, np.float32)),
    )
    return g.op(
        "Div", g.op("Sub", sums, h), g.op("Max", others, g.const(np.array(1, np.float32)))
    )  # [B, T, H]
