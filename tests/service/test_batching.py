"""The dynamic batcher: lone requests run at once, concurrent ones share model calls, drains."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from service.batching import BatcherClosedError, BatchStats, DynamicBatcher


class SlowModel:
    """Records every call; each call takes ``delay`` seconds (on the batcher's thread)."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.calls: list[tuple[list[Sequence[str]], tuple[str, ...]]] = []
        self.threads: set[str] = set()

    def __call__(self, sentences: list[Sequence[str]], tasks: tuple[str, ...]) -> list[Any]:
        self.calls.append((list(sentences), tasks))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        if self.fail_on is not None and any(self.fail_on in s for s in sentences):
            raise ValueError("model failure")
        return [{t: (list(s), t) for t in tasks} for s in sentences]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_lone_request_runs_immediately() -> None:
    model = SlowModel()

    async def main() -> float:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=500)
        started = time.perf_counter()
        result = await batcher.submit([["a", "b"]], ["ner"])
        elapsed = time.perf_counter() - started
        assert result == [{"ner": (["a", "b"], "ner")}]
        for _ in range(3):  # still alone: never waits for a batch that will not fill
            started = time.perf_counter()
            await batcher.submit([["c"]], ["ner"])
            elapsed = max(elapsed, time.perf_counter() - started)
        await batcher.close()
        return elapsed

    assert run(main()) < 0.25  # far below max_wait_ms
    assert all(name.startswith("infer-") for name in model.threads)  # off the event loop


def test_concurrent_requests_share_model_calls() -> None:
    model = SlowModel(delay=0.05)
    stats: list[BatchStats] = []

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0, observe=stats.append)
        results = await asyncio.gather(*(batcher.submit([[f"w{i}"]], ["ner"]) for i in range(20)))
        await batcher.close()
        return results

    results = run(main())
    assert [r[0]["ner"][0] for r in results] == [[f"w{i}"] for i in range(20)]  # in order
    assert len(model.calls) < 20
    assert max(len(s) for s, _ in model.calls) > 1
    assert sum(s.requests for s in stats) == 20 and sum(s.tokens for s in stats) == 20


def test_requests_arriving_during_a_call_go_together_next() -> None:
    model = SlowModel(delay=0.1)

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0)
        first = asyncio.ensure_future(batcher.submit([["first"]], ["ner"]))
        await asyncio.sleep(0.03)  # the model is now busy with "first"
        rest = [asyncio.ensure_future(batcher.submit([[f"r{i}"]], ["ner"])) for i in range(5)]
        await asyncio.gather(first, *rest)
        await batcher.close()

    run(main())
    assert [len(s) for s, _ in model.calls] == [1, 5]


def test_max_batch_size_caps_a_call_but_a_big_request_runs_whole() -> None:
    model = SlowModel(delay=0.02)

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=4, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await asyncio.sleep(0.005)
        jobs = [batcher.submit([["a"], ["b"], ["c"]], ["ner"]) for _ in range(3)]
        jobs.append(batcher.submit([["big"]] * 10, ["ner"]))
        await asyncio.gather(blocker, *jobs)
        await batcher.close()

    run(main())
    sizes = [len(s) for s, _ in model.calls]
    assert sizes == [1, 3, 3, 3, 10]


def test_waits_briefly_under_load_to_fill_a_batch() -> None:
    model = SlowModel(delay=0.01)

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=50)
        await asyncio.gather(*(batcher.submit([["a"]], ["ner"]) for _ in range(3)))
        # The last batch held several requests: the next ones may wait up to 50 ms to coalesce.
        first = asyncio.ensure_future(batcher.submit([["b"]], ["ner"]))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(batcher.submit([["c"]], ["ner"]))
        await asyncio.gather(first, second)
        await batcher.close()

    run(main())
    assert [len(s) for s, _ in model.calls][-1] == 2


def test_task_sets_are_grouped_into_separate_calls() -> None:
    model = SlowModel(delay=0.05)

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await asyncio.sleep(0.01)
        results = await asyncio.gather(
            batcher.submit([["a"]], ["ner"]),
            batcher.submit([["b"]], ["pos"]),
            batcher.submit([["c"]], ["ner"]),
        )
        await blocker
        await batcher.close()
        return results

    results = run(main())
    assert [r[0] for r in results] == [
        {"ner": (["a"], "ner")},
        {"pos": (["b"], "pos")},
        {"ner": (["c"], "ner")},
    ]
    assert [(len(s), t) for s, t in model.calls[1:]] == [(2, ("ner",)), (1, ("pos",))]


def test_model_errors_reach_only_their_callers() -> None:
    model = SlowModel(delay=0.02, fail_on="boom")

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await asyncio.sleep(0.005)
        results = await asyncio.gather(
            batcher.submit([["boom"]], ["pos"]),
            batcher.submit([["fine"]], ["ner"]),
            return_exceptions=True,
        )
        after = await batcher.submit([["later"]], ["pos"])  # the worker survived
        await blocker
        await batcher.close()
        return [*results, after]

    failed, ok, after = run(main())
    assert isinstance(failed, ValueError)
    assert ok == [{"ner": (["fine"], "ner")}]
    assert after == [{"pos": (["later"], "pos")}]


def test_close_drains_queued_work_then_refuses_new_work() -> None:
    model = SlowModel(delay=0.05)

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model, max_batch_size=1, max_wait_ms=0)
        jobs = [asyncio.ensure_future(batcher.submit([[f"s{i}"]], ["ner"])) for i in range(4)]
        await asyncio.sleep(0.01)
        await batcher.close()
        assert all(job.done() for job in jobs)
        with pytest.raises(BatcherClosedError):
            await batcher.submit([["late"]], ["ner"])
        return [job.result() for job in jobs]

    assert len(run(main())) == 4
    assert len(model.calls) == 4


def test_empty_submission_does_not_call_the_model() -> None:
    model = SlowModel()

    async def main() -> list[Any]:
        batcher = DynamicBatcher(model)
        result = await batcher.submit([], ["ner"])
        await batcher.close()
        return result

    assert run(main()) == []
    assert model.calls == []


def test_cancelled_caller_is_skipped() -> None:
    model = SlowModel(delay=0.05)

    async def main() -> None:
        batcher = DynamicBatcher(model, max_batch_size=64, max_wait_ms=0)
        blocker = asyncio.ensure_future(batcher.submit([["x"]], ["ner"]))
        await asyncio.sleep(0.01)
        gone = asyncio.ensure_future(batcher.submit([["gone"]], ["ner"]))
        kept = asyncio.ensure_future(batcher.submit([["kept"]], ["ner"]))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.gather(blocker, kept)
        await batcher.close()

    run(main())
    assert [s for s, _ in model.calls] == [[["x"]], [["kept"]]]
