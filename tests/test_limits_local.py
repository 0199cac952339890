"""The in-process limiter: burst, refill, true retry-after, OpenAI's headers and bodies."""

from __future__ import annotations

import orjson
import pytest

from aiport.errors import QuotaExceeded, RateLimited
from aiport.limits import LocalLimiter, format_duration
from aiport.store.keys import KeyRecord, KeySpend

pytestmark = pytest.mark.asyncio(loop_scope="session")


def key(**limits: object) -> KeyRecord:
    return KeyRecord(
        id="key_" + "a" * 24, name="t", prefix="sk-aiport-AAAA", key_hash="h", **limits
    )  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.0201, "21ms"),
        (0.999, "999ms"),
        (1, "1s"),
        (6, "6s"),
        (8.64, "8.64s"),
        (60, "1m0s"),
        (66.5, "1m6.5s"),
        (3600, "1h0m0s"),
    ],
)
async def test_reset_durations_use_openais_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


async def test_rpm_burst_then_one_every_interval_with_true_retry_after() -> None:
    clock = Clock()
    limiter = LocalLimiter(clock=clock)
    k = key(rpm=10)
    admissions = [await limiter.admit(k) for _ in range(10)]
    assert [a.headers["x-ratelimit-remaining-requests"] for a in admissions] == [
        str(n) for n in range(9, -1, -1)
    ]
    assert admissions[0].headers["x-ratelimit-limit-requests"] == "10"
    assert admissions[0].headers["x-ratelimit-reset-requests"] == "6s"
    assert admissions[-1].headers["x-ratelimit-reset-requests"] == "1m0s"
    with pytest.raises(RateLimited) as caught:
        await limiter.admit(k)
    err = caught.value
    assert err.status == 429 and err.type == "requests" and err.code == "rate_limit_exceeded"
    assert err.headers["retry-after"] == "6" and err.headers["retry-after-ms"] == "6000"
    assert err.headers["x-ratelimit-remaining-requests"] == "0"
    body = orjson.loads(err.body())["error"]
    assert set(body) == {"message", "type", "param", "code"}
    assert "requests per min (RPM): Limit 10, Used 10, Requested 1" in body["message"]
    clock.now += 5.9
    with pytest.raises(RateLimited):
        await limiter.admit(k)
    clock.now += 0.1  # exactly the retry-after: now it fits
    assert (await limiter.admit(k)).headers["x-ratelimit-remaining-requests"] == "0"


async def test_tokens_are_reserved_then_settled() -> None:
    clock = Clock()
    limiter = LocalLimiter(clock=clock)
    k = key(tpm=1000)
    first = await limiter.admit(k, estimated_tokens=600)
    assert first.headers["x-ratelimit-remaining-tokens"] == "400"
    with pytest.raises(RateLimited) as caught:
        await limiter.admit(k, estimated_tokens=600)
    assert caught.value.type == "tokens"
    assert caught.value.headers["retry-after-ms"] == "12000"  # 200 tokens at 1000/min
    assert await limiter.settle(first, 100) == -500  # the estimate was 500 too high
    assert await limiter.settle(first, 100) == -500  # settling twice changes nothing more
    second = await limiter.admit(k, estimated_tokens=600)
    assert second.headers["x-ratelimit-remaining-tokens"] == "300"
    assert await limiter.settle(second, 900) == 300  # under-estimated: charged after
    with pytest.raises(RateLimited):
        await limiter.admit(k, estimated_tokens=1)


async def test_a_request_bigger_than_the_whole_minute_is_told_not_to_retry() -> None:
    limiter = LocalLimiter(clock=Clock())
    with pytest.raises(RateLimited) as caught:
        await limiter.admit(key(tpm=100), estimated_tokens=101)
    assert caught.value.type == "tokens"
    assert caught.value.headers["x-should-retry"] == "false"
    assert "retry-after" not in caught.value.headers


async def test_keys_without_limits_pass_untouched() -> None:
    admission = await LocalLimiter().admit(key(), estimated_tokens=10**9)
    assert admission.headers == {} and admission.backend == "none"


async def test_token_budget_is_seeded_from_the_database_and_never_overspent() -> None:
    async def spend(key_id: str) -> KeySpend:
        return KeySpend(tokens=700, cost_usd=0.0)

    limiter = LocalLimiter(spend_loader=spend, clock=Clock())
    k = key(max_tokens_total=1000)
    a = await limiter.admit(k, estimated_tokens=200)
    with pytest.raises(QuotaExceeded) as caught:
        await limiter.admit(k, estimated_tokens=200)  # 900 reserved: 200 more does not fit
    err = caught.value
    assert err.status == 429 and err.code == "insufficient_quota"
    assert err.headers["x-should-retry"] == "false" and "retry-after" not in err.headers
    await limiter.settle(a, 50)  # refund 150 of the reservation
    await limiter.admit(k, estimated_tokens=250)
    with pytest.raises(QuotaExceeded, match="used 1000 of its 1000 tokens"):
        await limiter.admit(k, estimated_tokens=0)  # a spent budget refuses everything


async def test_usd_budget_counts_reserved_cost() -> None:
    limiter = LocalLimiter(clock=Clock())
    k = key(max_budget_usd=0.01)
    admitted = [await limiter.admit(k, estimated_cost_usd=0.003) for _ in range(3)]
    with pytest.raises(QuotaExceeded, match=r"\$0\.0090 of its \$0\.0100"):
        await limiter.admit(k, estimated_cost_usd=0.003)
    await limiter.settle(admitted[0], 0, actual_cost_usd=0.0)
    await limiter.admit(k, estimated_cost_usd=0.003)


async def test_a_budget_counts_requests_that_cost_less_than_a_millionth_of_a_dollar() -> None:
    """Totals were kept in micro-USD, each request's cost rounded: an embedding of 20
    tokens ($0.0000004) counted $0, so cheap requests never used up a budget."""
    limiter = LocalLimiter(clock=Clock())
    k = key(max_budget_usd=0.000002)
    for _ in range(5):
        admitted = await limiter.admit(k, estimated_cost_usd=0.0000004)
        await limiter.settle(admitted, 20, actual_cost_usd=0.0000004)
    with pytest.raises(QuotaExceeded):
        await limiter.admit(k, estimated_cost_usd=0.0000004)


async def test_a_budget_refusal_says_what_the_request_may_cost() -> None:
    """The refusal said only "spent $0.0020 of its $0.0100 budget": a caller with money
    left could not tell why (the request may cost more than is left), and a budget below
    a hundredth of a cent read as "$0.0000 of its $0.0000"."""
    limiter = LocalLimiter(clock=Clock())
    k = key(max_budget_usd=0.01)
    await limiter.admit(k, estimated_cost_usd=0.002)
    with pytest.raises(QuotaExceeded) as refused:
        await limiter.admit(k, estimated_cost_usd=0.04)
    assert "spent $0.0020 of its $0.0100 budget" in refused.value.message
    assert "this request may cost up to $0.0400" in refused.value.message
    tiny, fresh = key(max_budget_usd=0.00002), LocalLimiter(clock=Clock())
    await fresh.admit(tiny, estimated_cost_usd=0.000015)
    with pytest.raises(QuotaExceeded, match=r"spent \$0\.000015 of its \$0\.00002 budget"):
        await fresh.admit(tiny, estimated_cost_usd=0.00001)
