"""Limits shared by every instance: one atomic Lua script per request on Redis."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiport.limits.base import (
    BUDGET_TTL,
    Admission,
    Limiter,
    Outcome,
    SpendLoader,
    admission_or_raise,
    load_spend,
    nano_usd,
)
from aiport.store.keys import KeyRecord

if TYPE_CHECKING:  # imported when a Redis URL is configured (open_redis)
    from redis.asyncio import Redis

# KEYS: requests TAT, tokens TAT, token total, nano-USD total.
# ARGV: rpm, tpm, tokens, max tokens (-1: none), nano-USD, max nano-USD (-1: none), ttl ms,
# the tokens tpm counts.
# Times are milliseconds on Redis's clock, so instances with skewed clocks still agree.
_ADMIT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local W, EPS = 60000, 1
local rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_tok, usd, max_usd = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local rate = tonumber(ARGV[8])
local function f(x) return string.format('%.3f', x) end
local function put(key, at)
  redis.call('SET', key, string.format('%.17g', at), 'PX', math.ceil(at - now) + 1000)
end
local budgeted = max_tok >= 0 or max_usd >= 0
if budgeted then
  if redis.call('EXISTS', KEYS[3], KEYS[4]) < 2 then return {'miss'} end
  local v = tonumber(redis.call('GET', KEYS[3]))
  if max_tok >= 0 and (v >= max_tok or v + tokens > max_tok) then
    return {'quota_tokens', '0', '0', '0', tostring(v)}
  end
  v = tonumber(redis.call('GET', KEYS[4]))
  if max_usd >= 0 and (v >= max_usd or v + usd > max_usd) then
    return {'quota_usd', '0', '0', '0', tostring(v)}
  end
end
local function tat(key)
  local v = tonumber(redis.call('GET', key) or '0')
  if v < now then return now end
  return v
end
local req, tok = now, now
if rpm > 0 then req = tat(KEYS[1]) end
if tpm > 0 then tok = tat(KEYS[2]) end
local new_req, new_tok = req, tok
if rpm > 0 then
  new_req = req + W / rpm
  if new_req - now > W + EPS then
    return {'rpm', f(req - now), f(tok - now), f(new_req - now - W), '0'}
  end
end
if tpm > 0 then
  if rate > tpm then return {'too_large', f(req - now), f(tok - now), '0', '0'} end
  new_tok = tok + rate * W / tpm
  if new_tok - now > W + EPS then
    return {'tpm', f(req - now), f(tok - now), f(new_tok - now - W), '0'}
  end
end
if rpm > 0 then
  put(KEYS[1], new_req)
end
if tpm > 0 and new_tok > now then
  put(KEYS[2], new_tok)
end
if budgeted then
  redis.call('INCRBY', KEYS[3], ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[7])
  redis.call('INCRBY', KEYS[4], ARGV[5])
  redis.call('PEXPIRE', KEYS[4], ARGV[7])
end
return {'ok', f(new_req - now), f(new_tok - now), '0', '0'}
"""

# KEYS: tokens TAT, token total, nano-USD total. ARGV: tpm, Δtokens, Δnano-USD, ttl ms,
# 1 if the request was admitted with a budget (so reserved in the totals), else 0, Δ of the
# tokens tpm counted.
# A total that Redis no longer holds is left alone: the next admit reseeds it from the DB.
_SETTLE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tpm, dt = tonumber(ARGV[1]), tonumber(ARGV[6])
if tpm > 0 and dt ~= 0 then
  local v = tonumber(redis.call('GET', KEYS[1]) or '0')
  if v < now then v = now end
  local new_tok = v + dt * 60000 / tpm
  if new_tok > now then
    local px = math.ceil(new_tok - now) + 1000
    redis.call('SET', KEYS[1], string.format('%.17g', new_tok), 'PX', px)
  else
    redis.call('DEL', KEYS[1])
  end
end
for i, arg in ipairs({ARGV[2], ARGV[3]}) do
  if ARGV[5] == '1' and arg ~= '0' and redis.call('EXISTS', KEYS[i + 1]) == 1 then
    redis.call('INCRBY', KEYS[i + 1], arg)
    redis.call('PEXPIRE', KEYS[i + 1], ARGV[4])
  end
end
return 1
"""


class RedisLimiter(Limiter):
    """Limits shared by every instance using the same Redis (and `namespace`)."""

    backend = "redis"

    def __init__(
        self,
        redis: Redis,
        *,
        spend_loader: SpendLoader | None = None,
        namespace: str = "aiport",
        budget_ttl: float = BUDGET_TTL,
    ) -> None:
        self.redis = redis
        self._spend_loader = spend_loader
        self._namespace = namespace
        self._ttl_ms = str(int(budget_ttl * 1000))
        self._admit_script = redis.register_script(_ADMIT_LUA)
        self._settle_script = redis.register_script(_SETTLE_LUA)

    def _keys(self, key: KeyRecord) -> list[str]:
        # One hash tag per key id: a Redis Cluster keeps all four on one slot. The totals
        # are per `budget_since`: kept through edits, started afresh from the database
        # for a budget set on a key that had none (its spend meanwhile is only there).
        base = f"{self._namespace}:{{{key.id}}}"
        version = f"{key.budget_since:.6f}"
        return [
            f"{base}:rpm",
            f"{base}:tpm",
            f"{base}:tokens_total:{version}",
            f"{base}:spend_nano_usd:{version}",
        ]

    async def _admit(self, key: KeyRecord, tokens: int, cost_usd: float, rate: int) -> Admission:
        args: list[int | str] = [
            key.rpm or 0,
            key.tpm or 0,
            tokens,
            key.max_tokens_total if key.max_tokens_total is not None else -1,
            nano_usd(cost_usd),
            nano_usd(key.max_budget_usd) if key.max_budget_usd is not None else -1,
            self._ttl_ms,
            rate,
        ]
        keys = self._keys(key)
        for _ in range(3):
            raw = await self._admit_script(keys=keys, args=args)
            reply = [r.decode() if isinstance(r, bytes) else str(r) for r in raw]
            if reply[0] != "miss":
                out = Outcome(
                    reply[0],
                    float(reply[1]) / 1000,
                    float(reply[2]) / 1000,
                    float(reply[3]) / 1000,
                    float(reply[4]),
                )
                return admission_or_raise(key, tokens, cost_usd, out, self.backend, rate)
            await self._seed_budget(key, keys)
        raise RuntimeError(f"could not seed the budget totals of key {key.id}")

    async def _seed_budget(self, key: KeyRecord, keys: list[str]) -> None:
        spend = await load_spend(self._spend_loader, key.id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(keys[2], spend.tokens, nx=True, px=int(self._ttl_ms))
            pipe.set(keys[3], nano_usd(spend.cost_usd), nx=True, px=int(self._ttl_ms))
            await pipe.execute()

    async def _settle(
        self, key: KeyRecord, delta_tokens: int, delta_nano_usd: int, delta_rate: int
    ) -> None:
        keys = self._keys(key)[1:]
        budgeted = int(key.has_budget)
        args: list[int | str] = [
            key.tpm or 0,
            delta_tokens,
            delta_nano_usd,
            self._ttl_ms,
            budgeted,
            delta_rate,
        ]
        await self._settle_script(keys=keys, args=args)


def is_redis_outage(exc: BaseException) -> bool:
    """True for errors meaning Redis cannot be reached (not for a refusal or a bug)."""
    from redis.exceptions import ConnectionError, TimeoutError

    return isinstance(exc, ConnectionError | TimeoutError | OSError | asyncio.TimeoutError)


def open_redis(url: str, *, timeout: float = 0.5) -> Redis:
    """A `redis.asyncio` client that fails fast, so an outage costs little latency."""
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),  # one reconnect covers a pooled connection gone stale
        health_check_interval=30,
    )
