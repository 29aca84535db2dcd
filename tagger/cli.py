"""The ``tagger`` command: one entry point whose subcommands come from the installed packages.

Each subcommand is a thin module over a plain function (``training.commands.*`` for train,
evaluate and tag; ``service.command`` for serve), registered under the entry-point group
``seqtagger.commands``. This module imports neither package, so the library does not depend
on training or on the web stack, and ``tagger --help`` loads no torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer

from tagger.errors import TaggerError

COMMANDS = "seqtagger.commands"
ORDER = ("train", "evaluate", "tag", "serve", "export")  # help lists these first, the rest by name

ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory (default: the shipped default model)."),
]


def make_app() -> typer.Typer:
    """The Typer app with every installed subcommand."""
    app = typer.Typer(
        help="Bidirectional RNN-CRF sequence tagger: NER, POS and chunking.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    found = {ep.name: ep for ep in entry_points(group=COMMANDS)}
    for name in sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n)):
        app.command(name)(found[name].load())
    return app


def main() -> None:
    """Run the command line (the ``tagger`` script and ``python -m tagger``)."""
    make_app()(prog_name="tagger")


@contextmanager
def user_errors() -> Iterator[None]:
    """Report the project's own errors as one ``error: ...`` line and exit 1; anything else
    (a bug) keeps its traceback."""
    try:
        yield
    except TaggerError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@contextmanager
def needs_extra(extra: str, command: str) -> Iterator[None]:
    """Around a subcommand's imports: a missing optional dependency is one line naming the
    extra to install, not an ImportError traceback."""
    try:
        yield
    except ModuleNotFoundError as error:
        typer.echo(
            f"error: `tagger {command}` needs the [{extra}] extra (missing module "
            f"{error.name!r}): pip install 'seqtagger[{extra}]'",
            err=True,
        )
        raise typer.Exit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
