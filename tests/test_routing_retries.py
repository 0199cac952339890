"""Retries, fallbacks, fail-fast and timeouts, against a real `aiport serve` and the official
SDK with its own retries off (`max_retries=0`), in front of a scripted faulty upstream.

Two provider names point at the same upstream so that one upstream plays several
deployments; the model name in each request says which deployment it came from.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest

from tests.support.faulty_upstream import (
    HANG,
    SSE_HEAD,
    FaultyUpstream,
    Pause,
    answer,
    chat_chunk,
    chat_completion,
    chunked,
    module_upstream,
    openai_error,
    rate_limited,
    reset_mid_stream,
    sse,
    status,
)
from tests.support.routing import access_line, create_key, deployments, usage_row
from tests.support.server import AiportProcess, free_port, raw_request, sse_events

MESSAGES: Any = [{"role": "user", "content": "Hallo!"}]
DEADLINE = 3.0


def group(*members: tuple[str, str], **settings: Any) -> dict[str, Any]:
    return {"deployments": [{"provider": p, "model": m} for p, m in members], **settings}


upstream = module_upstream()


@pytest.fixture(scope="module")
def gateway(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    closed_port = free_port()
    config = {
        "providers": {
            "openai": {"base_url": upstream.url, "api_key": "sk-up", "first_byte_timeout": 2},
            "backup": {"base_url": upstream.url},
            "nowhere": {"base_url": f"http://127.0.0.1:{closed_port}/v1"},
        },
        "default_provider": "openai",
        "models": {
            "pair": group(("openai", "pair-a"), ("backup", "pair-b")),
            "dying": {
                "deployments": [
                    {"provider": "openai", "model": "dying-a"},
                    {"provider": "backup", "model": "dying-b", "priority": 1},
                ]
            },
            "unreachable": {
                "deployments": [
                    {"provider": "nowhere", "model": "far"},
                    {"provider": "backup", "model": "near", "priority": 1},
                ]
            },
            "primary": {"provider": "openai", "model": "primary-m", "fallbacks": ["secondary"]},
            "secondary": {"provider": "backup", "model": "secondary-m"},
            "long": {
                "provider": "openai",
                "model": "long-m",
                "context_window_fallbacks": ["roomy"],
                "fallbacks": ["secondary"],
            },
            "roomy": {"provider": "backup", "model": "roomy-m"},
            "touchy": {
                "provider": "openai",
                "model": "touchy-m",
                "content_policy_fallbacks": ["lenient"],
            },
            "lenient": {"provider": "backup", "model": "lenient-m"},
            "strict": {"provider": "openai", "model": "strict-m", "fallbacks": ["secondary"]},
            "scoped": {"provider": "openai", "model": "scoped-m", "fallbacks": ["secondary"]},
            "sleepy": {
                "provider": "openai",
                "model": "sleepy-m",
                "timeouts": {"first_byte": 0.5},
                "num_retries": 0,
            },
            "stalling": {"provider": "openai", "model": "stalling-m", "timeouts": {"idle": 0.5}},
            "early": {
                "provider": "openai",
                "model": "early-m",
                "num_retries": 0,
                "fallbacks": ["rescue"],
            },
            "rescue": {"provider": "backup", "model": "rescue-m"},
            # A priced model whose fallback has no price.
            "billed": {
                "provider": "openai",
                "model": "gpt-4o",
                "num_retries": 0,
                "fallbacks": ["unpriced"],
            },
            "unpriced": {"provider": "backup", "model": "mystery-m"},
            "capped": {
                "deployments": [{"provider": "openai", "model": "capped-m", "max_in_flight": 1}]
            },
        },
        "router": {
            "backoff_base": 0.01,
            "backoff_max": 0.05,
            "deadline": DEADLINE,
            "breaker": {"consecutive_failures": 3, "cooldown": 30},
        },
        "local": {"enabled": False},
    }
    server = AiportProcess(tmp_path_factory.mktemp("routing"), config=config).start()
    yield server
    server.stop()


def named(text: str, model: str) -> Any:
    return answer(chat_completion(text, model=model))


def finished_stream(model: str, *words: str) -> Any:
    final = orjson.dumps(
        {
            "id": "chatcmpl-faulty",
            "object": "chat.completion.chunk",
            "created": 1727346173,
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    return sse(*(chat_chunk(w, model) for w in words), b"data: " + final + b"\n\n")


def chat(gateway: AiportProcess, model: str, **kwargs: Any) -> Any:
    return gateway.client(**kwargs).chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES
    )


# -- retries -----------------------------------------------------------------------------


def test_a_flaky_deployment_is_retried_until_it_answers(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("flaky", status(503), status(502), named("third time", "flaky"))
    raw = chat(gateway, "flaky")
    assert raw.parse().choices[0].message.content == "third time"
    assert upstream.count("flaky") == 3
    request_id = raw.headers["x-request-id"]
    assert raw.headers["x-aiport-deployment"] == "openai/flaky"
    line = access_line(gateway, request_id)
    assert [(a["deployment"], a["status"]) for a in line["attempts"]] == [
        ("openai/flaky", 503),
        ("openai/flaky", 502),
        ("openai/flaky", 200),
    ]
    assert all(a["ms"] >= 0 for a in line["attempts"])
    row = usage_row(gateway, request_id)
    assert (row["status"], row["attempts"], row["deployment"]) == (200, 3, "openai/flaky")


def test_retry_after_ms_is_honoured(gateway: AiportProcess, upstream: FaultyUpstream) -> None:
    upstream.script("patient", rate_limited(retry_after_ms="400"), named("ok", "patient"))
    started = time.monotonic()
    assert chat(gateway, "patient").parse().choices[0].message.content == "ok"
    assert time.monotonic() - started >= 0.4
    assert upstream.count("patient") == 2


def test_a_retry_after_past_the_cap_is_passed_on_at_once(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("busy", rate_limited(retry_after="30"))
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as caught:
        chat(gateway, "busy")
    assert time.monotonic() - started < 2
    assert caught.value.response.headers["retry-after"] == "30"
    assert upstream.count("busy") == 1


@pytest.mark.parametrize(
    "script",
    [
        status(400),
        status(401),
        status(403),
        status(404),
        openai_error(429, "insufficient_quota"),
    ],
    ids=["400", "401", "403", "404", "insufficient_quota"],
)
def test_errors_a_retry_cannot_fix_are_not_retried(
    gateway: AiportProcess, upstream: FaultyUpstream, script: Any, request: pytest.FixtureRequest
) -> None:
    model = f"final-{request.node.callspec.id}"
    upstream.script(model, script)
    with pytest.raises(openai.APIStatusError):
        chat(gateway, model)
    assert upstream.count(model) == 1


def test_all_attempts_fit_in_one_deadline(gateway: AiportProcess, upstream: FaultyUpstream) -> None:
    upstream.script("stuck", [HANG])
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        chat(gateway, "stuck")
    elapsed = time.monotonic() - started
    assert caught.value.status_code == 504
    assert caught.value.response.headers["x-should-retry"] == "false"  # we retried already
    assert DEADLINE - 0.5 < elapsed < DEADLINE + 1.5  # first byte 2 s each, 3 s for all
    assert upstream.count("stuck") == 2


# -- two deployments, breaker --------------------------------------------------------------


def test_two_deployments_one_failing_every_request_succeeds(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("pair-a", status(503))
    upstream.script("pair-b", named("from b", "pair-b"))
    for _ in range(20):
        raw = chat(gateway, "pair")
        assert raw.parse().choices[0].message.content == "from b"
        assert raw.headers["x-aiport-deployment"] == "backup/pair-b"
    # The failing one got only what the breaker allowed: 3 failures in a row eject it.
    assert upstream.count("pair-a") == 3
    states = deployments(gateway)
    assert states["openai/pair-a"]["state"] == "open"
    assert states["backup/pair-b"]["state"] == "closed"


def test_a_deployment_dying_mid_stream(gateway: AiportProcess, upstream: FaultyUpstream) -> None:
    upstream.script("dying-a", reset_mid_stream(chat_chunk("Hello"), chat_chunk(" from")))
    stream = gateway.client().chat.completions.with_raw_response.create(
        model="dying", messages=MESSAGES, stream=True
    )
    received: list[str] = []
    with pytest.raises(openai.APIError):
        for chunk in stream.parse():
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Hello from"  # nothing twice, nothing from elsewhere
    assert upstream.count("dying-b") == 0  # never retried after the first byte
    row = usage_row(gateway, stream.headers["x-request-id"])
    assert row["status"] == 502
    assert row["completion_tokens"] == 3  # "Hello from": what was delivered, ~4 chars/token
    assert row["attempts"] == 1


def test_a_stream_that_dies_before_its_first_chunk_falls_back(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("early-m", reset_mid_stream())  # a stream's head, then a reset
    upstream.script("rescue-m", finished_stream("rescue-m", "Saved", " by", " the fallback"))
    stream = gateway.client().chat.completions.with_raw_response.create(
        model="early", messages=MESSAGES, stream=True
    )
    chunks = list(stream.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Saved by the fallback"
    assert {c.model for c in chunks} == {"rescue-m"}
    assert stream.headers["x-aiport-deployment"] == "backup/rescue-m"
    line = access_line(gateway, stream.headers["x-request-id"])
    assert [(a["deployment"], a["status"]) for a in line["attempts"]] == [
        ("openai/early-m", 502),
        ("backup/rescue-m", 200),
    ]
    row = usage_row(gateway, stream.headers["x-request-id"])
    assert (row["status"], row["attempts"], row["deployment"]) == (200, 2, "backup/rescue-m")


def test_an_unreachable_deployment_hands_over_to_the_next(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("near", named("near", "near"))
    raw = chat(gateway, "unreachable")
    assert raw.parse().choices[0].message.content == "near"
    line = access_line(gateway, raw.headers["x-request-id"])
    assert [(a["deployment"], a["status"]) for a in line["attempts"]] == [
        ("nowhere/far", 502),
        ("backup/near", 200),
    ]


# -- fallbacks ---------------------------------------------------------------------------


def test_an_outage_falls_back_and_then_fails_fast_to_the_fallback(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("primary-m", status(503))
    upstream.script("secondary-m", named("second", "secondary-m"))
    raw = chat(gateway, "primary")
    answer_ = raw.parse()
    assert answer_.choices[0].message.content == "second"
    assert answer_.model == "secondary-m"  # says who served
    assert raw.headers["x-aiport-deployment"] == "backup/secondary-m"
    assert upstream.count("primary-m") == 3  # 1 + 2 retries: then its breaker opened
    started = time.monotonic()
    for _ in range(5):
        assert chat(gateway, "primary").parse().model == "secondary-m"
    # The primary is not asked again during its cool-down: no request pays its retries.
    assert upstream.count("primary-m") == 3
    assert time.monotonic() - started < 1.5


def test_context_length_errors_use_the_context_window_fallbacks(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("long-m", openai_error(400, "context_length_exceeded"))
    upstream.script("roomy-m", named("roomy", "roomy-m"))
    general = upstream.count("secondary-m")
    assert chat(gateway, "long").parse().model == "roomy-m"
    assert upstream.count("long-m") == 1  # not retried
    assert upstream.count("secondary-m") == general  # the general list is not used here


def test_content_policy_refusals_use_their_own_fallbacks(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("touchy-m", openai_error(400, "content_policy_violation"))
    upstream.script("lenient-m", named("fine", "lenient-m"))
    assert chat(gateway, "touchy").parse().model == "lenient-m"


def test_a_bad_request_does_not_fall_back(gateway: AiportProcess, upstream: FaultyUpstream) -> None:
    upstream.script("strict-m", openai_error(400, "invalid_value"))
    before = upstream.count("secondary-m")
    with pytest.raises(openai.BadRequestError):
        chat(gateway, "strict")
    assert upstream.count("secondary-m") == before


def test_fallbacks_stay_inside_the_keys_model_scope(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("scoped-m", status(500))
    narrow = create_key(gateway, models=["scoped"])
    wide = create_key(gateway, models=["scoped", "secondary"])
    before = upstream.count("secondary-m")
    with pytest.raises(openai.InternalServerError):
        chat(gateway, "scoped", api_key=narrow)
    assert upstream.count("secondary-m") == before  # no escaping the scope by fallback
    assert chat(gateway, "scoped", api_key=wide).parse().model == "secondary-m"


def test_a_key_that_counts_cost_never_falls_back_to_an_unpriced_model(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("gpt-4o", status(500))
    upstream.script("mystery-m", named("free", "mystery-m"))
    budgeted = create_key(gateway, max_budget=5)
    with pytest.raises(openai.InternalServerError):
        chat(gateway, "billed", api_key=budgeted)
    assert upstream.count("mystery-m") == 0  # it could not have been billed
    # A key without budget or tpm counts no cost: the fallback serves it (billed nothing).
    assert chat(gateway, "billed").parse().model == "mystery-m"


def test_a_single_deployment_outage_fails_fast_with_retry_after(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("lonely", status(503))
    with pytest.raises(openai.InternalServerError):
        chat(gateway, "lonely")
    assert upstream.count("lonely") == 3
    started = time.monotonic()
    response = raw_request(
        gateway.base_url + "/v1/chat/completions", {"model": "lonely", "messages": MESSAGES}
    )
    assert time.monotonic() - started < 0.5
    assert response.status == 503
    assert response.json()["error"]["code"] == "no_healthy_deployment"
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert upstream.count("lonely") == 3


# -- timeouts ----------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_no_first_byte_in_time_is_a_504(
    gateway: AiportProcess, upstream: FaultyUpstream, stream: bool
) -> None:
    upstream.script("sleepy-m", [HANG])
    started = time.monotonic()
    response = raw_request(
        gateway.base_url + "/v1/chat/completions",
        {"model": "sleepy", "messages": MESSAGES, "stream": stream},
    )
    assert response.status == 504
    assert response.json()["error"]["type"] == "server_error"
    assert time.monotonic() - started < 1.5  # the model's 0.5 s, not the provider's 2 s


def test_a_stream_that_stalls_ends_with_an_error_event_and_no_done(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    steps = [SSE_HEAD + chunked(chat_chunk("Hi", "stalling-m")), Pause(3), chunked(b"")]
    upstream.script("stalling-m", steps)
    response = raw_request(
        gateway.base_url + "/v1/chat/completions",
        {"model": "stalling", "messages": MESSAGES, "stream": True},
    )
    events = sse_events(response.body)
    assert response.status == 200
    assert b"[DONE]" not in events
    error = orjson.loads(events[-1])["error"]
    assert error["code"] == "upstream_timeout"
    upstream.script("stalling-m", steps)
    stream = gateway.client().chat.completions.create(
        model="stalling", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass


def test_a_stream_cut_without_done_is_an_error_not_a_short_answer(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("cut-short", sse(chat_chunk("Half"), done=False))
    response = raw_request(
        gateway.base_url + "/v1/chat/completions",
        {"model": "cut-short", "messages": MESSAGES, "stream": True},
    )
    events = sse_events(response.body)
    assert b"[DONE]" not in events and "error" in orjson.loads(events[-1])
    upstream.script("whole", finished_stream("whole", "All", " there"))
    response = raw_request(
        gateway.base_url + "/v1/chat/completions",
        {"model": "whole", "messages": MESSAGES, "stream": True},
    )
    assert sse_events(response.body)[-1] == b"[DONE]"


# -- overload ------------------------------------------------------------------------------


async def test_a_deployment_at_its_in_flight_cap_answers_503_at_once(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("capped-m", [Pause(0.8), *named("slow", "capped-m")])
    client = gateway.async_client()

    async def one() -> tuple[int, float, Any]:
        started = time.monotonic()
        try:
            await client.chat.completions.create(model="capped", messages=MESSAGES)
            return 200, time.monotonic() - started, None
        except openai.APIStatusError as exc:
            return exc.status_code, time.monotonic() - started, exc

    results = sorted(await asyncio.gather(one(), one()), key=lambda r: r[0])
    (ok, _, _), (refused, refused_after, exc) = results
    assert (ok, refused) == (200, 503)
    assert refused_after < 0.5
    assert exc.code == "server_is_overloaded"
    assert exc.response.headers["retry-after"] == "1"
