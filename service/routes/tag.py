"""POST /v1/tag: tag raw text, several texts, or pre-tokenised sentences."""

from __future__ import annotations

import asyncio
import math
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from service import tagging
from service.errors import DeadlineExceededError, InvalidInputError, OverloadedError
from service.metrics import Metrics
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
    timeout = request_timeout(request.headers.get("x-request-timeout"), state.settings)
    work = tagging.tag(
        body, state.registry, state.settings, format, state.budget, time.monotonic() + timeout
    )
    return OrjsonResponse(await until_done_or_gone(request, work, timeout, state.metrics))


def request_timeout(header: str | None, settings: Settings) -> float:
    """Seconds this request may take: ``X-Request-Timeout`` if given, at most the setting."""
    if header is None:
        return settings.request_timeout_s
    try:
        seconds = float(header)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise InvalidInputError(
            f"X-Request-Timeout must be a positive number of seconds, got {header!r}"
        )
    return min(seconds, settings.request_timeout_s)


async def until_done_or_gone(
    request: Request, work: Coroutine[Any, Any, Any], timeout: float, metrics: Metrics
) -> Any:
    """The result of ``work``, unless its deadline passes (504) or the client disconnects
    first: then the work is cancelled, so what it queued for the model is dropped."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({task, gone}, timeout=timeout, return_when=FIRST_COMPLETED)
    finally:
        gone.cancel()
    if task in done:
        try:
            return task.result()
        except OverloadedError:
            metrics.shed.labels("overloaded").inc()
            raise
    task.cancel()
    if gone in done:
        metrics.shed.labels("client_gone").inc()
        return {"detail": "the client disconnected"}  # nobody reads it
    metrics.shed.labels("deadline").inc()
    raise DeadlineExceededError(f"the request did not finish within its deadline ({timeout:g} s)")


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (the body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
