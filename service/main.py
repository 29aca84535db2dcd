"""The FastAPI application factory: routes, middleware, error handlers, model loading lifespan."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.staticfiles import StaticFiles

from service.admission import WorkBudget
from service.loading import Reloader, install, load_in_background
from service.metrics import Metrics, MetricsMiddleware
from service.middleware import ApiKeyMiddleware, BodySizeLimitMiddleware, RequestIdMiddleware
from service.registry import ModelRegistry, TaggerLike
from service.responses import OrjsonResponse, install_error_handlers
from service.routes import admin, demo, health, models, tag
from service.routes import metrics as metrics_route
from service.routes.demo import STATIC_DIR
from service.settings import Settings

log = logging.getLogger("service")

DESCRIPTION = """\
Sequence tagging over HTTP with bidirectional LSTM/GRU-CRF models: named entities (CoNLL-2003
`ner`), part-of-speech (`pos`, and `upos`/`xpos` when a UD model is loaded) and chunks (`chunk`).

* `POST /v1/tag`: tag raw text, several texts, or pre-tokenised sentences (`?format=displacy`
  for displaCy's manual format).
* `GET /v1/models`: loaded models, their tasks, labels and evaluation metrics.
* `GET /health/live`, `GET /health/ready`, `GET /metrics` (Prometheus); `GET /` is a demo page.

When API keys are configured, `/v1/*` needs the key in the configured header (default
`X-API-Key`); health, metrics, the demo page and these docs stay open. Every error is JSON
`{"detail": ...}`.
"""


def _limit_torch_threads(threads: int) -> None:
    """Intra-op threads per worker: one keeps batches fast and workers from fighting for cores
    (torch only when a model uses it: an ONNX-only worker never imports torch)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _document_openapi(app: FastAPI, settings: Settings) -> None:
    """OpenAPI generation plus the request schemas of routes that parse their own bodies, and
    the API-key scheme on /v1/* when keys are configured (``ApiKeyMiddleware`` checks them)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = tag.add_schemas(generate())
            if settings.api_keys:
                _add_api_key_scheme(schema, settings.api_key_header)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_api_key_scheme(schema: dict[str, Any], header: str) -> None:
    """Declare the API-key header and require it on every /v1/* operation."""
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["APIKeyHeader"] = {
        "type": "apiKey",
        "in": "header",
        "name": header,
        "description": "API key; required on /v1/* when the service is configured with keys.",
    }
    for path, operations in schema.get("paths", {}).items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["security"] = [{"APIKeyHeader": []}]


def create_app(
    settings: Settings | None = None,
    *,
    taggers: Sequence[TaggerLike] | None = None,
    load_error: str | None = None,
) -> FastAPI:
    """Build the app. ``taggers``: models already loaded (a worker of `tagger serve`, tests);
    ``load_error``: they could not be (the app then answers /health/ready 503 with it);
    neither: the configured models load in the background while probes answer."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = app.state.registry = ModelRegistry(settings.default_tasks)
        app.state.reload = Reloader(registry, settings, metrics)
        _limit_torch_threads(settings.torch_threads)
        loading: asyncio.Task[None] | None = None
        if load_error is not None:
            registry.error = load_error
        elif taggers is not None:
            install(registry, taggers, settings, metrics)
        else:
            loading = asyncio.create_task(load_in_background(registry, settings, metrics))
        try:
            yield
        finally:
            if loading is not None and not loading.done():
                loading.cancel()
            await registry.close()  # in-flight requests are done; drain whatever is queued
            log.info("batchers drained, shutting down")

    # FastAPIOffline serves the Swagger UI and ReDoc assets itself: /docs works without a CDN.
    app: FastAPI = FastAPIOffline(
        title="Sequence tagger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.registry = ModelRegistry()
    app.state.reload = None
    app.state.budget = WorkBudget(settings.max_queued_tokens)
    install_error_handlers(app)
    _document_openapi(app, settings)

    app.include_router(tag.router)
    app.include_router(models.router)
    app.include_router(admin.router)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(demo.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first: CORS -> request id -> metrics -> API key -> body limit -> routes.
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.api_keys:
        app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys, header=settings.api_key_header)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-request-id", settings.api_key_header],
            expose_headers=["x-request-id"],
        )
    return app
