"""Resolve a presented API key to its `KeyRecord` without the database on the hot path.

Look-ups are cached by the key's hash: found keys (at most `max_entries`) are fresh for
`positive_ttl` (30 s), unknown ones for `negative_ttl` (5 s), at most `max_unknown` of
them in a cache of their own, so a flood of made-up keys can neither evict a real one
nor query the database twice for the same string. Input that cannot be a key (too long,
NUL or other non-ASCII bytes, wrong prefix or alphabet) is refused before any cache or
query. Concurrent misses for one key share one query.

A known key whose entry is no longer fresh is served from the cache at once while one
background refresh (one at a time for the whole cache, and after a failure not again for
`retry_interval`) reads it again: a slow or unreachable database never stalls a request
for a key it already knows. Expiry is checked on every request, from the cached record.

Revocation reaches every instance quickly:
- with Redis, `revoke()` publishes the key id on `channel` and each instance drops it at
  once (milliseconds);
- always, a background poll reads `key_changes.version` every `poll_interval` (1 s) and
  empties the cache when it moved — this covers several processes on one SQLite file, a
  revocation by the CLI, and pub/sub messages lost while an instance was reconnecting.
A look-up that began before an invalidation does not cache its (possibly stale) answer.

A key the cache does not know needs the database: if it cannot be reached, the request
fails with 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiport.errors import AuthenticationFailed, Overloaded
from aiport.redis_channel import Channel
from aiport.store.keys import KeyRecord, KeyStore, hash_key, looks_like_key

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

REVOCATION_CHANNEL = "aiport:keys:revoked"


@dataclass(slots=True)
class _Entry:
    record: KeyRecord
    fresh_until: float


class KeyCache:
    """See the module docstring. `start()` before use, `close()` at shutdown."""

    def __init__(
        self,
        store: KeyStore,
        *,
        redis: Redis | None = None,
        channel: str = REVOCATION_CHANNEL,
        positive_ttl: float = 30.0,
        negative_ttl: float = 5.0,
        poll_interval: float = 1.0,
        retry_interval: float = 1.0,
        max_entries: int = 100_000,
        max_unknown: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.redis = redis
        self.channel = channel
        self.positive_ttl = positive_ttl
        self.negative_ttl = negative_ttl
        self.poll_interval = poll_interval
        self.retry_interval = retry_interval
        self.max_entries = max_entries
        self.max_unknown = max_unknown
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()  # key hash → fresh until
        self._hash_by_id: dict[str, str] = {}
        self._inflight: dict[str, asyncio.Task[KeyRecord | None]] = {}
        self._refresh: asyncio.Task[None] | None = None
        self._next_refresh = 0.0  # no background refresh before (after a failed one)
        self._generation = 0
        self._version: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._channel: Channel | None = None

    async def start(self) -> None:
        """Read the current keys version and start the poll (and Redis listener)."""
        with contextlib.suppress(Exception):
            self._version = await self.store.keys_version()
        self._tasks.append(asyncio.create_task(self._poll(), name="keycache-poll"))
        if self.redis is not None:
            channel = Channel(
                self.redis, self.channel, "revocation channel", self._revoked, self._start_over
            )
            self._channel = channel
            await channel.open()  # now, so a revoke right after start is heard
            self._tasks.append(asyncio.create_task(channel.listen(), name="keycache-listen"))

    async def close(self) -> None:
        if self._refresh is not None:
            self._tasks.append(self._refresh)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._channel is not None:
            await self._channel.close()

    async def resolve(self, presented: object) -> KeyRecord | None:
        """The record of a stored key (revoked and expired ones included), else None."""
        if not looks_like_key(presented):
            return None
        assert isinstance(presented, str)
        key_hash = hash_key(presented)
        now = self._clock()
        entry = self._entries.get(key_hash)
        if entry is not None:
            if entry.fresh_until <= now:
                self._refresh_later(key_hash)
            return entry.record
        unknown_until = self._unknown.get(key_hash)
        if unknown_until is not None and unknown_until > now:
            return None
        task = self._inflight.get(key_hash)
        if task is None:
            # Its own task, so that a caller who goes away does not cancel the others' look-up.
            task = asyncio.create_task(self._load(key_hash))
            self._inflight[key_hash] = task
            task.add_done_callback(lambda t: self._settled(key_hash, t))
        return await asyncio.shield(task)

    def _settled(self, key_hash: str, task: asyncio.Task[KeyRecord | None]) -> None:
        if self._inflight.get(key_hash) is task:
            del self._inflight[key_hash]
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter re-raises it itself

    async def authenticate(self, presented: object) -> KeyRecord:
        """The record of a usable key; `AuthenticationFailed` (401) for anything else."""
        record = await self.resolve(presented)
        if record is None:
            raise AuthenticationFailed("Incorrect API key provided.")
        if record.revoked_at is not None:
            raise AuthenticationFailed("This API key has been revoked.")
        if record.is_expired():
            assert record.expires_at is not None
            when = datetime.fromtimestamp(record.expires_at, UTC).isoformat(timespec="seconds")
            raise AuthenticationFailed(f"This API key expired at {when}.")
        return record

    def known(self, key_id: str) -> KeyRecord | None:
        """The record this cache holds for `key_id`, fresh or not; None if it holds none."""
        key_hash = self._hash_by_id.get(key_id)
        entry = self._entries.get(key_hash) if key_hash is not None else None
        return entry.record if entry is not None else None

    async def revoke(self, key_id: str) -> KeyRecord | None:
        """Revoke in the database, forget locally, and tell the other instances."""
        record = await self.store.revoke(key_id)
        if record is None:
            return None
        await self.forget(key_id)
        log.info("revoked key %s (%s)", record.id, record.prefix)
        return record

    async def forget(self, key_id: str) -> None:
        """Drop a changed key here and tell the other instances to drop it too."""
        self.invalidate(key_id)
        if self.redis is not None:
            try:
                await self.redis.publish(self.channel, key_id)
            except Exception as exc:  # the version poll still carries it within a second
                log.warning("could not publish the change of %s: %s", key_id, exc)

    def invalidate(self, key_id: str | None = None) -> None:
        """Forget one key (by id), or everything when `key_id` is None."""
        self._generation += 1
        if key_id is None:
            self._entries.clear()
            self._unknown.clear()
            self._hash_by_id.clear()
            return
        key_hash = self._hash_by_id.pop(key_id, None)
        if key_hash is not None:
            self._entries.pop(key_hash, None)

    async def _load(self, key_hash: str) -> KeyRecord | None:
        generation = self._generation
        try:
            record = await self.store.lookup_by_hash(key_hash)
        except Exception as exc:
            log.error("key look-up failed: %s", exc)
            raise Overloaded("The key store is unavailable; please retry shortly.") from exc
        if generation == self._generation:
            self._remember(key_hash, record)
        return record

    def _refresh_later(self, key_hash: str) -> None:
        """Read a known key again in the background, if no refresh runs or just failed."""
        if self._refresh is not None or self._clock() < self._next_refresh:
            return
        self._refresh = asyncio.create_task(self._refresh_one(key_hash), name="keycache-refresh")

    async def _refresh_one(self, key_hash: str) -> None:
        generation = self._generation
        try:
            record = await self.store.lookup_by_hash(key_hash)
        except Exception as exc:
            self._next_refresh = self._clock() + self.retry_interval
            log.warning("key refresh failed (%s); serving cached keys meanwhile", exc)
            return
        finally:
            self._refresh = None
        if generation == self._generation:
            self._remember(key_hash, record)

    def _remember(self, key_hash: str, record: KeyRecord | None) -> None:
        now = self._clock()
        if record is None:
            self._forget_hash(key_hash)
            self._unknown[key_hash] = now + self.negative_ttl
            self._unknown.move_to_end(key_hash)
            while len(self._unknown) > self.max_unknown:
                self._unknown.popitem(last=False)
            return
        self._unknown.pop(key_hash, None)
        self._entries[key_hash] = _Entry(record, now + self.positive_ttl)
        self._entries.move_to_end(key_hash)
        self._hash_by_id[record.id] = key_hash
        while len(self._entries) > self.max_entries:
            _, old = self._entries.popitem(last=False)
            self._hash_by_id.pop(old.record.id, None)

    def _forget_hash(self, key_hash: str) -> None:
        old = self._entries.pop(key_hash, None)
        if old is not None:
            self._hash_by_id.pop(old.record.id, None)

    async def _poll(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                version = await self.store.keys_version()
            except Exception as exc:
                if not failing:
                    log.warning("cannot poll key changes: %s", exc)
                failing = True
                continue
            failing = False
            if version != self._version:
                self._version = version
                self.invalidate()

    def _revoked(self, data: object) -> None:
        key_id = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if isinstance(key_id, str):
            self.invalidate(key_id)

    async def _start_over(self) -> None:
        """Messages sent while the channel was away are lost: forget every key."""
        self.invalidate()
