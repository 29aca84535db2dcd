"""`tagger tag` over many inputs: one output shard per input shard, in parallel.

Inputs are files, globs or directories of shards (plain text, JSONL, or Parquet with a text
column); ``part-00.txt`` becomes ``OUT/part-00.jsonl`` (or ``.conll``), byte for byte what
``tagger tag part-00.txt`` writes. A shard is tagged whole by one worker and appears only when
complete (a temp file renamed into place), so a re-run skips finished shards and a killed job
leaves none half written. A bad line fails its shard (``FILE:LINE: ...``), never the others;
with ``skip_bad_lines`` it is reported and skipped. Engines: local worker processes, each with
the model loaded once (``run_local``), or Ray Data (``training.ray_engine``).
"""

from __future__ import annotations

import glob
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.tag_file import BATCH_SIZE, CHUNK_SIZE, TaggerLike, freeze_heap, tag_records
from training.tag_input import Record, TagFileError, field_problem, is_jsonl, iter_records
from training.tag_output import WRITERS, open_output

SUFFIXES = {".txt", ".text", ".jsonl", ".json", ".parquet"}
PARQUET_BATCH = 1024


@dataclass(frozen=True, slots=True)
class Shard:
    """One input shard and the output it becomes."""

    source: Path
    target: Path


@dataclass(frozen=True, slots=True)
class ShardResult:
    """What tagging one shard did: documents, words (whitespace-separated), or its error, and
    the seconds its worker spent on it (the engine's own overhead is the rest of the job)."""

    source: str
    documents: int = 0
    words: int = 0
    error: str | None = None
    skipped_lines: int = 0
    seconds: float = 0.0


def find_inputs(patterns: list[str]) -> list[Path]:
    """Files named, matched by a glob, or inside a directory (its shards, sorted)."""
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUFFIXES)
        elif any(c in pattern for c in "*?["):
            matches = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
            if not matches:
                raise TagFileError(pattern, "matches no file")
            found += matches
        else:
            found.append(path)
    for path in found:
        if not path.is_file():
            raise TagFileError(str(path), "no such file")
    return list(dict.fromkeys(found))


def plan_shards(inputs: list[Path], out_dir: Path, output_format: str) -> list[Shard]:
    """The output of every input in ``out_dir``; two inputs may not become the same output."""
    if out_dir.exists() and not out_dir.is_dir():
        raise TagFileError(
            str(out_dir), "is not a directory (several inputs need an output directory)"
        )
    targets: dict[Path, Path] = {}
    for source in inputs:
        target = out_dir / f"{source.stem}.{output_format}"
        if target in targets:
            raise TagFileError(str(source), f"and {targets[target]} would both write {target}")
        targets[target] = source
    return [Shard(source, target) for target, source in targets.items()]


def read_records(path: Path, on_error: Callable[[TagFileError], None] | None) -> Iterator[Record]:
    """The documents of one shard: text or JSONL lines, or the rows of a Parquet file."""
    if path.suffix == ".parquet":
        return parquet_records(path, on_error=on_error)
    return iter_records(path, jsonl=is_jsonl(path), on_error=on_error)


def parquet_records(
    path: Path,
    text_column: str = "text",
    id_column: str = "id",
    on_error: Callable[[TagFileError], None] | None = None,
) -> Iterator[Record]:
    """Rows of a Parquet file, read in batches: ``text`` (required) and ``id`` (optional; the
    row number, from 1, otherwise). A bad row raises ``FILE:ROW: ...``, or with ``on_error``
    is reported there and skipped, as bad lines of text and JSONL shards are."""
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises its own types for files that are not Parquet
        raise TagFileError(str(path), f"not a Parquet file ({error})") from None
    names = handle.schema_arrow.names
    if text_column not in names:
        raise TagFileError(str(path), f"no {text_column!r} column (has {names})")
    columns = [text_column] + ([id_column] if id_column in names else [])
    row = 0
    for batch in handle.iter_batches(batch_size=PARQUET_BATCH, columns=columns):
        texts = batch.column(0).to_pylist()
        ids = batch.column(1).to_pylist() if len(columns) > 1 else [None] * len(texts)
        for text, doc_id in zip(texts, ids, strict=True):
            row += 1
            doc_id = row if doc_id is None else doc_id  # no id: the row number
            problem = field_problem(text, doc_id, repr(text_column), repr(id_column))
            if problem is not None:
                bad = TagFileError(f"{path}:{row}", problem)
                if on_error is None:
                    raise bad
                on_error(bad)
            elif text.strip():
                yield Record(row, doc_id, text, row)


def tag_shard(
    tagger: TaggerLike,
    shard: Shard,
    output_format: str,
    skip_bad_lines: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ShardResult:
    """Tag one shard into a temp file beside its target, renamed into place when complete."""
    skipped: list[TagFileError] = []

    def skip(error: TagFileError) -> None:
        print(f"skipped: {error}", file=sys.stderr, flush=True)
        skipped.append(error)

    counter, started = _Counter(progress), time.perf_counter()
    try:
        records = counter.count(read_records(shard.source, skip if skip_bad_lines else None))
        shard.target.parent.mkdir(parents=True, exist_ok=True)
        with open_output(shard.target) as out:  # a temp file, renamed onto the target when done
            documents = tag_records(
                tagger,
                records,
                out,
                WRITERS[output_format],
                chunk_size=CHUNK_SIZE,
                batch_size=BATCH_SIZE,
            )
    except (TagFileError, OSError) as error:
        return ShardResult(str(shard.source), error=str(error))
    seconds = time.perf_counter() - started
    return ShardResult(str(shard.source), documents, counter.words, None, len(skipped), seconds)


class _Counter:
    """Counts documents and words as records pass, reporting every chunk's worth."""

    def __init__(self, progress: Callable[[int, int], None] | None) -> None:
        self.progress, self.words = progress, 0

    def count(self, records: Iterator[Record]) -> Iterator[Record]:
        pending_docs = pending_words = 0
        for record in records:
            words = len(record.text.split())
            self.words += words
            pending_docs, pending_words = pending_docs + 1, pending_words + words
            if self.progress is not None and pending_docs >= CHUNK_SIZE:
                self.progress(pending_docs, pending_words)
                pending_docs = pending_words = 0
            yield record
        if self.progress is not None and pending_docs:
            self.progress(pending_docs, pending_words)


def remove_leftovers(out_dir: Path) -> None:
    """Temp files of shards a killed job was writing."""
    if out_dir.is_dir():
        for leftover in out_dir.glob(".*.tmp"):
            with suppress(FileNotFoundError):
                leftover.unlink()


def pending(shards: list[Shard]) -> list[Shard]:
    """The shards whose output does not exist yet (a re-run skips the others)."""
    return [shard for shard in shards if not shard.target.exists()]


# ------------------------------------------------------------------------------ local engine

_worker_tagger: Any = None
_worker_queue: Any = None


def _init_worker(model_dir: Path | None, queue: Any) -> None:
    """In each worker process: one thread, the model loaded once."""
    global _worker_tagger, _worker_queue
    from tagger import Tagger

    with suppress(ModuleNotFoundError):
        import torch

        torch.set_num_threads(1)
    _worker_tagger = Tagger.load(model_dir, threads=1)
    freeze_heap()
    _worker_queue = queue


def _tag_in_worker(shard: Shard, output_format: str, skip_bad_lines: bool) -> ShardResult:
    def report(documents: int, words: int) -> None:
        _worker_queue.put((documents, words))

    return tag_shard(_worker_tagger, shard, output_format, skip_bad_lines, report)


def start_method() -> str:
    """How worker processes start: forked where the platform can and neither torch nor
    onnxruntime is loaded in this process (``tagger tag`` loads neither: each worker loads its
    model), else spawned, as their thread pools do not survive a fork. A forked worker skips
    starting an interpreter, importing what this process already has, and tearing the
    interpreter down at exit; spawning costs a whole job some tenths of a second more."""
    import multiprocessing

    loaded = {"torch", "onnxruntime"} & set(sys.modules)
    return "fork" if "fork" in multiprocessing.get_all_start_methods() and not loaded else "spawn"


def run_local(
    shards: list[Shard],
    model_dir: Path | None,
    output_format: str,
    workers: int,
    skip_bad_lines: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[ShardResult]:
    """Tag the shards on ``workers`` processes (``start_method``; each loads the model once)."""
    import multiprocessing
    import queue as queues
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context(start_method())
    updates = context.Queue()  # inherited by the workers: no manager process to start
    results: list[ShardResult] = []

    def drain() -> None:  # always, progress or not: a full pipe would block a worker's exit
        while True:
            try:
                update = updates.get_nowait()
            except queues.Empty:
                break
            if progress is not None:
                progress(*update)

    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(model_dir, updates)
    ) as pool:
        running = {pool.submit(_tag_in_worker, s, output_format, skip_bad_lines) for s in shards}
        while running:
            done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            results += [future.result() for future in done]
            drain()
    drain()  # a worker's queue is flushed when it exits: its last counts may come after its result
    return results
