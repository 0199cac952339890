"""Breaker state shared by every instance through Redis.

When an instance ejects a deployment (or sees it recover) it writes the state to
`aiport:breaker:<deployment>` — with a Redis expiry equal to the cool-down, so a state can
never outlive its setting (LiteLLM's in-memory copy of a Redis cooldown once did, for up to
ten minutes: BerriAI/litellm#34416) — and publishes it on `aiport:breakers`. Every instance
applies what it hears, and reads all states again at start and after a lost connection.
Failure counting stays per instance: only the decision is shared, so the shared state costs
nothing on a healthy request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

import orjson

from aiport.redis_channel import Channel
from aiport.routing.deployment import Health
from aiport.routing.table import Router

log = logging.getLogger(__name__)

CHANNEL = "aiport:breakers"
PREFIX = "aiport:breaker:"


class SharedBreakers:
    def __init__(self, redis: Any, router: Router) -> None:
        self.redis = redis
        self.router = router
        self.origin = f"{os.getpid()}-{id(self)}"
        self._channel = Channel(redis, CHANNEL, "breaker channel", self.apply, self._load)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if await self._channel.open():
            with contextlib.suppress(Exception):
                await self._load()
        self._listener = asyncio.create_task(self._channel.listen(), name="breakers-listen")

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._listener] if self._listener else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._channel.close()

    def publish(self, health: Health) -> None:
        """Share a trip or a recovery (called by the attempt runner; never blocks)."""
        task = asyncio.create_task(self._publish(health))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, health: Health) -> None:
        breaker = health.breaker
        state = {
            "id": health.id,
            "state": "open" if breaker.state == "open" else "closed",
            "until": breaker.open_until,
            "trips": breaker.trips,
            "origin": self.origin,
        }
        data = orjson.dumps(state)
        try:
            ttl = breaker.open_until - time.time()
            if state["state"] == "open" and ttl > 0:
                await self.redis.set(PREFIX + health.id, data, px=max(1, int(ttl * 1000)))
            else:
                await self.redis.delete(PREFIX + health.id)
            await self.redis.publish(CHANNEL, data)
        except Exception as exc:
            log.warning("could not share the state of %s: %s", health.id, exc)

    def apply(self, data: bytes | str) -> None:
        try:
            state = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(state, dict) or state.get("origin") == self.origin:
            return
        health = self.router.health.get(str(state.get("id")))
        if health is None:
            return
        if state.get("state") == "open" and float(state.get("until") or 0) > time.time():
            health.breaker.open(float(state["until"]), int(state.get("trips") or 1))
        else:
            health.breaker.close()

    async def _load(self) -> None:
        ids = list(self.router.health)
        if not ids:
            return
        for data in await self.redis.mget([PREFIX + i for i in ids]):
            if data:
                self.apply(data)
