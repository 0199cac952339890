"""Where cached answers live: this process's memory (LRU, bounded by bytes) or Redis.

An answer is a `CachedAnswer`: the exact JSON bytes of a complete answer, or the exact
payloads of a stream's chunks (replayed as SSE). Each entry carries its own expiry, so a
model's TTL applies whichever store holds it.
"""

from __future__ import annotations

import logging
import struct
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

ENTRY_OVERHEAD = 200  # bytes an entry costs beyond its payload (key, object, links)
_EXPIRY = struct.Struct("d")


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: bytes | None = None  # a complete JSON answer
    chunks: tuple[bytes, ...] = ()  # or a stream's chunk payloads, in order
    size: int = field(init=False, compare=False)  # bytes it takes, roughly

    def __post_init__(self) -> None:
        size = len(self.body) if self.body is not None else sum(len(c) for c in self.chunks)
        object.__setattr__(self, "size", size + ENTRY_OVERHEAD)

    def dumps(self) -> bytes:
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


class MemoryStore:
    """LRU by bytes: adding past `max_bytes` evicts the least recently used entries.

    Entries are kept as bytes (expiry, then the answer), which the garbage collector does not
    track: a cache of a hundred thousand answers costs no collector time."""

    def __init__(self, max_bytes: int, clock: Any = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.clock = clock
        self.bytes = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()

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
        if self.clock() >= _EXPIRY.unpack_from(entry)[0]:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return CachedAnswer.loads(entry[_EXPIRY.size :])

    def put(self, key: str, answer: CachedAnswer, ttl: float) -> None:
        if answer.size > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        entry = _EXPIRY.pack(self.clock() + ttl) + answer.dumps()
        self._entries[key] = entry
        self.bytes += len(entry) + ENTRY_OVERHEAD
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self.bytes -= len(self._entries.pop(key)) + ENTRY_OVERHEAD


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
