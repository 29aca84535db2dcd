"""POST /v1/tag behind the route: limits, then the library's pipeline with one batcher per
model (prepare -> batched run -> assemble), then the answer's shape. Everything between
tokens and documents is the library's (``tagger.pipeline``); only HTTP concerns live here."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from service.admission import WorkBudget, estimate_tokens
from service.errors import InvalidInputError, TooLargeError
from service.registry import ModelRegistry, Plan
from service.schemas import OutputFormat, TagRequest
from service.settings import Settings
from tagger import pipeline
from tagger.pipeline import TokenizedDocument
from tagger.serialize import document_to_dict
from tagger.types import Document, TaskTags

# Texts this long (characters) are tokenised and serialised off the event loop.
OFFLOAD_CHARS = 20_000
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_limits(req: TagRequest, settings: Settings) -> list[tuple[str, str]]:
    """Apply the size limits and Unicode check; returns (location, text) per document."""
    if req.texts is not None:
        if len(req.texts) > settings.max_documents:
            raise InvalidInputError(
                f"too many documents: {len(req.texts)} > max_documents ({settings.max_documents})"
            )
        texts = [(f"texts[{i}]", t) for i, t in enumerate(req.texts)]
    elif req.text is not None:
        texts = [("text", req.text)]
    else:
        assert req.tokens is not None
        for i, sentence in enumerate(req.tokens):
            for j, token in enumerate(sentence):
                if not token:
                    raise InvalidInputError(
                        f"tokens[{i}][{j}] is empty; tokens must be non-empty strings"
                    )
        texts = [("tokens", " ".join(" ".join(s) for s in req.tokens))]
    for where, text in texts:
        if len(text) > settings.max_text_length:
            raise TooLargeError(
                f"{where} is {len(text)} characters long; max_text_length is "
                f"{settings.max_text_length}"
            )
        if _SURROGATE.search(text):
            raise InvalidInputError(
                f"{where} contains an unpaired surrogate (not valid Unicode text)"
            )
    return texts


def tokenize(req: TagRequest, texts: list[tuple[str, str]]) -> list[TokenizedDocument]:
    """Tokenise every document once, whatever models will tag it."""
    if req.tokens is not None:
        return [pipeline.from_tokens(req.tokens)]
    return [pipeline.tokenize_text(text) for _, text in texts]


async def run_plan(
    plan: Plan, documents: list[TokenizedDocument], deadline: float | None = None
) -> list[Document]:
    """Each planned model prepares its pieces and tags them through its batcher; the
    sentences' tags of all models are merged and assembled into documents."""

    async def one_model(index: int) -> list[dict[str, TaskTags]]:
        model, tasks = plan[index]
        prepared = model.tagger.prepare(documents)
        piece_tags = await model.batcher.submit(
            prepared.pieces, tasks, prepared.sentences, deadline
        )
        return prepared.sentence_tags(piece_tags, tasks)

    per_model = await asyncio.gather(*(one_model(i) for i in range(len(plan))))
    return pipeline.assemble(documents, pipeline.merge(per_model))


def shape(plan: Plan, documents: list[Document], fmt: OutputFormat) -> Any:
    """The answer body: per-document dicts (shared with `tagger tag`) or displaCy's format."""
    if fmt is OutputFormat.displacy:
        return [
            {
                "text": d.text,
                "ents": [{"start": e.start, "end": e.end, "label": e.label} for e in d.entities],
                "title": None,
            }
            for d in documents
        ]
    body: dict[str, Any] = {"model": {"name": plan[0][0].name, "version": plan[0][0].version}}
    if len(plan) > 1:
        body["models"] = [{"name": m.name, "version": m.version} for m, _ in plan]
    body["documents"] = [document_to_dict(d) for d in documents]
    return body


async def tag(
    req: TagRequest,
    registry: ModelRegistry,
    settings: Settings,
    fmt: OutputFormat,
    budget: WorkBudget,
    deadline: float | None = None,
) -> Any:
    """Run a tag request end to end, within the worker's work budget (503 beyond it); heavy
    CPU steps of big requests leave the event loop."""
    plan = registry.plan(req.tasks, req.model)
    texts = check_limits(req, settings)
    with budget.admit(estimate_tokens([t for _, t in texts])), registry.using(plan):
        big = sum(len(t) for _, t in texts) > OFFLOAD_CHARS
        documents = await asyncio.to_thread(tokenize, req, texts) if big else tokenize(req, texts)
        tagged = await run_plan(plan, documents, deadline)
        if big:
            return await asyncio.to_thread(shape, plan, tagged, fmt)
        return shape(plan, tagged, fmt)
