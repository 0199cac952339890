"""A deployment's provider-side limits (requests and tokens per minute), so the router sends
it no more than its provider accepts and steers the rest to other deployments.

Counting is a sliding minute, estimated from two fixed one-minute windows (the previous
window's count weighted by how much of it still overlaps the last 60 s), as Cloudflare's
and nginx's limiters do. A request reserves one request and its token estimate when it is
sent; the real token count replaces the estimate when known. With Redis, every instance
counts in the same two keys (one Lua call per reservation), so N instances do not multiply
a provider's limit by N; without Redis the count is this process's.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)

WINDOW = 60.0

_RESERVE_LUA = """
local now = tonumber(ARGV[1])
local window = math.floor(now / 60)
local elapsed = (now - window * 60) / 60
local cur = KEYS[1] .. ':' .. window
local prev = KEYS[1] .. ':' .. (window - 1)
local c = redis.call('HMGET', cur, 'r', 't')
local p = redis.call('HMGET', prev, 'r', 't')
local r = (tonumber(p[1]) or 0) * (1 - elapsed) + (tonumber(c[1]) or 0)
local t = (tonumber(p[2]) or 0) * (1 - elapsed) + (tonumber(c[2]) or 0)
local rpm, tpm, tokens = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if (rpm > 0 and r + 1 > rpm) or (tpm > 0 and r > 0 and t + tokens > tpm) then
  return 0
end
redis.call('HINCRBY', cur, 'r', 1)
redis.call('HINCRBY', cur, 't', tokens)
redis.call('EXPIRE', cur, 130)
return 1
"""


class SlidingMinute:
    """Requests and tokens in the last minute, in this process."""

    def __init__(self, clock: Any = time.time) -> None:
        self.clock = clock
        self.window = 0
        self.current = [0, 0]
        self.previous = [0, 0]

    def _roll(self, now: float) -> float:
        window = int(now // WINDOW)
        if window != self.window:
            self.previous = self.current if window == self.window + 1 else [0, 0]
            self.current = [0, 0]
            self.window = window
        return 1 - (now - window * WINDOW) / WINDOW

    def try_add(self, rpm: int | None, tpm: int | None, tokens: int) -> bool:
        weight = self._roll(self.clock())
        requests = self.previous[0] * weight + self.current[0]
        used = self.previous[1] * weight + self.current[1]
        if rpm is not None and requests + 1 > rpm:
            return False
        # A first request always goes, even one larger than the whole minute's tokens.
        if tpm is not None and requests > 0 and used + tokens > tpm:
            return False
        self.current[0] += 1
        self.current[1] += tokens
        return True

    def adjust(self, tokens: int) -> None:
        self._roll(self.clock())
        self.current[1] = max(0, self.current[1] + tokens)


class ProviderQuota:
    """The rpm/tpm of one deployment; `reserve` before sending, `settle` with the truth."""

    def __init__(self, deployment_id: str, rpm: int | None, tpm: int | None) -> None:
        self.key = f"aiport:quota:{deployment_id}"
        self.rpm = rpm
        self.tpm = tpm
        self.redis: Any = None
        self.local = SlidingMinute()
        self._script: Any = None

    def share(self, redis: Any) -> None:
        """Count in Redis, together with every other instance."""
        self.redis = redis
        self._script = redis.register_script(_RESERVE_LUA)

    async def reserve(self, tokens: int) -> bool:
        if self._script is not None:
            try:
                args = [time.time(), self.rpm or 0, self.tpm or 0, tokens]
                return bool(await self._script(keys=[self.key], args=args))
            except Exception as exc:  # Redis away: count here until it is back
                log.warning("provider quota in Redis unavailable (%s); counting locally", exc)
        return self.local.try_add(self.rpm, self.tpm, tokens)

    async def settle(self, estimated: int, actual: int) -> None:
        difference = actual - estimated
        if not difference or self.tpm is None:
            return
        if self.redis is not None:
            try:
                window = int(time.time() // WINDOW)
                await self.redis.hincrby(f"{self.key}:{window}", "t", difference)
                return
            except Exception:
                pass
        self.local.adjust(difference)
