"""`tagger serve`: a supervisor process and N worker processes (``service.worker``).

The supervisor never imports torch and holds no socket: each worker loads its models, then
binds its own ``SO_REUSEPORT`` listener, so connections spread evenly over ready workers.
It restarts a worker that dies, forwards SIGHUP (reload) to every worker, and on SIGTERM or
SIGINT lets every worker drain and exits 0. A worker whose models do not load makes the whole
service exit with its one-line error (status 3), unless ``fail_fast`` is off.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

from service.logs import log_config
from service.settings import Settings

RESTART_DELAY_S = 1.0  # between a worker's death and its replacement
KILL_MARGIN_S = 5.0  # beyond the drain's own limits, before stragglers are killed


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
    """Fail fast, before starting workers, when a model directory does not exist."""
    missing = [str(p) for p in paths if not Path(p).is_dir()]
    if missing:
        print(f"error: model directory not found: {', '.join(missing)}", file=sys.stderr)
        raise SystemExit(2)


def _resolve_port(host: str, port: int) -> int:
    """A concrete port for every worker to share (port 0: one free port, chosen once)."""
    if port:
        return port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class Supervisor:
    """Starts, watches, restarts and stops the worker processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.context = multiprocessing.get_context("spawn")
        self.workers: dict[int, BaseProcess] = {}
        self.stopping = False
        self.reload_requested = False
        self.exit_code = 0

    def start(self, index: int) -> None:
        from service.worker import run_worker

        config = log_config(self.settings.log_level, self.settings.log_format)
        process = self.context.Process(
            target=run_worker, args=(index, config), name=f"tagger-worker-{index}"
        )
        process.start()
        self.workers[index] = process

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (then 0) or a worker's load failure (then 3)."""
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        for index in range(self.settings.workers):
            self.start(index)
        while not self.stopping:
            time.sleep(0.2)
            if self.reload_requested:
                self.reload_requested = False
                self._signal_all(signal.SIGHUP)
            self._watch()
        self._drain()
        return self.exit_code

    def _watch(self) -> None:
        """Replace dead workers; a load failure (fail_fast) stops the whole service."""
        from service.worker import LOAD_FAILED

        for index, process in list(self.workers.items()):
            if process.is_alive() or self.stopping:
                continue
            if process.exitcode == LOAD_FAILED:
                self.exit_code, self.stopping = LOAD_FAILED, True
                return
            print(
                f"worker {index} (pid {process.pid}) exited with {process.exitcode}; restarting",
                file=sys.stderr,
                flush=True,
            )
            _mark_dead(process.pid)
            time.sleep(RESTART_DELAY_S)
            self.start(index)

    def _drain(self) -> None:
        """SIGTERM to every worker, wait for their drains, kill whatever is left."""
        self._signal_all(signal.SIGTERM)
        limit = self.settings.pre_stop_delay_s + self.settings.graceful_timeout_s + KILL_MARGIN_S
        deadline = time.monotonic() + limit
        for process in self.workers.values():
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.workers.values():
            if process.is_alive():
                process.kill()
                process.join()
                if self.exit_code == 0:
                    self.exit_code = 1

    def _signal_all(self, sig: int) -> None:
        for process in self.workers.values():
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, sig)

    def _on_stop(self, sig: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _on_reload(self, sig: int, frame: FrameType | None) -> None:
        self.reload_requested = True


def _mark_dead(pid: int | None) -> None:
    """Tell the multi-process metrics that a worker's gauges are gone."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def serve_from_cli(
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    models: Sequence[Path] | None = None,
) -> None:
    """Start the workers and supervise them; exits 0 after a graceful SIGTERM."""
    overrides: dict[str, object] = {
        "host": host,
        "port": port,
        "workers": workers,
        "models": [Path(m).resolve() for m in models] if models else None,
    }
    _export(overrides)
    settings = Settings()  # env (including the overrides) is the single source for all workers
    _check_models(settings.models)
    os.environ["TAGGER_PORT"] = str(_resolve_port(settings.host, settings.port))
    os.environ["TAGGER_SUPERVISOR_PID"] = str(os.getpid())
    settings = Settings()
    metrics_dir: str | None = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers write their metrics to files that /metrics sums up.
        metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix="tagger-metrics-"
        )
    print(
        f"serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s)",
        file=sys.stderr,
        flush=True,
    )
    try:
        code = Supervisor(settings).run()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    raise SystemExit(code)
