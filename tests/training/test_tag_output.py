"""`tagger tag` output: what it writes to (never replacing a symlink, FIFO or device) and long
documents tagged in segments with the same answer shape and offsets into the whole text."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from tagger import pipeline
from tagger.testing import random_tagger
from training import long_documents
from training.commands.tag import tag_command
from training.tag_input import Record
from training.tag_output import write_jsonl

TEXT = "The Apple is a great company! I like eating apple.\n"


@pytest.fixture(scope="module")
def model():
    return random_tagger({"ner": ["O", "B-ORG", "I-ORG"], "pos": ["NN", "VB"]}, seed=3)


def tag(tmp_path: Path, model, output: Path, text: str = TEXT) -> None:
    source = tmp_path / "in.txt"
    source.write_text(text, encoding="utf-8")
    tag_command(source, output, "jsonl", None, load_tagger=lambda _: model)


def test_a_symlink_keeps_pointing_at_its_target_which_gets_the_output(tmp_path, model) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    tag(tmp_path, model, link)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert json.loads(target.read_text(encoding="utf-8"))["text"] == TEXT.strip()


def test_a_fifo_is_written_in_place(tmp_path, model) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    tag(tmp_path, model, fifo)
    reader.join(10)
    assert fifo.exists() and not fifo.is_file()  # still the FIFO, not a replacing file
    assert json.loads(got[0])["text"] == TEXT.strip()


def test_a_device_is_written_in_place(tmp_path, model) -> None:
    tag(tmp_path, model, Path("/dev/null"))
    assert Path("/dev/null").is_char_device()


def test_a_regular_file_is_replaced_only_on_success(tmp_path, model) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    tag(tmp_path, model, out)
    assert json.loads(out.read_text(encoding="utf-8"))["text"] == TEXT.strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.jsonl"]


def test_text_segments_cut_at_line_breaks_or_sentences_and_cover_the_text() -> None:
    text = "One sentence here. Another one!\nA third line. " * 50
    segments = pipeline.text_segments(text, 100)
    assert "".join(s for _, s in segments) == text
    assert all(len(s) <= 100 for _, s in segments)
    assert all(text[o : o + len(s)] == s for o, s in segments)
    assert all(s.endswith(("\n", ". ", "! ", " ")) for _, s in segments[:-1])
    assert pipeline.text_segments("x" * 250, 100) == [
        (0, "x" * 100),
        (100, "x" * 100),
        (200, "x" * 50),
    ]


def long_jsonl(model, text: str, segment_chars: int, tmp_path: Path, fmt: str = "jsonl") -> str:
    out = tmp_path / f"long-{segment_chars}.{fmt}"
    with out.open("w", encoding="utf-8") as handle:
        long_documents.write_long(
            handle, Record(1, 7, text, 0), model, fmt, model.tasks, 64, segment_chars
        )
    return out.read_text(encoding="utf-8")


def test_one_segment_writes_exactly_what_the_ordinary_path_writes(tmp_path, model) -> None:
    text = TEXT * 30
    streamed = long_jsonl(model, text, len(text) + 1, tmp_path)
    ordinary = tmp_path / "ordinary.jsonl"
    with ordinary.open("w", encoding="utf-8") as handle:
        write_jsonl(handle, Record(1, 7, text, 0), model.tag(text), model.tasks)
    assert streamed == ordinary.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["jsonl", "conll"])
def test_segments_keep_offsets_into_the_whole_text(tmp_path, model, fmt: str) -> None:
    text = TEXT * 40  # ~2,000 characters in segments of at most 300
    answer = long_jsonl(model, text, 300, tmp_path, fmt)
    if fmt == "conll":
        rows = [r.split("\t")[0] for r in answer.splitlines() if r and not r.startswith("#")]
        assert rows == [t.text for s in model.tag(text).sentences for t in s.tokens]
        return
    document = json.loads(answer)
    assert document["id"] == 7 and document["text"] == text
    tokens = [t for s in document["sentences"] for t in s["tokens"]]
    assert all(text[t["start"] : t["end"]] == t["text"] for t in tokens)
    assert [t["text"] for t in tokens] == [
        t.text for s in model.tag(text).sentences for t in s.tokens
    ]
    for entity in document["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"]
    assert set(document) == {"id", "text", "sentences", "entities"}


def test_the_command_uses_segments_for_a_long_line(tmp_path, model, monkeypatch) -> None:
    monkeypatch.setattr(long_documents, "SEGMENT_CHARS", 200)
    calls: list[int] = []
    original = model.tag_many

    def counting(texts, *args, **kwargs):
        calls.extend(len(t) for t in texts)
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(model, "tag_many", counting)
    out = tmp_path / "out.jsonl"
    long_line = " ".join([TEXT.strip()] * 20)
    tag(tmp_path, model, out, long_line + "\nshort line\n")
    first, second = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert first["text"] == long_line and second["text"] == "short line"
    assert max(calls) <= 200  # the long line went to the model in segments
