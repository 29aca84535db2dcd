"""``tagger train``: train a tagger from a config file (``training.train.train``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tagger.cli import needs_extra, user_errors


def train(
    config: Annotated[Path, typer.Option("--config", "-c", help="Training config (YAML or JSON).")],
    output_dir: Annotated[
        Path | None, typer.Option(help="Run directory (overrides config).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (overrides config).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs (overrides config).")] = None,
    threads: Annotated[int | None, typer.Option(help="Torch intra-op threads.")] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue from the run directory's checkpoint.")
    ] = False,
) -> None:
    """Train a tagger from a config file; writes the model and a report to the run directory."""
    with needs_extra("train", "train"):
        import matplotlib  # noqa: F401  (checked here: the report's learning curve needs it)

        from training.config import load_config
        from training.train import train as run_training

    overrides = {"output_dir": output_dir, "seed": seed, "epochs": epochs, "threads": threads}
    with user_errors():
        loaded = load_config(config)
        loaded = loaded.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        results = run_training(loaded, resume=resume)
    if results:
        typer.echo(json.dumps({k: v for k, v in results.items() if k != "valid"}, indent=2))
