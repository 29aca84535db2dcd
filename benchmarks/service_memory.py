"""Resident memory of a `tagger serve` process with the shipped models loaded (both, by default).

    python benchmarks/service_memory.py [--model DIR ...]

Starts the server on a free loopback port, waits for /health/ready, tags one request so that
lazily built state exists, then prints the process' resident set size (VmRSS) and its peak.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", default=[])
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "training.cli", "serve", "--port", str(port)]
    for model in args.model:
        command += ["--model", str(model)]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("server did not become ready in 300 s")
        models = httpx.get(f"{url}/v1/models").json()["models"]
        tasks = [task for model in models for task in model["tasks"]]
        httpx.post(f"{url}/v1/tag", json={"text": "The Apple is a great company!", "tasks": tasks})
        memory = memory_mib(server.pid)
        print(f"models loaded: {', '.join(m['name'] for m in models)}")
        print(f"resident memory: {memory['VmRSS']:.0f} MiB (peak {memory['VmHWM']:.0f} MiB)")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
