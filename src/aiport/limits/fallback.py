"""Redis first; while it is unreachable, per-instance limits or 503 — and back again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

from aiport.errors import Overloaded
from aiport.limits.base import Admission, Limiter, SpendLoader
from aiport.limits.local import LocalLimiter
from aiport.limits.redis_limiter import RedisLimiter, is_redis_outage
from aiport.store.keys import KeyRecord

log = logging.getLogger(__name__)


class FallbackLimiter(Limiter):
    """`RedisLimiter` first; while Redis is unreachable, `fallback` decides.

    `fallback="local"`: the local limiter takes over (limits become per instance).
    `fallback="reject"`: limited keys get 503 until Redis is back (keys without limits or
    budgets are never affected). A background probe pings Redis every `retry_interval`
    seconds and switches back as soon as it answers.
    """

    def __init__(
        self,
        primary: RedisLimiter,
        local: LocalLimiter,
        *,
        fallback: str = "local",
        retry_interval: float = 2.0,
    ) -> None:
        if fallback not in ("local", "reject"):
            raise ValueError("fallback must be 'local' or 'reject'")
        self.primary = primary
        self.local = local
        self.fallback = fallback
        self.retry_interval = retry_interval
        self._probe: asyncio.Task[None] | None = None

    @property
    def redis_down(self) -> bool:
        return self._probe is not None

    async def _admit(self, key: KeyRecord, tokens: int, cost_usd: float) -> Admission:
        if not self.redis_down:
            try:
                return await self.primary._admit(key, tokens, cost_usd)
            except Exception as exc:
                if not is_redis_outage(exc):
                    raise
                self._went_down(exc)
        if self.fallback == "reject":
            raise Overloaded(
                "Rate limiting is temporarily unavailable; please retry shortly.",
                headers={"retry-after": str(math.ceil(self.retry_interval))},
            )
        return await self.local._admit(key, tokens, cost_usd)

    async def _settle(self, key: KeyRecord, delta_tokens: int, delta_micro_usd: int) -> None:
        raise AssertionError("settle() dispatches on the admission's backend")

    async def settle(
        self, admission: Admission, actual_tokens: int, actual_cost_usd: float | None = None
    ) -> int:
        if admission.backend == "local":
            return await self.local.settle(admission, actual_tokens, actual_cost_usd)
        try:
            return await self.primary.settle(admission, actual_tokens, actual_cost_usd)
        except Exception as exc:
            if not is_redis_outage(exc):
                raise
            self._went_down(exc)
            # The reservation stays counted in Redis: limits err on the strict side.
            return int(actual_tokens) - admission.tokens

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None

    def _went_down(self, exc: BaseException) -> None:
        if self._probe is not None:
            return
        log.warning(
            "Redis unreachable (%s: %s); rate limits now %s until it is back",
            type(exc).__name__,
            exc,
            "per instance" if self.fallback == "local" else "refusing limited keys",
        )
        self._probe = asyncio.create_task(self._wait_for_redis(), name="redis-probe")

    async def _wait_for_redis(self) -> None:
        while True:
            await asyncio.sleep(self.retry_interval)
            try:
                await self.primary.redis.ping()
            except Exception as exc:
                if is_redis_outage(exc):
                    continue
                raise
            log.warning("Redis reachable again; shared rate limits restored")
            self._probe = None
            return


def make_limiter(
    redis: Any | None,
    *,
    spend_loader: SpendLoader | None = None,
    fallback: str = "local",
    namespace: str = "aiport",
    retry_interval: float = 2.0,
) -> Limiter:
    """The limiter an instance uses: in process without Redis (`redis=None`), else shared
    through Redis with the configured fallback (`open_redis(url)` makes the client)."""
    local = LocalLimiter(spend_loader=spend_loader)
    if redis is None:
        return local
    shared = RedisLimiter(redis, spend_loader=spend_loader, namespace=namespace)
    return FallbackLimiter(shared, local, fallback=fallback, retry_interval=retry_interval)
