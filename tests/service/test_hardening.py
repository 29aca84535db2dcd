"""A real `tagger serve` under load: drain without losing requests, fail fast, reload, shed.

Clients are threads with persistent HTTP/1.1 connections (keep-alive), as a load balancer or
a client library holds them. A request is *lost* when its connection was accepted and then
reset or closed without an answer; "connection refused" after the listener closed is not
lost (the client knows nothing was received and may retry elsewhere).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.service.helpers import conll_random
from tests.service.serving import free_port, serve

BODY = json.dumps({"text": "Angela Merkel met Emmanuel Macron in Paris."}).encode()


class KeepAliveClient(threading.Thread):
    """Sends POST /v1/tag back to back on one persistent connection (a new one when the
    server asks to close), counting outcomes, until ``stop`` is set."""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.stop_event = port, stop
        self.outcomes: Counter[str] = Counter()

    def run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while not self.stop_event.is_set():
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                try:
                    connection.connect()
                except ConnectionRefusedError:
                    self.outcomes["refused"] += 1
                    connection = None
                    time.sleep(0.01)
                    continue
            try:
                connection.request("POST", "/v1/tag", BODY, {"content-type": "application/json"})
                response = connection.getresponse()
                response.read()
            except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError) as e:
                self.outcomes[f"lost: {type(e).__name__}"] += 1
                connection.close()
                connection = None
                continue
            self.outcomes[str(response.status)] += 1
            if response.getheader("connection", "").lower() == "close":
                connection.close()
                connection = None
        if connection is not None:
            connection.close()


def run_clients(port: int, count: int) -> tuple[list[KeepAliveClient], threading.Event]:
    stop = threading.Event()
    clients = [KeepAliveClient(port, stop) for _ in range(count)]
    for client in clients:
        client.start()
    return clients, stop


def totals(clients: list[KeepAliveClient]) -> Counter[str]:
    out: Counter[str] = Counter()
    for client in clients:
        out.update(client.outcomes)
    return out


@pytest.fixture(scope="module")
def random_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "conll"
    conll_random().save(path)
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_under_keep_alive_load_loses_nothing(
    random_model: Path, tmp_path: Path, workers: int
) -> None:
    args = ["--model", str(random_model), "--workers", str(workers)]
    env = {"TAGGER_GRACEFUL_TIMEOUT_S": "10", "TAGGER_WORKERS": str(workers)}
    with serve(args, env=env, log_path=tmp_path / "serve.log") as server:
        port = int(server.url.rsplit(":", 1)[1])
        clients, stop = run_clients(port, 16)
        time.sleep(1.5)  # every client is in the middle of its request stream
        before = sum(totals(clients)[code] for code in ("200",))
        started = time.monotonic()
        code = server.stop(timeout=30)
        took = time.monotonic() - started
        time.sleep(0.3)
        stop.set()
        for client in clients:
            client.join(10)
        outcome = totals(clients)
        assert code == 0, server.log()
        assert took < 10, f"drain took {took:.1f} s"
    assert before > 50, outcome  # the load was real
    lost = {k: v for k, v in outcome.items() if k.startswith("lost")}
    assert lost == {}, f"{outcome}\n{server.log()}"
    assert set(outcome) <= {"200", "refused"}, outcome


def test_readiness_turns_503_at_once_and_pre_stop_delay_keeps_serving(
    random_model: Path, tmp_path: Path
) -> None:
    env = {"TAGGER_PRE_STOP_DELAY_S": "2"}
    with serve(["--model", str(random_model)], env=env, log_path=tmp_path / "s.log") as server:
        server.terminate()
        time.sleep(0.5)
        assert httpx.get(server.url + "/health/ready", timeout=5).status_code == 503
        tagged = httpx.post(server.url + "/v1/tag", content=BODY, timeout=5)
        assert tagged.status_code == 200  # still answering during the pre-stop delay
        assert server.process.wait(timeout=30) == 0


def test_a_corrupt_model_makes_serve_exit_with_the_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    conll_random().save(broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    with (
        pytest.raises(RuntimeError) as failure,
        serve(["--model", str(broken), "--workers", "2"], ready_timeout=60),
    ):
        pass
    message = str(failure.value)
    assert "server exited with 3" in message
    assert "error: failed to load models" in message and "corrupt weights" in message
    assert "Traceback" not in message


def test_fail_fast_off_keeps_the_old_stay_up_behaviour(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    conll_random().save(broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "TAGGER_FAIL_FAST": "false", "TAGGER_WORKERS": "1"}
    command = [sys.executable, "-m", "tagger", "serve", "--port", str(port), "--model", str(broken)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert ready.status_code == 503 and "corrupt weights" in ready.json()["detail"]
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_reload_under_load_swaps_models_without_a_failed_request(
    random_model: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    conll_random(seed=1).save(model)
    with serve(["--model", str(model), "--workers", "2"], log_path=tmp_path / "s.log") as server:
        before = {m["loaded_at"] for m in httpx.get(server.url + "/v1/models").json()["models"]}
        port = int(server.url.rsplit(":", 1)[1])
        clients, stop = run_clients(port, 8)
        time.sleep(0.5)
        conll_random(seed=2).save(model)  # a new version of the model, in place
        assert httpx.post(server.url + "/admin/reload", timeout=10).status_code == 202
        deadline = time.monotonic() + 60
        seen: set[float] = set()
        while time.monotonic() < deadline:  # both workers report the new model
            for _ in range(6):
                seen |= {
                    m["loaded_at"] for m in httpx.get(server.url + "/v1/models").json()["models"]
                }
            if len(seen - before) >= 2:
                break
            time.sleep(0.2)
        time.sleep(0.5)
        stop.set()
        for client in clients:
            client.join(10)
        outcome = totals(clients)
        assert len(seen - before) >= 2, (seen, before)
        assert set(outcome) == {"200"} and outcome["200"] > 20, outcome
        assert server.stop() == 0


def test_sighup_reloads_too(random_model: Path, tmp_path: Path) -> None:
    with serve(["--model", str(random_model)], log_path=tmp_path / "s.log") as server:
        [first] = httpx.get(server.url + "/v1/models").json()["models"]
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            [now] = httpx.get(server.url + "/v1/models").json()["models"]
            if now["loaded_at"] != first["loaded_at"]:
                break
            time.sleep(0.2)
        assert now["loaded_at"] != first["loaded_at"]
        assert server.stop() == 0


def test_connections_spread_over_the_workers(random_model: Path, tmp_path: Path) -> None:
    with serve(["--model", str(random_model), "--workers", "2"], log_path=tmp_path / "s.log") as s:
        port = int(s.url.rsplit(":", 1)[1])
        wait_for_workers(port, 2)  # ready means one worker listens; the other may still load
        pids = Counter(ready_pid(port) for _ in range(32))  # the kernel hashes new connections
        assert len(pids) == 2 and min(pids.values()) >= 4, pids
        assert s.stop() == 0


def ready_pid(port: int) -> int:
    """The pid of the worker that answers /health/ready on a new connection."""
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"GET /health/ready HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    return int(json.loads(answer.split(b"\r\n\r\n", 1)[1])["pid"])


def wait_for_workers(port: int, workers: int, timeout_s: float = 60) -> None:
    """Until new connections have reached ``workers`` distinct workers."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < workers:
        assert time.monotonic() < deadline, f"only workers {seen} listen after {timeout_s} s"
        seen.add(ready_pid(port))
        time.sleep(0.05)
