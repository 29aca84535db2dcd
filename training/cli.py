"""The ``tagger`` command: train, evaluate, tag and serve (one entry point, subcommands)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Bidirectional RNN-CRF sequence tagger: NER, POS and chunking.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    conll = "conll"


ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory (default: the shipped default model)."),
]


@app.command()
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
    from training.train import train_from_cli

    train_from_cli(
        config, output_dir=output_dir, seed=seed, epochs=epochs, threads=threads, resume=resume
    )


@app.command()
def evaluate(
    data_file: Annotated[Path, typer.Argument(help="Gold CoNLL / CoNLL-U file to evaluate on.")],
    model: ModelOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate a model on a gold file: entity P/R/F1 for span tasks, accuracy for tag tasks."""
    from training.evaluate import evaluate_from_cli

    evaluate_from_cli(data_file, model_dir=model, as_json=json_output)


@app.command()
def tag(
    input_file: Annotated[Path, typer.Argument(help="Plain text (one document a line) or JSONL.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file.")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.jsonl,
    model: ModelOption = None,
) -> None:
    """Tag a file of documents offline, streaming, to JSONL or CoNLL."""
    from training.tag_file import tag_from_cli

    tag_from_cli(input_file, output=output, output_format=output_format.value, model_dir=model)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    model: Annotated[
        list[Path] | None, typer.Option("--model", "-m", help="Model directory (repeatable).")
    ] = None,
) -> None:
    """Start the REST service (settings also from TAGGER_* environment variables)."""
    from service.server import serve_from_cli

    serve_from_cli(host=host, port=port, workers=workers, models=model)


if __name__ == "__main__":
    app()
