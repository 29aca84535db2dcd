"""End-of-run report: per-type P/R/F1 as JSON and Markdown, a learning-curve PNG, and the
per-epoch metrics log (metrics.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.evaluate import format_results
from training.metrics import headline


def write_report(run_dir: Path, history: list[dict[str, Any]], results: dict[str, Any]) -> None:
    """report.json, report.md and learning_curve.png in the run directory."""
    (run_dir / "report.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Training report\n",
        f"Selected epoch: {results['epoch']} of {results['epochs_run']}",
        f"Training time: {results['train_seconds']:.0f} s\n",
    ]
    for split in ("valid", "test"):
        if split in results:
            lines += [f"## {split}\n", "```", format_results(results[split]), "```\n"]
    (run_dir / "report.md").write_text("\n".join(lines), encoding="utf-8")
    plot_learning_curve(run_dir / "learning_curve.png", history)


def plot_learning_curve(path: Path, history: list[dict[str, Any]]) -> None:
    """Training loss and validation scores per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    figure, (loss_axis, score_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(epochs, [r["loss"] for r in history], marker="o")
    loss_axis.set(title="training loss", xlabel="epoch")
    tasks = list(history[0]["valid"]) if history and history[0]["valid"] else []
    for task in tasks:
        score_axis.plot(
            epochs, [headline(r["valid"][task]) for r in history], marker="o", label=task
        )
    score_axis.set(title="validation score (F1 / accuracy, %)", xlabel="epoch")
    if tasks:
        score_axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Add one JSON line to the metrics log."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def rewrite_metrics_log(path: Path, history: list[dict[str, Any]]) -> None:
    """Make the log match the checkpoint (a resumed run drops epochs after it)."""
    path.write_text("".join(json.dumps(r) + "\n" for r in history), encoding="utf-8")
