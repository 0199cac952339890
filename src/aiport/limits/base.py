"""What every limiter shares: `Admission`, the `Limiter` API, and OpenAI's headers and
429 bodies. The algorithm is described in `aiport.limits`."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from aiport.errors import Overloaded, QuotaExceeded, RateLimited
from aiport.store.keys import KeyRecord, KeySpend

WINDOW = 60.0  # seconds: the limits are per minute
EPS = 1e-3  # seconds of slack for float rounding in the bucket arithmetic
BUDGET_TTL = 3600.0  # idle seconds before Redis forgets a budget total (reseeded from DB)

SpendLoader = Callable[[str], Awaitable[KeySpend]]


@dataclass(slots=True)
class Admission:
    """A request let in: what it reserved (`tokens` against token budgets, `rate_tokens`
    against tpm), and the `x-ratelimit-*` headers to send."""

    key: KeyRecord
    tokens: int = 0
    cost_usd: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    backend: str = "none"
    settled: bool = False
    rate_tokens: int = 0


@dataclass(slots=True)
class Outcome:
    status: str  # ok | rpm | tpm | too_large | quota_tokens | quota_usd
    reset_requests: float = 0.0  # seconds until that bucket is full again
    reset_tokens: float = 0.0
    retry_after: float = 0.0
    budget_used: float = 0.0  # tokens, or nano-USD


def format_duration(seconds: float) -> str:
    """OpenAI's (Go's) duration format for reset headers: `20ms`, `6s`, `8.64s`, `1m0s`."""
    ms = max(0, math.ceil(seconds * 1000 - 1e-6))
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    return f"{minutes}m{secs}" if minutes else secs


def nano_usd(usd: float) -> int:
    """USD as the integer totals count it: billionths, so that a request that costs less
    than a millionth of a dollar (a short embedding) still counts against a budget."""
    return round(usd * 1_000_000_000)


def _usd(amount: float) -> str:
    """Dollars to four places; a sum below a hundredth of a cent to as many as it needs."""
    text = f"{amount:.4f}"
    if amount > 0 and text == "0.0000":
        text = f"{amount:.9f}".rstrip("0")
    return "$" + text


def _remaining(limit: int, reset: float) -> int:
    return max(0, min(limit, math.floor(limit - reset * limit / WINDOW + 1e-6)))


def _headers(key: KeyRecord, out: Outcome) -> dict[str, str]:
    headers: dict[str, str] = {}
    for suffix, limit, reset in (
        ("requests", key.rpm, out.reset_requests),
        ("tokens", key.tpm, out.reset_tokens),
    ):
        if limit is not None:
            headers[f"x-ratelimit-limit-{suffix}"] = str(limit)
            headers[f"x-ratelimit-remaining-{suffix}"] = str(_remaining(limit, reset))
            headers[f"x-ratelimit-reset-{suffix}"] = format_duration(reset)
    return headers


def admission_or_raise(
    key: KeyRecord, tokens: int, cost_usd: float, out: Outcome, backend: str, rate: int
) -> Admission:
    """Turn an outcome into an `Admission`, or raise the 429 that OpenAI would send."""
    headers = _headers(key, out)
    if out.status == "ok":
        return Admission(key, tokens, cost_usd, headers, backend, rate_tokens=rate)
    if out.status == "quota_tokens":
        raise QuotaExceeded(
            f"You exceeded your current quota: this key has used {int(out.budget_used)} of its"
            f" {key.max_tokens_total} tokens (this request may need up to {tokens}).",
            headers=headers,
        )
    if out.status == "quota_usd":
        raise QuotaExceeded(
            f"You exceeded your current quota: this key has spent {_usd(out.budget_used / 1e9)}"
            f" of its {_usd(key.max_budget_usd or 0.0)} budget (this request may cost up to"
            f" {_usd(cost_usd)}).",
            headers=headers,
        )
    if out.status == "too_large":
        err = RateLimited(
            f"Request too large for key {key.id} on tokens per min (TPM): Limit {key.tpm},"
            f" Requested {rate}. The input or output tokens must be reduced in order to run"
            " successfully.",
            headers={**headers, "x-should-retry": "false"},
        )
        err.type = "tokens"
        raise err
    retry = max(out.retry_after, 0.001)
    headers["retry-after"] = str(math.ceil(retry))
    headers["retry-after-ms"] = str(math.ceil(retry * 1000))
    if out.status == "rpm":
        assert key.rpm is not None
        used = key.rpm - _remaining(key.rpm, out.reset_requests)
        what, limit, requested = "requests per min (RPM)", key.rpm, 1
    else:
        assert key.tpm is not None
        used = key.tpm - _remaining(key.tpm, out.reset_tokens)
        what, limit, requested = "tokens per min (TPM)", key.tpm, rate
    err = RateLimited(
        f"Rate limit reached for key {key.id} on {what}: Limit {limit}, Used {used},"
        f" Requested {requested}. Please try again in {format_duration(retry)}.",
        headers=headers,
    )
    err.type = "requests" if out.status == "rpm" else "tokens"
    raise err


class Limiter(ABC):
    """Admits or refuses a key's request; `settle()` it with what it really used."""

    async def admit(
        self,
        key: KeyRecord,
        estimated_tokens: int = 0,
        estimated_cost_usd: float = 0.0,
        rate_tokens: int | None = None,
    ) -> Admission:
        """Reserve the estimate or raise `RateLimited` / `QuotaExceeded` (both 429); a tpm
        limit counts `rate_tokens` when given, else `estimated_tokens`."""
        tokens = max(0, int(estimated_tokens))
        cost = max(0.0, float(estimated_cost_usd))
        rate = tokens if rate_tokens is None else max(0, int(rate_tokens))
        if not key.has_rate_limits and not key.has_budget:
            return Admission(key, tokens, cost, rate_tokens=rate)
        return await self._admit(key, tokens, cost, rate)

    async def settle(
        self,
        admission: Admission,
        actual_tokens: int,
        actual_cost_usd: float | None = None,
        current: KeyRecord | None = None,
    ) -> int:
        """Replace the reservation with the real use; return actual − estimated tokens.

        Settling twice does nothing the second time. With `actual_cost_usd` None the
        reserved cost stands. `current` is the key as it is now, if known: when a budget
        was set on it afresh while the request ran, the whole use counts into its totals
        (`restarted_use`).
        """
        delta, delta_usd = settlement(admission, actual_tokens, actual_cost_usd)
        rate = int(actual_tokens) - admission.rate_tokens
        if admission.settled:
            return delta
        admission.settled = True
        if admission.backend != "none" and (delta or delta_usd or rate):
            await self._settle(admission.key, delta, delta_usd, rate)
        await self._count_restarted(admission, actual_tokens, actual_cost_usd, current)
        return delta

    async def _count_restarted(
        self,
        admission: Admission,
        actual_tokens: int,
        actual_cost_usd: float | None,
        current: KeyRecord | None,
    ) -> None:
        use = restarted_use(admission, actual_tokens, actual_cost_usd, current)
        if use is not None:
            assert current is not None
            await self._settle(replace(current, tpm=None), *use, 0)

    async def close(self) -> None:
        """Release connections and background tasks."""
        return None

    @abstractmethod
    async def _admit(self, key: KeyRecord, tokens: int, cost_usd: float, rate: int) -> Admission:
        """Reserve `tokens` and `cost_usd` against budgets, `rate` tokens against tpm."""

    @abstractmethod
    async def _settle(
        self, key: KeyRecord, delta_tokens: int, delta_nano_usd: int, delta_rate: int
    ) -> None:
        """Correct budgets by `delta_tokens` and `delta_nano_usd`, tpm by `delta_rate`."""


def restarted_use(
    admission: Admission,
    actual_tokens: int,
    actual_cost_usd: float | None,
    current: KeyRecord | None,
) -> tuple[int, int] | None:
    """The tokens and nano-USD a request used, when the key's budget totals started afresh
    since it was admitted (a budget set on a key that had none: `current.budget_since`
    moved), else None. It reserved in no totals that count now, and the new ones started
    from the database before its usage row was written (the row is written before the
    settlement): its whole use counts into them — if they have started already; totals
    that start later read the row from the database."""
    if current is None or not current.has_budget:
        return None
    before = admission.key
    if before.has_budget and before.budget_since == current.budget_since:
        return None
    cost = admission.cost_usd if actual_cost_usd is None else max(0.0, actual_cost_usd)
    return int(actual_tokens), nano_usd(cost)


def settlement(
    admission: Admission, actual_tokens: int, actual_cost_usd: float | None
) -> tuple[int, int]:
    """What settling `admission` changes: tokens, and nano-USD (None: the cost reserved)."""
    cost = admission.cost_usd if actual_cost_usd is None else max(0.0, actual_cost_usd)
    return int(actual_tokens) - admission.tokens, nano_usd(cost) - nano_usd(admission.cost_usd)


async def load_spend(loader: SpendLoader | None, key_id: str) -> KeySpend:
    """A key's spend so far from the database; 503 when it cannot be read."""
    if loader is None:
        return KeySpend()
    try:
        return await loader(key_id)
    except Exception as exc:
        raise Overloaded("Budget state is unavailable; please retry shortly.") from exc
