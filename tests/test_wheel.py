"""A wheel built from this repository, installed without extras into a fresh virtualenv, tags
out of the box with the shipped default model, and has no web or plotting stack."""

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
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv holding torch==2.13.0 and the wheel (no extras), nothing else."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work), str(ROOT)],
        check=True,
    )  # fmt: skip
    [wheel] = work.glob("seqtagger-*.whl")
    venv = work / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)],
                   check=True)  # fmt: skip
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)  # as the README says: torch first
    subprocess.run([*pip, str(wheel)], check=True)
    return venv


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


def test_wheel_command_line_without_extras(fresh_venv: Path) -> None:
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
