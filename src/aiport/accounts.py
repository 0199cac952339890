"""Callers' accounts at the gateway: per-caller keys, limits, budgets and usage records.

This joins the pieces in `store/`, `keycache.py` and `limits/` for a running server. The
database stays off the request path: keys come from the cache, limits from memory or
Redis, usage rows are buffered and written in batches. Settling a request's reservation
with its real usage happens in the background after the response.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiport.api.context import RequestContext
from aiport.auth import Caller
from aiport.backends.base import Usage
from aiport.errors import APIError
from aiport.keycache import KeyCache
from aiport.limits import Admission, Limiter, make_limiter
from aiport.limits.redis_limiter import open_redis
from aiport.settings import Settings
from aiport.store.database import Database, default_database_url, open_database
from aiport.store.keys import KeyRecord, KeyStore
from aiport.store.migrations import upgrade
from aiport.store.pricing import PriceTable
from aiport.store.usage import UsageRecord, UsageWriter

log = logging.getLogger(__name__)

# Output tokens reserved against a token limit when a request names no max_tokens.
DEFAULT_OUTPUT_ESTIMATE = 1024


class Accounts:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db: Database = open_database(
            settings.database_url or default_database_url(settings.data_dir)
        )
        self.store = KeyStore(self.db)
        self.redis: Any = open_redis(settings.redis_url) if settings.redis_url else None
        self.cache = KeyCache(self.store, redis=self.redis)
        self.limiter: Limiter = make_limiter(
            self.redis, spend_loader=self.store.spend, fallback=settings.limits_fallback
        )
        self.writer = UsageWriter(self.db)
        self.prices = PriceTable(settings.file.prices)
        self._settling: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        await self.db.connect()
        await upgrade(self.db)
        await self.cache.start()
        self.writer.start()

    async def close(self) -> None:
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
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

    # -- limits -------------------------------------------------------------------------

    async def admit(
        self, ctx: RequestContext, model: str, output_tokens: int, images: int = 0
    ) -> dict[str, str]:
        """Reserve this request's estimate against the caller's limits; the headers to send."""
        record = ctx.caller.record if ctx.caller is not None else None
        prompt = ctx.usage.prompt_tokens
        if not isinstance(record, KeyRecord):
            ctx.estimated_tokens = prompt + output_tokens
            return {}
        cost = self.prices.estimate(model, prompt, output_tokens, images=images)
        admission = await self.limiter.admit(record, prompt + output_tokens, cost)
        ctx.admission = admission
        # Set only once admitted: `finish` records nothing used by a request refused before.
        ctx.estimated_tokens = prompt + output_tokens
        return admission.headers

    # -- usage --------------------------------------------------------------------------

    def finish(self, ctx: RequestContext, elapsed_ms: float) -> None:
        """Record the request (never blocks) and settle its reservation in the background."""
        caller = ctx.caller
        if caller is None:
            return
        if not ctx.usage_reported and not ctx.estimated_tokens:
            # Refused before any model work (unknown model, limits, budget): the prompt
            # estimate a handler noted for admission was never consumed, nor billed.
            ctx.usage = Usage()
        usage = ctx.usage
        cost = self._cost(ctx)
        ttft = (ctx.first_token - ctx.started) * 1000 if ctx.first_token is not None else None
        self.writer.record(
            UsageRecord(
                request_id=ctx.request_id,
                endpoint=ctx.endpoint,
                status=ctx.status,
                key_id=caller.key_id,
                model_requested=ctx.model,
                model_used=ctx.served_model,
                backend=ctx.backend,
                error_type=ctx.error_type,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                audio_seconds=usage.audio_seconds,
                images=usage.images,
                characters=usage.characters,
                latency_ms=round(elapsed_ms, 3),
                ttft_ms=round(ttft, 3) if ttft is not None else None,
                cost_usd=cost,
            )
        )
        if isinstance(ctx.admission, Admission):
            tokens = usage.prompt_tokens + usage.completion_tokens
            task = asyncio.create_task(self._settle(ctx.admission, tokens, cost))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    def _cost(self, ctx: RequestContext) -> float:
        """Priced by the model that served; a public name's price only for upstreams, so
        an embedded model answering to `gpt-4o` costs nothing."""
        served = ctx.served_model or ""
        if self.prices.price(served) is not None:
            return self.prices.cost(served, ctx.usage)
        if ctx.model and not (ctx.backend or "").startswith("local-"):
            return self.prices.cost(ctx.model, ctx.usage)
        return 0.0

    async def _settle(self, admission: Admission, tokens: int, cost: float) -> None:
        try:
            await self.limiter.settle(admission, tokens, cost)
        except APIError as exc:
            log.warning("could not settle a reservation of key %s: %s", admission.key.id, exc)
        except Exception:
            log.exception("could not settle a reservation of key %s", admission.key.id)
