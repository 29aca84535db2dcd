"""Prometheus metrics: HTTP requests and latency, batch sizes, tokens tagged (multi-worker)."""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.batching import BatchStats

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """The service's metric families, in their own registry (several apps can live in a process)."""

    def __init__(self) -> None:
        disable_created_metrics()  # no *_created series: only noise for dashboards
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "tagger_http_requests",
            "HTTP requests by method, route and status code.",
            ["method", "path", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "tagger_http_request_duration_seconds",
            "HTTP request latency by method and route.",
            ["method", "path"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_sentences = Histogram(
            "tagger_batch_size_sentences",
            "Sentences per model call (dynamic batching).",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.batch_requests = Histogram(
            "tagger_batch_size_requests",
            "Requests coalesced into one model call.",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.inference = Histogram(
            "tagger_inference_duration_seconds",
            "Time of one batched model call.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "tagger_queue_wait_seconds",
            "Mean time requests of a batch waited for the model.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "tagger_tokens_tagged", "Tokens tagged, by model.", ["model"], registry=r
        )
        self.sentences = Counter(
            "tagger_sentences_tagged", "Sentences tagged, by model.", ["model"], registry=r
        )
        self.pieces = Counter(
            "tagger_pieces_tagged",
            "Token sequences the network read, by model (with document context, several "
            "sentences make one piece; a very long sentence is read in several).",
            ["model"],
            registry=r,
        )

        self.shed = Counter(
            "tagger_requests_shed",
            "Requests answered 503 at once because the worker's queue of work was full, or "
            "dropped before the model because their deadline passed or their client left.",
            ["reason"],
            registry=r,
        )
        self.reloads = Counter(
            "tagger_model_reloads", "Model reloads, by outcome.", ["outcome"], registry=r
        )

    def observe_batch(self, model: str, stats: BatchStats) -> None:
        """Record one model call (called by the model's batcher)."""
        self.batch_sentences.labels(model).observe(stats.sentences)
        self.batch_requests.labels(model).observe(stats.requests)
        self.inference.labels(model).observe(stats.seconds)
        self.queue_wait.labels(model).observe(stats.queue_seconds)
        self.tokens.labels(model).inc(stats.tokens)
        self.sentences.labels(model).inc(stats.sentences)
        self.pieces.labels(model).inc(stats.pieces)

    def render(self) -> tuple[bytes, str]:
        """Exposition text; with several uvicorn workers, the sum over all of them."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI middleware counting requests and timing them per route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._paths: frozenset[str] | None = None

    def _known(self, scope: Scope) -> str:
        """The path of a request answered before routing (401, 413) if it is a route's path."""
        if self._paths is None:
            app = scope.get("app")
            openapi = getattr(app, "openapi", None)
            self._paths = frozenset(openapi()["paths"]) if openapi is not None else frozenset()
        return scope["path"] if scope["path"] in self._paths else "<unmatched>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or self._known(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, path, str(status_code)).inc()
            self.metrics.latency.labels(method, path).observe(time.perf_counter() - started)
