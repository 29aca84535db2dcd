"""Request dependencies: the settings and the registry of loaded models of this worker."""

from __future__ import annotations

from fastapi import Request

from service.registry import ModelRegistry
from service.settings import Settings


async def get_settings(request: Request) -> Settings:
    """The settings this app was created with (async: no thread-pool hop per request)."""
    return request.app.state.settings


async def get_registry(request: Request) -> ModelRegistry:
    """The registry of models loaded by this worker (async: no thread-pool hop)."""
    return request.app.state.registry
