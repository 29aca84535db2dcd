"""`tagger serve`: run the app under uvicorn (1..N workers) with a graceful SIGTERM shutdown."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from service.settings import Settings

APP_FACTORY = "service.main:create_app"


def _export(overrides: dict[str, object]) -> None:
    """Put CLI overrides into TAGGER_* variables: worker processes build Settings from the env."""
    for name, value in overrides.items():
        if value is None:
            continue
        if isinstance(value, list):
            os.environ[f"TAGGER_{name.upper()}"] = json.dumps([str(v) for v in value])
        else:
            os.environ[f"TAGGER_{name.upper()}"] = str(value)


def _check_models(paths: Sequence[Path]) -> None:
    """Fail fast, before binding the port, when a model directory does not exist."""
    missing = [str(p) for p in paths if not Path(p).is_dir()]
    if missing:
        print(f"error: model directory not found: {', '.join(missing)}", file=sys.stderr)
        raise SystemExit(2)


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging config, plus the service's own loggers on the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for name in ("service", "tagger"):
        config["loggers"][name] = {
            "handlers": ["default"],
            "level": level.upper() if level != "trace" else "DEBUG",
            "propagate": False,
        }
    return config


def serve_from_cli(
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    models: Sequence[Path] | None = None,
) -> None:
    """Start uvicorn; SIGTERM (or Ctrl-C) stops accepting, finishes in-flight requests, exits 0."""
    import uvicorn

    overrides: dict[str, object] = {
        "host": host,
        "port": port,
        "workers": workers,
        "models": [Path(m).resolve() for m in models] if models else None,
    }
    _export(overrides)
    settings = Settings()  # env (including the overrides) is the single source for all workers
    _check_models(settings.models)
    metrics_dir: str | None = None
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers then write their metrics to files that /metrics sums up.
        metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix="tagger-metrics-"
        )

    received: list[int] = []

    def remember(sig: int, frame: FrameType | None) -> None:
        """Runs when uvicorn re-raises the signal that stopped it: record, do not die by it."""
        received.append(sig)

    # uvicorn restores these after its graceful shutdown and re-raises the signal it caught;
    # with the default SIGTERM action the process would then be killed (exit 143, not 0).
    signal.signal(signal.SIGTERM, remember)
    signal.signal(signal.SIGINT, remember)
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            log_config=log_config(settings.log_level),
            access_log=settings.access_log,
            timeout_graceful_shutdown=settings.graceful_timeout_s,
            lifespan="on",
        )
    finally:
        # Python resets its handlers to the default action while the interpreter exits: a late
        # second SIGTERM would then kill the process (exit 143) instead of letting it end with 0.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
