"""orjson responses and JSON error handlers, so that no error is ever HTML or a bare 500."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from service.errors import (
    DeadlineExceededError,
    InvalidInputError,
    NotReadyError,
    OverloadedError,
    ReloadError,
    ServiceError,
    ShuttingDownError,
    TooLargeError,
    UnknownModelError,
    UnknownTaskError,
)

log = logging.getLogger("service.errors")

# The HTTP status of each of the service's own errors: the one place they become HTTP.
STATUS: dict[type[ServiceError], int] = {
    NotReadyError: 503,
    ShuttingDownError: 503,
    UnknownModelError: 404,
    UnknownTaskError: 422,
    InvalidInputError: 422,
    TooLargeError: 413,
    OverloadedError: 503,
    DeadlineExceededError: 504,
    ReloadError: 500,
}


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson: several times faster than the stdlib for tagged documents."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _printable(value: Any) -> Any:
    """Strings that orjson can encode (no lone surrogates), recursively."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _printable(str(value))


async def http_error(request: Request, exc: HTTPException) -> Response:
    """HTTP errors as ``{"detail": ...}`` JSON, keeping their headers (e.g. WWW-Authenticate)."""
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI's "error parsing the body" (bad UTF-8, nesting too deep): invalid JSON, 422.
        problem = {
            "loc": ["body"],
            "msg": f"invalid JSON body: {exc.__cause__}",
            "type": "json_invalid",
        }
        return OrjsonResponse({"detail": [_printable(problem)]}, status_code=422)
    return OrjsonResponse(
        {"detail": _printable(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


async def service_error(request: Request, exc: ServiceError) -> Response:
    """A ServiceError as ``{"detail": message}`` with the status ``STATUS`` gives its type."""
    code = next((STATUS[t] for t in type(exc).__mro__ if t in STATUS), 500)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, OverloadedError) else None
    return OrjsonResponse({"detail": _printable(str(exc))}, status_code=code, headers=headers)


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    """422 with location, message and type of each problem; inputs are not echoed back."""
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return OrjsonResponse({"detail": _printable(errors)}, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Last resort: log the bug, answer a JSON 500 rather than a text page."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return OrjsonResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceError, service_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error)
