"""End to end: a real `tagger serve` process over loopback HTTP, stopped with SIGTERM (exit 0)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.service.helpers import conll_random, ud_random
from tests.service.serving import REPO_ROOT, serve

DEFAULT_MODEL = REPO_ROOT / "models" / "conll03-en"


def token(body: dict, word: str) -> dict:
    """The first token with this text in a /v1/tag answer."""
    for doc in body["documents"]:
        for sentence in doc["sentences"]:
            for t in sentence["tokens"]:
                if t["text"] == word:
                    return t
    raise AssertionError(f"no token {word!r} in {body}")


def test_default_model_tags_the_seed_sentences(tmp_path: Path) -> None:
    """The shipped model: must exist (this test fails, never skips, when it is missing)."""
    assert (DEFAULT_MODEL / "config.json").is_file(), f"shipped model missing: {DEFAULT_MODEL}"
    with serve(log_path=tmp_path / "serve.log") as server:
        r = httpx.post(server.url + "/v1/tag", json={"text": "I like eating apple!"}, timeout=30)
        assert r.status_code == 200, r.text
        assert token(r.json(), "apple")["ner"] == "O"
        r = httpx.post(
            server.url + "/v1/tag", json={"text": "The Apple is a great company!"}, timeout=30
        )
        body = r.json()
        assert token(body, "Apple")["ner"] == "B-ORG"
        assert any(
            e["label"] == "ORG" and e["text"] == "Apple" for e in body["documents"][0]["entities"]
        )
        assert set(token(body, "Apple")["confidence"]) == {"ner"}  # the default model's task
        tasks = {"text": "The Apple is a great company!", "tasks": ["ner", "pos", "chunk"]}
        body = httpx.post(server.url + "/v1/tag", json=tasks, timeout=30).json()
        assert token(body, "Apple")["pos"] == "NNP" and token(body, "Apple")["ner"] == "B-ORG"
        assert [m["name"] for m in body["models"]] == ["conll03-en", "conll03-pos-chunk"]
        models = httpx.get(server.url + "/v1/models", timeout=10).json()["models"]
        names = ["conll03-en", "conll03-pos-chunk", "ud-ewt-upos"]
        assert [m["name"] for m in models] == names
        assert server.stop() == 0, server.log()


def test_sigterm_finishes_in_flight_requests_and_exits_0(tmp_path: Path) -> None:
    conll_random().save(tmp_path / "conll")
    ud_random().save(tmp_path / "ud")
    args = ["--model", str(tmp_path / "conll"), "--model", str(tmp_path / "ud")]
    with serve(args, log_path=tmp_path / "serve.log") as server:
        request = {"text": "Hello there.", "tasks": ["ner", "upos"]}
        body = httpx.post(server.url + "/v1/tag", json=request, timeout=30).json()
        assert [m["name"] for m in body["models"]] == ["conll-random", "ud-random"]

        texts = ["Some words here, and more words. " * 500] * 12  # ~80k tokens: seconds of work
        outcome: dict[str, object] = {}
        finished: list[float] = []

        def slow_request() -> None:
            try:
                r = httpx.post(server.url + "/v1/tag", json={"texts": texts}, timeout=120)
                outcome["status"] = r.status_code
                outcome["documents"] = len(r.json()["documents"])
                finished.append(time.monotonic())
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome["error"] = repr(exc)

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.5)  # the request is being processed
        server.terminate()
        terminated = time.monotonic()
        assert_stops_accepting(server.url, within_s=10)
        thread.join(timeout=120)
        assert outcome == {"status": 200, "documents": 12}, server.log()
        assert finished[0] > terminated  # it really was in flight when SIGTERM came
        assert server.stop() == 0, server.log()
        assert "batchers drained" in server.log()


def assert_stops_accepting(url: str, within_s: float) -> None:
    """After SIGTERM the listener closes soon: until then a new connection is answered in full
    (a busy worker takes its backlog before closing), never reset; then it is refused."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            answer = httpx.get(url + "/health/live", timeout=5)
        except httpx.ConnectError:
            return  # no longer accepting connections
        assert answer.status_code in (200, 503), answer.text
        assert time.monotonic() < deadline, f"still accepting {within_s} s after SIGTERM"
        time.sleep(0.05)


def test_several_workers(tmp_path: Path) -> None:
    conll_random().save(tmp_path / "conll")
    args = ["--model", str(tmp_path / "conll"), "--workers", "2"]
    with serve(args, log_path=tmp_path / "serve.log") as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(6):
                r = client.post(
                    "/v1/tag", json={"text": "Apple is a company."}, headers={"Connection": "close"}
                )
                assert r.status_code == 200
            metrics = client.get("/metrics").text
        line = next(
            x for x in metrics.splitlines()
            if x.startswith("tagger_http_requests_total") and 'path="/v1/tag"' in x
        )  # fmt: skip
        assert float(line.rsplit(" ", 1)[1]) == 6  # summed over both workers
        assert server.stop() == 0, server.log()
