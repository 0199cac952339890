"""The response cache through a real `aiport serve` and the SDK: what is cached, what is
not, streams replayed, Cache-Control, TTL, per-key scope, Redis shared by two instances,
and what the usage rows say."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis

from tests.support.accounts_e2e import redis_db_url, service_url
from tests.support.fake_upstream import wait_for
from tests.support.faulty_upstream import (
    FaultyUpstream,
    answer,
    chat_chunk,
    chat_completion,
    finished_chat_stream,
    module_upstream,
    reset_mid_stream,
    sse,
)
from tests.support.routing import create_key, usage_row
from tests.support.server import NO_RESILIENCE, AiportProcess, raw_request, sse_events

MESSAGES: Any = [{"role": "user", "content": "What is the capital of France?"}]
REDIS_DB = 13  # this module's own Redis database


def config(upstream: FaultyUpstream) -> dict[str, Any]:
    return {
        "providers": {"openai": {"base_url": upstream.url}},
        "default_provider": "openai",
        "models": {
            "cached": {"provider": "openai", "model": "cached-m", "cache": {"ttl": 60}},
            "streamy": {"provider": "openai", "model": "streamy-m", "cache": True},
            "brief": {"provider": "openai", "model": "brief-m", "cache": {"ttl": 1}},
            "creative": {
                "provider": "openai",
                "model": "creative-m",
                "cache": {"any_temperature": True},
            },
            "emb": {"provider": "openai", "model": "emb-m", "cache": True},
        },
        "router": NO_RESILIENCE,
        "local": {"enabled": False},
    }


upstream = module_upstream()


@pytest.fixture(scope="module")
def gateway(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    server = AiportProcess(tmp_path_factory.mktemp("cache"), config=config(upstream)).start()
    yield server
    server.stop()


def ask(gateway: AiportProcess, model: str, **fields: Any) -> Any:
    body = {"model": model, "messages": MESSAGES, **fields}
    return raw_request(
        gateway.base_url + "/v1/chat/completions", body, headers=fields.pop("h", None)
    )


def post(
    gateway: AiportProcess, model: str, headers: dict[str, str] | None = None, **fields: Any
) -> Any:
    body = {"model": model, "messages": MESSAGES, **fields}
    return raw_request(gateway.base_url + "/v1/chat/completions", body, headers=headers)


def test_a_deterministic_request_is_answered_from_the_cache(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("cached-m", answer(chat_completion("Paris.", model="cached-m")))
    first = post(gateway, "cached", temperature=0)
    second = post(gateway, "cached", temperature=0)
    assert (first.status, second.status) == (200, 200)
    assert first.headers["x-aiport-cache"] == "miss"
    assert second.headers["x-aiport-cache"] == "hit"
    assert second.headers["x-aiport-deployment"] == "cache"
    assert second.body == first.body
    assert upstream.count("cached-m") == 1
    missed = usage_row(gateway, first.headers["x-request-id"])
    hit = usage_row(gateway, second.headers["x-request-id"])
    assert (missed["cache"], missed["prompt_tokens"]) == ("miss", 5)
    assert (hit["cache"], hit["cost_usd"], hit["prompt_tokens"], hit["completion_tokens"]) == (
        "hit",
        0,
        0,
        0,
    )
    assert hit["deployment"] == "cache" and hit["attempts"] == 0
    # The SDK reads a cached answer like any other.
    again = gateway.client().chat.completions.create(
        model="cached", messages=MESSAGES, temperature=0
    )
    assert again.choices[0].message.content == "Paris."


def test_requests_that_are_not_deterministic_bypass_the_cache(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("cached-m", answer(chat_completion("Lyon?", model="cached-m")))
    before = upstream.count("cached-m")
    responses = [post(gateway, "cached") for _ in range(2)]  # temperature 0.7 by default
    assert [r.headers["x-aiport-cache"] for r in responses] == ["bypass", "bypass"]
    assert upstream.count("cached-m") == before + 2
    seeded = [post(gateway, "cached", temperature=1.2, seed=7) for _ in range(2)]
    assert [r.headers["x-aiport-cache"] for r in seeded] == ["miss", "hit"]


def test_a_model_can_opt_in_to_caching_any_request(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("creative-m", answer(chat_completion("A poem.", model="creative-m")))
    results = [post(gateway, "creative").headers["x-aiport-cache"] for _ in range(2)]
    assert results == ["miss", "hit"]


def test_a_model_without_cache_says_nothing_about_it(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    response = post(gateway, "not-configured", temperature=0)
    assert response.status == 200 and "x-aiport-cache" not in response.headers


def test_cache_control_no_cache_and_no_store(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("cached-m", answer(chat_completion("fresh", model="cached-m")))
    fields = {"temperature": 0, "max_tokens": 11}
    stored = post(gateway, "cached", {"Cache-Control": "no-store"}, **fields)
    assert stored.headers["x-aiport-cache"] == "bypass"
    assert post(gateway, "cached", **fields).headers["x-aiport-cache"] == "miss"  # not kept
    before = upstream.count("cached-m")
    refreshed = post(gateway, "cached", {"Cache-Control": "no-cache"}, **fields)
    assert refreshed.headers["x-aiport-cache"] == "bypass"
    assert upstream.count("cached-m") == before + 1  # asked again, and kept
    assert post(gateway, "cached", **fields).headers["x-aiport-cache"] == "hit"


def test_a_stream_is_replayed_as_the_same_sse_chunks(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script(
        "streamy-m", finished_chat_stream("streamy-m", "Par", "is.", completion_tokens=2)
    )
    first = post(gateway, "streamy", temperature=0, stream=True)
    second = post(gateway, "streamy", temperature=0, stream=True)
    assert first.headers["x-aiport-cache"] == "miss" and second.headers["x-aiport-cache"] == "hit"
    assert second.headers["content-type"].startswith("text/event-stream")
    assert sse_events(second.body) == sse_events(first.body)
    assert sse_events(second.body)[-1] == b"[DONE]"
    assert upstream.count("streamy-m") == 1
    # The usage chunk is kept in the cache and shown to a client that asks for it.
    with_usage = post(
        gateway, "streamy", temperature=0, stream=True, stream_options={"include_usage": True}
    )
    chunks = [orjson.loads(e) for e in sse_events(with_usage.body)[:-1]]
    assert chunks[-1]["usage"]["completion_tokens"] == 2
    stream = gateway.client().chat.completions.create(
        model="streamy", messages=MESSAGES, temperature=0, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Paris."


def test_a_replayed_stream_drops_the_usage_a_client_did_not_ask_for(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    """OpenAI adds `"usage": null` to every chunk once usage is asked for (aiport always asks
    it); a client that did not ask gets the chunks without it, from the cache as first."""

    def chunk(delta: dict[str, Any], finish: str | None, usage: Any = None) -> bytes:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta else []
        data = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "streamy-m"}
        return b"data: " + orjson.dumps({**data, "choices": choices, "usage": usage}) + b"\n\n"

    upstream.script(
        "streamy-m",
        sse(
            chunk({"role": "assistant", "content": 'Say "usage"'}, None),
            chunk({"content": "."}, "stop"),
            chunk({}, None, {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}),
        ),
    )
    first = post(gateway, "streamy", temperature=0, stream=True, seed=7)
    second = post(gateway, "streamy", temperature=0, stream=True, seed=7)
    assert second.headers["x-aiport-cache"] == "hit"
    assert sse_events(second.body) == sse_events(first.body)
    chunks = [orjson.loads(e) for e in sse_events(second.body)[:-1]]
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == ['Say "usage"', "."]
    assert all("usage" not in c for c in chunks)


def test_a_stream_cut_off_is_not_cached(gateway: AiportProcess, upstream: FaultyUpstream) -> None:
    upstream.script("streamy-m", reset_mid_stream(chat_chunk("Half")))
    assert post(gateway, "streamy", temperature=0, stream=True, max_tokens=3).status == 200
    upstream.script("streamy-m", finished_chat_stream("streamy-m", "Whole", completion_tokens=2))
    again = post(gateway, "streamy", temperature=0, stream=True, max_tokens=3)
    assert again.headers["x-aiport-cache"] == "miss"
    assert b"Whole" in again.body


def test_embeddings_are_always_cacheable(gateway: AiportProcess, upstream: FaultyUpstream) -> None:
    body = orjson.dumps(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}],
            "model": "emb-m",
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        }
    )
    upstream.script("emb-m", answer(body))
    client = gateway.client()
    first = client.embeddings.with_raw_response.create(model="emb", input="hello")
    second = client.embeddings.with_raw_response.create(model="emb", input="hello")
    assert [first.headers["x-aiport-cache"], second.headers["x-aiport-cache"]] == ["miss", "hit"]
    assert second.parse().data[0].embedding == [0.5, 0.25]
    assert upstream.count("emb-m") == 1


def test_entries_expire_after_their_models_ttl(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("brief-m", answer(chat_completion("soon gone", model="brief-m")))
    assert post(gateway, "brief", temperature=0).headers["x-aiport-cache"] == "miss"
    assert post(gateway, "brief", temperature=0).headers["x-aiport-cache"] == "hit"
    time.sleep(1.1)
    assert post(gateway, "brief", temperature=0).headers["x-aiport-cache"] == "miss"


def test_each_key_has_its_own_cache(gateway: AiportProcess, upstream: FaultyUpstream) -> None:
    upstream.script("cached-m", answer(chat_completion("mine", model="cached-m")))
    first, second = create_key(gateway), create_key(gateway)
    body = {"model": "cached", "messages": MESSAGES, "temperature": 0, "max_tokens": 22}
    url = gateway.base_url + "/v1/chat/completions"
    assert raw_request(url, body, key=first).headers["x-aiport-cache"] == "miss"
    assert raw_request(url, body, key=first).headers["x-aiport-cache"] == "hit"
    assert raw_request(url, body, key=second).headers["x-aiport-cache"] == "miss"


def test_two_instances_share_one_cache_in_redis(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = redis_db_url(service_url("AIPORT_TEST_REDIS_URL"), REDIS_DB)
    store = redis.Redis.from_url(url)
    store.flushdb()
    shared = {**config(upstream), "cache": {"scope": "shared"}}
    servers = [
        AiportProcess(
            tmp_path_factory.mktemp(f"cache-redis-{i}"),
            config=shared,
            env={"AIPORT_REDIS_URL": url},
        ).start()
        for i in range(2)
    ]
    try:
        upstream.script("cached-m", answer(chat_completion("shared", model="cached-m")))
        before = upstream.count("cached-m")
        # A seed of this run's own: another test run sharing this Redis cannot have it.
        seed = secrets.randbelow(1 << 62)
        first = post(servers[0], "cached", temperature=0, max_tokens=33, seed=seed)
        # Stored in the background, after the answer went out.
        assert wait_for(lambda: bool(store.keys("aiport:cache:*")), timeout=3)
        second = post(servers[1], "cached", temperature=0, max_tokens=33, seed=seed)
        assert [first.headers["x-aiport-cache"], second.headers["x-aiport-cache"]] == [
            "miss",
            "hit",
        ]
        assert second.body == first.body
        assert upstream.count("cached-m") == before + 1
        stream = (
            servers[1]
            .client()
            .chat.completions.create(
                model="cached", messages=MESSAGES, temperature=0, max_tokens=33
            )
        )
        assert stream.choices[0].message.content == "shared"
    finally:
        for server in servers:
            server.stop()
