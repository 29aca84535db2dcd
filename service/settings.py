"""Service settings from TAGGER_* environment variables (pydantic-settings), with safe defaults."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tagger.locations import default_model_dir, shipped_model_dirs


def default_model_dirs() -> list[Path]:
    """Every shipped model present; if none is, the default one (so loading fails clearly)."""
    return shipped_model_dirs() or [default_model_dir()]


MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """One uvicorn worker per CPU this process may run on, at most ``MAX_DEFAULT_WORKERS``.

    In one process the model thread and the event loop share the interpreter lock, so HTTP
    handling and inference take turns; a second process is what runs them in parallel (on the
    2-core reference machine: 1,479 instead of 979 requests/s at 32 clients). Each worker holds
    its own copy of the models (about 610 MiB with the three shipped models), hence the cap.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


def _split_list(value: Any) -> Any:
    """Accept a JSON list or a comma-separated string for list settings given in the environment."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything the service can be configured with; every field reads ``TAGGER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TAGGER_", extra="ignore")

    models: Annotated[list[Path], NoDecode] = Field(
        default_factory=default_model_dirs,
        description="Model directories to load (JSON list or comma-separated); the first one is "
        "the default model.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(
        default_factory=default_workers,
        ge=1,
        description="uvicorn worker processes (default: one per available CPU, at most 4).",
    )
    max_text_length: int = Field(
        default=100_000, ge=1, description="Longest text (characters) per document; 413 beyond."
    )
    max_documents: int = Field(default=64, ge=1, description="Most documents per request; 422.")
    max_body_bytes: int = Field(default=2_000_000, ge=1, description="Largest body; 413 beyond.")
    max_batch_size: int = Field(
        default=256,
        ge=1,
        description="Most sentences the batcher puts into one model call (a bigger request runs "
        "alone); the library sorts them by length into chunks of predict_batch_size.",
    )
    predict_batch_size: int = Field(
        default=64, ge=1, description="Sentences per forward pass inside one model call."
    )
    max_wait_ms: float = Field(
        default=0.0,
        ge=0,
        description="How long a batch that is filling under load may wait for more requests "
        "(an idle model always runs a lone request at once). 0: never wait; batches are what "
        "queued while the model was busy, which measured best (see benchmarks/load_test.py).",
    )
    torch_threads: int = Field(
        default=1, ge=1, description="Intra-op threads per worker (torch, or an ONNX session)."
    )
    int8: bool | None = Field(
        default=None,
        description="Run the recurrent layer with int8 weights (faster on CPU); unset: each "
        "model's own recorded choice.",
    )
    default_tasks: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Tasks answered when a request names neither tasks nor a model, from "
        "whichever loaded models offer them (e.g. ner,pos,chunk: each such request then runs "
        "every model involved). Unset or empty: the default model's tasks.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Accepted API keys for /v1/*; empty disables auth."
    )
    api_key_header: str = "X-API-Key"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or as one JSON object a line."
    )
    access_log: bool = Field(default=False, description="One log line per request.")
    graceful_timeout_s: int = Field(
        default=30, ge=1, description="How long SIGTERM waits for in-flight requests."
    )
    pre_stop_delay_s: float = Field(
        default=0.0,
        ge=0,
        description="After SIGTERM, how long a worker keeps accepting (while /health/ready "
        "answers 503) so that a load balancer stops sending before the listener closes.",
    )
    max_queued_tokens: int = Field(
        default=40_000,
        ge=1,
        description="Tokens of work a worker takes on at once (requests in flight, their "
        "tokens estimated from their characters); beyond it a request is answered 503 with "
        "Retry-After at once. About 2-3 s of HTTP requests for the default model on one core "
        "(tokenising, tagging and answering large texts runs near 15,000 words/s).",
    )
    request_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Deadline of a request (a request may ask for less with X-Request-Timeout, "
        "in seconds); work for a request past it, or whose client left, never reaches the "
        "model, and the request is answered 504.",
    )
    fail_fast: bool = Field(
        default=True,
        description="Exit non-zero when a model cannot be loaded at start; false keeps the "
        "service up with /health/ready answering 503 and the error.",
    )

    @field_validator("models", "default_tasks", "api_keys", "cors_origins", mode="before")
    @classmethod
    def _lists_from_env(cls, value: Any) -> Any:
        """Lists may come from the environment as JSON or as comma-separated strings."""
        return _split_list(value)

    @field_validator("models", mode="after")
    @classmethod
    def _default_models_when_empty(cls, value: list[Path]) -> list[Path]:
        """An empty TAGGER_MODELS (as docker-compose passes it) means the shipped models."""
        return value or default_model_dirs()

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: Any) -> Any:
        """Accept INFO as well as info."""
        return value.lower() if isinstance(value, str) else value
