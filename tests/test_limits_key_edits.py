"""A key edited while its requests run: their settlements land in the totals the edited
key goes on using, in every limiter (in process, Redis, the supervisor's for workers)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from aiport.errors import QuotaExceeded
from aiport.limits import Limiter, LocalLimiter, RedisLimiter, open_redis
from aiport.limits.parent import LimiterService, SocketLimiter
from aiport.store.database import Database
from aiport.store.keys import KeyRecord, KeyStore
from aiport.store.usage import UsageRecord, UsageWriter

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(params=["local", "redis", "supervisor"])
async def limiter(
    request: pytest.FixtureRequest, db: Database, db_url: str, namespace: str
) -> AsyncIterator[Limiter]:
    spend = KeyStore(db).spend
    if request.param == "local":
        yield LocalLimiter(spend_loader=spend)
    elif request.param == "redis":
        client = open_redis(request.getfixturevalue("redis_url"))
        yield RedisLimiter(client, namespace=namespace, spend_loader=spend)
        await client.aclose()
    else:
        service = LimiterService(db_url).start()
        socket = SocketLimiter(service.path)
        yield socket
        await socket.close()
        service.stop()


async def bill(db: Database, key: KeyRecord, cost: float, tokens: int = 0) -> None:
    """The request's usage row, written (as `Accounts.finish` does before settling)."""
    writer = UsageWriter(db)
    row = UsageRecord(f"req_{uuid.uuid4().hex}", "/v1/chat/completions", 200, key_id=key.id)
    row.cost_usd, row.completion_tokens = cost, tokens
    writer.record(row)
    await writer.close()


async def test_a_request_running_while_its_key_is_edited_settles_into_its_budget(
    db: Database, limiter: Limiter
) -> None:
    """The totals were kept per version of the key: the edit started new totals from the
    database, which held neither the running request's reservation nor (yet) its row, and
    its settlement went to the old totals — $0.006 spent that the budget never saw."""
    store = KeyStore(db)
    record, _ = await store.create("edited", max_budget_usd=0.01)
    running = await limiter.admit(record, estimated_cost_usd=0.004)
    edited = await store.update(
        record.id, {"max_budget_usd": 0.012, "rpm": 100, "models": ["gpt-4o"]}
    )
    assert edited is not None
    await limiter.admit(edited, estimated_cost_usd=0.004)
    await bill(db, record, 0.006)  # it delivered more than it reserved
    await limiter.settle(running, 0, actual_cost_usd=0.006)
    # Spent $0.006 + $0.004 reserved: $0.002 of $0.012 left.
    await limiter.admit(edited, estimated_cost_usd=0.002)
    with pytest.raises(QuotaExceeded, match=r"spent \$0\.0120 of its \$0\.0120"):
        await limiter.admit(edited, estimated_cost_usd=0.0001)


async def test_a_token_budget_added_beside_a_usd_budget_counts_the_tokens_used_before(
    db: Database, limiter: Limiter
) -> None:
    """The totals stay the key's through edits, so the token total is kept while only a
    budget in USD is set: a token budget set later starts from what was really used."""
    store = KeyStore(db)
    record, _ = await store.create("usd first", max_budget_usd=1.0)
    for _ in range(3):
        admission = await limiter.admit(record, estimated_tokens=500, estimated_cost_usd=0.01)
        await bill(db, record, 0.001, tokens=300)
        await limiter.settle(admission, 300, actual_cost_usd=0.001)
    both = await store.update(record.id, {"max_tokens_total": 1000})
    assert both is not None
    await limiter.admit(both, estimated_tokens=100)
    with pytest.raises(QuotaExceeded, match="used 1000 of its 1000 tokens"):
        await limiter.admit(both, estimated_tokens=1)


async def test_a_budget_removed_then_set_again_counts_what_was_spent_meanwhile(
    db: Database, limiter: Limiter
) -> None:
    store = KeyStore(db)
    record, _ = await store.create("on and off", rpm=1000, max_budget_usd=0.01)

    async def serve(key: KeyRecord, reserved: float, used: float) -> None:
        admission = await limiter.admit(key, estimated_cost_usd=reserved)
        await bill(db, key, used)
        await limiter.settle(admission, 0, used)

    await serve(record, 0.001, 0.001)
    unlimited = await store.update(record.id, {"max_budget_usd": None})
    assert unlimited is not None
    for _ in range(3):
        await serve(unlimited, 0.006, 0.003)
    again = await store.update(record.id, {"max_budget_usd": 0.01})
    assert again is not None
    with pytest.raises(QuotaExceeded, match=r"spent \$0\.0100 of its \$0\.0100"):
        await limiter.admit(again, estimated_cost_usd=0.001)


async def test_requests_running_when_a_budget_is_set_count_into_it(
    db: Database, limiter: Limiter
) -> None:
    """A budget set on a key that had none starts from the database, which does not hold
    the requests still running: each settled nowhere (it reserved in no totals), so the
    new budget never saw what they cost. Settled with the key as it is now, each counts."""
    store = KeyStore(db)
    record, _ = await store.create("budget later", rpm=1000)
    running = [await limiter.admit(record, estimated_cost_usd=0.003) for _ in range(2)]
    budgeted = await store.update(record.id, {"max_budget_usd": 0.01})
    assert budgeted is not None
    await limiter.admit(budgeted, estimated_cost_usd=0.001)  # the totals start: $0
    for admission in running:
        await bill(db, record, 0.004)
        await limiter.settle(admission, 0, 0.004, current=budgeted)
    # $0.008 spent and $0.001 reserved: $0.001 of $0.01 left.
    await limiter.admit(budgeted, estimated_cost_usd=0.001)
    with pytest.raises(QuotaExceeded, match=r"spent \$0\.0100 of its \$0\.0100"):
        await limiter.admit(budgeted, estimated_cost_usd=0.0001)
    # Not yet started totals are left alone: they will read the rows from the database.
    late = await store.update(record.id, {"max_budget_usd": None})
    assert late is not None
    before = await limiter.admit(late, estimated_cost_usd=0.002)
    again = await store.update(record.id, {"max_budget_usd": 0.02})
    assert again is not None
    await bill(db, record, 0.002)
    await limiter.settle(before, 0, 0.002, current=again)
    await limiter.admit(again, estimated_cost_usd=0.0095)  # $0.010 from the database
    with pytest.raises(QuotaExceeded, match=r"spent \$0\.0195 of its \$0\.0200"):
        await limiter.admit(again, estimated_cost_usd=0.001)
