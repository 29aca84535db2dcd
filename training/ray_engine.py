"""The sharded `tagger tag` job on Ray Data: the shards are a dataset, tagged by a pool of actors
(``map_batches`` with a stateful callable class: each actor loads the model once), one shard per
call, so each output is written whole and renamed into place by the actor that tagged it.

Ray Data schedules the shards over the actors, restarts an actor that dies and retries its
shard; a retried shard is tagged again from the start and the rename makes the result complete
or absent, never partial. Without an address a local Ray instance is started; with one the job
joins that cluster (``ray start --head`` on one machine, ``ray start --address ...`` on the
others), whose nodes must all see the inputs, the output directory and the model (a shared
file system). Ray is an optional extra: ``pip install 'seqtagger[ray]'``.

Shards are read by the actors rather than through ``ray.data.read_text``/``read_json``: those
split files into blocks without line numbers, and a shard's output keeps each document's line
number as its id and must be exactly what ``tagger tag`` writes for that file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from training.shards import Shard, ShardResult, tag_shard
from training.tag_file import freeze_heap
from training.tag_input import TagFileError


class ShardTagger:
    """A Ray Data actor: the model, loaded once; tags one shard per row of each batch."""

    def __init__(self, model_dir: str | None, output_format: str, skip_bad_lines: bool) -> None:
        from tagger import Tagger

        with suppress(ModuleNotFoundError):  # an ONNX model needs no torch
            import torch

            torch.set_num_threads(1)
        self.tagger = Tagger.load(model_dir, threads=1)
        freeze_heap()
        self.output_format, self.skip_bad_lines = output_format, skip_bad_lines

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        results = [
            tag_shard(
                self.tagger,
                Shard(Path(source), Path(target)),
                self.output_format,
                self.skip_bad_lines,
            )
            for source, target in zip(batch["source"], batch["target"], strict=True)
        ]
        return {
            "source": [r.source for r in results],
            "documents": [r.documents for r in results],
            "words": [r.words for r in results],
            "error": [r.error or "" for r in results],
            "skipped_lines": [r.skipped_lines for r in results],
            "seconds": [r.seconds for r in results],
        }


def join(ray: Any, address: str, options: dict[str, Any]) -> None:
    """Connect to the running cluster at ``address``, or say why not and what to do.

    Ray turns token authentication on for ``ray start --head`` where a token exists, and a
    client naming an address sends its token only with ``RAY_AUTH_MODE=token``."""
    try:
        ray.init(address=address, **options)
    except ConnectionError as error:
        cause = str(error.__cause__ or error)
        if "InvalidAuthToken" in cause or "Authentication" in cause:
            hint = (
                "the cluster wants an authentication token: set RAY_AUTH_MODE=token and make "
                "its token available here (~/.ray/auth_token, or RAY_AUTH_TOKEN)"
            )
        else:
            hint = "is it running (`ray status`) and reachable from this machine?"
        raise TagFileError(
            "--address", f"could not join the Ray cluster at {address}: {hint}"
        ) from error


def run_ray(
    shards: list[Shard],
    model_dir: Path | None,
    output_format: str,
    workers: int,
    address: str | None = None,
    skip_bad_lines: bool = False,
    progress: Callable[[int, int], None] | None = None,
    driver_niceness: int = 0,
) -> list[ShardResult]:
    """Tag the shards on ``workers`` Ray actors (one CPU each), on the instance this process is
    connected to, or else on one it connects to (``address``) or starts, and lets go of when
    done. ``driver_niceness``: how much to lower this process's priority once connected
    (``os.nice``; it cannot be raised again)."""
    try:
        import ray
    except ModuleNotFoundError:
        raise TagFileError("--engine ray", "needs Ray: pip install 'seqtagger[ray]'") from None
    # Ray Data's usage telemetry starts one more actor per cluster, whose CPU a small cluster's
    # tagging actors need (1.8 s of a 27 s job on two cores); RAY_DATA_USAGE_DISABLED=0 keeps it.
    os.environ.setdefault("RAY_DATA_USAGE_DISABLED", "1")
    connected_here = not ray.is_initialized()
    if connected_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            join(ray, address, options)
        else:
            # A local instance exists for this job alone: its actors run at normal priority
            # (Ray's default niceness 15 makes them yield to its own daemons and the driver).
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(num_cpus=workers, **options)
    try:
        return _tag_on_ray(ray, shards, model_dir, output_format, workers, skip_bad_lines,
                           progress, driver_niceness)  # fmt: skip
    finally:
        if connected_here:  # now, not at interpreter exit (0.5 s later, in a job of 5-20 s)
            ray.shutdown()


def _tag_on_ray(
    ray: Any,
    shards: list[Shard],
    model_dir: Path | None,
    output_format: str,
    workers: int,
    skip_bad_lines: bool,
    progress: Callable[[int, int], None] | None,
    driver_niceness: int,
) -> list[ShardResult]:
    """The Ray Data pipeline over the shards, on the instance this process is connected to."""
    if driver_niceness:
        # The driver only hands out shards and polls for results (Ray Data's executor, ten times
        # a second); on a node that also runs actors it should not take their cores from them.
        # After ray.init, so that a local instance's daemons keep their priority.
        os.nice(driver_niceness)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    items = [{"source": str(s.source.resolve()), "target": str(s.target.resolve())} for s in shards]
    tagged = ray.data.from_items(items, override_num_blocks=max(len(items), 1)).map_batches(
        ShardTagger,
        fn_constructor_kwargs={
            "model_dir": str(model_dir.resolve()) if model_dir else None,
            "output_format": output_format,
            "skip_bad_lines": skip_bad_lines,
        },
        batch_size=1,
        # Two shards in flight per actor: the next one waits on the actor, so it starts the
        # moment the last ends (with one, each hand-off idled an actor ~0.2 s: the executor
        # notices a finished task on its next 0.1 s poll, then dispatches); a late or slow
        # actor holds at most one shard that another could have taken.
        compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=2),
        num_cpus=1,
    )  # Ray Data's defaults replace an actor that dies and retry its shard
    results = []
    for row in tagged.iter_rows():
        result = ShardResult(
            row["source"],
            row["documents"],
            row["words"],
            row["error"] or None,
            row["skipped_lines"],
            row["seconds"],
        )
        results.append(result)
        if progress is not None:
            progress(result.documents, result.words)
    return results
