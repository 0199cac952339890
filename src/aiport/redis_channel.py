"""One Redis pub/sub channel kept subscribed: the listener behind key revocations and
shared breaker state. A lost connection is retried with backoff (one warning per outage);
after each resubscription `on_resubscribe` makes up for the messages missed meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger(__name__)


class Channel:
    def __init__(
        self,
        redis: Redis,
        name: str,
        what: str,
        on_message: Callable[[Any], None],
        on_resubscribe: Callable[[], Awaitable[None]],
    ) -> None:
        self.redis = redis
        self.name = name
        self.what = what  # for the log: "revocation channel", "breaker channel"
        self.on_message = on_message
        self.on_resubscribe = on_resubscribe
        self._pubsub: PubSub | None = None

    async def open(self) -> bool:
        """Subscribe now (so a message right after start is heard); False if Redis is away
        (`listen` keeps trying)."""
        try:
            await self._subscribe()
        except Exception:
            return False
        return True

    async def close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def listen(self) -> None:
        """Hand each message's data to `on_message`, until cancelled."""
        failures = 0
        while True:
            try:
                pubsub = self._pubsub
                if pubsub is None:
                    pubsub = await self._subscribe()
                    await self.on_resubscribe()
                    if failures:
                        log.warning("%s reconnected", self.what)
                    failures = 0
                message = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                if failures == 1:
                    log.warning("%s lost (%s); retrying", self.what, exc)
                await self.close()
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                continue
            if message and message.get("type") == "message":
                self.on_message(message.get("data"))

    async def _subscribe(self) -> PubSub:
        await self.close()
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.name)
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        self._pubsub = pubsub
        return pubsub
