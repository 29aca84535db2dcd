"""Load test of the REST service: requests/s, words/s and latency percentiles vs. concurrency.

Starts a real `tagger serve` process on a free loopback port (or uses --url), then for each
scenario and client count runs closed-loop asyncio clients for a fixed duration (a minimal
HTTP/1.1 keep-alive client on asyncio streams by default, ``--client httpx`` for httpx):

* ``sentence``: one CoNLL-2003 test sentence per request (detokenised raw text);
* ``doc50``: documents of 50 consecutive test sentences per request.

Before starting the server it measures the library's own batched speed in-process (1 thread,
``Tagger.predict`` on the same sentences, batch 64) so that the service's words/s can be compared.
Targets checked at the end: p99 < 50 ms for one-sentence requests at 32 clients; requests/s at 32
clients >= 3x requests/s at 1 client; doc50 words/s at 32 clients >= half the library's words/s.

    python benchmarks/load_test.py [--model DIR] [--duration 10] [--clients 1,8,32,128]
                                   [--workers N] [--json results.json] [--random-model] [--shipped]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from tagger.testing import random_tagger

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
from benchmarks.procfs import tree_cpu_seconds  # noqa: E402 (needs the checkout on sys.path)
from service.settings import default_workers  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared/data/conll2003/test.txt"
DEFAULT_MODEL = ROOT / "models/conll03-en"
DOC_SENTENCES = 50
CLOSERS = {",", ".", "!", "?", ";", ":", ")", "]", "}", "'s", "n't", "%", "'", "''"}


@dataclass
class Cell:
    """Results of one scenario at one client count."""

    scenario: str
    clients: int
    seconds: float
    requests: int
    errors: int
    rps: float
    words_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_ms: float | None = None  # server CPU (all its processes) per request
    client_cpu_ms: float | None = None  # this load generator's CPU per request


def read_sentences(path: Path) -> list[list[str]]:
    """Token lists of a CoNLL column file (first column), without -DOCSTART- lines."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if not fields:
            if current:
                sentences.append(current)
            current = []
        elif fields[0] != "-DOCSTART-":
            current.append(fields[0])
    if current:
        sentences.append(current)
    return sentences


def detokenize(tokens: list[str]) -> str:
    """Plausible raw text: no space before closing punctuation or after an opening bracket."""
    out = ""
    for token in tokens:
        glue = not out or token in CLOSERS or out.endswith(("(", "[", "$"))
        out += token if glue else " " + token
    return out


def payloads(sentences: list[list[str]], scenario: str) -> list[tuple[bytes, int]]:
    """Pre-encoded request bodies with their word counts."""
    if scenario == "sentence":
        groups = [[s] for s in sentences]
    else:
        groups = [
            sentences[i : i + DOC_SENTENCES]
            for i in range(0, len(sentences) - DOC_SENTENCES + 1, DOC_SENTENCES)
        ]
    out = []
    for group in groups:
        text = " ".join(detokenize(s) for s in group)
        out.append((json.dumps({"text": text}).encode(), sum(len(s) for s in group)))
    return out


def library_words_per_s(
    model: Path, sentences: list[list[str]], int8: bool | None = None
) -> dict[str, float]:
    """The library's own speed in this process at 1 thread: predict (batch 64) and tag_many."""
    import torch

    from tagger import Tagger

    torch.set_num_threads(1)
    tagger = Tagger.load(model) if int8 is None else Tagger.load(model, int8=int8)
    words = sum(len(s) for s in sentences)
    tagger.predict(sentences[:256], batch_size=64)  # warm-up
    best = min(_timed(lambda: tagger.predict(sentences, batch_size=64)) for _ in range(3))
    docs = [
        " ".join(detokenize(s) for s in sentences[i : i + DOC_SENTENCES])
        for i in range(0, len(sentences), DOC_SENTENCES)
    ]
    raw = min(_timed(lambda: tagger.tag_many(docs, batch_size=64)) for _ in range(2))
    return {"predict_batch64": words / best, "tag_many_raw_text": words / raw}


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    model: Path | None, workers: int | None, env_extra: dict[str, str], log: Path
) -> tuple:
    """`tagger serve` in a subprocess (``model`` None: every shipped model); returns (process,
    base URL) once /health/ready is 200."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAGGER_")}
    env.update({"TAGGER_TORCH_THREADS": "1", "TAGGER_LOG_LEVEL": "warning", **env_extra})
    command = [sys.executable, "-m", "tagger", "serve", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    if model is not None:
        command += ["--model", str(model)]
    if workers is not None:
        command += ["--workers", str(workers)]
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            raise SystemExit(f"server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("server not ready after 300 s")
        time.sleep(0.25)


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: ~0.1 ms of CPU per request.

    httpx costs 1.5-4 ms of client CPU per request on a small, busy machine, which makes the
    load generator, not the server, the bottleneck; ``--client httpx`` still uses it.
    """

    def __init__(self, url: str) -> None:
        host, port = url.split("//", 1)[1].rstrip("/").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> int:
        """Send one POST with a JSON body; returns the status code (body read and dropped)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        assert self.reader is not None
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


async def run_cell(
    url: str,
    bodies: list[tuple[bytes, int]],
    scenario: str,
    clients: int,
    duration: float,
    client_kind: str = "raw",
    server_pid: int | None = None,
) -> Cell:
    """Closed loop: ``clients`` coroutines send requests back to back for ``duration`` s."""
    latencies: list[float] = []
    words = errors = 0
    position = 0
    warm_end = time.perf_counter() + min(2.0, duration / 5)
    stop = warm_end + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"content-type": "application/json"}
    cpu_marks: dict[str, tuple[float | None, float]] = {}

    async def mark_cpu(name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        server = tree_cpu_seconds(server_pid) if server_pid is not None else None
        cpu_marks[name] = (server, time.process_time())

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as shared:

        async def one_client() -> None:
            nonlocal words, errors, position
            connection = RawConnection(url)
            try:
                while True:
                    body, n = bodies[position % len(bodies)]
                    position += 1
                    started = time.perf_counter()
                    if started >= stop:
                        return
                    if client_kind == "raw":
                        status = await connection.post("/v1/tag", body)
                    else:
                        response = await shared.post("/v1/tag", content=body, headers=headers)
                        status = response.status_code
                    ended = time.perf_counter()
                    if not warm_end <= ended <= stop:
                        continue  # completed during the warm-up or after the window closed
                    if status == 200:
                        latencies.append(ended - started)
                        words += n
                    else:
                        errors += 1
            finally:
                await connection.close()

        await asyncio.gather(
            mark_cpu("start", warm_end),
            mark_cpu("stop", stop),
            *(one_client() for _ in range(clients)),
        )
    latencies.sort()
    served = max(len(latencies), 1)
    (server0, client0), (server1, client1) = cpu_marks["start"], cpu_marks["stop"]
    server_cpu = None if server0 is None or server1 is None else 1000 * (server1 - server0) / served

    def pct(q: float) -> float:
        if not latencies:
            return float("nan")
        return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return Cell(
        scenario=scenario,
        clients=clients,
        seconds=duration,
        requests=len(latencies),
        errors=errors,
        rps=len(latencies) / duration,
        words_per_s=words / duration,
        p50_ms=1000 * statistics.median(latencies) if latencies else float("nan"),
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        server_cpu_ms=server_cpu,
        client_cpu_ms=1000 * (client1 - client0) / served,
    )


def random_model_dir(directory: Path) -> Path:
    """A small random tagger (ner/pos/chunk labels of CoNLL-2003) saved for the server."""

    ner = ["O"] + [f"{p}-{t}" for t in ("PER", "ORG", "LOC", "MISC") for p in "BI"]
    pos = ["NNP", "NN", "NNS", "VBZ", "VBD", "DT", "JJ", "IN", "PRP", ".", ","]
    chunk = ["O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP", "I-PP"]
    path = directory / "random-conll"
    random_tagger({"ner": ner, "pos": pos, "chunk": chunk}, seed=0, name="random").save(path)
    return path


def print_table(cells: list[Cell]) -> None:
    print(f"{'scenario':<9} {'clients':>7} {'req/s':>9} {'words/s':>10} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>6} "
          f"{'srv cpu ms/req':>14} {'cli cpu ms/req':>14}")  # fmt: skip
    for c in cells:
        print(f"{c.scenario:<9} {c.clients:>7} {c.rps:>9.1f} {c.words_per_s:>10,.0f} "
              f"{c.p50_ms:>8.1f} {c.p95_ms:>8.1f} {c.p99_ms:>8.1f} {c.requests:>9} "
              f"{c.errors:>6} {_ms(c.server_cpu_ms):>14} {_ms(c.client_cpu_ms):>14}")  # fmt: skip


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def check_targets(cells: list[Cell], library: dict[str, float]) -> dict[str, dict]:
    """The three targets of the issue, with the measured values."""
    get = {(c.scenario, c.clients): c for c in cells}
    out: dict[str, dict] = {}
    if ("sentence", 32) in get:
        p99 = get["sentence", 32].p99_ms
        out["sentence_p99_at_32_below_50ms"] = {"value": p99, "ok": p99 < 50}
    if ("sentence", 32) in get and ("sentence", 1) in get:
        ratio = get["sentence", 32].rps / max(get["sentence", 1].rps, 1e-9)
        out["sentence_rps_32_over_1_at_least_3"] = {"value": ratio, "ok": ratio >= 3}
    if ("doc50", 32) in get:
        ratio = get["doc50", 32].words_per_s / library["predict_batch64"]
        out["doc50_words_at_32_over_library_at_least_0.5"] = {"value": ratio, "ok": ratio >= 0.5}
    return out


def overload(args: argparse.Namespace) -> None:
    """The overload storm of benchmarks/reliability.py, on this benchmark's model options."""
    from benchmarks import reliability

    options = argparse.Namespace(
        model=args.model or DEFAULT_MODEL, workers=args.workers or 2, duration=args.duration * 2
    )
    texts = [detokenize(s) for s in read_sentences(args.data)]
    with tempfile.TemporaryDirectory() as tmp:
        results = reliability.storm(options, texts, Path(tmp))
    print(json.dumps({"overload": results}, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"overload": results}, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model dir (default: shipped)")
    parser.add_argument("--random-model", action="store_true", help="small random model instead")
    parser.add_argument(
        "--shipped", action="store_true",
        help="serve every shipped model, as `make serve` does (requests naming no tasks still "
        "get the default model's); --model still sets the library comparison",
    )  # fmt: skip
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--clients", default="1,8,32,128", help="comma-separated client counts")
    parser.add_argument("--scenarios", default="sentence,doc50")
    parser.add_argument(
        "--workers", type=int, default=None,
        help="uvicorn worker processes (default: the server's own, one per CPU up to 4)",
    )  # fmt: skip
    parser.add_argument("--max-wait-ms", type=float, default=None)
    parser.add_argument("--max-batch-size", type=int, default=None)
    parser.add_argument("--url", default=None, help="use a running server instead of starting one")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="TAGGER_X=V",
        help="extra setting for the server (repeatable), e.g. TAGGER_INT8=1",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--overload", action="store_true",
        help="only the overload scenario (benchmarks/reliability.py storm): 256 hey clients "
        "with 100k-character and 50-sentence bodies; accepted p99, shed count, peak RSS",
    )  # fmt: skip
    parser.add_argument(
        "--client", choices=["raw", "httpx"], default="raw",
        help="raw: minimal asyncio HTTP/1.1 client (cheap); httpx: httpx.AsyncClient",
    )  # fmt: skip
    args = parser.parse_args()
    if args.overload:
        overload(args)
        return

    sentences = read_sentences(args.data)
    tmp = Path(tempfile.mkdtemp(prefix="tagger-load-"))
    try:
        if args.random_model:
            model = random_model_dir(tmp)
        else:
            model = args.model or DEFAULT_MODEL
            if not (model / "config.json").is_file():
                raise SystemExit(
                    f"no model at {model} (train one, pass --model, or --random-model)"
                )
        print(f"model: {model}; {len(sentences)} sentences, {sum(map(len, sentences))} words")
        env: dict[str, str] = dict(item.split("=", 1) for item in args.server_env)
        int8 = env.get("TAGGER_INT8")
        int8_flag = None if int8 is None else int8.lower() in {"1", "true", "yes"}
        library = library_words_per_s(model, sentences, int8_flag)
        print("library, in-process, 1 thread: "
              + ", ".join(f"{k} {v:,.0f} words/s" for k, v in library.items()))  # fmt: skip

        if args.max_wait_ms is not None:
            env["TAGGER_MAX_WAIT_MS"] = str(args.max_wait_ms)
        if args.max_batch_size is not None:
            env["TAGGER_MAX_BATCH_SIZE"] = str(args.max_batch_size)
        process = None
        url = args.url
        workers = args.workers if args.workers is not None else default_workers()
        if url is None:
            shown = "every shipped model" if args.shipped else str(model)
            print(f"server: {workers} worker(s), {shown}")
            served = None if args.shipped else model
            process, url = start_server(served, args.workers, env, tmp / "server.log")
        cells: list[Cell] = []
        try:
            for scenario in args.scenarios.split(","):
                bodies = payloads(sentences, scenario)
                for clients in (int(c) for c in args.clients.split(",")):
                    cell = asyncio.run(
                        run_cell(
                            url,
                            bodies,
                            scenario,
                            clients,
                            args.duration,
                            args.client,
                            server_pid=process.pid if process is not None else None,
                        )
                    )
                    cells.append(cell)
                    print_table([cell])
        finally:
            if process is not None:
                process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=60)
                print(f"server stopped with exit code {code}")
        print()
        print_table(cells)
        targets = check_targets(cells, library)
        for name, result in targets.items():
            print(f"{'PASS' if result['ok'] else 'FAIL'} {name}: {result['value']:.2f}")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "model": str(model),
                        "workers": workers,
                        "served": "shipped models" if args.shipped else str(model),
                        "client": args.client,
                        "cpus": os.cpu_count(),
                        "platform": platform.platform(),
                        "library_words_per_s": library,
                        "cells": [asdict(c) for c in cells],
                        "targets": targets,
                    },
                    indent=2,
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
