"""Batch tagging throughput: `tagger tag` over shards on 1 and 2 local worker processes and on 1
and 2 Ray actors, both on a local Ray instance each job starts (no `--address`) and joining an
instance that is already running (`--address`, as on a cluster: started here with
`ray start --head` unless one is given, and given one small job before the timed ones, as a
cluster in use has run jobs before), the CoNLL-2003 test text repeated to about a million
words and cut into shards. Words/s over the whole job (start-up and model loading included);
the marginal words/s, from a second job on twice the words ((2N - N) words / (t2 - t1): what
each engine does once it is up, start-up cancelled out); the words/s of one worker while it
tags a shard (what `tagger tag` reports: the engine's overhead is the gap between this times the
workers and the job's rate); for local jobs, the CPU seconds their processes spent per million
words, marginal as above (more CPU per word on two workers than on one is the cores slowing
each other, through shared caches or a shared host, not the engine's overhead); the busiest
moment's resident memory per worker; and whether every engine wrote the same bytes.

    python benchmarks/batch_scaling.py [--words 1000000] [--shards 8] [--model DIR]
        [--ray-address HOST:PORT]  # the joined rows use this running instance
        [--rows local,ray,ray-joined]  # a subset of the rows (no summary then)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from benchmarks.load_test import DEFAULT_DATA, detokenize, read_sentences  # noqa: E402
from benchmarks.reliability import rss_mib  # noqa: E402

# (row, engine, workers); "ray-joined" rows pass --address of a running instance.
RUNS = [("local", "local", 1), ("local", "local", 2), ("ray", "ray", 1), ("ray", "ray", 2),
        ("ray-joined", "ray", 1), ("ray-joined", "ray", 2)]  # fmt: skip


def write_corpus(directory: Path, words: int, shards: int) -> int:
    """The test sentences (detokenised, one a line) repeated to ``words``, in ``shards`` files."""
    lines = [detokenize(s) for s in read_sentences(DEFAULT_DATA)]
    per_line = sum(len(line.split()) for line in lines) / len(lines)
    total = int(words / per_line)
    corpus = [lines[i % len(lines)] for i in range(total)]
    size = -(-total // shards)
    directory.mkdir(parents=True)
    for index in range(shards):
        part = corpus[index * size : (index + 1) * size]
        (directory / f"part-{index:02d}.txt").write_text("\n".join(part) + "\n", encoding="utf-8")
    return sum(len(line.split()) for line in corpus)


def worker_memory(root: int, peak: dict[str, float], stop: threading.Event) -> None:
    """The largest resident memory of any descendant of the job (a worker or Ray actor)."""
    while not stop.is_set():
        memory = {pid: mib for pid, mib in rss_mib(root).items() if pid != root}
        ray_workers = _ray_actor_memory()
        peak["worker_mib"] = max([peak["worker_mib"], *memory.values(), *ray_workers])
        time.sleep(0.5)


def _ray_actor_memory() -> list[float]:
    """Resident memory of Ray worker processes running the tagging actors (not children of the
    job's process tree once Ray daemonises them)."""
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"ShardTagger" in cmdline.read_bytes():
                status = (cmdline.parent / "status").read_text()
                out.append(int(status.split("VmRSS:")[1].split()[0]) / 1024)
        except (OSError, IndexError):
            continue
    return out


def run(
    engine: str, workers: int, inputs: Path, out: Path, model: Path | None, address: str | None
) -> dict:
    command = [sys.executable, "-m", "tagger", "tag", str(inputs), "-o", str(out),
               "--workers", str(workers), "--engine", engine]  # fmt: skip
    if model is not None:
        command += ["--model", str(model)]
    if address is not None:
        command += ["--address", address]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAY_DATA_DISABLE_PROGRESS_BARS": "1"}
    if address is not None:  # a client naming an address sends its token only in this mode
        env.setdefault("RAY_AUTH_MODE", "token")
    started, cpu_before = time.perf_counter(), _children_cpu_seconds()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak, stop = {"worker_mib": 0.0}, threading.Event()
    sampler = threading.Thread(target=worker_memory, args=(process.pid, peak, stop), daemon=True)
    sampler.start()
    _, errors = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{engine} x{workers} failed:\n{errors[-2000:]}")
    busy = re.search(r"([\d,]+) words/s per worker while tagging", errors)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": _children_cpu_seconds() - cpu_before,
        "in_worker_words_per_s": int(busy.group(1).replace(",", "")) if busy else None,
        "peak_worker_rss_mib": round(peak["worker_mib"]),
    }


def _children_cpu_seconds() -> float:
    """User + system CPU of every finished descendant so far: a local job's process tree (its
    workers are joined by it); Ray's actors are not descendants, so a Ray row counts only its
    driver."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def running_ray(address: str | None) -> Iterator[str]:
    """The address of a running Ray instance: ``address`` as given, or a head node started here
    for the joined rows (2 CPUs, token authentication, workers at normal priority as a job's own
    instance runs them) and stopped after them (``ray stop`` stops every Ray process here)."""
    if address is not None:
        yield address
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    env = {"RAY_AUTH_MODE": "token", **os.environ, "RAY_worker_niceness": "0"}
    start = ["start", "--head", "--port", str(port), "--num-cpus", "2"]
    start += ["--include-dashboard=false", "--disable-usage-stats"]
    subprocess.run([*ray, *start], env=env, check=True, capture_output=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([*ray, "stop"], check=False, capture_output=True)


def warm_up(tmp: Path, model: Path | None, address: str) -> None:
    """One small job on the running instance before the joined rows are timed: a cluster's
    first Ray Data job creates helper actors (stats, autoscaling coordinator) that stay for
    every later job, so a cluster in use has them already."""
    write_corpus(tmp / "warm-up", 2_000, 2)
    run("ray", 2, tmp / "warm-up", tmp / "out-warm-up", model, address)


def digest(directory: Path) -> str:
    hashes = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        hashes.update(path.name.encode() + path.read_bytes())
    return hashes.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--rows",
        default="local,ray,ray-joined",
        help="which rows to run, comma-separated (the summary needs all three)",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="the running Ray instance the joined rows use (default: a head node started here)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for scale in (1, 2):
            sizes[scale] = write_corpus(Path(tmp) / f"in-{scale}", scale * args.words, args.shards)
        print(f"{sizes[1]:,} and {sizes[2]:,} words in {args.shards} shards each", flush=True)
        results: dict[str, dict] = {}
        digests: set[str] = set()
        with contextlib.ExitStack() as stack:
            for row in dict.fromkeys(r[0] for r in RUNS if r[0] in args.rows.split(",")):
                address = None
                if row == "ray-joined":  # the joined rows' instance, started before them
                    address = stack.enter_context(running_ray(args.ray_address))
                    warm_up(Path(tmp), args.model, address)
                runs = [(engine, workers) for name, engine, workers in RUNS if name == row]
                for workers, figures in measure(
                    runs, Path(tmp), sizes, args.model, address, digests
                ):
                    results[f"{row} x{workers}"] = figures
                    print(json.dumps({f"{row} x{workers}": figures}), flush=True)
    if all(f"{row} x{workers}" in results for row, _, workers in RUNS):
        print(json.dumps(summary(results, len(digests) == 1), indent=2))
    else:
        print(json.dumps({"identical_outputs": len(digests) == 1}))


def measure(
    runs: list[tuple[str, int]],
    tmp: Path,
    sizes: dict[int, int],
    model: Path | None,
    address: str | None,
    digests: set[str],
) -> Iterator[tuple[int, dict]]:
    """One row, each worker count: a job on the corpus and one on twice it, taken in turns (1 and
    2 workers on the corpus, then on twice it), so the jobs a ratio compares run close in time
    on a machine whose speed drifts; each first job's output digest is kept."""
    seconds: dict[tuple[int, int], float] = {}
    cpu: dict[tuple[int, int], float] = {}
    figures: dict[int, dict] = {}
    for scale in (1, 2):
        for engine, workers in runs:
            out = tmp / f"out-{engine}-{workers}-{address is not None}-{scale}"
            job = run(engine, workers, tmp / f"in-{scale}", out, model, address)
            seconds[scale, workers], cpu[scale, workers] = job["seconds"], job.pop("cpu_seconds")
            if scale == 1:
                figures[workers] = job
                digests.add(digest(out))
    for engine, workers in runs:
        row = figures[workers]
        if engine == "local":  # marginal, as the words/s below: start-up and model loading cancel
            extra_cpu = (cpu[2, workers] - cpu[1, workers]) / (sizes[2] - sizes[1])
            row["cpu_s_per_million_words"] = round(extra_cpu * 1e6, 1)
        row["seconds"] = round(seconds[1, workers], 1)
        row["words_per_s"] = round(sizes[1] / seconds[1, workers])
        extra_seconds = max(seconds[2, workers] - seconds[1, workers], 1e-9)
        row["marginal_words_per_s"] = round((sizes[2] - sizes[1]) / extra_seconds)
        yield workers, row


def summary(results: dict[str, dict], identical: bool) -> dict:
    """The ratios the targets name, over whole jobs and at the marginal rate."""
    out: dict[str, object] = {}
    for key in ("words_per_s", "marginal_words_per_s"):
        speed = {name: figures[key] for name, figures in results.items()}
        out[key] = {
            "two_local_workers_over_one": round(speed["local x2"] / speed["local x1"], 2),
            "ray_over_local": {
                n: round(speed[f"ray x{n}"] / speed[f"local x{n}"], 2) for n in (1, 2)
            },
            "ray_joined_over_local": {
                n: round(speed[f"ray-joined x{n}"] / speed[f"local x{n}"], 2) for n in (1, 2)
            },
        }
    cpu_x1, cpu_x2 = (results[f"local x{n}"]["cpu_s_per_million_words"] for n in (1, 2))
    out["local_cpu_per_word_two_workers_over_one"] = round(cpu_x2 / cpu_x1, 2)
    out["identical_outputs"] = identical
    return out


if __name__ == "__main__":
    main()
