"""Resident memory of `tagger serve` with the shipped models loaded (all of them, by default).

    python benchmarks/service_memory.py [--model DIR ...] [--workers N] [--backend onnx]

Starts the server on a free loopback port, waits for /health/ready, tags one request so that
lazily built state exists, waits until every worker's memory is steady, then prints the resident
set size (VmRSS) and peak of each process (the uvicorn supervisor and its workers) and in all.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
from benchmarks.procfs import process_tree  # noqa: E402 (needs the checkout on sys.path)
from tagger.locations import shipped_model_dirs  # noqa: E402


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


def steady_memory(root: int, timeout: float = 120.0) -> dict[int, dict[str, float]]:
    """Memory per process once the total has not grown for 3 s (workers load in parallel)."""
    previous, steady_since = -1.0, time.monotonic()
    deadline = time.monotonic() + timeout
    while True:
        memory = {pid: memory_mib(pid) for pid in process_tree(root)}
        total = sum(m["VmRSS"] for m in memory.values())
        if total > previous * 1.01:
            previous, steady_since = total, time.monotonic()
        elif time.monotonic() - steady_since >= 3 or time.monotonic() > deadline:
            return memory
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", default=[])
    parser.add_argument("--workers", type=int, default=None, help="default: the server's own")
    parser.add_argument(
        "--backend", choices=["torch", "onnx"], default="torch",
        help="onnx: serve the models exported to ONNX (fp32), in temporary directories",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models = args.model or shipped_model_dirs()
        if args.backend == "onnx":
            models = [exported(model, Path(tmp) / model.name) for model in models]
        measure(models, args.workers)


def exported(model: Path, target: Path) -> Path:
    """The model exported to ONNX, by `tagger export` (so this process needs no torch)."""
    subprocess.run(
        [sys.executable, "-m", "tagger", "export", str(model), "--output", str(target)],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return target


def measure(model_dirs: list[Path], workers: int | None) -> None:
    """Serve the models, tag one request, print the steady resident memory of each process."""
    port = free_port()
    command = [sys.executable, "-m", "tagger", "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    for model in model_dirs:
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
        memory = steady_memory(server.pid)
        print(f"models loaded: {', '.join(m['name'] for m in models)}")
        for pid, used in memory.items():
            role = "server" if pid == server.pid else "child"
            print(f"  pid {pid} ({role}): {used['VmRSS']:.0f} MiB (peak {used['VmHWM']:.0f} MiB)")
        total = sum(m["VmRSS"] for m in memory.values())
        print(f"resident memory, all processes: {total:.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
