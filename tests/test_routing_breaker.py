"""The breaker across two `aiport serve` instances sharing Redis: one ejects a failing
deployment, the other learns it without sending a request; requests fail fast while it
cools down; a half-open probe re-admits it; `/health/ready` and `/admin/deployments` say so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.support.accounts_e2e import redis_db_url, service_url
from tests.support.fake_upstream import wait_for
from tests.support.faulty_upstream import (
    FaultyUpstream,
    answer,
    chat_completion,
    module_upstream,
    status,
)
from tests.support.routing import deployments
from tests.support.server import AiportProcess, raw_request

MESSAGES: Any = [{"role": "user", "content": "Hallo!"}]
REDIS_DB = 14  # this module's own Redis database
COOLDOWN = 2.0
SOLO = "openai/solo-m"


upstream = module_upstream()


@pytest.fixture(scope="module")
def pair(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[AiportProcess]]:
    url = redis_db_url(service_url("AIPORT_TEST_REDIS_URL"), REDIS_DB)
    redis.Redis.from_url(url).flushdb()
    config = {
        "providers": {"openai": {"base_url": upstream.url}},
        "models": {"solo": {"provider": "openai", "model": "solo-m"}},
        "router": {
            "num_retries": 0,
            "breaker": {"consecutive_failures": 2, "cooldown": COOLDOWN},
        },
        "local": {"enabled": False},
    }
    servers = [
        AiportProcess(
            tmp_path_factory.mktemp(f"breaker-{i}"), config=config, env={"AIPORT_REDIS_URL": url}
        ).start()
        for i in range(2)
    ]
    yield servers
    for server in servers:
        server.stop()


def ask(server: AiportProcess) -> Any:
    body = {"model": "solo", "messages": MESSAGES}
    return raw_request(server.base_url + "/v1/chat/completions", body)


def test_an_ejection_is_shared_and_a_probe_readmits(
    pair: list[AiportProcess], upstream: FaultyUpstream
) -> None:
    first, second = pair
    upstream.script("solo-m", status(503), status(503), answer(chat_completion("back")))
    assert [ask(first).status, ask(first).status] == [503, 503]
    assert deployments(first)[SOLO]["state"] == "open"
    # The other instance hears of it through Redis, without a request of its own.
    assert wait_for(lambda: deployments(second)[SOLO]["state"] == "open", timeout=3)
    started = time.monotonic()
    refused = ask(second)
    assert time.monotonic() - started < 0.5
    assert refused.status == 503
    assert refused.json()["error"]["code"] == "no_healthy_deployment"
    assert 1 <= int(refused.headers["retry-after"]) <= COOLDOWN
    assert upstream.count("solo-m") == 2  # the outage cost no more upstream requests
    ready = raw_request(second.base_url + "/health/ready", key=None)
    assert ready.status == 503
    counts = {"healthy": 0, "half_open": 0, "ejected": 1, "down": 0}
    assert ready.json() == {"status": "no_healthy_deployment", "deployment_counts": counts}
    details = raw_request(second.base_url + "/health/ready").json()  # the master key
    assert details["deployments"] == {SOLO: "open"}
    time.sleep(COOLDOWN + 0.2)
    assert deployments(first)[SOLO]["state"] == "half_open"
    probe = ask(first)  # half-open: one request tries it, and it answers
    assert probe.status == 200
    assert deployments(first)[SOLO]["state"] == "closed"
    assert wait_for(lambda: deployments(second)[SOLO]["state"] == "closed", timeout=3)
    assert raw_request(second.base_url + "/health/ready", key=None).status == 200
    assert ask(second).status == 200
