"""Dynamic batching: coalesce concurrent requests into one model call on a dedicated thread.

A request's work is the list of pieces (token sequences) the library prepared for one model;
limits and metrics count the sentences those pieces hold, whatever the model's packing.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from service.errors import DeadlineExceededError, ShuttingDownError

log = logging.getLogger("service.batching")

Words = Sequence[str]
RunFn = Callable[[list[Words], tuple[str, ...]], list[dict[str, Any]]]
ObserveFn = Callable[["BatchStats"], None]


class BatcherClosedError(ShuttingDownError):
    """Raised by ``submit`` once shutdown has begun: no new work is accepted."""


@dataclass(slots=True)
class BatchStats:
    """What one model call did: fed to the metrics."""

    requests: int
    sentences: int
    pieces: int
    tokens: int
    seconds: float
    queue_seconds: float


@dataclass(slots=True)
class _Job:
    """One request's pieces waiting for the model, and the future its caller awaits."""

    pieces: Sequence[Words]
    sentences: int  # sentences the pieces hold (what ``max_batch_size`` counts)
    tasks: tuple[str, ...]
    future: asyncio.Future[list[dict[str, Any]]]
    deadline: float | None = None  # time.monotonic() after which the work is dropped
    enqueued: float = field(default_factory=time.perf_counter)


class DynamicBatcher:
    """Queue of requests for one model; a worker task feeds them to the model thread in batches.

    The worker takes everything waiting, up to ``max_batch_size`` sentences (a bigger request
    runs alone). An idle model runs a lone request immediately; only when the last batch held
    several requests (so the service is under concurrent load) does a batch that is not full wait
    up to ``max_wait_ms`` for more. Requests arriving while the model runs queue up and go together
    in the next call, so throughput grows with concurrency.
    """

    def __init__(
        self,
        run: RunFn,
        *,
        max_batch_size: int = 64,
        max_wait_ms: float = 0.0,
        name: str = "model",
        observe: ObserveFn | None = None,
        on_expired: Callable[[], None] | None = None,
    ) -> None:
        self._run = run
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.name = name
        self._observe = observe
        self._on_expired = on_expired
        self._queue: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"infer-{name}")
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._last_batch_requests = 0

    @property
    def pending(self) -> int:
        """Requests waiting for the model (not counting the batch being run)."""
        return len(self._queue)

    def start(self) -> None:
        """Start the worker task on the running event loop."""
        if self._worker is None:
            # A context of its own: not the first caller's (its request id, for one).
            self._worker = asyncio.get_running_loop().create_task(
                self._work(), name=f"batcher-{self.name}", context=contextvars.Context()
            )

    async def submit(
        self,
        pieces: Sequence[Words],
        tasks: Sequence[str],
        sentences: int | None = None,
        deadline: float | None = None,
    ) -> list[dict[str, Any]]:
        """Tag ``pieces`` (lists of token strings) for ``tasks``: one result dict each.
        ``sentences`` is how many sentences they hold (default: one a piece); work still
        queued at ``deadline`` (``time.monotonic()``) is dropped with DeadlineExceededError."""
        if self._closing:
            raise BatcherClosedError("the service is shutting down")
        if not pieces:
            return []
        self.start()
        future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        count = len(pieces) if sentences is None else sentences
        self._queue.append(_Job(pieces, count, tuple(tasks), future, deadline))
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        """Stop accepting work, finish everything already queued, then stop the model thread."""
        self._closing = True
        self._wakeup.set()
        if self._worker is not None:
            await self._worker
            self._worker = None
        self._executor.shutdown(wait=True)

    def _take(self, batch: list[_Job], size: int) -> int:
        """Move waiting jobs into ``batch`` while they fit; returns the new sentence count."""
        queue = self._queue
        now = time.monotonic()
        while queue:
            job = queue[0]
            if job.future.done():  # the caller went away (cancelled): skip its work
                queue.popleft()
                continue
            if job.deadline is not None and now > job.deadline:
                queue.popleft()
                job.future.set_exception(DeadlineExceededError("the deadline passed in the queue"))
                if self._on_expired is not None:
                    self._on_expired()
                continue
            n = job.sentences
            if batch and size + n > self.max_batch_size:
                break
            batch.append(queue.popleft())
            size += n
        return size

    async def _gather(self) -> list[_Job]:
        """Collect the next batch: what is waiting now, plus a short wait only under load."""
        batch: list[_Job] = []
        size = self._take(batch, 0)
        if not batch or self.max_wait <= 0 or size >= self.max_batch_size:
            return batch
        if self._last_batch_requests < 2 and len(batch) < 2:
            return batch  # idle or a lone client: never wait for a batch that will not fill
        deadline = time.perf_counter() + self.max_wait
        while size < self.max_batch_size and not self._closing:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                break
            before = len(batch)
            size = self._take(batch, size)
            if len(batch) == before:  # the next job does not fit
                break
        return batch

    async def _work(self) -> None:
        """Worker loop: gather a batch, run it on the model thread; ends when closed and empty."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._gather()
            if not batch:
                continue
            self._last_batch_requests = len(batch)
            started = time.perf_counter()
            try:
                outcomes = await loop.run_in_executor(self._executor, self._run_batch, batch)
            except asyncio.CancelledError:
                for job in batch:
                    job.future.cancel()
                raise
            except Exception as exc:  # never let the worker die: the callers get the error
                outcomes = [exc] * len(batch)
            for job, outcome in zip(batch, outcomes, strict=True):
                _resolve(job, outcome)
            if self._observe is not None:
                self._observe(
                    BatchStats(
                        requests=len(batch),
                        sentences=sum(j.sentences for j in batch),
                        pieces=sum(len(j.pieces) for j in batch),
                        tokens=sum(len(p) for j in batch for p in j.pieces),
                        seconds=time.perf_counter() - started,
                        queue_seconds=sum(started - j.enqueued for j in batch) / len(batch),
                    )
                )

    def _run_batch(self, batch: list[_Job]) -> list[list[dict[str, Any]] | BaseException]:
        """On the model thread: one model call per distinct task set, results split per job."""
        outcomes: list[list[dict[str, Any]] | BaseException] = [[] for _ in batch]
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, job in enumerate(batch):
            groups.setdefault(job.tasks, []).append(i)
        for tasks, indices in groups.items():
            pieces = [p for i in indices for p in batch[i].pieces]
            try:
                results = self._run(pieces, tasks)
            except Exception as exc:  # the callers get the error, the worker carries on
                log.exception("model %s failed on %d pieces", self.name, len(pieces))
                for i in indices:
                    outcomes[i] = exc
                continue
            offset = 0
            for i in indices:
                n = len(batch[i].pieces)
                outcomes[i] = results[offset : offset + n]
                offset += n
        return outcomes


def _resolve(job: _Job, outcome: list[dict[str, Any]] | BaseException) -> None:
    """Hand a job its result or error, unless its caller has already gone away."""
    if job.future.done():
        return
    if isinstance(outcome, BaseException):
        job.future.set_exception(outcome)
    else:
        job.future.set_result(outcome)
