"""POST /v1/tag: tag raw text, several texts, or pre-tokenised sentences."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from service import tagging
from service.responses import OrjsonResponse
from service.schemas import ERRORS, OutputFormat, TagAnswer, TagRequest

router = APIRouter(prefix="/v1", tags=["tagging"])

FORMAT_HELP = (
    "`json` (default): `{model, models?, documents}`, one document per input text, every token "
    "with one field per task and its `confidence` per task, and `entities` from the `ner` task. "
    '`displacy`: a list with one `{"text", "ents": [{"start", "end", "label"}], "title": null}` '
    'per document, ready for `displacy.render(docs, style="ent", manual=True)`.'
)

# The body is parsed by the route itself (see ``parse_tag_request``), so OpenAPI is told here
# and ``add_schemas`` puts TagRequest into the components, where client generators look for it.
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TagRequest"}}},
}


def add_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the request schema that ``REQUEST_BODY`` refers to (the route does not declare it)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["TagRequest"] = TagRequest.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    return openapi


def parse_tag_request(body: bytes) -> TagRequest:
    """Parse and validate the JSON body in one pass (pydantic's own JSON parser).

    FastAPI's body handling (``json.loads``, validation of the Python objects, dependency
    solving) made the app's own cost per one-sentence request a third higher, which shows
    under load. Errors keep FastAPI's shape: 422 with ``loc`` starting at ``body``.
    """
    try:
        return TagRequest.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from None


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
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def tag(
    request: Request,
    format: Annotated[OutputFormat, Query(description=FORMAT_HELP)] = OutputFormat.json,
) -> Response:
    """Tag the documents of the request and answer JSON (no response-model validation)."""
    body = parse_tag_request(await request.body())
    state = request.app.state
    return OrjsonResponse(await tagging.tag(body, state.registry, state.settings, format))
