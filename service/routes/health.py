"""Health probes: liveness (always 200) and readiness (503 until the models are loaded)."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from service.deps import get_registry
from service.registry import ModelRegistry
from service.responses import OrjsonResponse
from service.schemas import ERRORS, HealthResponse

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=HealthResponse, summary="Liveness probe")
async def live() -> HealthResponse:
    """The process is up and serving HTTP."""
    return HealthResponse(status="alive", pid=os.getpid())


@router.get(
    "/ready",
    response_model=HealthResponse,
    summary="Readiness probe",
    responses={503: ERRORS[503]},
)
async def ready(registry: Annotated[ModelRegistry, Depends(get_registry)]) -> Response:
    """200 once every model is loaded and the service takes requests; 503 before and at shutdown."""
    if not registry.ready or registry.draining:
        detail = (
            "shutting down" if registry.draining else registry.error or "models are still loading"
        )
        return OrjsonResponse({"detail": detail}, status_code=503)
    return OrjsonResponse({"status": "ready", "models": list(registry.models), "pid": os.getpid()})
