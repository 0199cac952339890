"""Serving discipline for blocking inference: off the event loop, bounded, fair, cancellable.

Each embedded model owns one `ModelRunner`. At most `concurrency` calls run at once on
their own threads; at most `queue_size` more wait. One more is refused at once with 503
`server_is_overloaded` and a `retry-after`, rather than queueing without bound — unless
another key holds two calls more than its own: then that key's newest waiting call is
refused in its place, so one key cannot fill the queue and lock every other key out.

Waiting calls are served per key in turn (`FairSlots`): when a slot frees, the waiting
key that was served least recently goes next, so one key's fifty requests cannot make
another key's single request wait behind all fifty: it waits for one slot to free. A call
of many parts (`stream_turns`: a chat request's `n` choices) takes its slot once per part,
so a key waiting meanwhile is served between two parts, not after all of them.

A turn that would hold its slot for long (a long generation, a long recording) asks
`Emitter.give_way` between its steps: true when a key other than its own waits for a slot
(at most one running turn gives way per waiting call). It then ends its turn early and
resumes in its next one, in the key's fair order (`stream_turns` takes its turns lazily,
so a call can add the turn that resumes it). Alone on the engine a key never gives way,
so its throughput is the same.

A slot is only free again once its thread is: a caller that is cancelled while its work
runs leaves at once, and the slot follows when the work stops. Streaming work runs in a
thread that hands items to the event loop as they are made and checks `cancelled()`
between items, so a client that goes away stops the generation; work given to `run` is one
bounded unit (a batch, a picture) that cannot be interrupted.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import Any, TypeVar

from aiport.errors import Overloaded

T = TypeVar("T")

_DONE = object()
ANONYMOUS = ""
MAX_REMEMBERED_KEYS = 4096


class FairSlots:
    """A semaphore whose waiters are served by key: the waiting key that was granted a
    slot least recently goes first (a key never served before goes before all others),
    and one key's waiters go in arrival order (but for a call's next turn: first)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._first_turns: set[asyncio.Future[None]] = set()  # waiters `push_out` may fail
        self._granted: dict[str, int] = {}  # key -> number of the grant it last had
        self._grants = 0
        # Worker threads read `_waiting` (`give_way`): the loop changes it under this lock.
        self._lock = threading.Lock()
        self._giving_way = 0  # running turns that agreed to end early, not yet ended

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    async def acquire(self, key: str, *, later_turn: bool = False) -> None:
        """Wait for a slot. A call's `later_turn` goes before its key's other waiters (the
        calls its key made after it) and is never pushed out."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            self._grant(key)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            queue = self._waiting.setdefault(key, deque())
            if later_turn:
                queue.appendleft(future)
            else:
                queue.append(future)
                self._first_turns.add(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as the caller left
            else:
                self._forget(key, future)
            raise
        finally:
            self._first_turns.discard(future)

    def push_out(self, key: str, error: Exception) -> bool:
        """Fail the newest waiter of `key` for its call's first turn with `error` (its
        place goes to another key's call); False when `key` has none."""
        with self._lock:
            queue = self._waiting.get(key, deque())
            pushable = (f for f in reversed(queue) if f in self._first_turns and not f.done())
            newest = next(pushable, None)
            if newest is None:
                return False
            queue.remove(newest)
            if not queue:
                del self._waiting[key]
        newest.set_exception(error)
        return True

    def release(self, gave_way: bool = False) -> None:
        """Hand the slot to the waiting key served least recently, else free it.

        `gave_way`: the turn ending was one that agreed to `give_way`."""
        with self._lock:
            self._giving_way -= gave_way
            while self._waiting:
                key = min(self._waiting, key=lambda k: self._granted.get(k, -1))
                queue = self._waiting[key]
                future = queue.popleft()
                if not queue:
                    del self._waiting[key]
                if not future.done():
                    self._grant(key)
                    future.set_result(None)
                    return
            self._free += 1

    def give_way(self, key: str) -> bool:
        """From a worker thread: whether a running turn of `key` should end early for a
        call of another key that waits (and that no other running turn ends for already).
        True counts this turn as giving way until its slot is released."""
        with self._lock:
            others = sum(len(queue) for k, queue in self._waiting.items() if k != key)
            if others <= self._giving_way:
                return False
            self._giving_way += 1
            return True

    def _grant(self, key: str) -> None:
        self._grants += 1
        self._granted[key] = self._grants
        if len(self._granted) > MAX_REMEMBERED_KEYS:  # forget keys that wait for nothing
            self._granted = {k: v for k, v in self._granted.items() if k in self._waiting}

    def _forget(self, key: str, future: asyncio.Future[None]) -> None:
        with self._lock:
            queue = self._waiting.get(key)
            if queue is not None and future in queue:
                queue.remove(future)
                if not queue:
                    del self._waiting[key]


def overloaded(runner: ModelRunner) -> Overloaded:
    """503 `server_is_overloaded` with `retry-after`."""
    return Overloaded(
        f"The model `{runner.name}` is busy; try again shortly.", headers={"retry-after": "1"}
    )


def most_calls(calls: dict[str, int], key: str) -> str | None:
    """The key with the most calls, if it has two more than `key` at least: one of its
    waiting calls gives its place to `key`'s when the engine is full."""
    busiest = max(calls, key=calls.__getitem__, default=None)
    if busiest is None or busiest == key or calls[busiest] < calls.get(key, 0) + 2:
        return None
    return busiest


class Emitter:
    """Given to a streaming worker: `emit` hands one item over, `cancelled` says stop,
    `give_way` says another key waits for this slot."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[Any],
        give_way: Callable[[], bool] = lambda: False,
    ) -> None:
        self._loop = loop
        self._queue = queue
        self._cancel = threading.Event()
        self._give_way = give_way
        self.gave_way = False

    def give_way(self) -> bool:
        """True when the worker should end this turn now, to resume in its next one: a
        call of another key waits for the slot. Once true, it stays true."""
        self.gave_way = self.gave_way or self._give_way()
        return self.gave_way

    def emit(self, item: Any) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class ModelRunner:
    def __init__(self, name: str, *, concurrency: int = 1, queue_size: int = 16) -> None:
        self.name = name
        self.concurrency = concurrency
        self.queue_size = queue_size
        self._slots = FairSlots(concurrency)
        self._admitted = 0
        self._calls: dict[str, int] = {}  # calls admitted per key
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name)

    @property
    def busy(self) -> int:
        """Calls admitted: running plus waiting."""
        return self._admitted

    def admit(self, key: str = ANONYMOUS) -> None:
        """Count one more call of `key`. When running plus waiting is full, the newest
        waiting call of the key with the most calls (two more than `key`'s at least) is
        refused in its place (503); else this one is, at once."""
        if self._admitted >= self.concurrency + self.queue_size:
            busiest = most_calls(self._calls, key)
            if busiest is None or not self._slots.push_out(busiest, overloaded(self)):
                raise overloaded(self)
        self._admitted += 1
        self._calls[key] = self._calls.get(key, 0) + 1

    def _leave(self, key: str) -> None:
        self._admitted -= 1
        self._calls[key] -= 1
        if not self._calls[key]:
            del self._calls[key]

    async def _enter(self, key: str) -> Callable[..., None]:
        """Admit and wait for a slot in turn; returns the (idempotent) release."""
        self.admit(key)
        try:
            await self._slots.acquire(key)
        except BaseException:
            self._leave(key)
            raise

        def release() -> None:
            self._slots.release()
            self._leave(key)

        return _once(release)

    async def run(self, fn: Callable[..., T], *args: Any, key: str = ANONYMOUS) -> T:
        """Run `fn(*args)` on the model's thread; admission is decided before waiting.

        A caller cancelled meanwhile leaves at once; the slot is freed when `fn` returns."""
        release = await self._enter(key)
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        future.add_done_callback(release)
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                release()

    async def stream(
        self, fn: Callable[..., None], *args: Any, key: str = ANONYMOUS
    ) -> AsyncGenerator[Any]:
        """Run `fn(emitter, *args)`; yield what it emits until it returns or raises.

        Closing the iterator early (the consumer was cancelled) tells the worker to stop
        and waits for it (it checks between items), so the slot is free again after.
        """
        async with aclosing(self.stream_turns(fn, [args], key=key)) as items:
            async for item in items:
                yield item

    async def stream_turns(
        self, fn: Callable[..., None], turns: Iterable[tuple[Any, ...]], *, key: str = ANONYMOUS
    ) -> AsyncGenerator[Any]:
        """`stream` for each `args` of `turns` in order, admitted once as one call.

        Each turn waits for a slot in the key's fair order, so between two turns a key that
        is waiting goes first: a request of many parts (`n` choices) holds a slot for one
        part at a time, not for all of them. `turns` is read lazily: the next turn's `args`
        are taken once the turn before has ended (a turn that gave way adds its sequel)."""
        self.admit(key)
        running: list[asyncio.Future[None]] = []
        try:
            for args in turns:
                async with aclosing(self._turn(fn, args, key, running)) as items:
                    async for item in items:
                        yield item
        finally:
            if running and not running[-1].done():  # left while its worker still stops
                running[-1].add_done_callback(lambda _: self._leave(key))
            else:
                self._leave(key)

    async def stream_steps(
        self, steps: Callable[..., Iterator[Any]], *args: Any, key: str = ANONYMOUS
    ) -> AsyncGenerator[Any]:
        """The items of the iterator `steps(*args)`, made on the model's thread in turns:
        a turn ends after an item when another key waits (`give_way`), and the next turn
        goes on with the same iterator (a long recording, a long text, many pictures).
        A None item is a step that made nothing to hand over."""
        made: list[Iterator[Any]] = []  # the iterator, once the first turn made it
        ended = threading.Event()

        def turn(emitter: Emitter) -> None:
            if not made:
                made.append(steps(*args))
            for item in made[0]:
                if item is not None:
                    emitter.emit(item)
                if emitter.cancelled() or emitter.give_way():
                    return
            ended.set()

        def turns() -> Iterator[tuple[()]]:
            while not ended.is_set():
                yield ()

        async with aclosing(self.stream_turns(turn, turns(), key=key)) as items:
            async for item in items:
                yield item

    async def _turn(
        self,
        fn: Callable[..., None],
        args: tuple[Any, ...],
        key: str,
        running: list[asyncio.Future[None]],
    ) -> AsyncGenerator[Any]:
        """One slot, taken in turn, for one `fn(emitter, *args)` on the model's thread."""
        await self._slots.acquire(key, later_turn=bool(running))
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        emitter = Emitter(loop, queue, lambda: self._slots.give_way(key))
        release = _once(lambda: self._slots.release(emitter.gave_way))

        def work() -> None:
            try:
                fn(emitter, *args)
            except BaseException as exc:
                emitter.emit(exc)
            finally:
                emitter.emit(_DONE)

        future = loop.run_in_executor(self._pool, work)
        running[:] = [future]
        future.add_done_callback(release)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            emitter.cancel()
            await asyncio.shield(future)
            release()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _once(fn: Callable[[], None]) -> Callable[..., None]:
    """`fn` as an idempotent callback (a done callback and a `finally` may both call it)."""
    done = False

    def once(*_: object) -> None:
        nonlocal done
        if not done:
            done = True
            fn()

    return once
