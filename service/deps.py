"""Request dependencies: the registry of loaded models (with their batchers), settings and auth."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fastapi import HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from service.batching import DynamicBatcher
from service.settings import Settings


class TaggerLike(Protocol):
    """The part of ``tagger.Tagger`` the service uses (lets tests pass any such object)."""

    name: str
    version: str
    tasks: list[str]
    labels: dict[str, list[str]]
    metrics: dict[str, Any]
    span_tasks: set[str]
    context_tokens: int  # > 0: sentences of a document are joined into pieces of this size

    def predict(
        self,
        sentences: Sequence[Sequence[str]],
        tasks: Sequence[str] | None = None,
        batch_size: int = 64,
    ) -> list[dict[str, Any]]: ...


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


Plan = list[tuple[LoadedModel, tuple[str, ...]]]


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
        """503 while the models are still loading (or failed to load)."""
        if not self.ready:
            detail = "models are still loading" if self.error is None else self.error
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=detail)

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
                raise HTTPException(
                    status.HTTP_404_NOT_FOUND, detail=f"unknown model {model!r}; loaded: {known}"
                )
            candidates = {task: chosen for task in chosen.tasks}
        else:
            candidates = self.task_owner
        if not tasks:
            wanted = list(candidates)
        else:
            wanted = list(dict.fromkeys(tasks))  # drop repeats, keep order
            unknown = [t for t in wanted if t not in candidates]
            if unknown:
                where = f"model {model!r}" if model is not None else "the loaded models"
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    detail=f"unknown task(s) {', '.join(map(repr, unknown))}; "
                    f"{where} offer: {', '.join(candidates)}",
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

    return Tagger.load(path) if int8 is None else Tagger.load(path, int8=int8)


async def get_settings(request: Request) -> Settings:
    """The settings this app was created with (async: no thread-pool hop per request)."""
    return request.app.state.settings


async def get_registry(request: Request) -> ModelRegistry:
    """The registry of models loaded by this worker (async: no thread-pool hop)."""
    return request.app.state.registry


def api_key_dependency(settings: Settings) -> Callable[..., None]:
    """A dependency that checks the API key header against ``settings.api_keys`` (401 if wrong)."""
    header = APIKeyHeader(
        name=settings.api_key_header,
        auto_error=False,
        description="API key; required on /v1/* when the service is configured with keys.",
    )
    keys = [key.encode() for key in settings.api_keys]

    async def check_api_key(key: str | None = Security(header)) -> None:
        """Constant-time comparison against every configured key."""
        given = (key or "").encode("utf-8", "surrogatepass")
        if key is None or not any(hmac.compare_digest(given, k) for k in keys):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=f"missing or invalid API key (send it in the {settings.api_key_header} "
                "header)",
                headers={"WWW-Authenticate": "ApiKey"},
            )

    return check_api_key
