"""Pure ASGI middleware: API keys on /v1/* and /admin/* (401 before the body is read), body
size limit (413), request ids."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import request_id


def _too_large(limit: int) -> str:
    return f"request body is larger than max_body_bytes ({limit} bytes)"


class BodySizeLimitMiddleware:
    """Checks Content-Length up front, and counts the bytes actually received (chunked bodies)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    await _send_413(send, self.limit)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # FastAPI re-raises HTTPExceptions met while reading the body: a JSON 413.
                    raise HTTPException(413, detail=_too_large(self.limit))
            return message

        await self.app(scope, counting_receive, send)


PROTECTED = ("/v1/", "/admin/")  # paths that need a key when keys are configured


class ApiKeyMiddleware:
    """Rejects /v1/* and /admin/* requests without a configured key before anything parses
    their body (the one place keys are checked)."""

    def __init__(
        self, app: ASGIApp, keys: list[str], header: str, prefixes: tuple[str, ...] = PROTECTED
    ) -> None:
        self.app = app
        self.keys = [key.encode() for key in keys]
        self.header = header.lower().encode("latin-1")
        self.prefixes = prefixes
        self.message = f"missing or invalid API key (send it in the {header} header)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            given = next((v for n, v in scope["headers"] if n == self.header), None)
            if given is None or not any(hmac.compare_digest(given, k) for k in self.keys):
                await _send_error(
                    send, 401, self.message, [(b"www-authenticate", b"ApiKey")], close=False
                )
                return
        await self.app(scope, receive, send)


async def _send_413(send: Send, limit: int) -> None:
    """A JSON 413, sent without reading the body (the server then closes the connection)."""
    await _send_error(send, 413, _too_large(limit), [], close=True)


async def _send_error(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]], close: bool
) -> None:
    """A complete JSON error response ``{"detail": ...}``."""
    body = orjson.dumps({"detail": detail})
    extra = [(b"connection", b"close")] if close else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestIdMiddleware:
    """Accepts the client's ``X-Request-ID`` (printable ASCII, at most 128 characters) or makes
    one, echoes it on the response, and sets it for the logs of everything the request does.
    With ``access_log`` one line per request: method, path, status and duration."""

    def __init__(self, app: ASGIApp, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log
        self.log = logging.getLogger("service.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for n, v in scope["headers"] if n == b"x-request-id"), b"")
        rid = given.decode("latin-1") if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                millis = round(1000 * (time.perf_counter() - started), 1)
                extra = {"method": scope["method"], "path": scope["path"], "status": status}
                self.log.info(
                    "%s %s %s %.1f ms", scope["method"], scope["path"], status, millis,
                    extra={**extra, "duration_ms": millis},
                )  # fmt: skip
            request_id.reset(token)


_VALID_ID = re.compile(rb"[\x21-\x7e]{1,128}")
