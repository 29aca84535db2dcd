"""POST /v1/tag: tag raw text, several texts, or pre-tokenised sentences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from service import tagging
from service.deps import ModelRegistry, get_registry, get_settings
from service.responses import OrjsonResponse
from service.schemas import ERRORS, OutputFormat, TagAnswer, TagRequest
from service.settings import Settings

router = APIRouter(prefix="/v1", tags=["tagging"])

FORMAT_HELP = (
    "`json` (default): `{model, models?, documents}`, one document per input text, every token "
    "with one field per task and its `confidence` per task, and `entities` from the `ner` task. "
    '`displacy`: a list with one `{"text", "ents": [{"start", "end", "label"}], "title": null}` '
    'per document, ready for `displacy.render(docs, style="ent", manual=True)`.'
)


@router.post(
    "/tag",
    response_class=OrjsonResponse,
    summary="Tag text with NER, POS, chunking (and UD tags when such a model is loaded)",
    description="Give exactly one of `text`, `texts` or `tokens`. Texts longer than "
    "`max_text_length` characters give 413, more than `max_documents` texts give 422, bodies "
    "over `max_body_bytes` give 413. Empty or whitespace-only text is not an error: the "
    "document has no sentences. Offsets are Python string (code point) indices.\n\n" + FORMAT_HELP,
    responses={
        200: {"model": TagAnswer, "description": "Tagged documents (shape depends on `format`)."},
        **ERRORS,
    },
)
async def tag(
    body: TagRequest,
    registry: Annotated[ModelRegistry, Depends(get_registry)],
    settings: Annotated[Settings, Depends(get_settings)],
    format: Annotated[OutputFormat, Query(description=FORMAT_HELP)] = OutputFormat.json,
) -> Response:
    """Tag the documents of the request and answer JSON (no response-model validation)."""
    return OrjsonResponse(await tagging.tag(body, registry, settings, format))
