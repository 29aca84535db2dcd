"""GET /metrics: Prometheus exposition text."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

router = APIRouter(tags=["monitoring"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latency per route, batch sizes, inference time, tokens tagged."""
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)
