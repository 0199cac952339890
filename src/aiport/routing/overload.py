"""The instance's cap on requests in flight (`router.max_in_flight`).

Past the cap a request is answered at once with 503 `server_is_overloaded` and
`retry-after` — unless `router.queue.max_wait` allows a short wait. Waiting requests are
queued per API key and slots are handed out key by key in turn, so one key with many
requests cannot take every slot from the others; a key may have at most
`router.queue.per_key` requests waiting.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable

from aiport.errors import Overloaded
from aiport.routing.config import QueueConfig

RETRY_AFTER = "1"


def _nothing() -> None:
    return None


class InFlightGate:
    def __init__(self, max_in_flight: int | None, queue: QueueConfig) -> None:
        self.max_in_flight = max_in_flight
        self.queue = queue
        self.in_flight = 0
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def acquire(self, key: str) -> Callable[[], None] | None:
        """A slot for one request now (call what it returns exactly once when done), or
        None: then `await wait(key)` for one. Past the cap without a queue: 503."""
        if self.max_in_flight is None:
            return _nothing
        if self.in_flight < self.max_in_flight and not self._waiting:
            self.in_flight += 1
            return self._releaser()
        if self.queue.max_wait <= 0:
            raise self._overloaded()
        return None

    async def wait(self, key: str) -> Callable[[], None]:
        """Wait in `key`'s queue for a slot, at most `queue.max_wait` (then 503)."""
        queue = self._waiting.setdefault(key, deque())
        if len(queue) >= self.queue.per_key:
            raise self._overloaded()
        waiter = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            async with asyncio.timeout(self.queue.max_wait):
                await waiter
        except TimeoutError:
            if self._give_up(key, waiter):
                raise self._overloaded() from None
        except BaseException:
            if not self._give_up(key, waiter):
                self._release()  # granted just as its caller left: pass the slot on
            raise
        return self._releaser()

    def _give_up(self, key: str, waiter: asyncio.Future[None]) -> bool:
        """Stop waiting: True if it was still waiting, False if a slot was granted."""
        if waiter.done() and not waiter.cancelled():
            return False
        waiter.cancel()
        self._forget(key, waiter)
        return True

    def _releaser(self) -> Callable[[], None]:
        done = False

        def release() -> None:
            nonlocal done
            if not done:
                done = True
                self._release()

        return release

    def _release(self) -> None:
        self.in_flight -= 1
        while self._waiting:
            key, queue = next(iter(self._waiting.items()))
            waiter = queue.popleft()
            if queue:
                self._waiting.move_to_end(key)  # this key's next waiter goes to the back
            else:
                del self._waiting[key]
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)
                return

    def _forget(self, key: str, waiter: asyncio.Future[None]) -> None:
        queue = self._waiting.get(key)
        if queue is None:
            return
        try:
            queue.remove(waiter)
        except ValueError:
            return
        if not queue:
            del self._waiting[key]

    def _overloaded(self) -> Overloaded:
        return Overloaded(
            "The server has too many requests in flight; retry shortly.",
            headers={"retry-after": RETRY_AFTER},
        )
