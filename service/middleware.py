"""Pure ASGI middleware: API keys on /v1/* (401 before the body is read), body size limit (413)."""

from __future__ import annotations

import hmac

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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


class ApiKeyMiddleware:
    """Rejects /v1/* requests without a configured key before anything parses their body."""

    def __init__(self, app: ASGIApp, keys: list[str], header: str, prefix: str = "/v1/") -> None:
        self.app = app
        self.keys = [key.encode() for key in keys]
        self.header = header.lower().encode("latin-1")
        self.prefix = prefix
        self.message = f"missing or invalid API key (send it in the {header} header)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
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
