"""`tagger tag` on a document too long to hold tagged in memory: it is tagged in segments of at
most ``SEGMENT_CHARS`` characters (cut at line breaks or sentence ends, see
``tagger.pipeline.text_segments``) and written as it goes, so the memory the model side needs
does not grow with the document (its text is still read and written once).

The output has the same shape as for any other document; offsets refer to the whole text.
Document context does not cross a segment boundary.
"""

from __future__ import annotations

import tempfile
from typing import IO, Protocol

import orjson

from tagger import pipeline
from tagger.serialize import entity_to_dict, sentence_to_dict
from tagger.types import Document
from training.tag_input import Record
from training.tag_output import write_conll_header, write_conll_sentences

SEGMENT_CHARS = 100_000  # also the threshold: longer documents are tagged in segments


class TagsMany(Protocol):
    def tag_many(
        self, texts: list[str], tasks: list[str] | None = None, batch_size: int = 64
    ) -> list[Document]: ...


def write_long(
    out: IO[str],
    record: Record,
    tagger: TagsMany,
    output_format: str,
    tasks: list[str],
    batch_size: int,
    segment_chars: int = SEGMENT_CHARS,
) -> None:
    """Tag and write one long document segment by segment, in ``jsonl`` or ``conll``."""
    segments = pipeline.text_segments(record.text, segment_chars)
    if output_format == "conll":
        write_conll_header(out, record, record.text)
        wrote = False
        for offset, segment in segments:
            sentences, _ = pipeline.shifted(_tag(tagger, segment, batch_size), offset)
            write_conll_sentences(out, sentences, tasks)
            wrote = wrote or bool(sentences)
        if not wrote:
            out.write("\n")
        return
    head = orjson.dumps({"id": record.doc_id, "text": record.text}).decode()
    out.write(head[:-1] + ',"sentences":[')
    first = True
    with tempfile.TemporaryFile("w+", encoding="utf-8") as entities:  # spooled to disk
        first_entity = True
        for offset, segment in segments:
            sentences, found = pipeline.shifted(_tag(tagger, segment, batch_size), offset)
            for sentence in sentences:
                out.write(
                    ("" if first else ",") + orjson.dumps(sentence_to_dict(sentence)).decode()
                )
                first = False
            for entity in found:
                entities.write(
                    ("" if first_entity else ",") + orjson.dumps(entity_to_dict(entity)).decode()
                )
                first_entity = False
        out.write('],"entities":[')
        entities.seek(0)
        while block := entities.read(1 << 20):
            out.write(block)
    out.write("]}\n")


def _tag(tagger: TagsMany, segment: str, batch_size: int) -> Document:
    if not segment.strip():
        return Document(segment, [])
    [document] = tagger.tag_many([segment], batch_size=batch_size)
    return document
