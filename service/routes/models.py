"""GET /v1/models: the loaded models, their tasks, labels and recorded metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from service.deps import get_registry
from service.registry import ModelRegistry
from service.schemas import ERRORS, ModelsResponse

router = APIRouter(prefix="/v1", tags=["models"])


@router.get(
    "/models",
    response_model=ModelsResponse,
    summary="List loaded models",
    responses={k: ERRORS[k] for k in (401, 503)},
)
async def list_models(
    registry: Annotated[ModelRegistry, Depends(get_registry)],
) -> ModelsResponse:
    """Name, version, tasks, labels and evaluation metrics of every loaded model."""
    registry.require_ready()
    return ModelsResponse.model_validate(
        {
            "models": [
                {
                    "name": m.name,
                    "version": m.version,
                    "tasks": m.tasks,
                    "labels": m.tagger.labels,
                    "span_tasks": sorted(m.tagger.span_tasks),
                    "context_tokens": m.tagger.context_tokens,
                    "metrics": m.tagger.metrics or {},
                    "default": i == 0,
                    "loaded_at": m.loaded_at,
                }
                for i, m in enumerate(registry.models.values())
            ]
        }
    )
