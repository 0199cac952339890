"""What routing did, in GET /metrics: retries, fallbacks, each deployment's breaker (state,
trips, load) and the response cache's verdicts, as exact deltas after a scripted mix against
a real `aiport serve` in front of the faulty upstream (parsed with prometheus_client's
parser); the usage row counts the attempts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.faulty_upstream import FaultyUpstream, module_upstream, status
from tests.support.prometheus import delta, scrape, total
from tests.support.routing import usage_row
from tests.support.server import AiportProcess, raw_request

MESSAGES: Any = [{"role": "user", "content": "Hallo!"}]
FAILING = "openai/pair-a"
HEALTHY = "backup/pair-b"
SOLO = "openai/solo-m"


upstream = module_upstream()


@pytest.fixture(scope="module")
def gateway(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    config = {
        "providers": {"openai": {"base_url": upstream.url}, "backup": {"base_url": upstream.url}},
        "models": {
            # The failing deployment is always tried first (its tier), until ejected.
            "pair": {
                "deployments": [
                    {"provider": "openai", "model": "pair-a"},
                    {"provider": "backup", "model": "pair-b", "priority": 1},
                ]
            },
            "primary": {
                "provider": "openai",
                "model": "primary-m",
                "num_retries": 0,
                "fallbacks": ["secondary"],
            },
            "secondary": {"provider": "backup", "model": "secondary-m"},
            "cached": {"provider": "openai", "model": "cached-m", "cache": {"ttl": 60}},
            "solo": {"provider": "openai", "model": "solo-m", "num_retries": 0},
        },
        "router": {
            "backoff_base": 0.01,
            "backoff_max": 0.05,
            "breaker": {"consecutive_failures": 2, "cooldown": 60},
        },
        "local": {"enabled": False},
    }
    server = AiportProcess(tmp_path_factory.mktemp("routing-metrics"), config=config).start()
    yield server
    server.stop()


def ask(gateway: AiportProcess, model: str, **headers: str) -> Any:
    body = {"model": model, "messages": MESSAGES, "temperature": 0}
    answer = raw_request(gateway.base_url + "/v1/chat/completions", body, headers=headers)
    assert answer.status == 200, answer.body[:300]
    return answer


def test_retries_fallbacks_breaker_and_cache_are_counted_exactly(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("pair-a", status(503))  # every request to it fails
    upstream.script("primary-m", status(500))
    before = scrape(gateway.base_url)

    # Two requests pay a failed attempt each (retried on the healthy deployment at once);
    # the second failure in a row ejects the failing one, so the third goes straight on.
    first = ask(gateway, "pair")
    assert [ask(gateway, "pair").headers["x-aiport-deployment"] for _ in range(2)] == [HEALTHY] * 2
    assert upstream.count("pair-a") == 2
    # A failure after retries (none allowed here) goes to the fallback.
    fallen = ask(gateway, "primary")
    assert fallen.json()["model"] == "gpt-4o-mini"  # what the fake upstream answers
    assert fallen.headers["x-aiport-deployment"] == "backup/secondary-m"
    # The cache: a miss, then a hit, then a request that may not use it.
    assert [ask(gateway, "cached").headers["x-aiport-cache"] for _ in range(2)] == ["miss", "hit"]
    bypass = ask(gateway, "cached", **{"Cache-Control": "no-store"})
    assert bypass.headers["x-aiport-cache"] == "bypass"

    after = scrape(gateway.base_url)
    d = lambda name, **labels: delta(before, after, name, **labels)  # noqa: E731
    assert d("aiport_retries_total", model="pair") == 2
    assert d("aiport_retries_total", model="primary") == 1  # the fallback's attempt
    assert d("aiport_retries_total") == 3
    assert d("aiport_fallbacks_total", model="primary", fallback="secondary") == 1
    assert d("aiport_fallbacks_total") == 1
    # Every attempt, per deployment and outcome.
    attempts = "aiport_upstream_duration_seconds_count"
    assert d(attempts, deployment=FAILING, status_class="5xx") == 2
    assert d(attempts, deployment=FAILING, status_class="2xx") == 0
    assert d(attempts, deployment=HEALTHY, status_class="2xx") == 3
    assert d(attempts, deployment="openai/primary-m", status_class="5xx") == 1
    assert d(attempts, deployment="backup/secondary-m", status_class="2xx") == 1
    # The breaker: ejected once, open now; the others closed; nothing in flight.
    assert d("aiport_deployment_ejections_total", deployment=FAILING) == 1
    assert d("aiport_deployment_ejections_total") == 1
    assert total(after, "aiport_deployment_state", deployment=FAILING) == 2
    for closed in (HEALTHY, "openai/primary-m", "backup/secondary-m", "openai/cached-m"):
        assert total(after, "aiport_deployment_state", deployment=closed) == 0
    assert total(after, "aiport_deployment_in_flight") == 0
    # The cache's verdicts.
    for result in ("miss", "hit", "bypass"):
        assert d("aiport_cache_requests_total", model="cached", result=result) == 1
    assert d("aiport_cache_requests_total") == 3
    chat = "/v1/chat/completions"
    assert d("aiport_requests_total", endpoint=chat, status_class="2xx") == 7
    assert d("aiport_requests_total", deployment="cache") == 1

    # The usage row of the first request counts both of its attempts.
    row = usage_row(gateway, first.headers["x-request-id"])
    assert (row["status"], row["attempts"], row["deployment"]) == (200, 2, HEALTHY)


def test_failures_and_fast_fails_carry_the_configured_deployment(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    """A failure on a configured deployment is labelled with its model (bounded: from the
    config), not `_other`; and once the breaker ejected it, the fast 503s name it too."""
    upstream.script("solo-m", status(500))
    body = {"model": "solo", "messages": MESSAGES}
    before = scrape(gateway.base_url)
    for _ in range(2):  # the second failure in a row ejects the group's only deployment
        assert raw_request(gateway.base_url + "/v1/chat/completions", body).status == 500
    refused = raw_request(gateway.base_url + "/v1/chat/completions", body)
    assert refused.status == 503
    assert refused.json()["error"]["code"] == "no_healthy_deployment"
    assert upstream.count("solo-m") == 2
    after = scrape(gateway.base_url)
    d = lambda **labels: delta(before, after, "aiport_requests_total", **labels)  # noqa: E731
    solo = {"model": "solo", "served_model": "solo-m", "provider": "openai", "deployment": SOLO}
    assert d(**solo, status_class="5xx") == 3
    assert d(model="solo") == 3


def test_a_usage_row_names_its_endpoint_by_route_as_the_metrics_do(gateway: AiportProcess) -> None:
    """`aiport usage --by endpoint` adds up per endpoint, not per model or response id; an
    unknown path is kept as it was asked."""
    ids = []
    for path in ("/v1/models/solo", "/v1/models/pair", "/v1/no-such-thing"):
        answer = raw_request(gateway.base_url + path, method="GET")
        ids.append(answer.headers["x-request-id"])
    endpoints = [usage_row(gateway, request_id)["endpoint"] for request_id in ids]
    assert endpoints == ["/v1/models/{model}", "/v1/models/{model}", "/v1/no-such-thing"]
