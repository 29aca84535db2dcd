"""The models a worker serves and which of them answers which task of a request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(slots=True)
class LoadedModel:
    """A loaded tagger and the batcher that serialises access to it."""

    tagger: TaggerLike
    batcher: DynamicBatcher

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
        self.ready = False
        self.error: str | None = None

    def add(self, model: LoadedModel) -> None:
        """Register a model; names and task names must be unique across loaded models."""
        if model.name in self.models:
            raise ValueError(f"two loaded models are both named {model.name!r}")
        for task in model.tasks:
            if task in self.task_owner:
                other = self.task_owner[task].name
                raise ValueError(f"task {task!r} is in both {other!r} and {model.name!r}")
        self.models[model.name] = model
        for task in model.tasks:
            self.task_owner[task] = model

    def require_ready(self) -> None:
        """Raise ``NotReadyError`` while the models are loading (or failed to load)."""
        if not self.ready:
            raise NotReadyError(self.error or "models are still loading")

    def check_default_tasks(self) -> None:
        """Once the models are loaded: each configured default task must be offered."""
        unknown = [t for t in self.default_tasks if t not in self.task_owner]
        if unknown:
            raise ValueError(
                f"default_tasks {unknown} are not tasks of the loaded models "
                f"({', '.join(self.task_owner)})"
            )

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
        for model in self.models.values():
            await model.batcher.close()


def load_tagger(path: Path | None, int8: bool | None = None) -> TaggerLike:
    """Load one model directory with the library (imported lazily: torch is heavy)."""
    from tagger import Tagger

    return Tagger.load(path, int8=int8)
