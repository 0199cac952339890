"""The routing pieces on their own: breaker states, strategies, backoff, provider quotas,
the in-flight gate, the cache's key and store. Clocks are fakes; nothing sleeps."""

from __future__ import annotations

import asyncio
import gc
import random
from collections import Counter

import pytest

from aiport.backends.base import Backend, CallTimeouts
from aiport.errors import BadGateway, Overloaded, UpstreamError
from aiport.routing import retry
from aiport.routing.attempts import AttemptRunner
from aiport.routing.breaker import Breaker
from aiport.routing.cache import build_cache, deterministic, request_key
from aiport.routing.cache_store import CachedAnswer, MemoryStore
from aiport.routing.config import (
    BreakerConfig,
    CacheConfig,
    ConfigError,
    ModelConfig,
    QueueConfig,
    RouterConfig,
)
from aiport.routing.deployment import Group
from aiport.routing.overload import InFlightGate
from aiport.routing.policy import Policy
from aiport.routing.quota import ProviderQuota, SlidingMinute
from aiport.routing.semantic import Marks, SemanticIndex
from aiport.routing.strategy import least_in_flight, lowest_latency, weighted
from aiport.routing.table import Router

TIMEOUTS = CallTimeouts(connect=1, first_byte=1, idle=1, total=1)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def named(name: str) -> Backend:
    backend = Backend()
    backend.name = name
    return backend


def router_with(*weights: float, breaker: BreakerConfig | None = None) -> tuple[Router, Group]:
    policy = Policy.build(RouterConfig(), CacheConfig())
    router = Router(policy, breaker)
    members = [
        router.deployment(named(f"b{i}"), "m", TIMEOUTS, weight=w) for i, w in enumerate(weights)
    ]
    group = Group("g", members, policy)
    router.add_group(group, "test")
    return router, group


# -- breaker ---------------------------------------------------------------------------


def test_breaker_trips_after_consecutive_failures_and_probes_after_the_cooldown() -> None:
    clock = Clock()
    breaker = Breaker(BreakerConfig(consecutive_failures=3, cooldown=5), clock)
    assert not breaker.failure() and not breaker.failure()
    assert breaker.failure()
    assert breaker.trip() == 5
    assert not breaker.available()
    clock.now += 5
    assert breaker.available()  # half-open: one probe
    breaker.started()
    assert breaker.state == "half_open" and not breaker.available()
    assert breaker.success()
    assert breaker.state == "closed" and breaker.available()


def test_breaker_cooldown_doubles_on_repeated_trips_up_to_its_cap() -> None:
    clock = Clock()
    breaker = Breaker(BreakerConfig(consecutive_failures=1, cooldown=2, cooldown_max=7), clock)
    lengths = []
    for _ in range(4):
        assert breaker.failure()
        lengths.append(breaker.trip())
        clock.now += lengths[-1]
        assert breaker.available()
        breaker.started()
    assert lengths == [2, 4, 7, 7]
    # Healthy for longer than the cap: the next trip starts from the first cool-down again.
    assert breaker.success()
    clock.now += 100
    assert breaker.failure()
    assert breaker.trip() == 2


def test_breaker_trips_on_failure_ratio_only_after_enough_requests() -> None:
    clock = Clock()
    config = BreakerConfig(consecutive_failures=100, failure_ratio=0.5, min_requests=10)
    breaker = Breaker(config, clock)
    outcomes = []
    for i in range(11):  # failure, success, failure, ...: counting starts at a failure
        if i % 2 == 0:
            outcomes.append(breaker.failure())
        else:
            breaker.success()
            outcomes.append(False)
    assert outcomes[-1] and not any(outcomes[:-1])
    # The window forgets: the same failures spread over a longer time do not trip it.
    old = Breaker(config, clock)
    for _ in range(5):
        old.success()
    clock.now += config.window + 1
    assert not any(old.failure() for _ in range(4))


def test_a_failed_probe_opens_the_breaker_again_for_longer() -> None:
    clock = Clock()
    breaker = Breaker(BreakerConfig(consecutive_failures=1, cooldown=1), clock)
    breaker.failure()
    breaker.trip()
    clock.now += 1
    assert breaker.available()
    breaker.started()
    assert breaker.failure()  # a probe's failure trips at once
    assert breaker.trip() == 2


def test_the_last_healthy_deployment_of_a_group_is_never_ejected() -> None:
    router, group = router_with(1, 1)
    first, second = (d.health for d in group.deployments)
    assert router.may_eject(first)
    first.breaker.failure()
    first.breaker.trip()
    assert not router.may_eject(second)  # panic mode: the group keeps one


def test_a_group_of_one_may_lose_its_only_deployment_to_fail_fast() -> None:
    router, group = router_with(1)
    assert router.may_eject(group.deployments[0].health)


# -- strategies ------------------------------------------------------------------------


def test_weighted_choice_follows_the_weights() -> None:
    _, group = router_with(3, 1)
    rng = random.Random(7)
    counts = Counter(weighted(group.deployments, False, rng).id for _ in range(4000))
    assert 2.6 < counts["b0/m"] / counts["b1/m"] < 3.4


def test_least_in_flight_prefers_the_idle_deployment_per_weight() -> None:
    _, group = router_with(1, 2)
    a, b = group.deployments
    a.health.in_flight, b.health.in_flight = 1, 1  # b has twice the weight: half the load
    assert least_in_flight(group.deployments, False, random.Random(1)) is b


def test_lowest_latency_measures_every_deployment_then_prefers_the_fastest() -> None:
    _, group = router_with(1, 1, 1)
    rng = random.Random(3)
    first = lowest_latency(group.deployments, True, rng)
    assert first.health.latency[True].value is None  # unmeasured ones go first
    for deployment, seconds in zip(group.deployments, (0.5, 0.05, 0.052), strict=True):
        deployment.health.latency[True].add(seconds)
    picks = Counter(lowest_latency(group.deployments, True, rng).id for _ in range(2000))
    assert picks["b0/m"] < 100  # only exploration reaches the slow one
    assert picks["b1/m"] > 700 and picks["b2/m"] > 700  # within 10%: they share


# -- retry policy ----------------------------------------------------------------------


def upstream_error(status: int, code: str | None = None, **headers: str) -> UpstreamError:
    body = (
        b'{"error":{"message":"x","type":"t","param":null,"code":'
        + (f'"{code}"'.encode() if code else b"null")
        + b"}}"
    )
    return UpstreamError(status, body, headers)


def test_error_classes_and_what_is_never_retried() -> None:
    retry_on = RouterConfig().retry_on
    assert retry.error_class(upstream_error(503)) == "503"
    assert retry.error_class(TimeoutError()) == "timeout"
    assert retry.error_class(RuntimeError("an engine died")) == "500"
    assert retry.error_class(AttributeError("a defect met")) == "defect"
    assert not retry.retryable(KeyError("x"), "defect", retry_on, 0)
    assert retry.retryable(upstream_error(503), "503", retry_on, 0)
    assert not retry.retryable(upstream_error(503), "503", retry_on, 2)  # used up
    for status in (400, 401, 403, 404):
        assert not retry.retryable(upstream_error(status), str(status), retry_on, 0)
    quota = upstream_error(429, "insufficient_quota")
    assert not retry.retryable(quota, "429", retry_on, 0)
    assert retry.retryable(upstream_error(429, "rate_limit_exceeded"), "429", retry_on, 0)


def test_anthropic_overloaded_529_is_a_5xx_like_any_other() -> None:
    """Anthropic answers 529 when overloaded (its SDK retries it); the README promises
    retries on every 5xx."""
    router = RouterConfig()
    overloaded = upstream_error(529, "overloaded_error")
    assert retry.error_class(overloaded) == "529"
    assert retry.retryable(overloaded, "529", router.retry_on, 0)
    assert "529" in router.breaker.failure_on
    assert retry.fallback_reason(overloaded) == "general"


def test_fallback_reasons() -> None:
    assert retry.fallback_reason(upstream_error(400, "context_length_exceeded")) == (
        "context_window"
    )
    assert retry.fallback_reason(upstream_error(400, "content_policy_violation")) == (
        "content_policy"
    )
    assert retry.fallback_reason(upstream_error(502)) == "general"
    assert retry.fallback_reason(BadGateway("down")) == "general"
    assert retry.fallback_reason(upstream_error(400)) is None
    assert retry.fallback_reason(upstream_error(401)) is None


def test_retry_after_headers_in_each_form() -> None:
    assert retry.retry_after(upstream_error(429, **{"retry-after-ms": "250"})) == 0.25
    assert retry.retry_after(upstream_error(429, **{"retry-after": "3"})) == 3
    assert retry.retry_after(upstream_error(429, **{"retry-after": "soon"})) is None
    date = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past: no wait
    assert retry.retry_after(upstream_error(429, **{"retry-after": date})) == 0


def test_backoff_is_full_jitter_under_a_doubling_cap() -> None:
    rng = random.Random(5)
    for n in range(8):
        waits = [retry.backoff(n, 0.1, 2.0, rng) for _ in range(200)]
        cap = min(2.0, 0.1 * 2**n)
        assert all(0 <= w <= cap for w in waits)
        assert max(waits) > cap * 0.8 and min(waits) < cap * 0.2  # spread over the range


# -- provider quota --------------------------------------------------------------------


def test_sliding_minute_admits_rpm_and_counts_the_previous_window() -> None:
    clock = Clock(600.0)  # the start of a minute
    window = SlidingMinute(clock)
    assert [window.try_add(3, None, 0) for _ in range(4)] == [True, True, True, False]
    clock.now += 60 + 30  # half way into the next minute: half the old window still counts
    assert window.try_add(3, None, 0)  # 1.5 + 1
    assert not window.try_add(3, None, 0)  # 1.5 + 2 > 3
    clock.now += 30  # the old window is gone
    assert [window.try_add(3, None, 0) for _ in range(3)] == [True, True, False]


def test_sliding_minute_tpm_lets_a_first_large_request_through() -> None:
    window = SlidingMinute(Clock(600.0))
    assert window.try_add(None, 100, 500)
    assert not window.try_add(None, 100, 1)
    window.adjust(-500)  # the real count was 0
    assert window.try_add(None, 100, 50)


# -- the in-flight gate ----------------------------------------------------------------


async def test_a_failed_attempt_gives_back_the_tokens_it_reserved_of_the_providers_tpm() -> None:
    """The provider spent nothing on a refused request: an outage's failed attempts must not
    leave the deployment "at its limit" for the rest of the minute once it is back."""
    router, group = router_with(1.0)
    health = group.deployments[0].health
    health.quota = ProviderQuota(health.id, rpm=None, tpm=1000)

    async def refused(*_: object) -> None:
        raise upstream_error(400)

    with pytest.raises(UpstreamError):
        await AttemptRunner(router).run(group, refused, tokens=900)
    await asyncio.sleep(0)  # (given back in the background, as a success's settling is)
    assert await health.quota.reserve(900)


async def test_gate_refuses_past_its_cap_without_a_queue() -> None:
    gate = InFlightGate(2, QueueConfig())
    first, second = gate.acquire("a"), gate.acquire("b")
    assert first is not None and second is not None
    with pytest.raises(Overloaded) as refused:
        gate.acquire("a")
    assert refused.value.headers["retry-after"] == "1"
    first()
    first()  # a second release of the same slot is ignored
    third = gate.acquire("a")
    assert third is not None and gate.in_flight == 2
    second(), third()
    assert gate.in_flight == 0


async def test_gate_queue_serves_keys_in_turn() -> None:
    gate = InFlightGate(1, QueueConfig(max_wait=5, per_key=10))
    holder = gate.acquire("busy")
    assert holder is not None
    order: list[str] = []

    async def request(key: str) -> None:
        release = gate.acquire(key) or await gate.wait(key)
        order.append(key)
        await asyncio.sleep(0)
        release()

    tasks = [asyncio.create_task(request("busy")) for _ in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(request("quiet")))
    await asyncio.sleep(0)
    holder()
    await asyncio.gather(*tasks)
    assert order.index("quiet") == 1  # not behind all of "busy"'s requests


async def test_gate_queue_is_bounded_per_key_and_in_time() -> None:
    gate = InFlightGate(1, QueueConfig(max_wait=0.05, per_key=1))
    holder = gate.acquire("a")
    assert holder is not None and gate.acquire("a") is None  # must wait
    waiting = asyncio.create_task(gate.wait("a"))
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await gate.wait("a")  # a second waiter for the same key
    with pytest.raises(Overloaded):
        await waiting  # waited max_wait in vain
    holder()
    assert gate.in_flight == 0 and gate.waiting == 0


# -- response cache --------------------------------------------------------------------


def test_cache_key_ignores_field_order_and_bookkeeping_fields() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0, "user": "u1"}
    same = {"temperature": 0, "user": "u2", "messages": [{"content": "hi", "role": "user"}]}
    assert request_key("k", "chat", "m", body) == request_key("k", "chat", "m", same)
    assert request_key("k", "chat", "m", body) != request_key("other", "chat", "m", body)
    assert request_key("k", "chat", "m", body) != request_key("k", "chat", "m2", body)
    assert request_key("k", "chat", "m", body) != request_key(
        "k", "chat", "m", {**body, "stream": True}
    )


def test_only_deterministic_chat_requests_are_cacheable() -> None:
    assert deterministic("chat", {"temperature": 0})
    assert deterministic("chat", {"temperature": 1, "seed": 4})
    assert not deterministic("chat", {})  # the default temperature is 0.7
    assert deterministic("embeddings", {}) and deterministic("moderations", {})


async def test_memory_store_is_an_lru_bounded_by_bytes_with_expiry() -> None:
    clock = Clock()
    store = MemoryStore(max_bytes=1000, clock=clock)
    big = CachedAnswer(body=b"x" * 250)  # 450 bytes with its overhead
    await store.set("a", big, ttl=10)
    await store.set("b", big, ttl=10)
    assert await store.get("a") is not None  # a is now the most recent
    await store.set("c", big, ttl=10)
    assert await store.get("b") is None and await store.get("a") is not None
    assert store.bytes <= 1000
    clock.now += 11
    assert await store.get("a") is None
    stream = CachedAnswer(chunks=(b'{"a":1}', b'{"b":"\\n"}'))
    assert CachedAnswer.loads(stream.dumps()) == stream
    assert CachedAnswer.loads(big.dumps()) == big


def test_the_memory_stores_entries_cost_the_garbage_collector_nothing() -> None:
    store = MemoryStore(max_bytes=1 << 20)
    store.put("a", CachedAnswer(body=b"{}"), ttl=10)
    store.put("s", CachedAnswer(chunks=(b'{"a":1}', b'{"b":2}')), ttl=10)
    gc.collect()
    assert not any(gc.is_tracked(entry) for entry in store._entries.values())
    assert store.get_now("s") == CachedAnswer(chunks=(b'{"a":1}', b'{"b":2}'))


async def test_semantic_index_matches_only_within_one_context_and_same_numbers() -> None:
    vectors = {"how do I reset my password": [1.0, 0.0], "how can I reset my password": [0.99, 0.1]}
    vectors |= {"what is 1+1": [0.0, 1.0], "what is 21+1": [0.0, 1.0]}

    async def embed(text: str) -> list[float]:
        return vectors[text]

    index = SemanticIndex(embed)
    ask = {"messages": [{"role": "user", "content": "how do I reset my password"}]}
    found, pending = await index.find("k", "m", ask, 0.9)
    assert found is None and pending is not None
    index.add(pending, "key-1", ttl=60)
    paraphrase = {"messages": [{"role": "user", "content": "how can I reset my password"}]}
    assert (await index.find("k", "m", paraphrase, 0.9))[0] == "key-1"
    assert (await index.find("other-key", "m", paraphrase, 0.9))[0] is None
    assert (await index.find("k", "m", {**paraphrase, "temperature": 1}, 0.9))[0] is None
    sums = {"messages": [{"role": "user", "content": "what is 1+1"}]}
    _, pending = await index.find("k", "m", sums, 0.9)
    assert pending is not None
    index.add(pending, "key-2", ttl=60)
    other = {"messages": [{"role": "user", "content": "what is 21+1"}]}
    assert (await index.find("k", "m", other, 0.9))[0] is None
    assert Marks.of("pay 1,5 or 1.5 and 3").numbers == ("1.5", "1.5", "3")
    swapped = Marks.of("Is Python faster than Java?"), Marks.of("Is Java faster than Python?")
    assert not swapped[0].agree(swapped[1])
    # A name that opens a sentence is not told from an ordinary capital: subsets agree.
    romeo = Marks.of("Who wrote Romeo and Juliet?"), Marks.of("Romeo and Juliet was by whom?")
    assert romeo[0].agree(romeo[1])
    assert not Marks.of("the capital of France").agree(Marks.of("the capital of Germany"))


def test_single_backend_form_becomes_one_deployment() -> None:
    model = ModelConfig.model_validate({"provider": "vllm", "model": "llama"})
    assert [(d.provider, d.model, d.weight) for d in model.deployments] == [("vllm", "llama", 1)]
    with pytest.raises(ValueError):
        ModelConfig.model_validate({"provider": "a", "deployments": [{"provider": "b"}]})
    with pytest.raises(ValueError):
        ModelConfig.model_validate({"deployments": [{"provider": "a", "engine": "chat"}]})
    assert ModelConfig.model_validate({"cache": True}).cache is not None


@pytest.mark.parametrize(
    "router",
    [
        {"retry_on": ["5xx"]},
        {"retry_on": ["timeouts", 503]},
        {"retry_on": {"connection_error": 3}},
        {"breaker": {"failure_on": ["server_error"]}},
    ],
)
def test_an_error_class_that_does_not_exist_is_refused(router: dict[str, object]) -> None:
    """A class no failure has would silently never retry (or never trip the breaker)."""
    with pytest.raises(ValueError, match="error class"):
        RouterConfig.model_validate(router)


def test_error_classes_may_be_written_as_numbers() -> None:
    router = RouterConfig.model_validate(
        {"retry_on": [429, "timeout"], "breaker": {"failure_on": [500, 529, "connect_error"]}}
    )
    assert set(router.retry_on) == {"429", "timeout"}
    assert router.breaker.failure_on == ["500", "529", "connect_error"]


def test_a_semantic_cache_without_the_embeddings_engine_stops_start_up() -> None:
    """It needs the embedded embeddings engine: without it the cache was silently exact-only."""
    models = {"m": ModelConfig.model_validate({"provider": "p", "cache": {"semantic": {}}})}
    with pytest.raises(ConfigError, match=r"`m`.*embeddings engine"):
        build_cache(CacheConfig(), models, None, {})
