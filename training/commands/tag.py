"""``tagger tag``: tag documents offline (``training.tag_file`` for one input,
``training.shards`` for many, on local processes or Ray Data)."""

from __future__ import annotations

import gc
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from tagger.cli import ModelOption, user_errors

# A Ray job's driver runs below its actors' priority: on two cores it took them 4-7% of their
# speed at normal priority (`benchmarks/batch_scaling.py`, joined rows).
RAY_DRIVER_NICENESS = 10


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    conll = "conll"


class Engine(StrEnum):
    local = "local"
    ray = "ray"


def tag(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Plain text (one document a line), JSONL or Parquet; several files, "
            "globs or a directory of shards write one output shard each."
        ),
    ],  # fmt: skip
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output file (one input), or directory (several)."),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.jsonl,
    model: ModelOption = None,
    workers: Annotated[int, typer.Option(help="Processes (or Ray actors), one shard each.")] = 1,
    engine: Annotated[Engine, typer.Option(help="local processes, or Ray Data.")] = Engine.local,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster to join (default: a local Ray instance).")
    ] = None,
    skip_bad_lines: Annotated[
        bool, typer.Option(help="Report a bad input line and skip it instead of failing its shard.")
    ] = False,
    threads: Annotated[
        int, typer.Option(help="Intra-op threads of the one process (--workers for more cores).")
    ] = 1,
) -> None:
    """Tag documents offline, streaming, to JSONL or CoNLL: one file, or many shards in
    parallel (finished shards are skipped when the job runs again)."""
    sharded = len(inputs) > 1 or workers > 1 or engine is Engine.ray or Path(inputs[0]).is_dir()
    if not sharded and not any(c in inputs[0] for c in "*?["):
        tag_command(Path(inputs[0]), output, output_format.value, model, threads=threads)
        return
    with user_errors():
        tag_shards_command(
            inputs, output, output_format.value, model, workers, engine, address, skip_bad_lines
        )


def tag_command(
    input_file: Path,
    output: Path | None,
    output_format: str = "jsonl",
    model_dir: Path | None = None,
    threads: int = 1,
    **options: object,
) -> None:
    """One input: user errors are one line on stderr and exit 1 (``options`` go to
    ``run_tagging``: a model loader, chunk and batch sizes). One thread by default, as each
    worker of a sharded job: the same arithmetic, so the same bytes out."""
    from training import tag_file
    from training.tag_input import TagFileError

    set_threads(threads)
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
            raise TagFileError(str(where), error.strerror or str(error)) from None
    typer.echo(f"tagged {count} documents -> {output or 'stdout'}", err=True)


def set_threads(threads: int) -> None:
    """Intra-op threads for torch (if a model needs it; ONNX sessions get theirs at load)."""
    try:
        import torch
    except ModuleNotFoundError:
        return
    torch.set_num_threads(threads)


def tag_shards_command(
    inputs: list[str],
    output: Path | None,
    output_format: str,
    model_dir: Path | None,
    workers: int,
    engine: Engine,
    address: str | None,
    skip_bad_lines: bool,
) -> None:
    """Many inputs: one output shard each; exit 1 if any shard failed (the others are kept)."""
    from training import shards
    from training.tag_input import TagFileError

    if output is None:
        raise TagFileError("--output", "several inputs need an output directory (-o DIR)")
    plan = shards.plan_shards(shards.find_inputs(inputs), output, output_format)
    shards.remove_leftovers(output)
    todo = shards.pending(plan)
    typer.echo(f"{len(plan)} shards, {len(plan) - len(todo)} already done, {len(todo)} to tag "
               f"on {workers} {engine.value} worker(s)", err=True)  # fmt: skip
    bar = tqdm(unit=" docs", desc="tagging", file=sys.stderr, disable=None)
    words = [0]

    def progress(documents: int, count: int) -> None:
        words[0] += count
        bar.update(documents)
        bar.set_postfix(words=f"{words[0]:,}", refresh=False)

    if engine is Engine.ray:
        from training.ray_engine import run_ray

        results = run_ray(
            todo, model_dir, output_format, workers, address, skip_bad_lines, progress,
            driver_niceness=RAY_DRIVER_NICENESS,
        )  # fmt: skip
    else:
        results = shards.run_local(
            todo, model_dir, output_format, workers, skip_bad_lines, progress
        )
    bar.close()
    gc.freeze()  # what the engine left on the heap needs no collection at exit (0.1-0.3 s)
    shards.remove_leftovers(output)
    failed = [r for r in results if r.error]
    for result in failed:
        typer.echo(f"error: {result.error}", err=True)
    done = sum(r.documents for r in results if not r.error)
    typer.echo(f"tagged {done} documents in {len(results) - len(failed)} shards -> {output}"
               + (f"; {len(failed)} shard(s) failed" if failed else ""), err=True)  # fmt: skip
    busy = sum(r.seconds for r in results if not r.error)
    if busy > 0:
        tagged = sum(r.words for r in results if not r.error)
        typer.echo(f"{tagged:,} words; {tagged / busy:,.0f} words/s per worker while tagging "
                   f"({busy:.1f} worker-seconds)", err=True)  # fmt: skip
    if failed:
        raise typer.Exit(1)
