"""The pipeline behind POST /v1/tag: limits, tokenise once, batch per model, merge, shape."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status

from service.batching import BatcherClosedError
from service.deps import LoadedModel, ModelRegistry, Plan
from service.schemas import OutputFormat, TagRequest
from service.settings import Settings
from tagger import context
from tagger.serialize import document_to_dict
from tagger.spans import build_document
from tagger.tokenize import join_tokens, tokenize
from tagger.types import Document, TaskTags, Token

# Texts this long (characters) are tokenised and serialised off the event loop.
OFFLOAD_CHARS = 20_000
_SURROGATE = re.compile("[\ud800-\udfff]")
_NO_TAGS = TaskTags(labels=[], scores=[])


@dataclass(slots=True)
class _Doc:
    """A document between tokenisation and tagging."""

    text: str
    sentences: list[list[Token]]
    empty_at: dict[int, int] | None = None  # sentence index -> offset, for empty sentences


def check_limits(req: TagRequest, settings: Settings) -> list[tuple[str, str]]:
    """Apply the size limits and Unicode check; returns (location, text) per document."""
    if req.texts is not None:
        if len(req.texts) > settings.max_documents:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"too many documents: {len(req.texts)} > max_documents "
                f"({settings.max_documents})",
            )
        texts = [(f"texts[{i}]", t) for i, t in enumerate(req.texts)]
    elif req.text is not None:
        texts = [("text", req.text)]
    else:
        assert req.tokens is not None
        for i, sentence in enumerate(req.tokens):
            for j, token in enumerate(sentence):
                if not token:
                    raise HTTPException(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        detail=f"tokens[{i}][{j}] is empty; tokens must be non-empty strings",
                    )
        texts = [("tokens", " ".join(" ".join(s) for s in req.tokens))]
    for where, text in texts:
        if len(text) > settings.max_text_length:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"{where} is {len(text)} characters long; max_text_length is "
                f"{settings.max_text_length}",
            )
        if _SURROGATE.search(text):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"{where} contains an unpaired surrogate (not valid Unicode text)",
            )
    return texts


def _pretokenized(tokens: list[list[str]]) -> _Doc:
    """Offsets for pre-tokenised input as ``Tagger.tag_tokens``: all tokens joined by spaces."""
    text, sentences = join_tokens(tokens)
    empty_at: dict[int, int] = {}
    end = 0
    for i, sentence in enumerate(sentences):
        if sentence:
            end = sentence[-1].end
        else:
            empty_at[i] = end
    return _Doc(text, sentences, empty_at or None)


def _prepare(req: TagRequest, texts: list[tuple[str, str]]) -> list[_Doc]:
    """Tokenise every document once, whatever models will tag it."""
    if req.tokens is not None:
        return [_pretokenized(req.tokens)]
    return [_Doc(text, tokenize(text)) for _, text in texts]


async def _predict(plan: Plan, docs: list[_Doc]) -> list[list[dict[str, TaskTags]]]:
    """Send all non-empty sentences to each planned model's batcher; merged tags per sentence."""
    words = [[t.text for t in s] for d in docs for s in d.sentences if s]
    doc_ids = [i for i, d in enumerate(docs) for s in d.sentences if s]
    try:
        per_model = await asyncio.gather(
            *(_submit(model, tasks, words, doc_ids) for model, tasks in plan)
        )
    except BatcherClosedError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    order = [task for _, tasks in plan for task in tasks]
    merged: list[dict[str, TaskTags]] = []
    for i in range(len(words)):
        tags: dict[str, TaskTags] = {}
        for (_, tasks), results in zip(plan, per_model, strict=True):
            result = results[i]
            for task in tasks:
                tags[task] = result[task]
        merged.append({task: tags[task] for task in order} if len(plan) > 1 else tags)
    # Re-insert empty sentences (pre-tokenised input may contain them) in document order.
    out: list[list[dict[str, TaskTags]]] = []
    it = iter(merged)
    for doc in docs:
        out.append([next(it) if s else dict.fromkeys(order, _NO_TAGS) for s in doc.sentences])
    return out


async def _submit(
    model: LoadedModel, tasks: tuple[str, ...], words: list[list[str]], doc_ids: list[int]
) -> list[dict[str, TaskTags]]:
    """One model's tags per sentence; a model with document context gets each document's
    sentences joined into pieces (as ``Tagger.predict`` with ``doc_ids`` does)."""
    budget = model.tagger.context_tokens
    if budget == 0:
        return await model.batcher.submit(words, tasks)
    lengths = [len(sentence) for sentence in words]
    pieces = context.pack(lengths, doc_ids, budget)
    piece_tags = await model.batcher.submit(context.join(words, pieces), tasks)
    return context.split(piece_tags, pieces, lengths)


def _document(doc: _Doc, tags: list[dict[str, TaskTags]]) -> Document:
    """The library's Document (entities from the ``ner`` task when it ran)."""
    return build_document(doc.text, list(zip(doc.sentences, tags, strict=True)))


def _shape(
    plan: Plan, docs: list[_Doc], tags: list[list[dict[str, TaskTags]]], fmt: OutputFormat
) -> Any:
    """The answer body: per-document dicts (shared with `tagger tag`) or displaCy's format."""
    documents = [_document(d, t) for d, t in zip(docs, tags, strict=True)]
    if fmt is OutputFormat.displacy:
        return [
            {
                "text": d.text,
                "ents": [{"start": e.start, "end": e.end, "label": e.label} for e in d.entities],
                "title": None,
            }
            for d in documents
        ]
    body: dict[str, Any] = {
        "model": {"name": plan[0][0].name, "version": plan[0][0].version},
    }
    if len(plan) > 1:
        body["models"] = [{"name": m.name, "version": m.version} for m, _ in plan]
    body["documents"] = [
        _fix_empty(document_to_dict(d), doc.empty_at)
        for d, doc in zip(documents, docs, strict=True)
    ]
    return body


def _fix_empty(doc: dict[str, Any], empty_at: dict[int, int] | None) -> dict[str, Any]:
    """Give sentences without tokens the offset where they sit instead of 0..0."""
    for i, offset in (empty_at or {}).items():
        doc["sentences"][i]["start"] = doc["sentences"][i]["end"] = offset
    return doc


async def tag(
    req: TagRequest, registry: ModelRegistry, settings: Settings, fmt: OutputFormat
) -> Any:
    """Run a tag request end to end; heavy CPU steps of big requests leave the event loop."""
    plan = registry.plan(req.tasks, req.model)
    texts = check_limits(req, settings)
    big = sum(len(t) for _, t in texts) > OFFLOAD_CHARS
    docs = await asyncio.to_thread(_prepare, req, texts) if big else _prepare(req, texts)
    tags = await _predict(plan, docs)
    if big:
        return await asyncio.to_thread(_shape, plan, docs, tags, fmt)
    return _shape(plan, docs, tags, fmt)
