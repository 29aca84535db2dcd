"""Helpers to run a real `tagger serve` process on a free loopback port for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running server process and its base URL."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    terminated: bool = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def terminate(self) -> None:
        """Send SIGTERM once (a second one during shutdown would race the interpreter's exit)."""
        if not self.terminated and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.terminated = True

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (unless already sent), then wait for the exit code."""
        self.terminate()
        return self.process.wait(timeout=timeout)


@contextmanager
def serve(
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    ready_timeout: float = 180.0,
) -> Iterator[Server]:
    """Start ``python -m tagger serve --port P *args``; yield once /health/ready is 200."""
    port = free_port()
    log_path = log_path or Path(f"/tmp/tagger-serve-{port}.log")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TAGGER_")}
    environment.update(env or {})
    environment.setdefault("TAGGER_TORCH_THREADS", "1")
    environment.setdefault("TAGGER_WORKERS", "1")  # `--workers` in ``args`` still wins
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tagger", "serve", "--host", "127.0.0.1",
             "--port", str(port), *args],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
            try:
                if httpx.get(server.url + "/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after {ready_timeout} s:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
