"""A wheel built from this repository, installed without extras into a fresh virtualenv, tags
out of the box with the shipped default model and has no web or plotting stack; installed
without torch (scripts/requirements-without-torch, as the slim image), it runs an exported
model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = """
import importlib.util, json, sys
from tagger import Tagger
document = Tagger.load().tag("The Apple is a great company!")
missing = [m for m in ("fastapi", "uvicorn", "matplotlib", "pydantic_settings")
           if importlib.util.find_spec(m) is not None]
print(json.dumps({
    "entities": [[e.text, e.label] for e in document.entities],
    "installed_web_or_plotting": missing,
    "tagger_from": sys.modules["tagger"].__file__,
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work), str(ROOT)],
        check=True,
    )  # fmt: skip
    [built] = work.glob("seqtagger-*.whl")
    return built


def new_venv(where: Path, *installs: str) -> Path:
    """A new virtualenv in ``where``; each of ``installs`` is one ``pip install`` argument
    string, run in order."""
    venv = where / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)],
                   check=True)  # fmt: skip
    for install in installs:
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        *install.split()], check=True)  # fmt: skip
    return venv


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path) -> Path:
    """A new virtualenv holding torch==2.13.0 and the wheel (no extras), nothing else."""
    return new_venv(wheel.parent / "torch", "torch==2.13.0", str(wheel))  # README: torch first


def run_in(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run in the fresh venv, outside the checkout (so only the installed package is found)."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "TAGGER_MODELS_DIR"}}
    return subprocess.run(
        args, cwd=venv, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_wheel_tags_with_the_shipped_model(fresh_venv: Path) -> None:
    result = run_in(fresh_venv, str(fresh_venv / "bin" / "python"), "-c", CHECK)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["entities"] == [["Apple", "ORG"]]
    assert answer["installed_web_or_plotting"] == []
    assert str(fresh_venv) in answer["tagger_from"]  # the installed copy, not the checkout


def test_wheel_command_line_without_web_extras(fresh_venv: Path) -> None:
    tagger = str(fresh_venv / "bin" / "tagger")
    listing = run_in(fresh_venv, tagger, "--help")
    assert listing.returncode == 0
    assert all(name in listing.stdout for name in ("train", "evaluate", "tag", "serve"))
    serve = run_in(fresh_venv, tagger, "serve")
    assert serve.returncode == 1
    assert "needs the [serve] extra" in serve.stderr and "Traceback" not in serve.stderr
    (fresh_venv / "in.txt").write_text("I like eating apple!\n", encoding="utf-8")
    tagged = run_in(fresh_venv, tagger, "tag", "in.txt", "-o", "out.jsonl")
    assert tagged.returncode == 0, tagged.stderr
    assert json.loads((fresh_venv / "out.jsonl").read_text())["text"] == "I like eating apple!"


ONNX_CHECK = """
import importlib.util, json, sys
from tagger import Tagger
tagger = Tagger.load(sys.argv[1])
labels = tagger.tag_tokens([["Apple", "is", "in", "London"]]).sentences[0].tags["ner"].labels
print(json.dumps({"backend": tagger.backend.name, "labels": labels,
                  "torch_installed": importlib.util.find_spec("torch") is not None}))
"""


def test_wheel_without_torch_runs_an_exported_model(wheel: Path, tmp_path: Path) -> None:
    from tagger import Tagger
    from tagger.onnx_export import export_onnx
    from tagger.testing import random_tagger

    model = random_tagger({"ner": ["O", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]}, seed=2)
    export_onnx(model, tmp_path / "exported")
    needed = subprocess.run(
        [sys.executable, str(ROOT / "scripts/requirements-without-torch"), "onnx"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert not any(r.startswith("torch") for r in needed)
    venv = new_venv(tmp_path, " ".join(needed), f"--no-deps {wheel}")
    result = run_in(
        venv, str(venv / "bin" / "python"), "-c", ONNX_CHECK, str(tmp_path / "exported")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    assert answer["backend"] == "onnx" and not answer["torch_installed"]
    ours = Tagger.load(tmp_path / "exported").tag_tokens([["Apple", "is", "in", "London"]])
    assert answer["labels"] == ours.sentences[0].tags["ner"].labels
