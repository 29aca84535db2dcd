"""``tagger serve``: the REST service under uvicorn (``service.server.serve_from_cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tagger.cli import needs_extra


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    model: Annotated[
        list[Path] | None, typer.Option("--model", "-m", help="Model directory (repeatable).")
    ] = None,
) -> None:
    """Start the REST service (settings also from TAGGER_* environment variables)."""
    with needs_extra("serve", "serve"):
        import fastapi  # noqa: F401  (checked here: the workers import it)
        import uvicorn  # noqa: F401

        from service.server import serve_from_cli

    serve_from_cli(host=host, port=port, workers=workers, models=model)
