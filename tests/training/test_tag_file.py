"""Tests of `tagger tag` (training.tag_file) with a fake tagger: formats, errors, streaming."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tagger.testing import random_tagger
from tagger.types import Document, Entity, TaggedSentence, TaskTags, Token
from training import tag_file
from training.commands.tag import tag_command


class FakeTagger:
    """Whitespace tokens, one sentence a document; "Apple" is an ORG, everything else O / X."""

    tasks = ["ner", "pos"]

    def __init__(self, on_call=None) -> None:
        self.calls: list[list[str]] = []
        self.on_call = on_call

    def tag_many(self, texts, tasks=None, batch_size=64):
        self.calls.append(list(texts))
        if self.on_call is not None:
            self.on_call(len(self.calls))
        return [self._tag(text) for text in texts]

    @staticmethod
    def _tag(text: str) -> Document:
        tokens, pos = [], 0
        for word in text.split():
            start = text.index(word, pos)
            pos = start + len(word)
            tokens.append(Token(word, start, pos))
        ner = ["B-ORG" if t.text == "Apple" else "O" for t in tokens]
        tags = {
            "ner": TaskTags(ner, [0.9] * len(tokens)),
            "pos": TaskTags(["X"] * len(tokens), [0.5] * len(tokens)),
        }
        entities = [Entity(t.text, "ORG", t.start, t.end, 0.9) for t in tokens if t.text == "Apple"]
        sentence = TaggedSentence(tokens, tags, tokens[0].start, tokens[-1].end)
        return Document(text, [sentence], entities)


def run(tmp_path: Path, content: str | bytes, name: str = "in.txt", fmt: str = "jsonl", **kw):
    """Write ``content`` to an input file and tag it into ``out.<fmt>``; returns (tagger, out)."""
    src = tmp_path / name
    src.write_bytes(content.encode() if isinstance(content, str) else content)
    out = tmp_path / f"out.{fmt}"
    tagger = kw.pop("tagger", FakeTagger())
    load = kw.pop("load_tagger", lambda _: tagger)
    tag_command(src, out, fmt, None, load_tagger=load, **kw)
    return tagger, out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_failed(tmp_path: Path, capsys, exc: pytest.ExceptionInfo, *fragments: str) -> None:
    """Exit code 1, one ``error:`` line naming the fragments, no traceback, no output file left."""
    assert exc.value.exit_code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err
    assert not list(tmp_path.glob("out.*")) and not list(tmp_path.glob(".out.*"))


def test_plain_text_to_jsonl(tmp_path: Path) -> None:
    tagger, out = run(tmp_path, "The Apple is a great company!\n\nHello  world\r\n")
    assert tagger.calls == [["The Apple is a great company!", "Hello  world"]]
    first, second = read_jsonl(out)
    assert first["id"] == 1 and second["id"] == 3
    assert first["text"] == "The Apple is a great company!"
    assert first["entities"] == [
        {"text": "Apple", "label": "ORG", "start": 4, "end": 9, "score": 0.9}
    ]
    token = first["sentences"][0]["tokens"][1]
    assert token == {
        "text": "Apple",
        "start": 4,
        "end": 9,
        "ner": "B-ORG",
        "pos": "X",
        "confidence": {"ner": 0.9, "pos": 0.5},
    }
    assert second["sentences"][0]["tokens"][1]["start"] == 7
    assert [(s["start"], s["end"]) for s in second["sentences"]] == [(0, 12)]


def test_jsonl_input_ids_and_detection(tmp_path: Path) -> None:
    lines = ['{"id": "a", "text": "Apple pie"}', "", '{"text": "no id"}', '{"id": 7, "text": ""}']
    tagger, out = run(tmp_path, "\ufeff" + "\n".join(lines) + "\n", name="docs.txt")
    assert tagger.calls == [["Apple pie", "no id"]]
    docs = read_jsonl(out)
    assert [d["id"] for d in docs] == ["a", 3, 7]
    assert docs[2] == {"id": 7, "text": "", "sentences": [], "entities": []}


def test_jsonl_detected_by_extension(tmp_path: Path, capsys) -> None:
    tagger, out = run(tmp_path, "[1, 2]\n", name="plain.txt")
    assert tagger.calls == [["[1, 2]"]]
    out.unlink()
    capsys.readouterr()
    with pytest.raises(typer.Exit) as exc:
        run(tmp_path, "[1, 2]\n", name="docs.jsonl")
    assert_failed(tmp_path, capsys, exc, "docs.jsonl:1:", "JSON object", "array")


def test_conll_output(tmp_path: Path) -> None:
    _, out = run(tmp_path, '{"id": "d1", "text": "Apple\\tpie"}\n{"text": "Hi"}\n', fmt="conll")
    assert out.read_text(encoding="utf-8") == (
        "# doc_id = d1\n# text = Apple pie\nApple\tB-ORG\tX\npie\tO\tX\n\n"
        "# doc_id = 2\n# text = Hi\nHi\tO\tX\n\n"
    )


def test_stdout_when_no_output(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Apple\n", encoding="utf-8")
    tag_command(src, None, "jsonl", None, load_tagger=lambda _: FakeTagger())
    captured = capsys.readouterr()
    assert json.loads(captured.out)["entities"][0]["label"] == "ORG"
    assert "tagged 1 documents" in captured.err
    assert list(tmp_path.iterdir()) == [src]


def test_missing_input_file(tmp_path: Path, capsys) -> None:
    with pytest.raises(typer.Exit) as exc:
        tag_command(tmp_path / "nope.txt", tmp_path / "out.jsonl", "jsonl", None,
                     load_tagger=lambda _: FakeTagger())  # fmt: skip
    assert_failed(tmp_path, capsys, exc, "nope.txt", "no such file")


def test_invalid_utf8_reports_line(tmp_path: Path, capsys) -> None:
    with pytest.raises(typer.Exit) as exc:
        run(tmp_path, b"ok\nfine\nbad \xff byte\n")
    assert_failed(tmp_path, capsys, exc, "in.txt:3:", "UTF-8")


def test_malformed_json_line(tmp_path: Path, capsys) -> None:
    with pytest.raises(typer.Exit) as exc:
        run(tmp_path, '{"text": "a"}\n{"text": "b",}\n', name="docs.jsonl")
    assert_failed(tmp_path, capsys, exc, "docs.jsonl:2:", "invalid JSON", "column")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [('{"id": 1}', "no such field"), ('{"text": 5}', "a number"), ('{"text": null}', "null")],
)
def test_jsonl_text_must_be_a_string(tmp_path: Path, capsys, line: str, fragment: str) -> None:
    with pytest.raises(typer.Exit) as exc:
        run(tmp_path, '{"text": "fine"}\n' + line + "\n", name="docs.jsonl")
    assert_failed(tmp_path, capsys, exc, "docs.jsonl:2:", '"text" must be a string', fragment)


def test_missing_output_directory(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Apple\n", encoding="utf-8")
    with pytest.raises(typer.Exit) as exc:
        tag_command(src, tmp_path / "no" / "out.jsonl", "jsonl", None,
                     load_tagger=lambda _: FakeTagger())  # fmt: skip
    assert_failed(tmp_path, capsys, exc, "out.jsonl", "cannot write")


def test_model_load_failure(tmp_path: Path, capsys) -> None:
    def broken(model_dir):
        raise FileNotFoundError(f"{model_dir}/config.json not found")

    with pytest.raises(typer.Exit) as exc:
        run(tmp_path, "Apple\n", load_tagger=broken)
    assert_failed(tmp_path, capsys, exc, "cannot load the default model", "config.json")


def test_streams_in_chunks_and_writes_as_it_goes(tmp_path: Path) -> None:
    seen_on_disk: list[int] = []

    def on_call(n: int) -> None:
        # Before tagging chunk n, the n - 1 previous chunks are already in the temp file.
        (tmp,) = tmp_path.glob(".out.jsonl.*.tmp")
        seen_on_disk.append(len(tmp.read_text(encoding="utf-8").splitlines()))

    tagger = FakeTagger(on_call)
    _, out = run(tmp_path, "".join(f"doc {i}\n" for i in range(5)), chunk_size=2, tagger=tagger)
    assert [len(c) for c in tagger.calls] == [2, 2, 1]
    assert seen_on_disk == [0, 2, 4]
    assert [d["text"] for d in read_jsonl(out)] == [f"doc {i}" for i in range(5)]


def test_reads_lazily_and_leaves_nothing_on_late_error(tmp_path: Path, capsys) -> None:
    tagger = FakeTagger()
    with pytest.raises(typer.Exit) as exc:
        run(tmp_path, b"a\nb\nc\nd\n\xfe\n", chunk_size=2, tagger=tagger)
    # The bad line 5 was only read after two chunks had been tagged and written.
    assert tagger.calls == [["a", "b"], ["c", "d"]]
    assert_failed(tmp_path, capsys, exc, "in.txt:5:")


def test_tagger_crash_removes_temp_file_and_propagates(tmp_path: Path) -> None:
    def crash(n: int) -> None:
        if n == 2:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run(tmp_path, "a\nb\nc\n", chunk_size=1, tagger=FakeTagger(crash))
    assert not list(tmp_path.glob("out.*")) and not list(tmp_path.glob(".out.*"))


def test_existing_output_is_kept_on_error(tmp_path: Path) -> None:
    (tmp_path / "out.jsonl").write_text("old\n", encoding="utf-8")
    with pytest.raises(typer.Exit):
        run(tmp_path, b"a\n\xff\n")
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == "old\n"


def test_cli_tag_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tagger.cli import make_app

    monkeypatch.setattr(tag_file, "load_default_tagger", lambda model_dir: FakeTagger())
    src = tmp_path / "in.txt"
    src.write_text("The Apple is a great company!\n", encoding="utf-8")
    out = tmp_path / "out.conll"
    result = CliRunner().invoke(make_app(), ["tag", str(src), "-o", str(out), "-f", "conll"])
    assert result.exit_code == 0, result.output
    assert "Apple\tB-ORG\tX" in out.read_text(encoding="utf-8")

    result = CliRunner().invoke(make_app(), ["tag", str(tmp_path / "missing.txt")])
    assert result.exit_code == 1
    assert "error: " in result.output and "missing.txt" in result.output
    assert "Traceback" not in result.output


def test_real_tagger_api(tmp_path: Path) -> None:

    model = random_tagger({"ner": ["O", "B-ORG", "I-ORG"], "pos": ["NN", "VB"]})
    tagger, out = run(tmp_path, "The Apple is a great company!\nI like it.\n", tagger=model)
    docs = read_jsonl(out)
    assert [d["id"] for d in docs] == [1, 2]
    tokens = [t for s in docs[0]["sentences"] for t in s["tokens"]]
    assert [t["text"] for t in tokens][:2] == ["The", "Apple"]
    assert all(
        {"ner", "pos"} <= t.keys() and set(t["confidence"]) == {"ner", "pos"} for t in tokens
    )
    _, conll = run(tmp_path, "The Apple is a great company!\n", fmt="conll", tagger=model)
    rows = [r for r in conll.read_text(encoding="utf-8").splitlines() if r and r[0] != "#"]
    assert rows and all(len(r.split("\t")) == 1 + len(model.tasks) for r in rows)


def test_default_loader_reports_missing_model(tmp_path: Path, capsys) -> None:
    (src := tmp_path / "in.txt").write_text("Apple\n", encoding="utf-8")
    with pytest.raises(typer.Exit) as exc:
        tag_command(src, tmp_path / "out.jsonl", "jsonl", tmp_path / "no-model")
    assert_failed(tmp_path, capsys, exc, "cannot load model", "no-model")


def test_a_loaded_model_leaves_the_heap_frozen_for_the_job() -> None:
    gc.unfreeze()
    try:
        model = tag_file.load_model(lambda _: random_tagger({"ner": ["O", "B-PER"]}), None)
        assert model is not None and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on collecting as before


def test_a_model_that_cannot_load_is_one_line_and_freezes_nothing() -> None:
    def missing(_: Path | None) -> tag_file.TaggerLike:
        raise OSError("no such model")

    gc.unfreeze()
    with pytest.raises(tag_file.TagFileError, match="cannot load the default model: no such"):
        tag_file.load_model(missing, None)
    assert gc.get_freeze_count() == 0
