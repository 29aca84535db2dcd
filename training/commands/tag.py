"""``tagger tag``: tag a file of documents offline (``training.tag_file.run_tagging``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tagger.cli import ModelOption, user_errors


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    conll = "conll"


def tag(
    input_file: Annotated[Path, typer.Argument(help="Plain text (one document a line) or JSONL.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file.")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.jsonl,
    model: ModelOption = None,
) -> None:
    """Tag a file of documents offline, streaming, to JSONL or CoNLL."""
    tag_command(input_file, output, output_format.value, model)


def tag_command(
    input_file: Path,
    output: Path | None,
    output_format: str = "jsonl",
    model_dir: Path | None = None,
    **options: object,
) -> None:
    """The command's body: user errors are one line on stderr and exit 1 (``options`` go to
    ``run_tagging``: a model loader, chunk and batch sizes)."""
    from training import tag_file

    with user_errors():
        try:
            count = tag_file.run_tagging(
                input_file,
                output,
                output_format,
                model_dir,
                **options,  # type: ignore[arg-type]
            )
        except OSError as error:  # reading or writing failed mid-way (a vanished file, a full disk)
            where = error.filename or input_file
            raise tag_file.TagFileError(str(where), error.strerror or str(error)) from None
    typer.echo(f"tagged {count} documents -> {output or 'stdout'}", err=True)
