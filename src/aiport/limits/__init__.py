"""Per-key rate limits and budgets, checked before any model work.

Rate limits (`rpm`, `tpm`) use GCRA, a token bucket kept as one "theoretical arrival time"
per key and dimension: the bucket holds one minute's allowance, refills continuously at
limit/60 per second, and a request is admitted iff its cost fits in what is left. So a key
with `rpm=10` can send 10 requests at once and then one every 6 s; no request waits for a
window boundary, and `retry-after` is exactly when the next one fits. (Over any 60 s a key
may use its full burst plus what refilled meanwhile; the sustained rate is the limit.)

Token limits charge the request's estimate (prompt + `max_tokens`) up front and are
`settle()`d with the real count afterwards: an overestimate is refunded, an underestimate
charged. Budgets (`max_tokens_total`, `max_budget_usd`) reserve the estimate against the
key's total the same way; the total is seeded from the usage rows in the database on first
use (and whenever Redis lost it), so spend survives restarts. The totals count every
request of a key with a budget, in both units whichever budget is set, and stay the key's
through edits of its budget, limits and models, so a request running while its key is
edited settles into the totals the edited key uses. A budget set on a key that had none
starts them afresh from the database (they are per `budget_since`): what was spent without
a budget was counted nowhere else. Requests still running then are not in the database
yet: each is settled with the key as it is now (`settle(..., current=)`), and its whole
use counts into the new totals if they have started (else they will read its row). A key
that has used its budget gets 429 `insufficient_quota` with `x-should-retry: false`.

`RedisLimiter` does all of it in one Lua script per request, atomically and with Redis's
clock, so N instances enforce one limit; `LocalLimiter` does the same arithmetic in
process, and the workers of one `serve --workers N` without Redis share the supervisor's
(`SocketLimiter` asking `LimiterService` over a Unix socket). `FallbackLimiter` uses Redis
and, while Redis is unreachable, either the local limiter (per-instance limits) or refuses
with 503 — warned once, and it switches back by itself when a background probe reaches
Redis again, having added what keys spent meanwhile to Redis's totals (each outage reads
spend from the database afresh).
"""

from aiport.limits.base import (
    BUDGET_TTL,
    WINDOW,
    Admission,
    Limiter,
    SpendLoader,
    format_duration,
)
from aiport.limits.fallback import FallbackLimiter, make_limiter
from aiport.limits.local import LocalLimiter
from aiport.limits.redis_limiter import RedisLimiter, is_redis_outage, open_redis

__all__ = [
    "BUDGET_TTL",
    "WINDOW",
    "Admission",
    "FallbackLimiter",
    "Limiter",
    "LocalLimiter",
    "RedisLimiter",
    "SpendLoader",
    "format_duration",
    "is_redis_outage",
    "make_limiter",
    "open_redis",
]
