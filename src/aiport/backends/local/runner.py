"""Serving discipline for blocking inference: off the event loop, bounded, cancellable.

Each embedded model owns one `ModelRunner`. At most `concurrency` calls run at once on
their own threads; at most `queue_size` more wait. One more is refused at once with 503
`server_is_overloaded` and a `retry-after`, rather than queueing without bound.
Streaming work runs in a thread that hands items to the event loop as they are made and
checks `cancelled()` between items, so a client that goes away stops the generation.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiport.errors import Overloaded

T = TypeVar("T")

_DONE = object()


class Emitter:
    """Given to a streaming worker: `emit` hands one item over, `cancelled` says stop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any]) -> None:
        self._loop = loop
        self._queue = queue
        self._cancel = threading.Event()

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
        self._slots = asyncio.Semaphore(concurrency)
        self._admitted = 0
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name)

    @property
    def busy(self) -> int:
        """Calls admitted: running plus waiting."""
        return self._admitted

    def _admit(self) -> None:
        if self._admitted >= self.concurrency + self.queue_size:
            raise Overloaded(
                f"The model `{self.name}` is busy; try again shortly.",
                headers={"retry-after": "1"},
            )
        self._admitted += 1

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the model's thread; admission is decided before waiting."""
        self._admit()
        try:
            async with self._slots:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._pool, fn, *args)
        finally:
            self._admitted -= 1

    async def stream(self, fn: Callable[..., None], *args: Any) -> AsyncIterator[Any]:
        """Run `fn(emitter, *args)`; yield what it emits until it returns or raises.

        Closing the iterator early (the consumer was cancelled) tells the worker to stop
        and waits for it, so the model is free again before the slot is released.
        """
        self._admit()
        try:
            async with self._slots:
                loop = asyncio.get_running_loop()
                queue: asyncio.Queue[Any] = asyncio.Queue()
                emitter = Emitter(loop, queue)

                def work() -> None:
                    try:
                        fn(emitter, *args)
                    except BaseException as exc:
                        emitter.emit(exc)
                    finally:
                        emitter.emit(_DONE)

                future = loop.run_in_executor(self._pool, work)
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
        finally:
            self._admitted -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
