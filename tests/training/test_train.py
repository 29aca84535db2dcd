"""The training job end to end on a synthetic corpus: outputs, determinism, resume, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from tagger import Tagger
from tagger.cli import make_app
from tests.training.conftest import tiny_config, write_config
from training.config import TrainConfig
from training.train import train

ROOT = Path(__file__).resolve().parents[2]


def digest(run_dir: Path) -> str:
    return (run_dir / "params-rank0.sha256").read_text().strip()


def test_training_writes_model_log_report_and_plot(corpus, tmp_path):
    config = TrainConfig.model_validate(tiny_config(corpus, tmp_path / "run", epochs=12))
    results = train(config)
    run = tmp_path / "run"
    log = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == list(range(1, 13))
    assert {"loss", "lr", "valid", "words_per_second"} <= set(log[0])
    report = json.loads((run / "report.json").read_text())
    assert set(report["test"]) == {"pos", "chunk", "ner"}
    assert set(report["test"]["ner"]["per_type"]) == {"PER", "ORG", "LOC"}
    assert results["test"]["ner"]["f1"] > 80  # the synthetic task is easy to learn
    assert (run / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert (run / "report.md").read_text().startswith("# Training report")
    tagger = Tagger.load(run / "model")
    assert tagger.metrics["test"]["ner"]["f1"] == results["test"]["ner"]["f1"]
    assert tagger.meta["training_data"][0]["sha256"]
    tags = tagger.predict([["Maria", "works", "for", "Reuters", "in", "Paris", "."]])[0]
    assert tags["ner"].labels == ["B-PER", "O", "O", "B-ORG", "O", "B-LOC", "O"]


def test_same_seed_same_model(corpus, tmp_path):
    for name in ("a", "b"):
        train(TrainConfig.model_validate(tiny_config(corpus, tmp_path / name, epochs=2)))
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_resume_after_kill_matches_uninterrupted_run(corpus, tmp_path):
    epochs = 6
    reference = tmp_path / "reference"
    train(TrainConfig.model_validate(tiny_config(corpus, reference, epochs=epochs)))

    killed = tmp_path / "killed"
    config = write_config(tmp_path / "killed.yaml", tiny_config(corpus, killed, epochs=epochs))
    command = [sys.executable, "-m", "tagger", "train", "--config", str(config)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (killed / "checkpoint.safetensors").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)  # during epoch 2, before the run can finish
    process.wait()
    log = (killed / "metrics.jsonl").read_text().splitlines()
    assert 1 <= len(log) < epochs

    result = CliRunner().invoke(make_app(), ["train", "--config", str(config), "--resume"])
    assert result.exit_code == 0, result.output
    assert digest(killed) == digest(reference)
    resumed_log = [json.loads(x) for x in (killed / "metrics.jsonl").read_text().splitlines()]
    reference_log = [json.loads(x) for x in (reference / "metrics.jsonl").read_text().splitlines()]
    assert [r["valid"] for r in resumed_log] == [r["valid"] for r in reference_log]


def test_two_process_ddp_trains_one_model(corpus, tmp_path):
    run = tmp_path / "ddp"
    config = write_config(tmp_path / "ddp.yaml", tiny_config(corpus, run, epochs=2))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "tagger",
        "train",
        "--config",
        str(config),
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rank0 = (run / "params-rank0.sha256").read_text()
    assert rank0 == (run / "params-rank1.sha256").read_text()
    assert Tagger.load(run / "model").tasks == ["pos", "chunk", "ner"]
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2


def test_cli_overrides_and_evaluate_json(corpus, tmp_path):
    config = write_config(tmp_path / "c.yaml", tiny_config(corpus, tmp_path / "ignored"))
    run = tmp_path / "override"
    result = CliRunner().invoke(
        make_app(),
        [
            "train",
            "--config",
            str(config),
            "--output-dir",
            str(run),
            "--epochs",
            "3",
            "--seed",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3
    result = CliRunner().invoke(
        make_app(), ["evaluate", str(corpus["test"]), "--model", str(run / "model"), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"pos", "chunk", "ner"}
    assert {"precision", "recall", "f1", "per_type"} <= set(scores["ner"])
    assert 0 <= scores["pos"]["accuracy"] <= 100


def test_bad_config_and_bad_data_give_one_line_errors(corpus, tmp_path):
    bad = write_config(tmp_path / "bad.yaml", {**tiny_config(corpus, tmp_path / "r"), "epocs": 3})
    result = CliRunner().invoke(make_app(), ["train", "--config", str(bad)])
    assert result.exit_code == 1
    assert "epocs" in result.output and "Traceback" not in result.output

    text = "EU NNP B-NP B-ORG\nrejects VBZ B-VP\n"
    broken, output = train_failing_on(corpus, tmp_path, "broken.txt", text)
    assert f"{broken}:2: expected 4 columns" in output

    text = "EU NNP B-NP O\nrejects VBZ B-VP I-ORG\n"
    invalid, output = train_failing_on(corpus, tmp_path, "invalid.txt", text, {"ner": "iob2"})
    assert f"{invalid}:2: ner: tag 'I-ORG' at token 2 cannot follow 'O' in iob2" in output

    text = "EU NNP B-NP S-ORG\n\nsays VBZ B-VP E-ORG\n"
    bioes, output = train_failing_on(corpus, tmp_path, "bioes.txt", text)
    assert f"{bioes}:3: ner: tag 'E-ORG' at token 1 cannot follow 'O' in bioes" in output


def train_failing_on(corpus, tmp_path, name, text, schemes=None):
    """Write ``text`` as the training file, run `tagger train`: it must exit 1; (file, output)."""
    train_file = tmp_path / name
    train_file.write_text(text, encoding="utf-8")
    data = {"train": str(train_file), "valid": str(corpus["valid"])}
    if schemes:
        data["schemes"] = schemes
    config = tiny_config(corpus, tmp_path / "r", data=data)
    cfg = write_config(tmp_path / f"{train_file.stem}.yaml", config)
    result = CliRunner().invoke(make_app(), ["train", "--config", str(cfg)])
    assert result.exit_code == 1
    return train_file, result.output


def test_evaluate_reports_unknown_tag_with_file_and_line(corpus, tmp_path):
    run = tmp_path / "run"
    train(TrainConfig.model_validate(tiny_config(corpus, run, epochs=1)))
    gold = tmp_path / "gold.txt"
    gold.write_text("Paris NNP B-NP B-LOC\nrocks VBZ B-VP B-FOOD\n", encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["evaluate", str(gold), "--model", str(run / "model")])
    assert result.exit_code == 1
    assert f"{gold}:2: unknown ner tag 'B-FOOD'" in result.output


def test_weight_averaging_is_shipped_and_resumes_exactly(corpus, tmp_path):
    reference = tmp_path / "reference"
    train(TrainConfig.model_validate(tiny_config(corpus, reference, epochs=3, ema_decay=0.9)))
    checkpoint = load_file(reference / "checkpoint.safetensors")
    shipped = Tagger.load(reference / "model").network.state_dict()
    name = "heads.ner.weight"
    assert torch.equal(shipped[name], checkpoint[f"ema/module.{name}"])
    assert not torch.equal(shipped[name], checkpoint[f"model/{name}"])

    partial = tmp_path / "partial"
    train(TrainConfig.model_validate(tiny_config(corpus, partial, epochs=1, ema_decay=0.9)))
    resumed = TrainConfig.model_validate(tiny_config(corpus, partial, epochs=3, ema_decay=0.9))
    train(resumed, resume=True)
    assert digest(partial) == digest(reference)
    assert (partial / "model" / "model.safetensors").read_bytes() == (
        reference / "model" / "model.safetensors"
    ).read_bytes()
