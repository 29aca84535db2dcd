"""Overload and deadlines in one process: a full work budget answers 503 + Retry-After at once;
a request past its deadline answers 504 and its queued work never reaches the model; a client
that leaves has its work cancelled. Request ids are echoed or made."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.metrics import Metrics
from service.routes.tag import until_done_or_gone
from service.settings import Settings
from tagger import Tagger
from tests.service.helpers import conll_random

TEXT = "Angela Merkel met Emmanuel Macron in Paris."  # 43 characters: ~9 tokens estimated


class Held:
    """A random tagger whose model calls wait until ``release`` (and record their pieces)."""

    def __init__(self) -> None:
        self.tagger: Tagger = conll_random()
        self.gate, self.entered = threading.Event(), threading.Event()
        self.calls: list[list[list[str]]] = []
        run = self.tagger.run

        def held_run(pieces: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append([list(p) for p in pieces])
            self.entered.set()
            assert self.gate.wait(10), "the test never released the model"
            return run(pieces, *args, **kwargs)

        self.tagger.run = held_run  # type: ignore[method-assign]


@pytest.fixture()
def held() -> Iterator[Held]:
    model = Held()
    yield model
    model.gate.set()


def post(client: TestClient, text: str = TEXT, **headers: str) -> Any:
    return client.post("/v1/tag", json={"text": text}, headers=headers)


def test_a_full_budget_sheds_at_once_with_retry_after(held: Held) -> None:
    settings = Settings(max_queued_tokens=12)
    with (
        TestClient(create_app(settings, taggers=[held.tagger])) as client,
        ThreadPoolExecutor() as pool,
    ):
        first = pool.submit(post, client)
        assert held.entered.wait(10)  # the first request holds ~9 of the 12 tokens
        started = time.monotonic()
        shed = post(client)
        assert time.monotonic() - started < 2  # answered at once, not queued
        assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
        assert "overloaded" in shed.json()["detail"]
        held.gate.set()
        assert first.result().status_code == 200
        assert post(client).status_code == 200  # the budget is free again
        assert 'tagger_requests_shed_total{reason="overloaded"} 1.0' in client.get("/metrics").text


def test_an_idle_worker_admits_one_request_bigger_than_the_budget(held: Held) -> None:
    held.gate.set()
    with TestClient(create_app(Settings(max_queued_tokens=2), taggers=[held.tagger])) as client:
        assert post(client).status_code == 200


def test_a_request_past_its_deadline_is_504_and_never_reaches_the_model(held: Held) -> None:
    with (
        TestClient(create_app(Settings(), taggers=[held.tagger])) as client,
        ThreadPoolExecutor() as pool,
    ):
        first = pool.submit(post, client)
        assert held.entered.wait(10)
        started = time.monotonic()
        late = post(client, "Nobody waits for this one.", **{"X-Request-Timeout": "0.3"})
        assert late.status_code == 504 and "deadline" in late.json()["detail"]
        assert time.monotonic() - started < 5
        held.gate.set()
        assert first.result().status_code == 200
        assert post(client).status_code == 200
        words = [token for call in held.calls for piece in call for token in piece]
        assert "Nobody" not in words  # the expired request's work was dropped
        assert 'tagger_requests_shed_total{reason="deadline"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize("header", ["soon", "-1", "0", "nan", "inf"])
def test_bad_timeout_header_is_422(client: TestClient, header: str) -> None:
    r = post(client, **{"X-Request-Timeout": header})
    assert r.status_code == 422 and "X-Request-Timeout" in r.json()["detail"]


def test_work_of_a_client_that_left_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def work() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "done"

    class GoneRequest:
        async def receive(self) -> dict[str, str]:
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}

    async def main() -> Any:
        answer = await until_done_or_gone(GoneRequest(), work(), 30, Metrics())  # type: ignore[arg-type]
        await asyncio.wait_for(cancelled.wait(), 5)
        return answer

    assert asyncio.run(main()) == {"detail": "the client disconnected"}


def test_request_ids_are_echoed_or_made(client: TestClient) -> None:
    given = post(client, **{"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = post(client).headers["x-request-id"]
    assert len(made) == 32 and made != post(client).headers["x-request-id"]
    bad = post(client, **{"X-Request-ID": "x" * 200}).headers["x-request-id"]
    assert len(bad) == 32  # too long: replaced
    assert client.get("/health/live").headers["x-request-id"]
