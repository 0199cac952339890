"""In-process limits: the same arithmetic as the Redis script, for one instance."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiport.limits.base import (
    EPS,
    WINDOW,
    Admission,
    Limiter,
    Outcome,
    SpendLoader,
    admission_or_raise,
    load_spend,
    nano_usd,
)
from aiport.store.keys import KeyRecord


class LocalLimiter(Limiter):
    """In-process limits: exact for one instance, per instance when there are several."""

    backend = "local"

    def __init__(
        self,
        *,
        spend_loader: SpendLoader | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spend_loader = spend_loader
        self._clock = clock
        self._tat: dict[tuple[str, str], float] = {}
        # key id → the version of its totals (`budget_since`), [tokens used, nano-USD spent]
        self._budget: dict[str, tuple[float, list[int]]] = {}

    async def _admit(self, key: KeyRecord, tokens: int, cost_usd: float, rate: int) -> Admission:
        out = await self.decide(key, tokens, nano_usd(cost_usd), rate)
        return admission_or_raise(key, tokens, cost_usd, out, self.backend, rate)

    async def decide(self, key: KeyRecord, tokens: int, nanos: int, rate: int) -> Outcome:
        """Reserve `tokens` and `nanos` (budgets), `rate` (tpm) if they fit; the outcome
        either way."""
        if key.has_budget and self._used(key) is None:
            spend = await load_spend(self._spend_loader, key.id)
            if self._used(key) is None:  # not seeded by another request meanwhile
                used = [spend.tokens, nano_usd(spend.cost_usd)]
                self._budget[key.id] = (key.budget_since, used)
        # No await from here on: the check and the reservation are one atomic step.
        return self._decide(key, tokens, nanos, rate, self._clock())

    def _used(self, key: KeyRecord) -> list[int] | None:
        """What the key has used, counted since its budget was set; None: not known (a key
        whose budget was removed and set again starts from the database again — what it
        spent meanwhile was reserved in no totals)."""
        known = self._budget.get(key.id)
        return known[1] if known is not None and known[0] == key.budget_since else None

    def _decide(self, key: KeyRecord, tokens: int, nanos: int, rate: int, now: float) -> Outcome:
        used = self._used(key) or [0, 0]
        if key.max_tokens_total is not None and (
            used[0] >= key.max_tokens_total or used[0] + tokens > key.max_tokens_total
        ):
            return Outcome("quota_tokens", budget_used=used[0])
        if key.max_budget_usd is not None:
            cap = nano_usd(key.max_budget_usd)
            if used[1] >= cap or used[1] + nanos > cap:
                return Outcome("quota_usd", budget_used=used[1])
        req_tat = max(self._tat.get((key.id, "r"), now), now)
        tok_tat = max(self._tat.get((key.id, "t"), now), now)
        new_req, new_tok = req_tat, tok_tat
        if key.rpm is not None:
            new_req = req_tat + WINDOW / key.rpm
            if new_req - now > WINDOW + EPS:
                return Outcome("rpm", req_tat - now, tok_tat - now, new_req - now - WINDOW)
        if key.tpm is not None:
            if rate > key.tpm:
                return Outcome("too_large", req_tat - now, tok_tat - now)
            new_tok = tok_tat + rate * WINDOW / key.tpm
            if new_tok - now > WINDOW + EPS:
                return Outcome("tpm", req_tat - now, tok_tat - now, new_tok - now - WINDOW)
        if key.rpm is not None:
            self._tat[(key.id, "r")] = new_req
        if key.tpm is not None:
            self._tat[(key.id, "t")] = new_tok
        if key.has_budget:
            used[0] += tokens
            used[1] += nanos
        return Outcome("ok", new_req - now, new_tok - now)

    def forget_spend(self) -> None:
        """Read every key's spend from the database again on its next request."""
        self._budget.clear()

    async def _settle(
        self, key: KeyRecord, delta_tokens: int, delta_nano_usd: int, delta_rate: int
    ) -> None:
        if key.tpm is not None and delta_rate:
            now = self._clock()
            tat = max(self._tat.get((key.id, "t"), now), now)
            self._tat[(key.id, "t")] = max(now, tat + delta_rate * WINDOW / key.tpm)
        used = self._used(key) if key.has_budget else None
        if used is not None:  # the request reserved its estimate in these totals
            used[0] += delta_tokens
            used[1] += delta_nano_usd
