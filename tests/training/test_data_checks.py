"""Training data problems are reported before training starts, naming file and line; the
model directory is replaced in one step; --resume needs a checkpoint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagger.atomic import clean_staging, replace_directory
from tagger.cli import make_app
from tagger.data import read_columns
from tagger.schemes import Scheme, detect_scheme
from tests.training.conftest import tiny_config, write_config
from tests.training.test_train import train_failing_on
from training.config import ConfigError, TrainConfig
from training.train import train


def test_a_malformed_span_tag_is_reported_not_turned_into_a_plain_task(corpus, tmp_path) -> None:
    text = "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nBerlin NNP B-NP X-LOC\n"
    path, output = train_failing_on(corpus, tmp_path, "typo.txt", text)
    assert f"{path}:4: ner: malformed span tag 'X-LOC'" in output
    assert "Traceback" not in output


def test_i_after_o_in_an_iob2_file_is_an_error_not_a_switch_to_iob1(corpus, tmp_path) -> None:
    text = "EU NNP B-NP B-ORG\nsays VBZ B-VP O\n\nthe DT B-NP O\nBerlin NNP I-NP I-LOC\n"
    path, output = train_failing_on(corpus, tmp_path, "stray.txt", text)
    assert f"{path}:5: ner: tag 'I-LOC' at token 2 cannot follow 'O' in iob2" in output


def test_scheme_detection() -> None:
    assert detect_scheme([["B-PER", "I-PER", "O"], ["O", "I-LOC"]]) is Scheme.IOB2
    assert detect_scheme([["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]]) is Scheme.IOB1
    assert detect_scheme([["S-PER", "O"]]) is Scheme.BIOES
    assert detect_scheme([["O"]]) is Scheme.IOB2


def test_a_byte_order_mark_is_not_part_of_the_first_token(tmp_path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfEU NNP B-NP B-ORG\nsays VBZ B-VP O\n")
    [sentence] = read_columns(path)
    assert sentence.tokens == ["EU", "says"]


def test_an_empty_split_is_reported_before_training(corpus, tmp_path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("-DOCSTART- -X- -X- O\n\n", encoding="utf-8")
    config = tiny_config(corpus, tmp_path / "r")
    config["data"]["valid"] = str(empty)
    result = CliRunner().invoke(
        make_app(), ["train", "--config", str(write_config(tmp_path / "c.yaml", config))]
    )
    assert result.exit_code == 1
    assert f"{empty}: no sentences (an empty valid split)" in result.output
    assert not (tmp_path / "r" / "metrics.jsonl").exists()  # nothing was trained


def test_resume_without_a_checkpoint_fails_with_one_line(corpus, tmp_path) -> None:
    config = TrainConfig.model_validate(tiny_config(corpus, tmp_path / "fresh", epochs=1))
    with pytest.raises(ConfigError, match="--resume: no checkpoint in"):
        train(config, resume=True)


def test_replacing_a_directory_swaps_it_in_one_step(tmp_path) -> None:
    target, staging = tmp_path / "model", tmp_path / ".model.abc"
    target.mkdir()
    (target / "weights").write_text("old")
    staging.mkdir()
    (staging / "weights").write_text("new")
    replace_directory(staging, target)
    assert (target / "weights").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_leftovers_of_a_killed_save_are_cleaned_and_a_set_aside_model_restored(tmp_path) -> None:
    target = tmp_path / "model"
    (tmp_path / ".model.x1y2").mkdir()  # a staging directory a kill left behind
    aside = tmp_path / ".model.old"  # the fallback path's old copy, target missing
    aside.mkdir()
    (aside / "weights").write_text("old")
    clean_staging(target)
    assert (target / "weights").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_kill_during_the_final_save_leaves_a_loadable_model(corpus, tmp_path) -> None:
    """The model directory is never missing: after a run, break a save half-way (a staging
    directory left behind, as a kill -9 would) and resume: the run finishes."""
    run = tmp_path / "run"
    config = TrainConfig.model_validate(tiny_config(corpus, run, epochs=2))
    train(config)
    staging = run / ".model.killed"
    shutil.copytree(run / "model", staging)
    os.remove(staging / "model.safetensors")  # half written
    assert (run / "model" / "config.json").is_file()
    more = TrainConfig.model_validate(tiny_config(corpus, run, epochs=3))
    train(more, resume=True)
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []
    assert (run / "model" / "model.safetensors").is_file()


def test_data_checks_run_before_any_epoch(corpus, tmp_path: Path) -> None:
    text = "EU NNP B-NP B-ORG\n\nBerlin NNP B-NP X-LOC\n"
    train_failing_on(corpus, tmp_path, "early.txt", text)
    assert not (tmp_path / "r" / "checkpoint.safetensors").exists()
