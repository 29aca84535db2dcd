"""The output side of `tagger tag`: one document as a JSONL line or as CoNLL lines, and where
they go (a regular file appears whole or not at all; stdout, a FIFO or a device as written)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import orjson

from tagger.serialize import document_to_dict
from tagger.types import Document, TaggedSentence
from training.tag_input import Record, TagFileError


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
