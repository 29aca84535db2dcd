"""Model directories: clear ModelFileErrors for every kind of damage, and no unpickling."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from tagger.modelfile import (
    CONFIG,
    FORMAT_VERSION,
    METRICS,
    VOCAB,
    WEIGHTS,
    ModelFileError,
    load_model_dir,
)
from tagger.predict import Tagger
from tagger.testing import random_tagger

TASKS = {"ner": ["O", "B-PER", "I-PER"], "pos": ["NN", "VB"]}
SENTENCES = [["I", "like", "apples"], ["Bob"]]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "original"
    random_tagger(TASKS, seed=3).save(path, metrics={"dev": {"f1": 0.25}})
    return path


@pytest.fixture
def model_dir(original: Path, tmp_path: Path) -> Path:
    """A fresh copy of a saved model directory, free to damage."""
    path = tmp_path / "model"
    path.mkdir()
    for file in original.iterdir():
        (path / file.name).write_bytes(file.read_bytes())
    return path


def edit_config(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    change(config)
    (path / CONFIG).write_text(json.dumps(config), encoding="utf-8")


def load_error(path: Path) -> str:
    """The message of the ModelFileError that loading ``path`` raises (any other type fails)."""
    with pytest.raises(ModelFileError) as caught:
        Tagger.load(path)
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, ModelFileError)
    return str(caught.value)


def test_saved_directory_layout_and_contents(original: Path) -> None:
    assert sorted(p.name for p in original.iterdir()) == sorted([CONFIG, VOCAB, WEIGHTS, METRICS])
    config = json.loads((original / CONFIG).read_text(encoding="utf-8"))
    assert config["format_version"] == FORMAT_VERSION
    assert [t["name"] for t in config["tasks"]] == ["ner", "pos"]
    assert config["model"]["hidden_size"] == 16
    assert json.loads((original / METRICS).read_text(encoding="utf-8")) == {"dev": {"f1": 0.25}}
    vocab = json.loads((original / VOCAB).read_text(encoding="utf-8"))
    assert vocab["words"][:2] == ["<pad>", "<unk>"]
    parts = load_model_dir(original)
    assert "embedder.glove" not in parts.state  # the frozen GloVe table is never saved
    assert set(parts.state) >= {"crfs.ner.transitions", "heads.pos.weight"}


def test_intact_copy_loads(model_dir: Path) -> None:
    """Guards the damage tests: the undamaged copy loads and predicts."""
    loaded = Tagger.load(model_dir)
    assert loaded.predict(SENTENCES) == Tagger.load(model_dir).predict(SENTENCES)
    assert loaded.metrics == {"dev": {"f1": 0.25}}


def test_missing_metrics_file_is_fine(model_dir: Path) -> None:
    (model_dir / METRICS).unlink()
    assert Tagger.load(model_dir).metrics == {}


def test_missing_directory(tmp_path: Path) -> None:
    message = load_error(tmp_path / "nowhere")
    assert "no such model directory" in message and "nowhere" in message


def test_a_file_is_not_a_model_directory(model_dir: Path) -> None:
    assert "no such model directory" in load_error(model_dir / CONFIG)


@pytest.mark.parametrize("name", [CONFIG, VOCAB, WEIGHTS])
def test_missing_file(model_dir: Path, name: str) -> None:
    (model_dir / name).unlink()
    message = load_error(model_dir)
    assert f"{name} is missing" in message and str(model_dir) in message


@pytest.mark.parametrize("name", [CONFIG, VOCAB, METRICS])
@pytest.mark.parametrize("content", [b'{"format_version": 1,', b"", b"\xff\xfe{}", b"nope"])
def test_corrupt_json(model_dir: Path, name: str, content: bytes) -> None:
    (model_dir / name).write_bytes(content)
    message = load_error(model_dir)
    assert "corrupt JSON" in message and name in message


@pytest.mark.parametrize("content", ["[1, 2]", '"model"', "null", "3"])
def test_config_that_is_not_an_object(model_dir: Path, content: str) -> None:
    (model_dir / CONFIG).write_text(content, encoding="utf-8")
    assert CONFIG in load_error(model_dir)


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_unsupported_format_version(model_dir: Path, version: object) -> None:
    edit_config(model_dir, lambda c: c.update(format_version=version))
    assert f"unsupported model format {version!r}" in load_error(model_dir)


def test_missing_format_version(model_dir: Path) -> None:
    edit_config(model_dir, lambda c: c.pop("format_version"))
    assert "unsupported model format None" in load_error(model_dir)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.pop("tasks"),
        lambda c: c.pop("model"),
        lambda c: c["model"].update(cell="transformer"),
        lambda c: c["model"].update(hidden_size=0),
        lambda c: c["model"].update(unknown_option=1),
        lambda c: c.update(tasks=[{"name": "ner"}]),
        lambda c: c.update(tasks="ner"),
    ],
)
def test_invalid_model_description(model_dir: Path, change: Callable[[dict], None]) -> None:
    edit_config(model_dir, change)
    assert "invalid model description" in load_error(model_dir)


@pytest.mark.parametrize("vocab", [{"words": ["<pad>"]}, [], {"words": 3, "chars": []}])
def test_invalid_vocab(model_dir: Path, vocab: object) -> None:
    (model_dir / VOCAB).write_text(json.dumps(vocab), encoding="utf-8")
    assert "invalid model description" in load_error(model_dir)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:5], id="truncated-header"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"\x00" * 64 + data[64:], id="zeroed-header"),
        pytest.param(lambda data: b"garbage " * 100, id="garbage"),
        pytest.param(lambda data: pickle.dumps({"x": 1}), id="pickle"),
    ],
)
def test_corrupt_weights(model_dir: Path, damage: Callable[[bytes], bytes]) -> None:
    weights = model_dir / WEIGHTS
    weights.write_bytes(damage(weights.read_bytes()))
    message = load_error(model_dir)
    assert "corrupt weights" in message and WEIGHTS in message


def test_torch_checkpoint_is_not_accepted_as_weights(model_dir: Path) -> None:
    torch.save({"x": torch.zeros(2)}, model_dir / WEIGHTS)
    assert "corrupt weights" in load_error(model_dir)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["model"].update(hidden_size=17),
        lambda c: c["model"].update(bidirectional=False),
        lambda c: c["model"].update(casing_dim=4),
        lambda c: c["model"].update(cell="gru"),
        lambda c: c["tasks"][1].update(labels=["NN", "VB", "JJ"]),
        lambda c: c["tasks"].pop(),
    ],
)
def test_weights_that_do_not_match_the_config(
    model_dir: Path, change: Callable[[dict], None]
) -> None:
    edit_config(model_dir, change)
    message = load_error(model_dir)
    assert "weights do not match the config" in message and str(model_dir) in message


def test_vocabulary_size_must_match_the_weights(model_dir: Path) -> None:
    vocab = json.loads((model_dir / VOCAB).read_text(encoding="utf-8"))
    vocab["words"].append("extra")
    (model_dir / VOCAB).write_text(json.dumps(vocab), encoding="utf-8")
    assert "weights do not match the config" in load_error(model_dir)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: c["tasks"][1].update(labels=[]), id="no-labels"),
        pytest.param(lambda c: c["tasks"][1].update(scheme="bioes"), id="scheme-of-plain-tags"),
    ],
)
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_tasks_that_cannot_be_built(model_dir: Path, change: Callable[[dict], None]) -> None:
    edit_config(model_dir, change)
    assert "invalid model description" in load_error(model_dir)


def test_loading_never_unpickles(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("loading a model must not unpickle anything")

    for name in ["load", "loads"]:
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    loaded = Tagger.load(model_dir)
    assert len(loaded.predict(SENTENCES)) == 2
    with pytest.raises(AssertionError, match="must not unpickle"):
        torch.load(model_dir / WEIGHTS)  # the patch is in effect


def test_glove_entry_that_is_not_an_object_is_a_model_file_error(tmp_path: Path) -> None:
    random_tagger({"ner": ["O", "B-PER", "I-PER"]}).save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["glove"] = "glove.6B.50d"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="'glove' is not an object"):
        Tagger.load(tmp_path / "m")
