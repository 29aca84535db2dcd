"""Loading a worker's models: at start (before it listens), in the background (in-process apps),
and again on reload, swapped in atomically while requests keep flowing."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence

from service.batching import DynamicBatcher
from service.metrics import Metrics
from service.registry import LoadedModel, ModelRegistry, TaggerLike, load_tagger
from service.settings import Settings

log = logging.getLogger("service.loading")


def make_model(tagger: TaggerLike, settings: Settings, metrics: Metrics) -> LoadedModel:
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


def load_models_now(settings: Settings) -> list[TaggerLike]:
    """Load every configured model directory, in order (the first is the default model)."""
    taggers = []
    for path in settings.models:
        log.info("loading model %s", path)
        tagger = load_tagger(path, settings.int8, settings.torch_threads)
        log.info("loaded model %s %s: tasks %s", tagger.name, tagger.version, tagger.tasks)
        taggers.append(tagger)
    return taggers


def install(
    registry: ModelRegistry, taggers: Sequence[TaggerLike], settings: Settings, metrics: Metrics
) -> list[LoadedModel]:
    """Put freshly loaded taggers into the registry, replacing what it served; returns the
    models it served before (to be retired once their requests are done)."""
    retired = registry.replace([make_model(t, settings, metrics) for t in taggers])
    freeze_heap()
    return retired


async def load_in_background(registry: ModelRegistry, settings: Settings, metrics: Metrics) -> None:
    """Load the configured models in a thread while the app answers probes (503 until ready)."""
    try:
        taggers = await asyncio.to_thread(load_models_now, settings)
        install(registry, taggers, settings, metrics)
    except Exception as exc:
        registry.error = f"failed to load models: {type(exc).__name__}: {exc}"
        log.exception("failed to load models %s", [str(p) for p in settings.models])


class Reloader:
    """Loads the configured models again and swaps them in; one reload at a time. Requests
    planned on the old models finish on them; their batchers close once those are done."""

    def __init__(self, registry: ModelRegistry, settings: Settings, metrics: Metrics) -> None:
        self.registry, self.settings, self.metrics = registry, settings, metrics
        self._lock = asyncio.Lock()

    async def __call__(self) -> list[LoadedModel]:
        async with self._lock:
            log.info("reloading models %s", [str(p) for p in self.settings.models])
            try:
                taggers = await asyncio.to_thread(load_models_now, self.settings)
                retired = install(self.registry, taggers, self.settings, self.metrics)
            except Exception:
                self.metrics.reloads.labels("failed").inc()
                log.exception("reload failed: the models loaded before keep serving")
                raise
            self.metrics.reloads.labels("ok").inc()
            for model in retired:
                asyncio.get_running_loop().create_task(self.registry.retire(model))
            log.info("reloaded: %s", [(m.name, m.version) for m in self.registry.models.values()])
            return list(self.registry.models.values())


def freeze_heap() -> None:
    """Move the loaded models' objects out of the GC's reach: a full collection over them (the
    GloVe index alone is 400k entries) takes 100+ ms and showed up as the p99 latency."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
