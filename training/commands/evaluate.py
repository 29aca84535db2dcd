"""``tagger evaluate``: score a model on a gold file (``training.evaluate.evaluate_file``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tagger.cli import ModelOption, user_errors


def evaluate(
    data_file: Annotated[Path, typer.Argument(help="Gold CoNLL / CoNLL-U file to evaluate on.")],
    model: ModelOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate a model on a gold file: entity P/R/F1 for span tasks, accuracy for tag tasks."""
    from training.evaluate import evaluate_file, format_results

    with user_errors():
        results = evaluate_file(data_file, model)
    if json_output:
        json.dump(results, sys.stdout)
        sys.stdout.write("\n")
    else:
        typer.echo(format_results(results))
