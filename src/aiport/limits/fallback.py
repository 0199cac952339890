"""Redis first; while it is unreachable, per-instance limits or 503 — and back again.

Budgets stay whole across outages: each time Redis goes away the local limiter reads
every key's spend from the database afresh (not what it knew from an earlier outage), and
what keys spend while Redis is away — reservations, and the settlements of every request
that could not reach Redis — is added to Redis's totals when it is back, before shared
limits resume. Rate limits (rpm, tpm) are not carried over: they are per minute anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import replace
from typing import TYPE_CHECKING

from aiport.errors import Overloaded
from aiport.limits.base import Admission, Limiter, SpendLoader, nano_usd, settlement
from aiport.limits.local import LocalLimiter
from aiport.limits.parent import SocketLimiter
from aiport.limits.redis_limiter import RedisLimiter, is_redis_outage
from aiport.store.keys import KeyRecord

if TYPE_CHECKING:
    from redis.asyncio import Redis

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
        # Spend not yet in Redis, by key id: the key, tokens, nano-USD.
        self._unsynced: dict[str, tuple[KeyRecord, int, int]] = {}

    @property
    def redis_down(self) -> bool:
        return self._probe is not None

    async def _admit(self, key: KeyRecord, tokens: int, cost_usd: float, rate: int) -> Admission:
        if not self.redis_down:
            try:
                return await self.primary._admit(key, tokens, cost_usd, rate)
            except Exception as exc:
                if not is_redis_outage(exc):
                    raise
                self._went_down(exc)
        if self.fallback == "reject":
            raise Overloaded(
                "Rate limiting is temporarily unavailable; please retry shortly.",
                headers={"retry-after": str(math.ceil(self.retry_interval))},
            )
        admission = await self.local._admit(key, tokens, cost_usd, rate)
        self._owe(key, tokens, nano_usd(cost_usd))
        return admission

    async def _settle(
        self, key: KeyRecord, delta_tokens: int, delta_nano_usd: int, delta_rate: int
    ) -> None:
        """Budget totals moved outside a reservation (`Limiter.settle`'s `current`): the
        local totals while Redis is away, and Redis's now or once it is back."""
        if self.redis_down:
            await self.local._settle(key, delta_tokens, delta_nano_usd, delta_rate)
        await self._pass_on(key, delta_tokens, delta_nano_usd)

    async def settle(
        self,
        admission: Admission,
        actual_tokens: int,
        actual_cost_usd: float | None = None,
        current: KeyRecord | None = None,
    ) -> int:
        """Settle where the request was admitted; what Redis cannot take now, it gets later."""
        if admission.settled:
            return settlement(admission, actual_tokens, actual_cost_usd)[0]
        delta = await self._settle_reserved(admission, actual_tokens, actual_cost_usd)
        await self._count_restarted(admission, actual_tokens, actual_cost_usd, current)
        return delta

    async def _settle_reserved(
        self, admission: Admission, actual_tokens: int, actual_cost_usd: float | None
    ) -> int:
        delta, delta_usd = settlement(admission, actual_tokens, actual_cost_usd)
        if admission.backend != "redis":
            owed = admission.backend == "local"
            await self.local.settle(admission, actual_tokens, actual_cost_usd)
            if owed:  # spend of the outage: Redis gets the correction too
                await self._pass_on(admission.key, delta, delta_usd)
            return delta
        try:
            return await self.primary.settle(admission, actual_tokens, actual_cost_usd)
        except Exception as exc:
            if not is_redis_outage(exc):
                raise
            self._went_down(exc)
            # The reservation stays counted in Redis until the correction is paid back.
            self._owe(admission.key, delta, delta_usd)
            return delta

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None

    def _owe(self, key: KeyRecord, tokens: int, nanos: int) -> None:
        """Remember spend Redis has not seen (budgets only; rate limits are per minute)."""
        if not key.has_budget or not (tokens or nanos):
            return
        _, owed_tokens, owed_nanos = self._unsynced.get(key.id, (key, 0, 0))
        self._unsynced[key.id] = (key, owed_tokens + tokens, owed_nanos + nanos)

    async def _pass_on(self, key: KeyRecord, tokens: int, nanos: int) -> None:
        """Add spend to Redis's totals now, or once it is back."""
        if self.redis_down:
            self._owe(key, tokens, nanos)
            return
        try:
            await self.primary._settle(replace(key, tpm=None), tokens, nanos, 0)
        except Exception as exc:
            if not is_redis_outage(exc):
                raise
            self._went_down(exc)
            self._owe(key, tokens, nanos)

    async def _pay_back(self) -> None:
        """Add the spend made while Redis was away to its totals (those it still holds; a
        total it lost is read from the database again on the key's next request)."""
        while self._unsynced:
            _, (key, tokens, nanos) = self._unsynced.popitem()
            try:
                await self.primary._settle(replace(key, tpm=None), tokens, nanos, 0)
            except BaseException:
                self._owe(key, tokens, nanos)
                raise

    def _went_down(self, exc: BaseException) -> None:
        if self._probe is not None:
            return
        self.local.forget_spend()
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
                await self._pay_back()
            except Exception as exc:
                if not is_redis_outage(exc):  # an answer, not an outage: keep probing
                    log.warning("Redis probe failed (%s: %s); retrying", type(exc).__name__, exc)
                continue
            log.warning("Redis reachable again; shared rate limits restored")
            self._probe = None
            return


def make_limiter(
    redis: Redis | None,
    *,
    spend_loader: SpendLoader | None = None,
    fallback: str = "local",
    namespace: str = "aiport",
    retry_interval: float = 2.0,
    supervisor: str | None = None,
) -> Limiter:
    """The limiter an instance uses: shared through Redis with the configured fallback
    (`open_redis(url)` makes the client); without Redis, the supervisor's over the Unix
    socket `supervisor` (a worker of `serve --workers N`), else in process."""
    if redis is None and supervisor is not None:
        return SocketLimiter(supervisor)
    local = LocalLimiter(spend_loader=spend_loader)
    if redis is None:
        return local
    shared = RedisLimiter(redis, spend_loader=spend_loader, namespace=namespace)
    return FallbackLimiter(shared, local, fallback=fallback, retry_interval=retry_interval)
