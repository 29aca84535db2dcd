"""Paired speed comparison of two models: is a candidate as fast as a baseline?

On a shared machine one model's runs of ``tagging_speed.py`` spread by 25% from one minute to
the next, so two separate runs cannot show a 5% difference. Here both models are loaded in one
process and timed in alternating rounds (A B, B A, A B, ...), each figure once per model per
round, so that drift hits both alike; a figure's ratio is the median over rounds of the
candidate's words/s over the baseline's in that round (and, as tagging_speed.py's best-of-5,
the ratio of the two models' fastest rounds). Same code, same thread count (one).

    python benchmarks/speed_ab.py --baseline OLD_MODEL_DIR [--model NEW_MODEL_DIR] [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
from benchmarks.tagging_speed import DEFAULT_DATA, _timed, detokenize, tag_command  # noqa: E402
from tagger import Tagger  # noqa: E402
from tagger.context import document_ids  # noqa: E402
from tagger.data import read_columns  # noqa: E402
from tagger.locations import default_model_dir  # noqa: E402

Timer = Callable[[], float]  # one timed run of a figure: seconds


def predict_timer(
    tagger: Tagger, sentences: list[list[str]], batch: int, doc_ids: list[int] | None
) -> Timer:
    """Seconds of one ``predict`` over all sentences, with confidences."""

    def run() -> float:
        start = time.perf_counter()
        tagger.predict(sentences, batch_size=batch, with_scores=True, doc_ids=doc_ids)
        return time.perf_counter() - start

    return run


def cli_timer(model: Path, source: Path, tiny: Path, output: Path) -> Timer:
    """Seconds of `tagger tag` on ``source`` less those of a one-line file (start-up, loading)."""

    def run() -> float:
        return _timed(tag_command(source, output, model)) - _timed(tag_command(tiny, output, model))

    return run


def paired_rounds(
    timers: dict[str, tuple[Timer, Timer]], rounds: int
) -> dict[str, list[tuple[float, float]]]:
    """Per figure, (baseline seconds, candidate seconds) of each round, in alternating order."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in timers}
    for round_index in range(rounds):
        for name, (baseline, candidate) in timers.items():
            if round_index % 2 == 0:
                base_s, cand_s = baseline(), candidate()
            else:
                cand_s, base_s = candidate(), baseline()
            times[name].append((base_s, cand_s))
    return times


def summarise(times: list[tuple[float, float]], words: int) -> dict[str, float]:
    """Median words/s of each model, the median over rounds of candidate over baseline, and the
    ratio of the two models' best rounds (noise here only ever slows a run down)."""
    ratios = [base_s / cand_s for base_s, cand_s in times]  # candidate words/s over baseline's
    return {
        "best_round_ratio": round(min(b for b, _ in times) / min(c for _, c in times), 3),
        "baseline_words_per_s": round(words / statistics.median(b for b, _ in times)),
        "candidate_words_per_s": round(words / statistics.median(c for _, c in times)),
        "median_ratio": round(statistics.median(ratios), 3),
        "min_ratio": round(min(ratios), 3),
        "max_ratio": round(max(ratios), 3),
    }


def build_timers(
    baseline: Path, candidate: Path, corpus: list, tmp: Path, end_to_end: bool
) -> dict[str, tuple[Timer, Timer]]:
    """The figures of tagging_speed.py (with confidences) for both models."""
    sentences = [s.tokens for s in corpus]
    doc_ids = document_ids([s.doc_start for s in corpus])
    models = [Tagger.load(path, threads=1) for path in (baseline, candidate)]
    for tagger in models:
        tagger.predict(sentences[:200])  # warm-up
    base, cand = models
    documents = [("documents_", doc_ids)] if base.context_tokens and cand.context_tokens else []
    timers = {
        f"{prefix}batch{batch}": (
            predict_timer(base, sentences, batch, ids),
            predict_timer(cand, sentences, batch, ids),
        )
        for prefix, ids in [("", None), *documents]
        for batch in (64, 256)
    }
    if end_to_end:
        source, tiny, out = tmp / "input.txt", tmp / "tiny.txt", tmp / "out.jsonl"
        source.write_text("\n".join(detokenize(s) for s in sentences) + "\n", encoding="utf-8")
        tiny.write_text("Warm up .\n", encoding="utf-8")
        timers["end_to_end_tag_cli"] = (
            cli_timer(baseline, source, tiny, out),
            cli_timer(candidate, source, tiny, out),
        )
    return timers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the model to compare to")
    parser.add_argument("--model", type=Path, default=None, help="candidate (default model)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-end-to-end", action="store_true", help="skip `tagger tag` runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus = read_columns(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        timers = build_timers(
            args.baseline, args.model or default_model_dir(), corpus, Path(tmp),
            not args.no_end_to_end,
        )  # fmt: skip
        times = paired_rounds(timers, args.rounds)
    words = sum(len(s.tokens) for s in corpus)
    summary = {name: summarise(pairs, words) for name, pairs in times.items()}
    print(json.dumps({"rounds": args.rounds, "words": words, "figures": summary}, indent=1))


if __name__ == "__main__":
    main()
