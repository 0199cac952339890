"""Callers' accounts at the gateway: per-caller keys, limits, budgets and usage records.

This joins the pieces in `store/`, `keycache.py` and `limits/` for a running server. The
database stays off the request path: keys come from the cache, limits from memory or
Redis, usage rows are buffered and written in batches. Settling a request's reservation
with its real usage happens in the background after the response.

Pricing rules: a request is priced by the model that serves it — an embedded engine costs
nothing, whatever public name it answers to; an upstream model costs what the price table
says for the name the upstream knows it by. A model the table does not price is refused
(400 `model_price_unknown`) for keys with a budget or a token limit, unless the operator
set `unpriced_models: allow`; otherwise, and then, its rows are flagged `unpriced`. Only
delivered output is billed: a request that failed before any output costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from aiport.auth import Caller
from aiport.backends.base import Usage
from aiport.context import RequestContext
from aiport.errors import APIError, InvalidRequest, QuotaExceeded
from aiport.keycache import KeyCache
from aiport.keyservice import KeyService
from aiport.limits import Admission, Limiter, make_limiter
from aiport.limits.redis_limiter import open_redis
from aiport.metering import Estimate
from aiport.settings import Settings
from aiport.store.database import Database, default_database_url, open_database
from aiport.store.keys import KeyRecord, KeySpend, KeyStore
from aiport.store.migrations import upgrade
from aiport.store.price import PARTIAL_IMAGE_TOKENS, Price
from aiport.store.pricing import PriceTable, served_multiplier
from aiport.store.usage import UsageRecord, UsageWriter
from aiport.store.usage_rollup import Compactor

log = logging.getLogger(__name__)
# A limiter's refusal, by its error code, as the metrics name it.
_DECISIONS = {"rate_limit_exceeded": "rate_limited", "insufficient_quota": "over_budget"}


# Why a request without an output limit may cost so much, and how to reserve less.
UNLIMITED_OUTPUT_HINT = (
    " The request sets no output limit, so it reserves the most the model may produce;"
    " setting max_tokens or max_completion_tokens (max_output_tokens on the Responses API)"
    " lowers what is reserved."
)

# A price in each meter's unit, as it goes under `prices:`, for the refusal's example.
PRICE_EXAMPLES = {
    "tokens": ("{input: 1.25, output: 10}", "USD per 1M tokens"),
    "images": ("{image: 0.04}", "USD per picture"),
    "characters": ("{characters: 15}", "USD per 1M characters"),
    "audio": ("{audio_minute: 0.006}", "USD per minute"),
    "audio length": ("{audio_minute: 0.006}", "USD per minute"),
}


class ModelPriceUnknown(InvalidRequest):
    code = "model_price_unknown"

    def __init__(self, model: str, meter: str) -> None:
        unit = "" if meter == "tokens" else f" for {meter}"
        example, per = PRICE_EXAMPLES.get(meter, PRICE_EXAMPLES["tokens"])
        super().__init__(
            f"The model `{model}` has no price{unit} in aiport's price table, and this key"
            " has a budget or a token limit, so its cost could not be counted. Ask the"
            f" operator to add it under `prices:` in aiport.yaml (e.g. `prices: {{{model}:"
            f" {example}}}` in {per}) or to set `unpriced_models: allow`.",
            param="model",
        )


@dataclass(slots=True)
class Charge:
    """How an admitted request is billed: the model name its price was looked up by
    (None: an embedded engine, free), that price (None: unpriced), its estimate, and the
    limiter's reservation (None for the master key) — for an upload, also what its budget
    reserved once the body was read (`top_up`)."""

    priced_as: str | None
    price: Price | None
    estimate: Estimate
    admission: Admission | None = None
    top_up: Admission | None = None

    def billable(self, usage: Usage) -> Usage:
        """`usage`; for audio whose answer told nothing (a transcription as plain text),
        the length measured from the upload."""
        if self.estimate.audio_seconds and usage == Usage():
            return Usage(audio_seconds=self.estimate.audio_seconds)
        return usage

    def unfinished_picture(self, partials: int) -> Usage:
        """A streamed picture cut before its final image (whose event reports the usage):
        its prompt as estimated and the `partials` partial pictures sent, at what OpenAI
        bills for each — never more output than the whole picture would have."""
        output = PARTIAL_IMAGE_TOKENS * partials
        price = self.price
        if price is not None and price.image_output_tokens:
            output = min(output, price.picture_tokens(self.estimate.image_variant))
        return Usage(prompt_tokens=self.estimate.prompt_tokens, completion_tokens=output)

    def cost(self, usage: Usage) -> float:
        """What `usage` costs at the price, as the upstream says it served it (fast mode,
        US-only inference: `served_multiplier`)."""
        if self.price is None or self.priced_as is None:
            return 0.0
        cost = self.price.cost(usage, self.estimate.image_variant)
        return cost * served_multiplier(self.priced_as, usage.speed, usage.inference_geo)

    def unpriced(self, cost: float) -> bool:
        """Served without a price: an unpriced model, or a priced one whose answer
        reported nothing its price could bill (`cost`, of what it reported, is 0: e.g.
        only the audio's length, to a price by tokens)."""
        if self.priced_as is None:
            return False
        if self.price is None:
            return True
        return not self.price.free and cost == 0.0


class Accounts:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db: Database = open_database(
            settings.database_url or default_database_url(settings.data_dir)
        )
        self.store = KeyStore(self.db)
        self.redis = open_redis(settings.redis_url) if settings.redis_url else None
        self.cache = KeyCache(self.store, redis=self.redis)
        self.keys = KeyService(self.store, revoker=self.cache)
        self.writer = UsageWriter(self.db)
        self.rollups = Compactor(self.db)
        self.limiter: Limiter = make_limiter(
            self.redis,
            spend_loader=self.spend,
            fallback=settings.limits_fallback,
            supervisor=settings.limiter_socket,
        )
        self.prices = PriceTable(settings.file.prices)
        self.allow_unpriced = settings.file.unpriced_models == "allow"
        self._settling: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.db.connect()
        await upgrade(self.db)
        await self.cache.start()
        self.writer.start()
        self.rollups.start()

    async def close(self) -> None:
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
        await self.rollups.close()
        await self.writer.close()
        await self.cache.close()
        await self.limiter.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.close()

    # -- authentication (the Authenticator's KeyResolver) -------------------------------

    async def resolve(self, presented: str) -> Caller | None:
        """The caller of a per-caller key; raises 401 with the reason for revoked/expired."""
        record = await self.cache.authenticate(presented)
        models = frozenset(record.models) if record.models is not None else None
        return Caller(record.id, is_admin=False, models=models, record=record)

    async def spend(self, key_id: str) -> KeySpend:
        """A key's spend: its rows in the database and those still waiting to be written."""
        # Pending first: a row written in between is then counted twice, never missed.
        pending = self.writer.pending_spend(key_id)
        stored = await self.store.spend(key_id)
        return KeySpend(stored.tokens + pending.tokens, stored.cost_usd + pending.cost_usd)

    async def _current(self, key_id: str) -> KeyRecord | None:
        """The key as it is now: from the cache, else (an edit emptied it) the database;
        None when neither answers."""
        record = self.cache.known(key_id)
        if record is None:
            try:
                record = await self.store.get(key_id)
            except Exception as exc:
                log.warning("could not read key %s to settle its request: %s", key_id, exc)
        return record

    # -- limits -------------------------------------------------------------------------

    async def admit(
        self,
        ctx: RequestContext,
        estimate: Estimate,
        priced_as: str | None,
        may_also_serve: Iterable[str | None] = (),
    ) -> dict[str, str]:
        """Price the request by `priced_as` (the first model that may serve it; None for an
        embedded engine) and reserve `estimate` against the caller's limits; the headers
        to send. A key with a budget in USD reserves what the dearest of `priced_as` and
        `may_also_serve` (the names of whatever else may serve: other deployments,
        fallbacks; read only for such a key) would cost, so no deployment can take it past
        its budget on an estimate; the one that serves is billed (`serve_as`)."""
        charge = self._charge(ctx, estimate, priced_as)
        record = ctx.caller.record if ctx.caller is not None else None
        if record is not None:
            cost = self._dearest(record, charge, may_also_serve)
            try:
                charge.admission = await self._admit(
                    ctx, record, estimate.tokens, cost, estimate.rate_tokens
                )
            except QuotaExceeded as exc:
                if estimate.outputs_without_limit:
                    exc.message += UNLIMITED_OUTPUT_HINT
                raise
        # Set only once admitted: a request refused before has nothing to settle.
        ctx.charge = charge
        return charge.admission.headers if charge.admission is not None else {}

    async def reprice(
        self,
        ctx: RequestContext,
        estimate: Estimate,
        priced_as: str | None,
        may_also_serve: Iterable[str | None] = (),
    ) -> None:
        """Price a request admitted before its model was known — an upload, whose limits
        are checked before its body is read — as `admit` would have, keeping the
        reservation made then; a budget in USD now also reserves what the request may
        cost (429 when that does not fit)."""
        admitted = ctx.charge.admission if ctx.charge is not None else None
        charge = self._charge(ctx, estimate, priced_as)
        charge.admission = admitted
        ctx.charge = charge  # from here on, refused or not, the first reservation settles
        if admitted is not None and admitted.key.max_budget_usd is not None:
            cost = self._dearest(admitted.key, charge, may_also_serve)
            if cost > 0:  # the budget alone: the request was counted against rate limits
                budget = replace(admitted.key, rpm=None, tpm=None, max_tokens_total=None)
                charge.top_up = await self._admit(ctx, budget, 0, cost, 0)

    def _dearest(
        self, record: KeyRecord, charge: Charge, may_also_serve: Iterable[str | None]
    ) -> float:
        """What the request may cost: at its own price, and for a key with a budget in USD
        at the dearest of those that may also serve it."""
        estimate = charge.estimate
        cost = _estimated_cost(charge.price, estimate, charge.priced_as)
        if record.max_budget_usd is not None:
            for name in may_also_serve:
                if name is not None:  # None: an embedded engine, free
                    price = self.prices.price_for(name, estimate.meter)
                    cost = max(cost, _estimated_cost(price, estimate, name))
        return cost

    async def _admit(
        self, ctx: RequestContext, record: KeyRecord, tokens: int, cost: float, rate: int
    ) -> Admission:
        try:
            admission = await self.limiter.admit(record, tokens, cost, rate_tokens=rate)
        except APIError as exc:
            ctx.limit_decision = _DECISIONS.get(exc.code or "", "unavailable")
            raise
        ctx.limit_decision = "admitted"
        return admission

    def _charge(self, ctx: RequestContext, estimate: Estimate, priced_as: str | None) -> Charge:
        price = None if priced_as is None else self.prices.price_for(priced_as, estimate.meter)
        record = ctx.caller.record if ctx.caller is not None else None
        refuse = record is not None and _counts_cost(record) and not self.allow_unpriced
        if priced_as is not None and price is None and refuse:
            raise ModelPriceUnknown(priced_as, estimate.meter)
        return Charge(priced_as, price, estimate)

    def may_bill(self, ctx: RequestContext, priced_as: str | None) -> bool:
        """Whether the request may also be served by a model priced as `priced_as` (a
        fallback): not by an unpriced one for a key whose limits count cost, unless
        unpriced models are allowed — the rule `admit` applied to the model asked for."""
        charge = ctx.charge
        record = ctx.caller.record if ctx.caller is not None else None
        if priced_as is None or charge is None or record is None or self.allow_unpriced:
            return True
        if not _counts_cost(record):
            return True
        return self.prices.price_for(priced_as, charge.estimate.meter) is not None

    def serve_as(self, ctx: RequestContext, priced_as: str | None) -> None:
        """The request was served by another model than admission priced it by (another
        deployment of its group, or a fallback): bill by the one that served."""
        charge = ctx.charge
        if charge is None or charge.priced_as == priced_as:
            return
        price = self.prices.price(priced_as) if priced_as is not None else None
        if price is not None and not price.meters(charge.estimate.meter):
            price = None
        charge.priced_as, charge.price = priced_as, price

    # -- usage --------------------------------------------------------------------------

    def finish(self, ctx: RequestContext, elapsed_ms: float) -> None:
        """Record the request (never blocks) and settle its reservation in the background.
        Read-only admin and console requests (`ctx.metered` False) are no usage rows."""
        caller = ctx.caller
        if caller is None or not ctx.metered:
            return
        # Only delivered output is billed: a failure before any output costs nothing, and
        # an answer from the response cache nothing either.
        hit = ctx.cache == "hit"
        charge = ctx.charge if not hit else None
        usage = ctx.usage if ctx.delivered and not hit else Usage()
        if charge is not None and ctx.delivered:
            usage = charge.billable(usage)
        cost = charge.cost(usage) if charge is not None else 0.0
        ctx.cost_usd = cost
        ttft = (ctx.first_token - ctx.started) * 1000 if ctx.first_token is not None else None
        # Positional, in the fields' order (the comments name them): a class called with
        # keywords gathers them into a dict and unpacks it again, ~1 µs for these 21 on
        # every request (measured).
        self.writer.record(
            UsageRecord(
                ctx.request_id,
                ctx.endpoint,
                ctx.status,
                caller.key_id,
                ctx.model,  # model_requested
                ctx.served_model,  # model_used
                ctx.backend,
                ctx.error_type,
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.audio_seconds,
                usage.images,
                usage.characters,
                round(elapsed_ms, 3),  # latency_ms
                round(ttft, 3) if ttft is not None else None,  # ttft_ms
                cost,  # cost_usd
                charge is not None and ctx.delivered and charge.unpriced(cost),  # unpriced
                time.time(),  # created_at
                ctx.deployment,
                len(ctx.attempts),  # attempts
                ctx.cache,
            )
        )
        if hit:
            charge = ctx.charge  # its reservation is settled with nothing used
        if charge is not None and charge.admission is not None:
            tokens = usage.prompt_tokens + usage.completion_tokens
            settling = self._settle(charge.admission, tokens, cost, charge.top_up)
            task = asyncio.create_task(settling)
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    async def _settle(
        self, admission: Admission, tokens: int, cost: float, top_up: Admission | None
    ) -> None:
        """Settle the reservation to what the request used (and give back a top-up: the
        first one takes the whole cost), into the totals the key as it is now counts in
        (a budget set on it while the request ran counts it too)."""
        current = await self._current(admission.key.id)
        settling = ((admission, tokens, cost, current), (top_up, 0, 0.0, None))
        for reserved, used_tokens, used_cost, now in settling:
            if reserved is None:
                continue
            try:
                await self.limiter.settle(reserved, used_tokens, used_cost, current=now)
            except APIError as exc:
                log.warning("could not settle a reservation of key %s: %s", reserved.key.id, exc)
            except Exception:
                log.exception("could not settle a reservation of key %s", reserved.key.id)


def _estimated_cost(price: Price | None, estimate: Estimate, model: str | None) -> float:
    """What `estimate` may cost at `price`, the price of `model` (nothing when unpriced),
    served as the request asks (`served_multiplier`)."""
    if price is None or model is None:
        return 0.0
    factor = served_multiplier(model, estimate.speed, estimate.inference_geo)
    return factor * price.estimate(
        estimate.prompt_tokens,
        estimate.output_tokens,
        images=estimate.images,
        image_variant=estimate.image_variant,
        characters=estimate.characters,
        audio_seconds=estimate.audio_seconds,
    )


def _counts_cost(record: KeyRecord) -> bool:
    """Keys whose limits need every request's cost or tokens counted."""
    return record.has_budget or record.tpm is not None
