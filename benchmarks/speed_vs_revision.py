"""Tagging speed of this checkout against an earlier revision, each with its own code and model.

`speed_ab.py` compares two models under today's code; an issue that asks for speed "within 5% of
today's" means the figures users had then: that revision's code with that revision's default
model. This checks the revision out into a temporary git worktree and runs each checkout's own
`benchmarks/tagging_speed.py --json` in alternating rounds (old new, new old, ...), so that a
shared machine's drift hits both alike, then prints per figure the median words/s of each
(milliseconds for the one-sentence latency) and the median over rounds of the per-round ratio.

    python benchmarks/speed_vs_revision.py --revision cbbb931 [--rounds 5] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = Path("models/conll03-en")  # each checkout's own default model
DATA = ROOT.parent / "shared/data/conll2003/test.txt"  # by path: the worktree is elsewhere


def flatten(results: dict, prefix: str = "") -> dict[str, float]:
    """``{"batched_words_per_s": {"batch64": 1}}`` as ``{"batched_words_per_s.batch64": 1}``."""
    flat: dict[str, float] = {}
    for key, value in results.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        elif isinstance(value, int | float) and key not in {"sentences", "words"}:
            flat[f"{prefix}{key}"] = float(value)
    return flat


def run_checkout(checkout: Path, model: Path) -> dict[str, float]:
    """One `tagging_speed.py --json` run of a checkout, on its own code (PYTHONPATH)."""
    command = [sys.executable, str(checkout / "benchmarks/tagging_speed.py"), "--json"]
    command += ["--model", str(model), "--data", str(DATA)]
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: tagging_speed.py failed:\n{done.stderr[-3000:]}")
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return flatten(results.get("torch-int8", results))  # newer scripts: one object per backend


def compare(old: Path, new: Path, rounds: int, model: Path | None) -> dict[str, dict[str, float]]:
    """Per figure: median of each checkout and the median per-round ratio (new over old;
    for latencies old over new, so that above 1 is faster either way)."""
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for index in range(rounds):
        order = [("old", old), ("new", new)][:: 1 if index % 2 == 0 else -1]
        for name, checkout in order:
            chosen = model if model and name == "new" else checkout / DEFAULT_MODEL
            runs[name].append(run_checkout(checkout, chosen))
            print(f"round {index + 1} {name}: {runs[name][-1]}", file=sys.stderr, flush=True)
    figures = [key for key in runs["new"][0] if key in runs["old"][0]]
    table = {}
    for key in figures:
        olds, news = [r[key] for r in runs["old"]], [r[key] for r in runs["new"]]
        latency = key.endswith("_ms")
        ratios = [(o / n) if latency else (n / o) for o, n in zip(olds, news, strict=True)]
        table[key] = {
            "old": statistics.median(olds),
            "new": statistics.median(news),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--revision", required=True, help="the earlier commit (its default model)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", type=Path, default=None, help="this checkout's model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.revision],
            check=True,
            capture_output=True,
        )
        try:
            table = compare(old, ROOT, args.rounds, args.model)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)])
    print(f"| figure ({args.rounds} rounds, medians) | {args.revision} | this checkout | ratio |")
    print("| --- | --- | --- | --- |")
    for key, row in table.items():
        print(
            f"| {key} | {row['old']:,.1f} | {row['new']:,.1f} | {row['ratio']:.3f} "
            f"({row['ratio_min']:.2f}-{row['ratio_max']:.2f}) |"
        )


if __name__ == "__main__":
    main()
