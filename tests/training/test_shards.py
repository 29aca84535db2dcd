"""Sharded batch tagging: one output per input shard, byte-identical to `tagger tag` on that
shard alone, on local worker processes and on a local Ray instance; resumable; a bad line fails
only its shard (or is skipped); an actor killed mid-job is replaced and its shard redone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tagger.testing import random_tagger
from training.shards import (
    find_inputs,
    parquet_records,
    plan_shards,
    remove_leftovers,
    run_local,
    start_method,
)
from training.tag_input import TagFileError

ROOT = Path(__file__).resolve().parents[2]
LINES = [
    "The Apple is a great company!",
    "I like eating apple.",
    "",
    "Angela Merkel met Emmanuel Macron in Paris.",
    "APPLE TO BUY BEATS FOR 3 BILLION DOLLARS",
]
CORPUS_WORDS = sum(len(line.split()) for line in LINES) * (30 + 20 + 8 + 25)  # the `corpus` shards


def tagger_command(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tagger", "tag", *args],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "ner"
    ner = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    random_tagger({"ner": ner}, seed=1, context_tokens=32, word_memory=True).save(path)
    return path


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """Four shards: text, JSONL (with ids), Parquet (with ids), and text again."""
    shards = tmp_path / "in"
    shards.mkdir()
    (shards / "part-00.txt").write_text("\n".join(LINES * 30) + "\n", encoding="utf-8")
    rows = [json.dumps({"id": f"doc-{i}", "text": t}) for i, t in enumerate(LINES * 20) if t]
    (shards / "part-01.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = pa.table({"id": [f"p{i}" for i in range(40)], "text": (LINES * 8)})
    pq.write_table(table, shards / "part-02.parquet")
    (shards / "part-03.txt").write_text("\n".join(reversed(LINES * 25)) + "\n", encoding="utf-8")
    return shards


def single(shard: Path, model: Path, out: Path) -> bytes:
    """What `tagger tag SHARD -o FILE` writes (text and JSONL shards)."""
    result = tagger_command(str(shard), "-o", str(out), "--model", str(model))
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def outputs(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_inputs_and_their_output_shards(corpus: Path, tmp_path: Path) -> None:
    inputs = find_inputs([str(corpus)])
    assert [p.name for p in inputs] == [
        "part-00.txt",
        "part-01.jsonl",
        "part-02.parquet",
        "part-03.txt",
    ]
    assert find_inputs([str(corpus / "*.txt")]) == [corpus / "part-00.txt", corpus / "part-03.txt"]
    plan = plan_shards(inputs, tmp_path / "out", "conll")
    assert [s.target.name for s in plan] == [
        "part-00.conll",
        "part-01.conll",
        "part-02.conll",
        "part-03.conll",
    ]
    (corpus / "part-00.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(Exception, match="would both write"):
        plan_shards(find_inputs([str(corpus)]), tmp_path / "out", "jsonl")


def test_local_workers_write_what_tagger_tag_writes_per_shard(
    corpus: Path, model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = tagger_command(str(corpus), "-o", str(out), "--model", str(model), "--workers", "2")
    assert result.returncode == 0, result.stderr
    got = outputs(out)
    assert list(got) == ["part-00.jsonl", "part-01.jsonl", "part-02.jsonl", "part-03.jsonl"]
    for name in ("part-00.txt", "part-01.jsonl", "part-03.txt"):
        expected = single(corpus / name, model, tmp_path / f"single-{name}.jsonl")
        assert got[Path(name).stem + ".jsonl"] == expected, name
    parquet = [json.loads(line) for line in got["part-02.jsonl"].decode().splitlines()]
    assert [d["id"] for d in parquet[:2]] == ["p0", "p1"] and len(parquet) == 32  # blanks skipped
    assert "tagged 332 documents in 4 shards" in result.stderr  # 120 + 80 + 32 + 100
    assert (
        f"{CORPUS_WORDS:,} words; " in result.stderr
        and " words/s per worker while tagging" in result.stderr
    )


def test_a_rerun_skips_finished_shards_and_a_bad_line_fails_only_its_shard(
    corpus: Path, model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (corpus / "part-01.jsonl").write_text('{"text": "fine"}\n{"text": 5}\n', encoding="utf-8")
    first = tagger_command(str(corpus), "-o", str(out), "--model", str(model), "--workers", "2")
    assert first.returncode == 1
    assert f'error: {corpus / "part-01.jsonl"}:2: "text" must be a string' in first.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "part-00.jsonl",
        "part-02.jsonl",
        "part-03.jsonl",
    ]
    finished = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    (corpus / "part-01.jsonl").write_text('{"text": "fine"}\n{"text": "now"}\n', encoding="utf-8")
    second = tagger_command(str(corpus), "-o", str(out), "--model", str(model), "--workers", "2")
    assert second.returncode == 0, second.stderr
    assert "4 shards, 3 already done, 1 to tag" in second.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name in finished} == finished
    assert len((out / "part-01.jsonl").read_text().splitlines()) == 2


def test_skip_bad_lines_reports_and_skips(corpus: Path, model: Path, tmp_path: Path) -> None:
    (corpus / "part-01.jsonl").write_bytes(
        b'{"text": "fine"}\n{"text": 5}\nnot json\n\xff\n{"text": "ok"}\n'
    )
    rows = {"id": ["a", "b", "c", "d"], "text": ["fine", None, "also fine", "ok"]}
    pq.write_table(pa.table(rows), corpus / "part-02.parquet")
    out = tmp_path / "out"
    result = tagger_command(str(corpus), "-o", str(out), "--model", str(model), "--skip-bad-lines")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("skipped: ") == 4
    reported = f"skipped: {corpus / 'part-02.parquet'}:2: 'text' must be a string (got null)"
    assert reported in result.stderr

    def ids(name: str) -> list[object]:
        return [json.loads(line)["id"] for line in (out / name).read_text().splitlines()]

    assert ids("part-01.jsonl") == [1, 5] and ids("part-02.jsonl") == ["a", "c", "d"]


def test_parquet_rows_are_checked_like_jsonl_lines(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"id": [1.5, None, 7], "text": ["x", "y", " "]}), path)
    with pytest.raises(TagFileError, match=r"rows\.parquet:1: 'id' must be a string or an integer"):
        list(parquet_records(path))
    reported: list[TagFileError] = []
    kept = list(parquet_records(path, on_error=reported.append))
    assert [(r.doc_id, r.text) for r in kept] == [(2, "y")]  # no id: the row number; blanks dropped
    assert [str(e) for e in reported] == [  # a float column: every id is a float
        f"{path}:{row}: 'id' must be a string or an integer (got a number)" for row in (1, 3)
    ]


def test_parquet_cells_json_lacks_are_named_by_their_type(tmp_path: Path) -> None:
    path = tmp_path / "binary.parquet"
    pq.write_table(pa.table({"text": [b"raw bytes"]}), path)
    with pytest.raises(
        TagFileError, match=r"binary\.parquet:1: 'text' must be a string \(got bytes\)"
    ):
        list(parquet_records(path))


def test_a_killed_job_leaves_no_partial_shard(corpus: Path, model: Path, tmp_path: Path) -> None:
    big = corpus / "part-00.txt"
    big.write_text("\n".join(LINES * 3000) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "tagger", "tag", str(corpus), "-o", str(out)]
    process = subprocess.Popen(
        [*command, "--model", str(model), "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(out.glob(".part-00*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "part-00.jsonl").exists()  # never half there
    rerun = tagger_command(str(corpus), "-o", str(out), "--model", str(model), "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert not list(out.glob(".*.tmp"))
    assert (out / "part-00.jsonl").read_bytes() == single(big, model, tmp_path / "single.jsonl")


def test_local_progress_counts_every_document_and_word(
    corpus: Path, model: Path, tmp_path: Path
) -> None:
    counts: list[tuple[int, int]] = []
    plan = plan_shards(find_inputs([str(corpus)]), tmp_path / "out", "jsonl")
    results = run_local(plan, model, "jsonl", 2, progress=lambda d, w: counts.append((d, w)))
    assert sum(d for d, _ in counts) == sum(r.documents for r in results) == 332
    assert sum(w for _, w in counts) == sum(r.words for r in results) == CORPUS_WORDS


def test_workers_fork_only_where_no_torch_or_onnxruntime_is_loaded(monkeypatch) -> None:
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["fork", "spawn"])
    for module in ("torch", "onnxruntime"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    assert start_method() == "fork"
    for module in ("torch", "onnxruntime"):
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, module, object())
            assert start_method() == "spawn"
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert start_method() == "spawn"


# --- Ray ----------------------------------------------------------------------------------------


def actor_processes(name: str) -> list[int]:
    """Pids of Ray worker processes running an actor of this class (by their process title)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if name in cmdline.read_bytes().decode(
                errors="replace"
            ) and "ray::" in cmdline.read_text(errors="replace"):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return sorted(pids)


@pytest.fixture(scope="module")
def ray_instance():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_writes_what_tagger_tag_writes_per_shard(
    ray_instance, corpus: Path, model: Path, tmp_path: Path, monkeypatch
) -> None:
    from training.ray_engine import run_ray

    plan = plan_shards(find_inputs([str(corpus)]), tmp_path / "ray", "jsonl")
    niced: list[int] = []  # the driver lowers its priority (recorded: os.nice cannot be undone)
    monkeypatch.setattr(os, "nice", niced.append)
    results = run_ray(plan, model, "jsonl", workers=2, driver_niceness=10)
    assert niced == [10]
    assert sorted(r.source for r in results) == sorted(str(s.source.resolve()) for s in plan)
    assert all(r.error is None for r in results)
    for name in ("part-00.txt", "part-01.jsonl", "part-03.txt"):
        expected = single(corpus / name, model, tmp_path / f"single-{name}.jsonl")
        assert (tmp_path / "ray" / (Path(name).stem + ".jsonl")).read_bytes() == expected, name


def test_ray_replaces_a_killed_actor_and_redoes_its_shard(
    ray_instance, corpus: Path, model: Path, tmp_path: Path
) -> None:
    from training.ray_engine import run_ray

    for index in range(4):  # shards big enough that an actor is busy when it is killed
        (corpus / f"part-0{index}.txt").write_text("\n".join(LINES * 800) + "\n", encoding="utf-8")
    for extra in ("part-01.jsonl", "part-02.parquet"):
        (corpus / extra).unlink()
    reference = tmp_path / "reference"
    run_ray(plan_shards(find_inputs([str(corpus)]), reference, "jsonl"), model, "jsonl", workers=2)
    out = tmp_path / "out"
    plan = plan_shards(find_inputs([str(corpus)]), out, "jsonl")
    killed: list[int] = []

    def kill_one_busy_actor() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            if list(out.glob(".*.tmp")):  # an actor is writing a shard
                actors = actor_processes("ShardTagger")
                if actors:
                    os.kill(actors[0], signal.SIGKILL)
                    killed.append(actors[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_busy_actor)
    killer.start()
    results = run_ray(plan, model, "jsonl", workers=2)
    killer.join()
    remove_leftovers(out)  # the killed actor's temp file, as `tagger tag` does after a job
    assert killed, "no actor was killed: the test did not test anything"
    assert all(r.error is None for r in results) and len(results) == 4
    assert outputs(out) == outputs(reference)
