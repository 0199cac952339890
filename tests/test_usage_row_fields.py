"""The usage row `Accounts.finish` queues: each fact of the request in its own column (the
record is built positionally, for speed, so a field out of place would go unnoticed)."""

from __future__ import annotations

from pathlib import Path

from aiport.accounts import Accounts, Charge
from aiport.auth import Caller
from aiport.backends.base import Usage
from aiport.context import RequestContext
from aiport.metering import Estimate
from aiport.routing.attempts import AttemptRecord
from aiport.settings import Settings
from aiport.store.price import Price
from aiport.store.usage import UsageRecord


def test_each_fact_of_a_request_is_in_its_own_column(tmp_path: Path) -> None:
    accounts = Accounts(Settings(data_dir=tmp_path))
    ctx = RequestContext(request_id="req_1", endpoint="/v1/chat/completions", model="asked")
    ctx.started = 100.0
    ctx.first_token = 100.25
    ctx.caller = Caller("key_1")
    ctx.served_model, ctx.backend, ctx.deployment = "served", "prov", "prov/served"
    ctx.status, ctx.error_type, ctx.cache = 206, "err", "miss"
    ctx.usage = Usage(prompt_tokens=3, completion_tokens=4, audio_seconds=5.0, images=6)
    ctx.usage.characters = 7
    ctx.attempts = [AttemptRecord("a", 503, 1.0, "a"), AttemptRecord("b", 200, 2.0, "b")]
    ctx.charge = Charge("served", Price(input=1_000_000.0), Estimate())

    accounts.finish(ctx, 12.34567)

    [record] = accounts.writer._buffer
    assert record == UsageRecord(
        request_id="req_1",
        endpoint="/v1/chat/completions",
        status=206,
        key_id="key_1",
        model_requested="asked",
        model_used="served",
        backend="prov",
        error_type="err",
        prompt_tokens=3,
        completion_tokens=4,
        audio_seconds=5.0,
        images=6,
        characters=7,
        latency_ms=12.346,
        ttft_ms=250.0,
        cost_usd=3.0,
        unpriced=False,
        created_at=record.created_at,
        deployment="prov/served",
        attempts=2,
        cache="miss",
    )
    assert record.created_at > 1.7e9  # the wall clock's time, not the request's timer
