"""Where cached answers live: this process's memory (LRU, bounded by bytes) or Redis.

An answer is a `CachedAnswer`: the exact JSON bytes of a complete answer, or the exact
payloads of a stream's chunks (replayed as SSE). Each entry carries its own expiry, so a
model's TTL applies whichever store holds it.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, NamedTuple, Protocol

log = logging.getLogger(__name__)

ENTRY_OVERHEAD = 200  # bytes an entry costs beyond its payload (key, object, links)


class CachedAnswer(NamedTuple):
    """A tuple (cheap to make: one is made for every answer stored or found)."""

    body: bytes | None = None  # a complete JSON answer
    chunks: tuple[bytes, ...] = ()  # or a stream's chunk payloads, in order

    @property
    def size(self) -> int:
        """Bytes it takes, roughly."""
        payload = len(self.body) if self.body is not None else sum(map(len, self.chunks))
        return payload + ENTRY_OVERHEAD

    def dumps(self) -> bytes:
        """The answer as bytes (for Redis)."""
        if self.body is not None:
            return b"j" + self.body
        # Chunks are JSON texts, in which a NUL byte cannot appear: it separates them.
        return b"s" + b"\0".join(self.chunks)

    @classmethod
    def loads(cls, data: bytes) -> CachedAnswer:
        if data[:1] == b"j":
            return cls(body=data[1:])
        return cls(chunks=tuple(data[1:].split(b"\0")) if len(data) > 1 else ())


class CacheStore(Protocol):
    async def get(self, key: str) -> CachedAnswer | None: ...

    async def set(self, key: str, answer: CachedAnswer, ttl: float) -> None: ...


# An entry in memory: (expiry, bytes it takes, body, chunks) — a plain tuple of numbers and
# bytes, which the garbage collector stops tracking after its first pass, so a cache of a
# hundred thousand answers costs no collector time (a CachedAnswer, a tuple subclass, would
# stay tracked); it holds the answer's own bytes, so storing and finding copy nothing.
_Entry = tuple[float, int, bytes | None, tuple[bytes, ...]]


class MemoryStore:
    """LRU by bytes: adding past `max_bytes` evicts the least recently used entries."""

    def __init__(self, max_bytes: int, clock: Any = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.clock = clock
        self.bytes = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> CachedAnswer | None:
        return self.get_now(key)

    async def set(self, key: str, answer: CachedAnswer, ttl: float) -> None:
        self.put(key, answer, ttl)

    def get_now(self, key: str) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.clock() >= entry[0]:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return CachedAnswer(entry[2], entry[3])

    def put(self, key: str, answer: CachedAnswer, ttl: float, size: int | None = None) -> None:
        """Keep `answer` for `ttl` seconds; `size` is its `size`, when already known."""
        if size is None:
            size = answer.size
        if size > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (self.clock() + ttl, size, answer.body, answer.chunks)
        self.bytes += size
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self.bytes -= self._entries.pop(key)[1]


class RedisStore:
    """Shared by every instance; Redis's own expiry and eviction policy bound it. A Redis
    that is away makes every look-up a miss (logged once), never a failed request."""

    PREFIX = "aiport:cache:"

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._warned = False

    async def get(self, key: str) -> CachedAnswer | None:
        try:
            data = await self.redis.get(self.PREFIX + key)
        except Exception as exc:
            self._warn(exc)
            return None
        return CachedAnswer.loads(data) if data else None

    async def set(self, key: str, answer: CachedAnswer, ttl: float) -> None:
        try:
            await self.redis.set(self.PREFIX + key, answer.dumps(), px=max(1, int(ttl * 1000)))
        except Exception as exc:
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning("response cache in Redis unavailable (%s): answering uncached", exc)
