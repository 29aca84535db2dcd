"""A small synthetic CoNLL corpus and a training config that learns it in seconds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

PEOPLE = [["John", "Smith"], ["Maria"], ["Peter", "Blackburn"], ["Ana", "Lopez"], ["Kim"]]
ORGS = [["Apple"], ["Reuters"], ["European", "Commission"], ["Acme", "Corp"]]
PLACES = [["Paris"], ["New", "York"], ["Berlin"], ["Tokyo"]]
TEMPLATES = [
    ["PER", "works", "for", "ORG", "in", "LOC", "."],
    ["ORG", "said", "PER", "visited", "LOC", "."],
    ["I", "like", "eating", "apples", "in", "LOC", "!"],
    ["PER", "met", "PER", "."],
]
POS = {
    "works": "VBZ",
    "for": "IN",
    "in": "IN",
    "said": "VBD",
    "visited": "VBD",
    "met": "VBD",
    "I": "PRP",
    "like": "VBP",
    "eating": "VBG",
    "apples": "NNS",
    ".": ".",
    "!": ".",
}


def synthetic_sentences(count: int, seed: int) -> list[list[tuple[str, str, str, str]]]:
    """Sentences of (token, POS, chunk, NER) rows built from the templates above."""
    rng = random.Random(seed)
    pools = {"PER": PEOPLE, "ORG": ORGS, "LOC": PLACES}
    sentences = []
    for _ in range(count):
        rows = []
        for slot in rng.choice(TEMPLATES):
            if slot in pools:
                name = rng.choice(pools[slot])
                for i, word in enumerate(name):
                    prefix = "B" if i == 0 else "I"
                    rows.append((word, "NNP", f"{prefix}-NP", f"{prefix}-{slot}"))
            else:
                pos = POS[slot]
                chunk = "O" if pos == "." else ("B-VP" if pos.startswith("VB") else "B-PP")
                rows.append((slot, pos, chunk, "O"))
        sentences.append(rows)
    return sentences


def write_conll(path: Path, sentences: list[list[tuple[str, str, str, str]]]) -> Path:
    """Write sentences in CoNLL-2003 layout with a -DOCSTART- line."""
    lines = ["-DOCSTART- -X- -X- O", ""]
    for rows in sentences:
        lines += [" ".join(row) for row in rows] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture()
def corpus(tmp_path: Path) -> dict[str, Path]:
    """train / valid / test files of the synthetic corpus."""
    return {
        split: write_conll(tmp_path / f"{split}.txt", synthetic_sentences(n, seed))
        for split, n, seed in [("train", 80, 1), ("valid", 20, 2), ("test", 20, 3)]
    }


def tiny_config(corpus: dict[str, Path], run_dir: Path, **overrides: object) -> dict:
    """A config small enough to train in a few seconds on one thread."""
    config = {
        "name": "tiny",
        "seed": 3,
        "output_dir": str(run_dir),
        "epochs": 4,
        "patience": 10,
        "threads": 1,
        "select_on": "ner",
        "data": {
            "train": str(corpus["train"]),
            "valid": str(corpus["valid"]),
            "test": str(corpus["test"]),
        },
        "model": {"hidden_size": 16, "char_filters": 8, "char_dim": 8, "use_glove": False},
        "optim": {"optimizer": "adam", "lr": 0.01, "schedule": "constant", "batch_size": 8},
        "decoders": {"pos": "softmax"},
    }
    for key, value in overrides.items():
        config[key] = value
    return config


def write_config(path: Path, config: dict) -> Path:
    """Save a config as YAML."""
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
