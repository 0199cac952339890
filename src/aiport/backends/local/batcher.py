"""Micro-batching: requests that arrive together share one model call.

A request hands its items (texts) to `MicroBatcher.submit` as one job. While the model is
idle a job waits `window` seconds for company; while a batch runs, new jobs gather on their
own. The next batch takes jobs round-robin across keys (one job per key per turn, FIFO
within a key) until it holds `max_items` items or `max_weight` characters; a job alone may
exceed either. So sixteen single-text requests cost about one sixteen-text call, and a key
that floods the engine holds up another key's job by at most one batch.

Admission is per job, with the runner's bounds: `concurrency + queue_size` jobs at most,
then 503 with `retry-after` (the newest waiting job of a key with two jobs more than the
newcomer's gets it instead, as in `ModelRunner.admit`). A job whose caller leaves before
its batch starts is dropped at once (its place is free); a batch that has started runs to
its end (one bounded model call).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from aiport.backends.local.runner import ANONYMOUS, ModelRunner, most_calls, overloaded

I = TypeVar("I")  # noqa: E741 - an item
R = TypeVar("R")  # its result


@dataclass(slots=True)
class _Job(Generic[I, R]):
    items: list[I]
    weight: int
    future: asyncio.Future[list[R]] = field(repr=False)
    batched: bool = False


class MicroBatcher(Generic[I, R]):
    def __init__(
        self,
        runner: ModelRunner,
        work: Callable[[list[I]], Sequence[R]],
        *,
        max_items: int,
        max_weight: int,
        window: float = 0.002,
        weight: Callable[[I], int] = len,  # type: ignore[assignment]
    ) -> None:
        self.runner = runner
        self.work = work  # results in the order of the items
        self.max_items = max_items
        self.max_weight = max_weight
        self.window = window
        self._weight = weight
        self._queues: OrderedDict[str, deque[_Job[I, R]]] = OrderedDict()
        self._drainer: asyncio.Task[None] | None = None
        self.busy = 0  # jobs admitted: waiting plus in the running batch
        self.batches = 0  # model calls made (benchmarks and tests read it)

    async def submit(self, items: list[I], key: str = ANONYMOUS) -> list[R]:
        """`work`'s results for `items`, computed in one batch with other jobs' items."""
        self._admit(key)
        self.busy += 1
        loop = asyncio.get_running_loop()
        job: _Job[I, R] = _Job(items, sum(map(self._weight, items)), loop.create_future())
        self._queues.setdefault(key, deque()).append(job)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        try:
            return await job.future
        finally:
            if not job.batched:  # the caller left first: the job never reaches the model
                self._remove(key, job)

    def _admit(self, key: str) -> None:
        """Room for one more job of `key`: a free place, or one of the busiest key's."""
        if self.busy < self.runner.concurrency + self.runner.queue_size:
            return
        busiest = most_calls({k: len(queue) for k, queue in self._queues.items()}, key)
        if busiest is None:
            raise overloaded(self.runner)
        queue = self._queues[busiest]
        newest = queue.pop()  # its `submit` counts it out (it was never batched)
        if not queue:
            del self._queues[busiest]
        newest.future.set_exception(overloaded(self.runner))

    async def _drain(self) -> None:
        while self._queues:
            if self.window > 0:
                await asyncio.sleep(self.window)
            batch = self._take()
            if not batch:
                continue
            items = [item for job in batch for item in job.items]
            try:
                results = await self.runner.run(self.work, items)
            except Exception as exc:
                for job in batch:
                    self._settle(job, exc)
                continue
            finally:
                self.batches += 1
            start = 0
            for job in batch:
                self._settle(job, list(results[start : start + len(job.items)]))
                start += len(job.items)

    def _settle(self, job: _Job[I, R], outcome: list[R] | Exception) -> None:
        self.busy -= 1
        if job.future.done():  # its caller left while the batch ran
            return
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    def _take(self) -> list[_Job[I, R]]:
        """The next batch: one job per key in turn, until the batch is full."""
        batch: list[_Job[I, R]] = []
        count = weight = 0
        while self._queues:
            key, queue = next(iter(self._queues.items()))
            job = queue[0]
            fits = count + len(job.items) <= self.max_items
            fits = fits and weight + job.weight <= self.max_weight
            if batch and not fits:
                break
            self._pop(key)
            job.batched = True
            batch.append(job)
            count, weight = count + len(job.items), weight + job.weight
        return batch

    def _remove(self, key: str, job: _Job[I, R]) -> None:
        self.busy -= 1
        queue = self._queues.get(key)
        if queue is not None and job in queue:  # not if pushed out by another key's job
            queue.remove(job)
            if not queue:
                del self._queues[key]

    def _pop(self, key: str) -> None:
        """Take `key`'s first job; the key goes to the back of the turn order."""
        queue = self._queues.pop(key)
        queue.popleft()
        if queue:
            self._queues[key] = queue

    def close(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()
