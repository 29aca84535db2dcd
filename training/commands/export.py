"""``tagger export``: write a model directory for another runtime (``tagger.onnx_export``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tagger.cli import user_errors


class ExportFormat(StrEnum):
    onnx = "onnx"


def export(
    model_dir: Annotated[Path, typer.Argument(help="The model directory to export.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The new model directory.")],
    export_format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.onnx,
    int8: Annotated[
        bool, typer.Option(help="Quantise the matrix products and LSTMs to int8 (onnxruntime).")
    ] = False,
) -> None:
    """Export a model: OUTPUT is a complete model directory (config, vocabularies, metrics and
    model.onnx) that every command and Tagger.load accept, and that runs without torch."""
    from tagger import Tagger
    from tagger.onnx_export import export_onnx

    with user_errors():
        tagger = Tagger.load(model_dir, int8=False, backend="torch")
        export_onnx(tagger, output, int8=int8)
    typer.echo(
        f"exported {model_dir} -> {output} ({export_format.value}{', int8' if int8 else ''})"
    )
