"""The models a worker serves and which of them answers which task of a request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from service.batching import DynamicBatcher
from service.errors import NotReadyError, UnknownModelError, UnknownTaskError
from tagger.pipeline import Prepared, TokenizedDocument
from tagger.types import TaskTags


class TaggerLike(Protocol):
    """The part of ``tagger.Tagger`` the service uses (lets tests pass any such object)."""

    metrics: dict[str, Any]

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def tasks(self) -> list[str]: ...

    @property
    def labels(self) -> dict[str, list[str]]: ...

    @property
    def span_tasks(self) -> set[str]: ...

    @property
    def context_tokens(self) -> int: ...  # > 0: a document's sentences are read together

    def prepare(self, documents: Sequence[TokenizedDocument]) -> Prepared: ...

    def run(
        self,
        pieces: Sequence[Sequence[str]],
        tasks: Sequence[str] | None = None,
        batch_size: int = 128,
        with_scores: bool = True,
    ) -> list[dict[str, TaskTags]]: ...


@dataclass(slots=True, eq=False)  # hashed by identity: a registry tracks retiring models
class LoadedModel:
    """A loaded tagger, the batcher that serialises access to it, and the requests using it."""

    tagger: TaggerLike
    batcher: DynamicBatcher
    loaded_at: float = field(default_factory=time.time)
    in_flight: int = 0  # requests planned on this model and not finished yet

    @property
    def name(self) -> str:
        return self.tagger.name

    @property
    def version(self) -> str:
        return str(self.tagger.version)

    @property
    def tasks(self) -> list[str]:
        return list(self.tagger.tasks)


Plan = list[tuple[LoadedModel, tuple[str, ...]]]  # each model involved and its tasks


class ModelRegistry:
    """The models this worker serves, by name; maps each task to the one model that has it."""

    def __init__(self, default_tasks: Sequence[str] | None = None) -> None:
        self.models: dict[str, LoadedModel] = {}
        self.task_owner: dict[str, LoadedModel] = {}
        self.default_tasks = list(default_tasks or [])  # empty: the default model's tasks
        self.ready = False  # models loaded: requests are answered
        self.draining = False  # shutting down: /health/ready says 503, requests still answered
        self.error: str | None = None
        self._retiring: set[LoadedModel] = set()

    def replace(self, models: Sequence[LoadedModel]) -> list[LoadedModel]:
        """Serve ``models`` from now on (all at once: requests see the old set or the new one)
        and become ready; returns the models served before. Names and tasks must be unique
        across the models, and every default task must be offered."""
        by_name: dict[str, LoadedModel] = {}
        owner: dict[str, LoadedModel] = {}
        for model in models:
            if model.name in by_name:
                raise ValueError(f"two loaded models are both named {model.name!r}")
            for task in model.tasks:
                if task in owner:
                    other = owner[task].name
                    raise ValueError(f"task {task!r} is in both {other!r} and {model.name!r}")
                owner[task] = model
            by_name[model.name] = model
        unknown = [t for t in self.default_tasks if t not in owner]
        if unknown:
            raise ValueError(
                f"default_tasks {unknown} are not tasks of the loaded models ({', '.join(owner)})"
            )
        retired = list(self.models.values())
        self.models, self.task_owner = by_name, owner
        self.ready, self.error = True, None
        return retired

    @contextmanager
    def using(self, plan: Plan) -> Iterator[None]:
        """Count a request as in flight on the models of its plan while the block runs."""
        for model, _ in plan:
            model.in_flight += 1
        try:
            yield
        finally:
            for model, _ in plan:
                model.in_flight -= 1

    async def retire(self, model: LoadedModel) -> None:
        """Close a replaced model's batcher once the requests planned on it are done."""
        self._retiring.add(model)
        while model.in_flight:
            await asyncio.sleep(0.05)
        await model.batcher.close()
        self._retiring.discard(model)

    def require_ready(self) -> None:
        """Raise ``NotReadyError`` while the models are loading (or failed to load)."""
        if not self.ready:
            raise NotReadyError(self.error or "models are still loading")

    def plan(self, tasks: Sequence[str] | None, model: str | None) -> Plan:
        """Which model computes which requested task. A request naming neither tasks nor a
        model gets ``default_tasks``, or when there are none the default model's tasks."""
        self.require_ready()
        if model is None and not tasks:
            if self.default_tasks:
                tasks = self.default_tasks
            else:
                model = next(iter(self.models))  # the first loaded model is the default one
        if model is not None:
            chosen = self.models.get(model)
            if chosen is None:
                known = ", ".join(self.models)
                raise UnknownModelError(f"unknown model {model!r}; loaded: {known}")
            candidates = {task: chosen for task in chosen.tasks}
        else:
            candidates = self.task_owner
        wanted = list(dict.fromkeys(tasks)) if tasks else list(candidates)
        unknown = [t for t in wanted if t not in candidates]
        if unknown:
            where = f"model {model!r}" if model is not None else "the loaded models"
            raise UnknownTaskError(
                f"unknown task(s) {', '.join(map(repr, unknown))}; "
                f"{where} offer: {', '.join(candidates)}"
            )
        by_model: dict[str, list[str]] = {}
        for task in wanted:
            by_model.setdefault(candidates[task].name, []).append(task)
        return [(self.models[name], tuple(ts)) for name, ts in by_model.items()]

    async def close(self) -> None:
        """Drain every batcher: queued work finishes, then the model threads stop."""
        self.ready = False
        for model in [*self.models.values(), *self._retiring]:
            await model.batcher.close()


def load_tagger(path: Path | None, int8: bool | None = None, threads: int = 1) -> TaggerLike:
    """Load one model directory with the library (torch or ONNX, whichever it holds)."""
    from tagger import Tagger

    return Tagger.load(path, int8=int8, threads=threads)
