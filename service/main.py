"""The FastAPI application factory: routes, middleware, error handlers, model loading lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.staticfiles import StaticFiles

from service.batching import DynamicBatcher
from service.metrics import Metrics, MetricsMiddleware
from service.middleware import ApiKeyMiddleware, BodySizeLimitMiddleware
from service.registry import LoadedModel, ModelRegistry, TaggerLike, load_tagger
from service.responses import OrjsonResponse, install_error_handlers
from service.routes import demo, health, models, tag
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


def _make_model(tagger: TaggerLike, settings: Settings, metrics: Metrics) -> LoadedModel:
    """Wrap a tagger with its own dynamic batcher and metrics."""
    name = tagger.name
    batch_size = settings.predict_batch_size

    def run(pieces: list, tasks: tuple[str, ...]) -> list:
        return tagger.run(pieces, list(tasks), batch_size)

    batcher = DynamicBatcher(
        run,
        max_batch_size=settings.max_batch_size,
        max_wait_ms=settings.max_wait_ms,
        name=name,
        observe=lambda stats: metrics.observe_batch(name, stats),
    )
    return LoadedModel(tagger, batcher)


async def _load_models(
    registry: ModelRegistry, paths: Sequence[Path], settings: Settings, metrics: Metrics
) -> None:
    """Load the model directories in a thread (the server answers probes meanwhile)."""
    try:
        for path in paths:
            log.info("loading model %s", path)
            tagger = await asyncio.to_thread(load_tagger, path, settings.int8)
            registry.add(_make_model(tagger, settings, metrics))
            log.info("loaded model %s %s: tasks %s", tagger.name, tagger.version, tagger.tasks)
        registry.check_default_tasks()
    except Exception as exc:
        registry.error = f"failed to load models: {type(exc).__name__}: {exc}"
        log.exception("failed to load models %s", [str(p) for p in paths])
        return
    _freeze_heap()
    registry.ready = True


def _freeze_heap() -> None:
    """Move the loaded models' objects out of the GC's reach: a full collection over them (the
    GloVe index alone is 400k entries) takes 100+ ms and showed up as the p99 latency."""
    gc.collect()
    gc.freeze()


def _limit_torch_threads(threads: int) -> None:
    """Intra-op threads per worker: one keeps batches fast and workers from fighting for cores."""
    import torch

    if torch.get_num_threads() != threads:
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
    settings: Settings | None = None, *, taggers: Sequence[TaggerLike] | None = None
) -> FastAPI:
    """Build the app; models load in the lifespan (``taggers`` replaces loading, for tests)."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = app.state.registry = ModelRegistry(settings.default_tasks)
        _limit_torch_threads(settings.torch_threads)
        loading: asyncio.Task[None] | None = None
        if taggers is not None:
            for tagger in taggers:
                registry.add(_make_model(tagger, settings, metrics))
            registry.check_default_tasks()
            _freeze_heap()
            registry.ready = True
        elif settings.workers > 1:
            # Load before accepting: connections then go to workers that are ready, instead
            # of a 503 from one still loading after another has answered /health/ready.
            await _load_models(registry, settings.models, settings, metrics)
        else:
            # Load in the background: probes answer meanwhile (/health/ready is 503).
            load = _load_models(registry, settings.models, settings, metrics)
            loading = asyncio.create_task(load)
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
    install_error_handlers(app)
    _document_openapi(app, settings)

    app.include_router(tag.router)
    app.include_router(models.router)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(demo.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first: CORS -> metrics -> API key -> body limit -> routes.
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.api_keys:
        app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys, header=settings.api_key_header)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", settings.api_key_header],
        )
    return app
