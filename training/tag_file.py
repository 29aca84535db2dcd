"""`tagger tag`: tag a file of documents offline, streaming in chunks, to JSONL or CoNLL.

Memory stays bounded: input lines are read lazily, tagged ``chunk_size`` documents at a time
and written as they come; a document longer than ``long_documents.SEGMENT_CHARS`` characters
is tagged and written in segments. An output that is a regular file appears only when
everything succeeded (temp file, then ``os.replace``); a symlink's target, a FIFO or a device
is written in place and never replaced, and stdout gets each chunk as soon as it is tagged
(neither is atomic: an error part-way leaves what was written). User errors (bad input,
unreadable model) end with one ``error: ...`` line on stderr and exit code 1.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Protocol

from tqdm import tqdm

from tagger import Tagger
from tagger.errors import TaggerError
from tagger.types import Document
from training.tag_input import Record, TagFileError, check_input, is_jsonl, iter_records
from training.tag_output import WRITERS, Writer, open_output, write_conll

CHUNK_SIZE = 1024  # documents read, tagged and written at a time: bounded memory, full batches
BATCH_SIZE = 256  # sentences per forward pass (sorted by length within a chunk)


class TaggerLike(Protocol):
    """What this module needs from ``tagger.Tagger`` (tests pass a fake)."""

    @property
    def tasks(self) -> list[str]: ...

    def tag_many(
        self, texts: list[str], tasks: list[str] | None = None, batch_size: int = 64
    ) -> list[Document]: ...


LoadTagger = Callable[[Path | None], TaggerLike]


def load_default_tagger(model_dir: Path | None) -> TaggerLike:
    """Load a tagger with the library's loader (``None`` -> the shipped default model)."""
    return Tagger.load(model_dir)


def chunked(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Lists of at most ``size`` records, pulling from ``records`` only as needed."""
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def tag_chunk(tagger: TaggerLike, chunk: list[Record], batch_size: int) -> list[Document]:
    """Tag one chunk in input order; blank texts get an empty document without a model call."""
    texts = [r.text for r in chunk if r.text.strip()]
    tagged = tagger.tag_many(texts, batch_size=batch_size) if texts else []
    if len(tagged) != len(texts):
        raise RuntimeError(f"tagger returned {len(tagged)} documents for {len(texts)} texts")
    docs = iter(tagged)
    return [next(docs) if r.text.strip() else Document(text=r.text, sentences=[]) for r in chunk]


def tag_records(
    tagger: TaggerLike,
    records: Iterable[Record],
    out: IO[str],
    writer: Writer,
    *,
    chunk_size: int,
    batch_size: int,
    progress: tqdm | None = None,
) -> int:
    """Tag and write ``records`` chunk by chunk, flushing after each; returns the document count."""
    from training.long_documents import SEGMENT_CHARS, write_long

    tasks = list(tagger.tasks)
    count = 0
    for chunk in chunked(records, chunk_size):
        for run in _runs(chunk, SEGMENT_CHARS):
            if len(run) == 1 and len(run[0].text) > SEGMENT_CHARS:
                fmt = "conll" if writer is write_conll else "jsonl"
                write_long(out, run[0], tagger, fmt, tasks, batch_size, SEGMENT_CHARS)
                continue
            for record, doc in zip(run, tag_chunk(tagger, run, batch_size), strict=True):
                writer(out, record, doc, tasks)
        out.flush()
        count += len(chunk)
        if progress is not None:
            progress.update(chunk[-1].offset - progress.n)
            progress.set_postfix(docs=count, refresh=False)
    return count


def _runs(chunk: list[Record], long_chars: int) -> list[list[Record]]:
    """The chunk in order, as runs of ordinary records and single long documents."""
    runs: list[list[Record]] = []
    for record in chunk:
        long = len(record.text) > long_chars
        if long or not runs or len(runs[-1][-1].text) > long_chars:
            runs.append([record])
        else:
            runs[-1].append(record)
    return runs


def load_model(load_tagger: LoadTagger, model_dir: Path | None) -> TaggerLike:
    """Load the model, turning the usual failures (missing/invalid files) into a TagFileError;
    then ``freeze_heap``."""
    try:
        tagger = load_tagger(model_dir)
    except (TaggerError, OSError) as e:
        which = "model" if model_dir is not None else "the default model"
        raise TagFileError(None, f"cannot load {which}: {e}") from None
    freeze_heap()
    return tagger


def freeze_heap() -> None:
    """Take every object alive now (imported modules, the loaded model) out of the garbage
    collector's view, in a process that is about to tag for a long time.

    Tagging makes many short-lived objects, so full collections keep coming, and each walks
    every tracked object: in a Ray actor, whose heap holds Ray Data and pandas too, that cost
    a sixth of its tagging speed (20.1k -> 25.4k words/s after freezing).
    """
    gc.collect()
    gc.freeze()


def run_tagging(
    input_file: Path,
    output: Path | None,
    output_format: str,
    model_dir: Path | None = None,
    *,
    load_tagger: LoadTagger | None = None,
    chunk_size: int = CHUNK_SIZE,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Validate, load the model, then stream input -> tagger -> output; returns the count."""
    writer = WRITERS.get(output_format)
    if writer is None:
        raise TagFileError("--format", f"unknown format {output_format!r} (jsonl or conll)")
    check_input(input_file)
    records = iter_records(input_file, jsonl=is_jsonl(input_file))
    tagger = load_model(load_tagger or load_default_tagger, model_dir)
    total = input_file.stat().st_size
    with (
        tqdm(
            total=total, unit="B", unit_scale=True, desc="tagging", file=sys.stderr, disable=None
        ) as bar,
        open_output(output) as out,
    ):
        count = tag_records(
            tagger, records, out, writer, chunk_size=chunk_size, batch_size=batch_size, progress=bar
        )
        bar.update(total - bar.n)
    return count
