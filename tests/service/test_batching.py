"""The dynamic batcher: lone requests run at once, concurrent ones share model calls, drains.

The fake model blocks every call until the test opens its gate, so "the model is busy while
these requests arrive" is a fact the test arranges, not a race against sleeps.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from service.batching import BatcherClosedError, BatchStats, DynamicBatcher

TIMEOUT = 10.0  # seconds any wait may take before the test fails instead of hanging


class GatedModel:
    """Records every call; a call announces that it began, then waits for the gate."""

    def __init__(self, fail_on: str | None = None, open_gate: bool = False) -> None:
        self.fail_on = fail_on
        self.calls: list[tuple[list[Sequence[str]], tuple[str, ...]]] = []
        self.threads: set[str] = set()
        self.began = threading.Semaphore(0)
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()

    def __call__(self, pieces: list[Sequence[str]], tasks: tuple[str, ...]) -> list[Any]:
        self.calls.append((list(pieces), tasks))
        self.threads.add(threading.current_thread().name)
        self.began.release()
        if not self.gate.wait(TIMEOUT):
            raise TimeoutError("the test never opened the gate")
        if self.fail_on is not None and any(self.fail_on in p for p in pieces):
            raise ValueError("model failure")
        return [{t: (list(p), t) for t in tasks} for p in pieces]

    async def busy(self) -> None:
        """Wait until a model call has begun (and is now held at the gate)."""
        assert await asyncio.to_thread(self.began.acquire, True, TIMEOUT), "no model call began"

    def open(self) -> None:
        self.gate.set()


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def test_lone_request_runs_immediately() -> None:
    model = GatedModel(open_gate=True)

    async def main() -> None:
        # A lone client never waits for a batch that will not fill: with a minute of
        # max_wait, waiting at all would run into the test's timeout.
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=60_000)
        assert await batcher.submit([["a", "b"]], ["ner"]) == [{"ner": (["a", "b"], "ner")}]
        for _ in range(3):
            await batcher.submit([["c"]], ["ner"])
        await batcher.close()

    run(main())
    assert len(model.calls) == 4
    assert all(name.startswith("infer-") for name in model.threads)  # off the event loop


def test_concurrent_requests_share_model_calls() -> None:
    model = GatedModel()
    stats: list[BatchStats] = []

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0, observe=stats.append)
        first = asyncio.ensure_future(batcher.submit([["w0"]], ["ner"]))
        await model.busy()
        rest = [asyncio.ensure_future(batcher.submit([[f"w{i}"]], ["ner"])) for i in range(1, 20)]
        await asyncio.sleep(0)  # let every request reach the queue
        model.open()
        results = await asyncio.gather(first, *rest)
        await batcher.close()
        return results

    results = run(main())
    assert [r[0]["ner"][0] for r in results] == [[f"w{i}"] for i in range(20)]  # in order
    assert [len(p) for p, _ in model.calls] == [1, 19]
    assert sum(s.requests for s in stats) == 20 and sum(s.tokens for s in stats) == 20


def test_max_batch_size_counts_sentences_not_pieces() -> None:
    model = GatedModel()
    stats: list[BatchStats] = []

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=4, max_wait_ms=0, observe=stats.append)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await model.busy()
        # Each request: one piece holding three sentences (document context).
        jobs = [batcher.submit([["a", "b", "c"]], ["ner"], sentences=3) for _ in range(2)]
        jobs.append(batcher.submit([["p"], ["q"]], ["ner"], sentences=1))  # a windowed sentence
        model.open()
        await asyncio.gather(blocker, *jobs)
        await batcher.close()

    run(main())
    assert [len(p) for p, _ in model.calls] == [1, 1, 3]  # 3 + 3 > 4; then 3 + 1 fits
    assert [(s.sentences, s.pieces, s.tokens) for s in stats] == [(1, 1, 1), (3, 1, 3), (4, 3, 5)]


def test_a_request_bigger_than_the_batch_runs_whole() -> None:
    model = GatedModel()

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=4, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await model.busy()
        jobs = [batcher.submit([["a"], ["b"], ["c"]], ["ner"]) for _ in range(3)]
        jobs.append(batcher.submit([["big"]] * 10, ["ner"]))
        model.open()
        await asyncio.gather(blocker, *jobs)
        await batcher.close()

    run(main())
    assert [len(p) for p, _ in model.calls] == [1, 3, 3, 3, 10]


def test_waits_briefly_under_load_to_fill_a_batch() -> None:
    model = GatedModel(open_gate=True)

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=2, max_wait_ms=5_000)
        await asyncio.gather(*(batcher.submit([["a"]], ["ner"]) for _ in range(2)))
        # The last batch held several requests: the next one waits for a second to join it
        # (and stops waiting as soon as the batch is full, long before max_wait).
        first = asyncio.ensure_future(batcher.submit([["b"]], ["ner"]))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(batcher.submit([["c"]], ["ner"]))
        await asyncio.gather(first, second)
        await batcher.close()

    run(main())
    assert [len(p) for p, _ in model.calls] == [2, 2]


def test_task_sets_are_grouped_into_separate_calls() -> None:
    model = GatedModel()

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await model.busy()
        jobs = [
            asyncio.ensure_future(batcher.submit([["a"]], ["ner"])),
            asyncio.ensure_future(batcher.submit([["b"]], ["pos"])),
            asyncio.ensure_future(batcher.submit([["c"]], ["ner"])),
        ]
        await asyncio.sleep(0)
        model.open()
        results = await asyncio.gather(*jobs)
        await blocker
        await batcher.close()
        return results

    results = run(main())
    assert [r[0] for r in results] == [
        {"ner": (["a"], "ner")},
        {"pos": (["b"], "pos")},
        {"ner": (["c"], "ner")},
    ]
    assert [(len(p), t) for p, t in model.calls[1:]] == [(2, ("ner",)), (1, ("pos",))]


def test_model_errors_reach_only_their_callers() -> None:
    model = GatedModel(fail_on="boom")

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await model.busy()
        jobs = [
            asyncio.ensure_future(batcher.submit([["boom"]], ["pos"])),
            asyncio.ensure_future(batcher.submit([["fine"]], ["ner"])),
        ]
        await asyncio.sleep(0)
        model.open()
        results = await asyncio.gather(*jobs, return_exceptions=True)
        after = await batcher.submit([["later"]], ["pos"])  # the worker survived
        await blocker
        await batcher.close()
        return [*results, after]

    failed, ok, after = run(main())
    assert isinstance(failed, ValueError)
    assert ok == [{"ner": (["fine"], "ner")}]
    assert after == [{"pos": (["later"], "pos")}]


def test_close_drains_queued_work_then_refuses_new_work() -> None:
    model = GatedModel()

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=1, max_wait_ms=0)
        jobs = [asyncio.ensure_future(batcher.submit([[f"s{i}"]], ["ner"])) for i in range(4)]
        await model.busy()
        closing = asyncio.ensure_future(batcher.close())
        await asyncio.sleep(0)
        with pytest.raises(BatcherClosedError):
            await batcher.submit([["late"]], ["ner"])
        model.open()
        await closing
        assert all(job.done() for job in jobs)
        return [job.result() for job in jobs]

    assert len(run(main())) == 4
    assert len(model.calls) == 4


def test_empty_submission_does_not_call_the_model() -> None:
    model = GatedModel(open_gate=True)

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model)
        result = await batcher.submit([], ["ner"])
        await batcher.close()
        return result

    assert run(main()) == []
    assert model.calls == []


def test_cancelled_caller_is_skipped() -> None:
    model = GatedModel()

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await model.busy()
        gone = asyncio.ensure_future(batcher.submit([["gone"]], ["ner"]))
        kept = asyncio.ensure_future(batcher.submit([["kept"]], ["ner"]))
        await asyncio.sleep(0)
        gone.cancel()
        model.open()
        await asyncio.gather(blocker, kept)
        await batcher.close()

    run(main())
    assert [p for p, _ in model.calls] == [[["x"]], [["kept"]]]
