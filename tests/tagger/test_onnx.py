"""ONNX export: the graph gives the torch network's emissions (fp32 within 1e-4) and labels for
every cell type, depth and feature, with padding; the exported directory runs without torch;
bad exports and bad graphs give one clear error."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tagger import Tagger
from tagger.modelfile import ModelFileError
from tagger.onnx_backend import ONNX_FILE
from tagger.onnx_export import export_onnx
from tagger.testing import random_tagger
from tests.training.conftest import synthetic_sentences

NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
TASKS = {"ner": NER, "pos": ["NN", "VB", "DT", "."]}
ROOT = Path(__file__).resolve().parents[2]


def varied_sentences(count: int, seed: int) -> list[list[str]]:
    """Sentences of very different lengths (1 to 300 tokens), cased and re-cased."""
    rng = random.Random(seed)
    words = [
        "The",
        "apple",
        "Apple",
        "APPLE",
        "is",
        "a",
        "company",
        "in",
        "Paris",
        ".",
        "42",
        "ÉTÉ",
    ]
    lengths = [1, 2, 3, 7, 15, 40, 120, 300]
    return [[rng.choice(words) for _ in range(rng.choice(lengths))] for _ in range(count)]


def exported(tmp_path: Path, tagger: Tagger, int8: bool = False) -> Tagger:
    tagger.save(tmp_path / "torch")
    export_onnx(Tagger.load(tmp_path / "torch", int8=False), tmp_path / "onnx", int8=int8)
    return Tagger.load(tmp_path / "onnx")


def assert_same_emissions(torch_tagger: Tagger, onnx_tagger: Tagger, sentences: Any) -> None:
    arrays = torch_tagger.featurizer.arrays(sentences)
    tasks = torch_tagger.tasks
    ours, theirs = (t.backend.emissions(arrays, tasks) for t in (torch_tagger, onnx_tagger))
    for task in tasks:
        gap = np.abs(ours[task] - theirs[task])[arrays.mask].max()
        assert gap < 1e-4, (task, gap)


def labels(results: list[dict[str, Any]]) -> list[dict[str, list[str]]]:
    return [{task: tags.labels for task, tags in result.items()} for result in results]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_every_cell_and_depth(tmp_path: Path, cell: str, layers: int, bidirectional: bool) -> None:
    model = random_tagger(
        TASKS, seed=layers, cell=cell, num_layers=layers, bidirectional=bidirectional
    )
    onnx_model = exported(tmp_path, model)
    assert onnx_model.backend.name == "onnx"
    sentences = varied_sentences(24, seed=7)
    for batch in (sentences, sentences[:1], sentences[5:9]):  # one padding layout each
        assert_same_emissions(model, onnx_model, batch)
    assert labels(onnx_model.predict(sentences)) == labels(model.predict(sentences))


@pytest.mark.parametrize(
    "features",
    [
        {"word_memory": True, "context_tokens": 40},
        {"sentence_casing_dim": 4, "truecase_words": True, "mark_sentence_starts": True},
        {"sentence_casing_dim": 4, "truecase_words": True, "first_word_style": True},
        {"case_prior_dim": 3},
        {"casing_dim": 0, "char_encoder": "none"},
        {"lowercase_words": True, "char_kernel": 5},
    ],
)
def test_every_feature(tmp_path: Path, features: dict[str, Any]) -> None:
    model = random_tagger(TASKS, seed=4, **features)
    if features.get("case_prior_dim"):
        model.case_prior.update({"apple": 2, "paris": 6})
        model.featurizer.case_prior = model.case_prior
    onnx_model = exported(tmp_path, model)
    sentences = varied_sentences(20, seed=3)
    assert_same_emissions(model, onnx_model, sentences)
    doc_ids = [i // 4 for i in range(len(sentences))]
    assert labels(onnx_model.predict(sentences, doc_ids=doc_ids)) == labels(
        model.predict(sentences, doc_ids=doc_ids)
    )
    text = "The Apple is a company in Paris. Apple is in Paris!"
    assert onnx_model.tag(text).entities == model.tag(text).entities


@pytest.mark.parametrize("kernel", [3, 5])
def test_the_trained_character_padding_row_is_read_at_word_ends(
    tmp_path: Path, kernel: int
) -> None:
    import torch

    model = random_tagger(TASKS, seed=6, char_kernel=kernel)
    with torch.no_grad():  # training moves the padding row (the table lookups bypass padding_idx)
        model.network.embedder.chars.embed.weight[0].normal_()
    onnx_model = exported(tmp_path, model)
    assert_same_emissions(model, onnx_model, varied_sentences(20, seed=5))


def test_glove_vectors_come_from_the_memory_mapped_table(tmp_path: Path) -> None:
    model = random_tagger(TASKS, seed=5, use_glove=True)
    onnx_model = exported(tmp_path, model)
    sentences = [["the", "zebra", "qwzxvbnmlkj", "Paris"], ["apple"]]
    assert_same_emissions(model, onnx_model, sentences)
    assert (tmp_path / "onnx" / ONNX_FILE).stat().st_size < 2_000_000  # the table is not inside


def test_the_exported_directory_is_a_complete_model_directory(tmp_path: Path) -> None:
    model = random_tagger(TASKS, seed=2)
    model.metrics = {"test": {"ner": {"f1": 12.5}}}
    onnx_model = exported(tmp_path, model)
    names = sorted(p.name for p in (tmp_path / "onnx").iterdir())
    assert names == ["config.json", "crf.json", "metrics.json", "model.onnx", "vocab.json"]
    config = json.loads((tmp_path / "onnx" / "config.json").read_text())
    assert config["inference"] == {"backend": "onnx", "onnx_int8": False, "opset": 17}
    assert onnx_model.metrics == model.metrics and onnx_model.labels == model.labels
    assert Tagger.load(tmp_path / "onnx", backend="onnx").backend.name == "onnx"
    with pytest.raises(ModelFileError, match="model.safetensors is missing"):
        Tagger.load(tmp_path / "onnx", backend="torch")


def test_int8_export_keeps_labels_close(tmp_path: Path) -> None:
    model = random_tagger(TASKS, seed=6)
    onnx_model = exported(tmp_path, model, int8=True)
    assert onnx_model.int8
    sentences = varied_sentences(40, seed=9)
    ours = labels(model.predict(sentences))
    theirs = labels(onnx_model.predict(sentences))
    agree = sum(
        a == b
        for x, y in zip(ours, theirs, strict=True)
        for t in x
        for a, b in zip(x[t], y[t], strict=True)
    )
    total = sum(len(x[t]) for x in ours for t in x)
    assert agree / total > 0.9


def test_a_graph_whose_inputs_do_not_match_the_config_is_refused(tmp_path: Path) -> None:
    exported(tmp_path, random_tagger(TASKS, seed=1))
    other = tmp_path / "other"
    random_tagger(TASKS, seed=1, word_memory=True).save(other / "torch")
    export_onnx(Tagger.load(other / "torch"), other / "onnx")
    (tmp_path / "onnx" / ONNX_FILE).write_bytes((other / "onnx" / ONNX_FILE).read_bytes())
    with pytest.raises(ModelFileError, match="do not match the config"):
        Tagger.load(tmp_path / "onnx")
    (tmp_path / "onnx" / ONNX_FILE).write_bytes(b"not a graph")
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        Tagger.load(tmp_path / "onnx")


def test_export_command_and_its_errors(tmp_path: Path) -> None:
    random_tagger({"ner": [*NER, "B-MISC", "I-MISC"]}, seed=1).save(tmp_path / "m")
    tagger = [sys.executable, "-m", "tagger"]
    ok = subprocess.run([*tagger, "export", str(tmp_path / "m"), "-o", str(tmp_path / "x")],
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "exported" in ok.stdout and (tmp_path / "x" / ONNX_FILE).is_file()
    bad = subprocess.run([*tagger, "export", str(tmp_path / "missing"), "-o", str(tmp_path / "y")],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert (
        bad.returncode == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    )
    gold = str(ROOT / "tests/fixtures/mini.conll")
    evaluate = subprocess.run(
        [*tagger, "evaluate", gold, "--model", str(tmp_path / "x"), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert evaluate.returncode == 0, evaluate.stderr
    assert "ner" in json.loads(evaluate.stdout)


NO_TORCH = """
import importlib.abc, sys
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("torch is blocked in this test", name=name)
        return None
sys.meta_path.insert(0, NoTorch())
if sys.argv[1] == "--cli":
    from tagger.cli import main
    sys.argv = ["tagger", *sys.argv[2:]]
    main()
from fastapi.testclient import TestClient
from service.main import create_app
from service.settings import Settings
from tagger import Tagger
tagger = Tagger.load(sys.argv[1])
assert [(e.text, e.label) for e in tagger.tag(sys.argv[2]).entities] is not None
app = create_app(Settings(models=[sys.argv[1]]), taggers=[tagger])
with TestClient(app) as client:
    answer = client.post("/v1/tag", json={"text": sys.argv[2]})
    assert answer.status_code == 200, answer.text
print("torch" in sys.modules)
"""


def test_an_exported_model_loads_and_serves_without_torch(tmp_path: Path) -> None:
    exported(tmp_path, random_tagger(TASKS, seed=3, word_memory=True, context_tokens=20))
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(tmp_path / "onnx"), "The Apple is a company."],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "False"


def test_a_torch_model_without_torch_is_one_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("Apple NNP B-NP B-ORG\n\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "--cli", "evaluate", str(gold)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    assert "needs torch: pip install torch==2.13.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_shipped_default_model_exports_with_the_same_labels(tmp_path: Path) -> None:
    export_onnx(Tagger.load(int8=False), tmp_path / "default")
    onnx_model, torch_model = Tagger.load(tmp_path / "default"), Tagger.load(int8=False)
    rows = synthetic_sentences(300, seed=11)
    sentences = [[row[0] for row in sentence] for sentence in rows]
    doc_ids = [i // 10 for i in range(len(sentences))]
    ours = labels(torch_model.predict(sentences, doc_ids=doc_ids))
    assert labels(onnx_model.predict(sentences, doc_ids=doc_ids)) == ours
    assert_same_emissions(torch_model, onnx_model, sentences[:64])


def test_weights_the_exporter_does_not_know_are_refused(tmp_path: Path) -> None:
    from torch import nn

    from tagger.onnx_export import ExportError

    model = random_tagger(TASKS, seed=1)
    model.network.extra = nn.Linear(2, 2)  # a part no graph node reads
    with pytest.raises(ExportError, match="does not know the weights"):
        export_onnx(model, tmp_path / "x")


NO_ONNXRUNTIME = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "onnxruntime":
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
from tagger.cli import main
sys.argv = ["tagger", "evaluate", sys.argv[1], "--model", sys.argv[2]]
main()
"""


def test_a_missing_onnxruntime_is_one_line(tmp_path: Path) -> None:
    exported(tmp_path, random_tagger({"ner": [*NER, "B-MISC", "I-MISC"]}, seed=1))
    gold = str(ROOT / "tests/fixtures/mini.conll")
    result = subprocess.run(
        [sys.executable, "-c", NO_ONNXRUNTIME, gold, str(tmp_path / "onnx")],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 1
    assert "an ONNX model needs onnxruntime" in result.stderr and "Traceback" not in result.stderr
