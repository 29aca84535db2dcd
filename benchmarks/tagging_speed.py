"""Tagging speed of the library at one thread on the CoNLL-2003 test sentences.

Prints words/s for batched pre-tokenised input (Viterbi included; with and without the
forward-backward confidences), latency for one 20-word sentence, and end-to-end words/s of
`tagger tag` on raw text (tokenisation, tagging and JSONL output), one document a line.
For a model with document context, batched speed is also measured with the test file's
documents (as `tagger evaluate` reads them): pieces of a document are batched instead of
sentences.

    python benchmarks/tagging_speed.py [--model DIR] [--data ../shared/data/conll2003/test.txt]
        [--backends torch-int8,torch-fp32,onnx-fp32,onnx-int8]  # side by side, one thread each
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from tagger import Tagger
from tagger.context import document_ids
from tagger.data import read_columns
from tagger.locations import default_model_dir

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/conll2003/test.txt"


def detokenize(tokens: list[str]) -> str:
    """Join tokens into plausible raw text (no space before closing punctuation)."""
    out = ""
    for token in tokens:
        glue = not out or token in {",", ".", "!", "?", ";", ":", ")", "'s", "n't", "%"}
        out += token if glue or out.endswith("(") else " " + token
    return out


def batched_speed(
    tagger: Tagger,
    sentences: list[list[str]],
    batch: int,
    scores: bool,
    doc_ids: list[int] | None = None,
) -> float:
    """Best-of-5 words/s of ``predict`` over all sentences (the best run has the least noise)."""
    words = sum(len(s) for s in sentences)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        tagger.predict(sentences, batch_size=batch, with_scores=scores, doc_ids=doc_ids)
        times.append(time.perf_counter() - start)
    return words / min(times)


def document_speeds(
    tagger: Tagger, sentences: list[list[str]], doc_ids: list[int]
) -> dict[str, dict[str, int]]:
    """Batched words/s with document context, for models that read documents (else nothing)."""
    if tagger.context_tokens == 0:
        return {}
    return {
        "document_batched_words_per_s": {
            f"batch{b}{'' if scores else '_viterbi_only'}": round(
                batched_speed(tagger, sentences, b, scores, doc_ids)
            )
            for b in (64, 256)
            for scores in (False, True)
        }
    }


def single_latency_ms(tagger: Tagger, sentences: list[list[str]]) -> float:
    """Median milliseconds to tag one ~20-word sentence (with confidences)."""
    chosen = [s for s in sentences if 18 <= len(s) <= 22][:200]
    times = []
    for sentence in chosen:
        start = time.perf_counter()
        tagger.predict([sentence])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def end_to_end_speed(model: Path | None, sentences: list[list[str]], copies: int = 4) -> float:
    """words/s of `tagger tag FILE` on raw text (the sentences ``copies`` times, one a line).

    Timed around the whole command; start-up and model loading are measured on a one-line file
    and subtracted (best of 3 each), so that the figure is the tagging throughput.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source, output = Path(tmp) / "input.txt", Path(tmp) / "out.jsonl"
        lines = [detokenize(s) for s in sentences] * copies
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # Model loading is excluded by timing a tiny warm-up run and subtracting it.
        tiny = Path(tmp) / "tiny.txt"
        tiny.write_text("Warm up .\n", encoding="utf-8")
        base = min(_timed(tag_command(tiny, output, model)) for _ in range(3))
        total = min(_timed(tag_command(source, output, model)) for _ in range(3))
        words = copies * sum(len(s) for s in sentences)
        return words / max(total - base, 1e-9)


def tag_command(source: Path, output: Path, model: Path | None) -> list[str]:
    """The `tagger tag` command line for one input file (the default model unless given)."""
    command = [sys.executable, "-m", "tagger", "tag", str(source), "-o", str(output)]
    return command + (["--model", str(model)] if model else [])


def _timed(command: list[str]) -> float:
    """Wall-clock seconds of a command run from the checkout, one thread."""
    import os

    start = time.perf_counter()
    subprocess.run(
        command,
        check=True,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


BACKENDS = ("torch-int8", "torch-fp32", "onnx-fp32", "onnx-int8")


def backend_dirs(model: Path, names: list[str], tmp: Path) -> dict[str, Path]:
    """A model directory per backend: the model as recorded (torch, int8 as its config says),
    a copy recorded fp32, and its ONNX exports (fp32 and int8)."""
    dirs: dict[str, Path] = {}
    for name in names:
        if name == "torch-int8":
            dirs[name] = _recorded(model, tmp / name, int8=True)
        elif name == "torch-fp32":
            dirs[name] = _recorded(model, tmp / name, int8=False)
        elif name in ("onnx-fp32", "onnx-int8"):
            from tagger.onnx_export import export_onnx

            dirs[name] = export_onnx(
                Tagger.load(model, int8=False), tmp / name, int8=name == "onnx-int8"
            )
        else:
            raise SystemExit(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    return dirs


def _recorded(model: Path, target: Path, int8: bool) -> Path:
    """A copy of a torch model directory whose config records the int8 choice."""
    shutil.copytree(model, target)
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    config["inference"] = {**config.get("inference", {}), "int8": int8}
    (target / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return target


def measure(model_dir: Path, corpus: list, end_to_end: bool) -> dict:
    """Every figure of one model directory."""
    tagger = Tagger.load(model_dir, threads=1)
    sentences = [s.tokens for s in corpus]
    tagger.predict(sentences[:200])  # warm-up
    results = {
        "sentences": len(sentences),
        "words": sum(len(s) for s in sentences),
        "batched_words_per_s": {
            f"batch{b}{'' if scores else '_viterbi_only'}": round(
                batched_speed(tagger, sentences, b, scores)
            )
            for b in (64, 256)
            for scores in (False, True)
        },
        **document_speeds(tagger, sentences, document_ids([s.doc_start for s in corpus])),
        "one_sentence_20_words_ms": round(single_latency_ms(tagger, sentences), 2),
    }
    if end_to_end:
        results["end_to_end_tag_cli_words_per_s"] = round(end_to_end_speed(model_dir, sentences))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--backends", default="torch-int8",
        help=f"comma-separated, side by side: {', '.join(BACKENDS)} (default: torch-int8, "
        "the shipped models' own choice)",
    )  # fmt: skip
    parser.add_argument("--no-end-to-end", action="store_true", help="skip `tagger tag` runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus = read_columns(args.data)
    model = args.model or default_model_dir()
    with tempfile.TemporaryDirectory() as tmp:
        dirs = backend_dirs(model, args.backends.split(","), Path(tmp))
        results = {
            name: measure(path, corpus, not args.no_end_to_end) for name, path in dirs.items()
        }
    if args.json:
        print(json.dumps(results))
        return
    for name, figures in results.items():
        print(f"== {name}")
        for key, value in figures.items():
            if isinstance(value, dict):
                for row, speed in value.items():
                    print(f"{key}[{row}]: {speed:,}")
            else:
                print(f"{key}: {value:,}")


if __name__ == "__main__":
    main()
