"""Reliability battery for `tagger serve`, with `hey` (Debian's compiled load generator) as the
load so that the client does not eat the server's CPU the way a Python client does.

* ``storm``: 256 clients sending 100,000-character texts (then 50-sentence documents) for
  ``--duration`` seconds: accepted-request latency (p50/p99), requests shed (503), peak
  resident memory of the server; then a one-sentence request right after the storm.
* ``drain``: ``--drain-clients`` (16) keep-alive clients, SIGTERM mid-load, ``--drains`` (3)
  times: requests lost (a connection reset or closed without an answer; "connection refused"
  once the listener is closed is not a loss), exit code and how long the drain took.
* ``balance``: 16 keep-alive clients sending one sentence each for ``--duration`` seconds: CPU
  seconds of each worker (the busiest over the least busy).

    python benchmarks/reliability.py [--scenarios storm,drain,balance] [--workers 2]
                                     [--model DIR] [--duration 20] [--json out.json]
                                     [--drains 3] [--drain-clients 16]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from benchmarks.load_test import (  # noqa: E402
    DEFAULT_DATA,
    detokenize,
    free_port,
    read_sentences,
)
from benchmarks.procfs import is_helper, process_stats, process_tree  # noqa: E402

STORM_CHARS = 100_000


def start(model: Path | None, workers: int, env: dict[str, str], log: Path) -> tuple:
    """`tagger serve` on a free port; (process, url) once ready."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TAGGER_")}
    environment.update({"TAGGER_TORCH_THREADS": "1", "TAGGER_LOG_LEVEL": "warning", **env})
    command = [sys.executable, "-m", "tagger", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--workers", str(workers)]  # fmt: skip
    if model is not None:
        command += ["--model", str(model)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                time.sleep(1.0)  # every worker listening
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    process.kill()
    raise SystemExit("server not ready")


def hey(url: str, body: Path, clients: int, seconds: float, csv_out: bool) -> str:
    command = ["hey", "-z", f"{seconds}s", "-c", str(clients), "-t", "20", "-m", "POST",
               "-T", "application/json", "-D", str(body)]  # fmt: skip
    if csv_out:
        command += ["-o", "csv"]
    return subprocess.run(
        [*command, url + "/v1/tag"], capture_output=True, text=True, check=False
    ).stdout


def rss_mib(root: int) -> dict[int, float]:
    """Resident memory of a process and its descendants, MiB per pid."""
    out = {}
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            out[pid] = int(match.group(1)) / 1024
    return out


def sample_peak(root: int, stop: threading.Event, peak: dict[str, float]) -> None:
    """Until ``stop``: the highest resident memory of the server, in all and per worker."""
    while not stop.is_set():
        memory = rss_mib(root)
        peak["total"] = max(peak["total"], sum(memory.values()))
        peak["worker"] = max([peak["worker"], *(v for pid, v in memory.items() if pid != root)])
        time.sleep(0.25)


def storm(args: argparse.Namespace, texts: list[str], work: Path) -> dict:
    """The overload storm: accepted latency, shed count, peak memory, recovery."""
    results = {}
    process, url = start(args.model, args.workers, {}, work / "storm.log")
    baseline = sum(rss_mib(process.pid).values())
    one = json.dumps({"text": texts[0]}).encode()
    for name, chars in (("100k_chars", STORM_CHARS), ("50_sentences", None)):
        text = _long_text(texts, chars) if chars else " ".join(texts[:50])
        body = work / f"{name}.json"
        body.write_text(json.dumps({"text": text}), encoding="utf-8")
        peak = {"total": 0.0, "worker": 0.0}
        stop = threading.Event()
        sampler = threading.Thread(target=sample_peak, args=(process.pid, stop, peak), daemon=True)
        sampler.start()
        output = hey(url, body, 256, args.duration, csv_out=True)
        stop.set()
        sampler.join()
        after = []
        for _ in range(5):
            started = time.perf_counter()
            httpx.post(url + "/v1/tag", content=one, timeout=30)
            after.append(1000 * (time.perf_counter() - started))
        rows = list(csv.DictReader(io.StringIO(output)))
        accepted = sorted(float(r["response-time"]) for r in rows if r["status-code"] == "200")
        results[name] = {
            "chars_per_request": len(text),
            "accepted": len(accepted),
            "shed_503": sum(r["status-code"] == "503" for r in rows),
            "other_status": sorted({r["status-code"] for r in rows} - {"200", "503"}),
            "accepted_p50_s": round(_pct(accepted, 0.5), 3) if accepted else None,
            "accepted_p99_s": round(_pct(accepted, 0.99), 3) if accepted else None,
            "peak_rss_mib_total": round(peak["total"]),
            "peak_rss_mib_worker": round(peak["worker"]),
            "one_sentence_after_ms": {
                "first": round(after[0], 1),
                "median": round(statistics.median(after), 1),
            },
        }
    results["rss_mib_before"] = round(baseline)
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    return results


def drain(args: argparse.Namespace, texts: list[str], work: Path) -> dict:
    """SIGTERMs under keep-alive clients: requests lost, exit codes, drain seconds."""
    body = work / "one.json"
    body.write_text(json.dumps({"text": texts[0]}), encoding="utf-8")
    runs = []
    for attempt in range(args.drains):
        process, url = start(args.model, args.workers, {}, work / f"drain{attempt}.log")
        load: dict[str, str] = {}
        loader = threading.Thread(
            target=_hey_into, args=(load, url, body, args.drain_clients), daemon=True
        )
        loader.start()
        time.sleep(3)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
        took = time.monotonic() - sent
        loader.join()
        errors = re.findall(r"\[(\d+)\]\s+(.*)", load["out"].split("Error distribution:")[-1])
        lost = sum(int(n) for n, message in errors if "connection refused" not in message)
        refused = sum(int(n) for n, message in errors if "connection refused" in message)
        ok = int(re.search(r"\[200\]\s+(\d+) responses", load["out"]).group(1))
        runs.append({"ok_200": ok, "lost": lost, "refused_after_close": refused,
                     "exit_code": code, "drain_seconds": round(took, 2)})  # fmt: skip
    lost = [r["lost"] for r in runs]
    return {"runs": runs, "lost_total": sum(lost), "drains_with_losses": sum(map(bool, lost))}


def _hey_into(out: dict[str, str], url: str, body: Path, clients: int) -> None:
    out["out"] = hey(url, body, clients, 8, csv_out=False)


def balance(args: argparse.Namespace, texts: list[str], work: Path) -> dict:
    """CPU seconds per worker under keep-alive load."""
    body = work / "one.json"
    body.write_text(json.dumps({"text": texts[0]}), encoding="utf-8")
    process, url = start(args.model, args.workers, {}, work / "balance.log")
    before = _worker_cpu(process.pid)
    output = hey(url, body, 16, args.duration, csv_out=False)
    after = _worker_cpu(process.pid)
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    used = {pid: round(after.get(pid, 0) - seconds, 1) for pid, seconds in before.items()}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    values = list(used.values())
    return {
        "worker_cpu_seconds": used,
        "busiest_over_least": round(max(values) / max(min(values), 1e-9), 2),
        "requests_per_s": float(rate.group(1)) if rate else None,
    }


def _worker_cpu(root: int) -> dict[int, float]:
    stats = process_stats()
    workers = [pid for pid in process_tree(root, stats) if pid != root and not is_helper(pid)]
    return {pid: stats[pid][1] for pid in workers}


def _long_text(texts: list[str], chars: int) -> str:
    out, size = [], 0
    while size < chars:
        for text in texts:
            out.append(text)
            size += len(text) + 1
            if size >= chars:
                break
    return " ".join(out)[:chars]


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="storm,drain,balance")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", type=Path, default=ROOT / "models/conll03-en")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--drains", type=int, default=3, help="SIGTERMs of the drain scenario")
    parser.add_argument("--drain-clients", type=int, default=16, help="keep-alive clients")
    args = parser.parse_args()
    texts = [detokenize(s) for s in read_sentences(args.data)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scenarios.split(","):
            results[name] = {"storm": storm, "drain": drain, "balance": balance}[name](
                args, texts, Path(tmp)
            )
            print(json.dumps({name: results[name]}, indent=2), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
