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
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
from tqdm import tqdm

from tagger import Tagger
from tagger.errors import TaggerError
from tagger.serialize import document_to_dict
from tagger.types import Document, TaggedSentence

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


class TagFileError(TaggerError):
    """A user-facing problem (input, output or model), reported as ``error: WHERE: MESSAGE``."""

    def __init__(self, where: str | None, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True, slots=True)
class Record:
    """One input document: its line number, id, text and the input bytes consumed so far."""

    line: int
    doc_id: str | int
    text: str
    offset: int


def load_default_tagger(model_dir: Path | None) -> TaggerLike:
    """Load a tagger with the library's loader (``None`` -> the shipped default model)."""
    return Tagger.load(model_dir)


# ----------------------------------------------------------------------------------- reading


OnError = Callable[["TagFileError"], None]  # reports a bad line that is then skipped


def iter_lines(path: Path, on_error: OnError | None = None) -> Iterator[tuple[int, str, int]]:
    """Yield (line number, text without line break, byte offset after the line), lazily; a line
    that is not UTF-8 raises, or with ``on_error`` is reported there and skipped."""
    offset = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            offset += len(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                error = TagFileError(f"{path}:{number}", f"not valid UTF-8 (byte {e.start + 1})")
                if on_error is None:
                    raise error from None
                on_error(error)
                continue
            if number == 1:
                line = line.removeprefix("\ufeff")
            yield number, line.rstrip("\r\n"), offset


def is_jsonl(path: Path) -> bool:
    """True for a ``.jsonl`` file or one whose first non-empty line starts with ``{``."""
    if path.suffix.lower() == ".jsonl":
        return True
    for _, line, _ in iter_lines(path):
        if line.strip():
            return line.lstrip().startswith("{")
    return False


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages (a Parquet cell's type that
    JSON lacks, such as bytes, by its Python name)."""
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def field_problem(text: object, doc_id: object, text_field: str, id_field: str) -> str | None:
    """What is wrong with a document's fields, if anything: its text must be a string and its
    id a string or an integer (the rules of JSONL lines and Parquet rows alike)."""
    if not isinstance(text, str):
        return f"{text_field} must be a string (got {_json_type(text)})"
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        return f"{id_field} must be a string or an integer (got {_json_type(doc_id)})"
    return None


def parse_json_record(path: Path, number: int, line: str, offset: int) -> Record:
    """One JSONL line -> Record; the object needs a string "text" and may have an "id"."""
    where = f"{path}:{number}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise TagFileError(where, f"invalid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(obj, dict):
        raise TagFileError(
            where, f'expected a JSON object with a "text" field, got {_json_type(obj)}'
        )
    if "text" not in obj:
        raise TagFileError(where, '"text" must be a string (no such field)')
    text, doc_id = obj["text"], obj.get("id", number)
    problem = field_problem(text, doc_id, '"text"', '"id"')
    if problem is not None:
        raise TagFileError(where, problem)
    return Record(number, doc_id, text, offset)


def iter_records(path: Path, jsonl: bool, on_error: OnError | None = None) -> Iterator[Record]:
    """Yield the documents of a plain-text or JSONL file lazily; blank lines are skipped, and
    with ``on_error`` so are bad lines, once reported there."""
    for number, line, offset in iter_lines(path, on_error):
        if not line.strip():
            continue
        if not jsonl:
            yield Record(number, number, line, offset)
            continue
        try:
            record = parse_json_record(path, number, line, offset)
        except TagFileError as error:
            if on_error is None:
                raise
            on_error(error)
            continue
        yield record


def chunked(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Lists of at most ``size`` records, pulling from ``records`` only as needed."""
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


# ----------------------------------------------------------------------------------- writing


def write_jsonl(out: IO[str], record: Record, doc: Document, tasks: list[str]) -> None:
    """One JSON object a line: the document's id plus the REST API's per-document shape."""
    obj = {"id": record.doc_id, **document_to_dict(doc)}
    out.write(orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE).decode())


def _one_line(text: str) -> str:
    """Text safe for a CoNLL comment or cell: no tabs or line breaks."""
    return " ".join(text.split("\n")).replace("\r", " ").replace("\t", " ")


def write_conll(out: IO[str], record: Record, doc: Document, tasks: list[str]) -> None:
    """Comments with the id and text, then token + one column per task, a blank line a sentence."""
    write_conll_header(out, record, doc.text)
    if not doc.sentences:
        out.write("\n")
    write_conll_sentences(out, doc.sentences, tasks)


def write_conll_header(out: IO[str], record: Record, text: str) -> None:
    """The comment lines that open a document in CoNLL output."""
    out.write(f"# doc_id = {_one_line(str(record.doc_id))}\n# text = {_one_line(text)}\n")


def write_conll_sentences(out: IO[str], sentences: list[TaggedSentence], tasks: list[str]) -> None:
    """Token + one column per task, a blank line after each sentence."""
    for sentence in sentences:
        for i, token in enumerate(sentence.tokens):
            labels = [sentence.tags[t].labels[i] if t in sentence.tags else "_" for t in tasks]
            out.write("\t".join([_one_line(token.text), *labels]) + "\n")
        out.write("\n")


Writer = Callable[[IO[str], Record, Document, list[str]], None]
WRITERS: dict[str, Writer] = {"jsonl": write_jsonl, "conll": write_conll}


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def open_output(output: Path | None) -> Iterator[IO[str]]:
    """Where the output goes. A regular file (or a new one) is written through a temp file
    beside it that replaces it only if the block succeeds; anything else (a symlink's target,
    a FIFO, a device) is written in place and never replaced; stdout as it comes."""
    if output is None:
        yield sys.stdout
        return
    if output.is_dir():
        raise TagFileError(str(output), "is a directory")
    if output.is_symlink() or (output.exists() and not output.is_file()):
        try:
            with output.open("w", encoding="utf-8", newline="\n") as handle:
                yield handle
        except OSError as e:
            raise TagFileError(str(output), f"cannot write: {e.strerror}") from None
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as e:
        raise TagFileError(str(output), f"cannot write: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, output)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ----------------------------------------------------------------------------------- tagging


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


def check_input(input_file: Path) -> None:
    """Fail early, with a clear message, on a missing or non-regular input file."""
    if not input_file.exists():
        raise TagFileError(str(input_file), "no such file")
    if not input_file.is_file():
        raise TagFileError(str(input_file), "not a regular file")


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
