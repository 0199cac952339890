"""What a key is charged, through a real server in front of the fake upstream: unpriced
models are refused for keys that count cost (or allowed and flagged), requests are priced
by the model that serves them, reservations cover the whole body and every choice, a
request that failed before any output costs nothing, and a stream the client cut short
costs what it delivered."""

from __future__ import annotations

import asyncio
import io
import json
import math
import socket
import time
import uuid
import wave
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest

from aiport.backends.registry import LOCAL_ENGINES
from tests.support.accounts_e2e import CHAT_PATH, Deployment, close_deployment, open_deployment
from tests.support.fake_upstream import FakeUpstream, wait_for
from tests.support.server import AiportProcess, assert_openai_error, proxy_config, raw_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

M = 1_000_000
MESSAGES_BODY = [{"role": "user", "content": "Hello there"}]
UNRELEASED = "gpt-9-unreleased"  # a name the fake upstream serves and no price table knows


def billing_config(upstream: FakeUpstream, **extra: Any) -> dict[str, Any]:
    config = proxy_config(upstream)
    config["models"]["cheap"] = {"provider": "openai", "model": "gpt-4"}
    # A group whose second tier has no price: it could serve a budget key for nothing.
    config["models"]["mixed-tiers"] = {
        "deployments": [
            {"provider": "openai", "model": "error-502"},
            {"provider": "openai", "model": UNRELEASED, "priority": 1},
        ],
        "num_retries": 1,
    }
    # Groups led by an embedded engine (free) that cannot serve here (its module is
    # missing, as when an optional package is not installed): gpt-4 behind it answers,
    # as a deployment of the group or as its fallback.
    config["local"] = {
        "enabled": True,
        "load": "first_use",
        "engines": {
            **{kind: {"enabled": False} for kind in LOCAL_ENGINES},
            "gone": {"backend": "aiport_no_such_module:Engine", "model_id": "gone-chat"},
        },
    }
    config["models"]["local-first"] = {
        "deployments": [
            {"engine": "gone"},
            {"provider": "openai", "model": "gpt-4", "priority": 1},
        ],
        "num_retries": 1,
    }
    config["models"]["local-or-fallback"] = {
        "deployments": [{"engine": "gone"}],
        "fallbacks": ["cheap"],
    }
    config["models"]["claude-opus"] = {"provider": "anthropic", "model": "claude-opus-4-6"}
    # OpenAI first, Claude (which is always sent a max_tokens) behind it.
    config["models"]["gpt-or-claude"] = {
        "deployments": [
            {"provider": "openai", "model": "gpt-4o"},
            {"provider": "anthropic", "model": "claude-sonnet-4-5", "priority": 1},
        ],
    }
    # Names the fake upstream fails on or streams forever, priced so budget keys reach them.
    config["prices"] = {
        "error-400": {"input": 30, "output": 60},
        "error-502": {"input": 30, "output": 60},
        "error-500": {"characters": 30},
        "endless": {"input": 1, "output": 2},
        "flood": {"input": 1, "output": 2},
    }
    return config | extra


@pytest.fixture(scope="module")
async def billing(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    """Two instances on one SQLite file: the first refuses unpriced models for keys that
    count cost (the default), the second allows them (`unpriced_models: allow`)."""
    deployment = await open_deployment("sqlite", tmp_path_factory.mktemp("billing"), upstream, 0)
    try:
        deployment.add_instance(config=billing_config(upstream))
        deployment.add_instance(config=billing_config(upstream, unpriced_models="allow"))
        yield deployment
    finally:
        await close_deployment(deployment)


def chat(proc: AiportProcess, key: str, model: str, **body: Any) -> Any:
    messages = body.pop("messages", [{"role": "user", "content": "Hello there"}])
    return raw_request(
        proc.base_url + CHAT_PATH, {"model": model, "messages": messages, **body}, key=key
    )


def by_model(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["model_requested"], []).append(row)
    return grouped


async def test_an_unpriced_model_is_refused_for_keys_that_count_cost(
    billing: Deployment, upstream: FakeUpstream
) -> None:
    seen = len(upstream.requests)
    for limits in ({"max_budget": 0.001}, {"tpm": 100_000}, {"max_tokens_total": 100_000}):
        key = billing.create_key(**limits)["key"]
        error = assert_openai_error(chat(billing.first, key, UNRELEASED), 400, "model")
        assert error["code"] == "model_price_unknown", error
        assert UNRELEASED in error["message"] and "prices:" in error["message"]
        assert "unpriced_models: allow" in error["message"]
    assert all(r["body"]["model"] != UNRELEASED for r in upstream.requests[seen:])


async def test_a_group_with_an_unpriced_deployment_is_refused_for_keys_that_count_cost(
    billing: Deployment,
) -> None:
    """Its first deployment is priced, so admission passed, but when it failed the next
    tier (no price) answered and the key was billed nothing (`unpriced_models: allow`
    serves it)."""
    first, allowing = billing.instances
    budget = billing.create_key(max_budget=1.0)["key"]
    error = assert_openai_error(chat(first, budget, "mixed-tiers", max_tokens=100), 400, "model")
    assert error["code"] == "model_price_unknown" and UNRELEASED in error["message"], error
    assert chat(first, billing.create_key()["key"], "mixed-tiers").status == 200  # no budget
    assert chat(allowing, budget, "mixed-tiers", max_tokens=100).status == 200


async def test_unpriced_requests_are_flagged_and_snapshots_priced_exactly(
    billing: Deployment,
) -> None:
    first, allowing = billing.instances
    plain = billing.create_key()  # no budget, no token limit: may use unpriced models
    budget = billing.create_key(max_budget=1.0)
    assert chat(first, plain["key"], UNRELEASED).status == 200
    assert chat(allowing, budget["key"], UNRELEASED).status == 200
    assert chat(first, budget["key"], "o1-pro", max_tokens=100).status == 200
    assert chat(first, budget["key"], "o1-pro-2025-03-19", max_tokens=100).status == 200

    [row] = await billing.wait_for_rows(plain["id"], 1)
    assert row["unpriced"] == 1 and row["cost_usd"] == 0.0
    rows = by_model(await billing.wait_for_rows(budget["id"], 3))
    assert [r["unpriced"] for r in rows[UNRELEASED]] == [1]
    # The fake upstream reports 11 prompt and 6 completion tokens: o1-pro's price, not o1's.
    o1_pro = (11 * 150 + 6 * 600) / M
    for model in ("o1-pro", "o1-pro-2025-03-19"):
        [priced] = rows[model]
        assert priced["unpriced"] == 0 and priced["cost_usd"] == pytest.approx(o1_pro)

    report = billing.admin("GET", f"/admin/usage?key={budget['id']}").json()["data"]
    assert {r["model"]: r["unpriced_requests"] for r in report} == {
        UNRELEASED: 1,
        "o1-pro": 0,
        "o1-pro-2025-03-19": 0,
    }
    listing = billing.cli("usage", "--key", budget["id"])
    assert listing.returncode == 0, listing.stderr
    [line] = [line for line in listing.stdout.splitlines() if UNRELEASED in line]
    assert "unpriced" in line and "1 served without a price" in listing.stdout


async def test_reservations_cover_chunked_bodies_every_choice_and_the_served_price(
    billing: Deployment,
) -> None:
    tight = billing.create_key(tpm=1000)["key"]
    url = billing.first.base_url + CHAT_PATH
    prompt = "word " * 1000  # ~1250 tokens, in a body sent without a Content-Length

    async def chunked() -> AsyncIterator[bytes]:
        body = (
            '{"model": "gpt-4o", "max_tokens": 10, "messages": [{"role": "user", "content": "'
            + prompt
            + '"}]}'
        ).encode()
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    headers = {"Authorization": f"Bearer {tight}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=chunked(), headers=headers) as response,
    ):
        assert response.status == 429, await response.text()
        error = (await response.json())["error"]
    assert "Request too large" in error["message"]
    assert int(error["message"].split("Requested ")[1].split(".")[0]) >= 1250

    # n=4 choices of up to 300 tokens each reserve 1200 tokens, over the key's 1000 ...
    error = assert_openai_error(chat(billing.first, tight, "gpt-4o", max_tokens=300, n=4), 429)
    assert "Request too large" in error["message"]
    # ... one choice fits.
    assert chat(billing.first, tight, "gpt-4o", max_tokens=300).status == 200

    # `cheap` is served by gpt-4: 1000 output tokens at $60/1M do not fit in $0.01.
    budget = billing.create_key(max_budget=0.01)
    error = assert_openai_error(chat(billing.first, budget["key"], "cheap", max_tokens=1000), 429)
    assert error["code"] == "insufficient_quota"
    assert chat(billing.first, budget["key"], "cheap", max_tokens=10).status == 200
    rows = await billing.wait_for_rows(budget["id"], 2)
    [served] = [r for r in rows if r["status"] == 200]
    assert served["model_used"] == "gpt-4"
    assert served["cost_usd"] == pytest.approx((11 * 30 + 6 * 60) / M)


async def test_a_request_without_max_tokens_reserves_what_claude_is_asked_for(
    billing: Deployment,
) -> None:
    """An `anthropic` provider is sent its `default_max_tokens` (4096) when a chat or
    Responses request sets no limit; the reservation was the general 1024, so a budget
    could be overspent by four times what it reserved."""
    # claude-sonnet-4-5 at $15/1M output: 4096 tokens may cost $0.061; 1024 cost $0.015.
    budget = billing.create_key(max_budget=0.04)["key"]
    url = billing.first.base_url
    error = assert_openai_error(chat(billing.first, budget, "claude-native"), 429)
    assert error["code"] == "insufficient_quota", error
    asked = {"model": "claude-native", "input": "Hello there"}
    error = assert_openai_error(raw_request(url + "/v1/responses", asked, key=budget), 429)
    assert error["code"] == "insufficient_quota", error
    # A limit of the request's own is what is sent, and reserved.
    assert chat(billing.first, budget, "claude-native", max_tokens=1000).status == 200

    def requested(response: Any) -> int:
        assert response.status == 429, response.body[:300]
        message = response.json()["error"]["message"]
        assert "Request too large" in message, message
        return int(message.split("Requested ")[1].split(".")[0])

    tight = billing.create_key(tpm=3000)["key"]
    assert requested(chat(billing.first, tight, "claude-native")) >= 4096
    # A group Claude may serve (after an OpenAI deployment) reserves as much ...
    assert requested(chat(billing.first, tight, "gpt-or-claude")) >= 4096
    # ... while OpenAI alone, which is sent no limit, keeps the general estimate.
    assert chat(billing.first, tight, "gpt-4o").status == 200
    # /v1/messages: max_tokens is required, and reserved as it is sent.
    message = {"model": "claude-native", "messages": MESSAGES_BODY, "max_tokens": 3500}
    assert requested(raw_request(url + "/v1/messages", message, key=tight)) >= 3500
    message["max_tokens"] = 100
    assert raw_request(url + "/v1/messages", message, key=tight).status == 200


async def test_a_request_without_an_output_limit_reserves_the_most_the_model_may_produce(
    billing: Deployment,
) -> None:
    """OpenAI is sent no limit then, and a reasoning model may answer with many thousands
    of tokens: the reservation was 1,024, so a budget was overspent by the rest. Budgets
    now reserve the model's published maximum output; tpm still counts a typical answer."""
    budget = billing.create_key(max_budget=0.5)["key"]
    url = billing.first.base_url
    # gpt-5: 128,000 output tokens at $10/1M may cost $1.28, past $0.50.
    error = assert_openai_error(chat(billing.first, budget, "gpt-5"), 429)
    assert error["code"] == "insufficient_quota", error
    assert "may cost up to $1.28" in error["message"], error
    assert "max_completion_tokens" in error["message"], error
    asked = {"model": "gpt-5", "input": "Hello there"}
    error = assert_openai_error(raw_request(url + "/v1/responses", asked, key=budget), 429)
    assert "max_output_tokens" in error["message"], error
    # o4-mini: 100,000 at $4.40/1M, $0.44: fits; so does gpt-5 with a limit of its own.
    assert chat(billing.first, budget, "o4-mini").status == 200
    assert chat(billing.first, budget, "gpt-5", max_completion_tokens=1000).status == 200
    asked["max_output_tokens"] = 1000
    assert raw_request(url + "/v1/responses", asked, key=budget).status == 200
    # A model whose maximum aiport does not know (`endless`, priced in the config at $2/1M
    # output) reserves the documented default, 128,000 tokens: $0.256.
    small = billing.create_key(max_budget=0.2)["key"]
    error = assert_openai_error(chat(billing.first, small, "endless"), 429)
    assert "may cost up to $0.256" in error["message"], error

    # tpm counts the prompt and a typical answer (1,024), settled to the real count: a
    # request without a limit fits in 100k, as it did before.
    rated = billing.create_key(tpm=100_000)["key"]
    assert chat(billing.first, rated, "gpt-5").status == 200
    unlimited = {"model": "gpt-5", "input": "Hello there"}
    assert raw_request(url + "/v1/responses", unlimited, key=rated).status == 200


async def test_claude_is_billed_at_the_speed_and_place_it_reports_it_served(
    billing: Deployment,
) -> None:
    """Claude was priced by its name only: fast mode (6x on Opus 4.6) and US-only
    inference (1.1x) were billed, and reserved, at the standard rates."""
    key = billing.create_key(max_budget=5.0)
    url = billing.first.base_url + "/v1/messages"
    asked = {"model": "claude-opus", "messages": MESSAGES_BODY, "max_tokens": 100}
    ways = (
        {},
        {"speed": "fast"},
        {"inference_geo": "us"},
        {"speed": "fast", "inference_geo": "us"},
    )
    for way in ways:
        assert raw_request(url, asked | way, key=key["key"]).status == 200
        streamed = raw_request(url, asked | way | {"stream": True}, key=key["key"])
        assert b"message_stop" in streamed.body
    rows = await billing.wait_for_rows(key["id"], 8)
    whole, stream = (11 * 5 + 6 * 25) / M, (9 * 5 + 4 * 25) / M  # Opus 4.6: $5 / $25
    expected = [cost * factor for cost in (whole, stream) for factor in (1, 6, 1.1, 6.6)]
    assert sorted(r["cost_usd"] for r in rows) == pytest.approx(sorted(expected))
    # The reservation too: 1,000 output tokens may cost $0.025, fast $0.15.
    edge = billing.create_key(max_budget=0.1)["key"]
    asked["max_tokens"] = 1000
    assert raw_request(url, asked, key=edge).status == 200
    refused = raw_request(url, asked | {"speed": "fast"}, key=edge)
    assert refused.status == 429 and b"may cost up to $0.15" in refused.body, refused.body


def gpt_4_cost(prompt: int, completion: int) -> float:
    return (prompt * 30 + completion * 60) / M


async def test_a_group_reserves_what_its_dearest_deployment_or_fallback_would_cost(
    billing: Deployment,
) -> None:
    """Led by a free embedded engine, with gpt-4 behind it: reserving $0 let a key at the
    edge of its budget be served (and billed) by gpt-4 well past it."""
    # "Hello there" is estimated at 8 prompt tokens: with 10 output tokens, gpt-4 may
    # cost $0.00084 — more than this key has left.
    edge = billing.create_key(max_budget=0.0005)
    for model in ("local-first", "local-or-fallback"):
        error = assert_openai_error(chat(billing.first, edge["key"], model, max_tokens=10), 429)
        assert error["code"] == "insufficient_quota", (model, error)

    # A key that can afford gpt-4 is served by it and billed by gpt-4's price.
    able = billing.create_key(max_budget=0.01)
    for model in ("local-first", "local-or-fallback"):
        response = chat(billing.first, able["key"], model, max_tokens=10)
        assert response.status == 200, (model, response.body[:300])
    rows = await billing.wait_for_rows(able["id"], 2)
    assert [(r["model_used"], r["status"]) for r in rows] == [("gpt-4", 200)] * 2
    for row in rows:  # the fake upstream reports 11 prompt and 6 completion tokens
        assert row["cost_usd"] == pytest.approx(gpt_4_cost(11, 6)), row
    assert billing.key_info(able["id"])["spend_usd"] == pytest.approx(2 * gpt_4_cost(11, 6))


async def test_a_request_that_used_more_than_it_reserved_is_billed_in_full_then_refused(
    billing: Deployment,
) -> None:
    """What a budget key can overspend by: the excess of requests' real use over their
    estimates (here the upstream counts 11 prompt tokens where 8 were estimated and
    answers 6 tokens to `max_tokens: 1`). It is billed, never capped at the reservation,
    and the key is refused from then on."""
    created = billing.create_key(max_budget=0.0005)
    key = created["key"]
    reserved = gpt_4_cost(8, 1)  # $0.0003: fits
    assert reserved < 0.0005 < gpt_4_cost(11, 6)
    assert chat(billing.first, key, "cheap", max_tokens=1).status == 200
    [row] = await billing.wait_for_rows(created["id"], 1)
    assert row["cost_usd"] == pytest.approx(gpt_4_cost(11, 6)), row
    assert billing.key_info(created["id"])["spend_usd"] == pytest.approx(gpt_4_cost(11, 6))
    error = assert_openai_error(chat(billing.first, key, "cheap", max_tokens=1), 429)
    assert error["code"] == "insufficient_quota", error


async def test_a_budget_removed_then_set_again_counts_what_was_spent_meanwhile(
    billing: Deployment,
) -> None:
    """While the key had no budget (but a rate limit), each request's settlement still
    moved its remembered spend, by what it used minus what it reserved (never added):
    set again, the budget started far below what the key had really spent."""
    created = billing.create_key(rpm=1000, max_budget=0.001)
    key, path = created["key"], f"/admin/keys/{created['id']}"
    assert chat(billing.first, key, "cheap", max_tokens=10).status == 200
    assert billing.admin("PATCH", path, {"max_budget": None}).status == 200
    for _ in range(3):  # each reserves $0.06 (1000 output tokens) and uses $0.00069
        assert chat(billing.first, key, "cheap", max_tokens=1000).status == 200
    assert billing.admin("PATCH", path, {"max_budget": 0.002}).status == 200
    # 4 x $0.00069 spent: over the new $0.002.
    error = assert_openai_error(chat(billing.first, key, "cheap", max_tokens=1), 429)
    assert error["code"] == "insufficient_quota", error


def silent_wav(seconds: int) -> bytes:
    """`seconds` of silence as a WAV file (1 kHz, 8 bits: a kilobyte a second)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(1)
        audio.setframerate(1000)
        audio.writeframes(b"\x80" * 1000 * seconds)
    return buffer.getvalue()


def sdk(billing: Deployment, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=billing.first.base_url + "/v1", api_key=key, max_retries=0)


async def test_a_transcription_reserves_and_is_billed_by_the_length_of_its_audio(
    billing: Deployment,
) -> None:
    """whisper-1 costs $0.006 a minute. Before the upload is read its length is unknown, so
    nothing was reserved for it: a key at the edge of its budget was served past it. And an
    answer that does not say how long the audio was (`response_format: text`) cost $0."""
    minute = ("minute.wav", silent_wav(60))

    def api(key: str) -> openai.OpenAI:
        return sdk(billing, key)

    edge = billing.create_key(max_budget=0.005)
    with pytest.raises(openai.RateLimitError) as refused:
        api(edge["key"]).audio.transcriptions.create(model="whisper-1", file=minute)
    assert refused.value.code == "insufficient_quota"

    able = billing.create_key(max_budget=0.1)
    client = api(able["key"])
    reported = client.audio.transcriptions.create(model="whisper-1", file=minute)
    assert reported.text == "hello world"  # and the fake upstream says: 2 seconds
    text = client.audio.transcriptions.create(
        model="whisper-1", file=minute, response_format="text"
    )
    assert text.strip() == "hello world"  # nothing else: billed by the upload's length
    rows = await billing.wait_for_rows(able["id"], 2)
    assert sorted((r["cost_usd"], r["unpriced"]) for r in rows) == [
        (pytest.approx(0.006 * 2 / 60), 0),
        (pytest.approx(0.006), 0),
    ]

    # gpt-4o-transcribe is priced by tokens, which a plain-text answer does not report: its
    # cost cannot be counted, so a key with a budget is refused it (it was served free) ...
    with pytest.raises(openai.BadRequestError) as unpriced:
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=minute, response_format="srt"
        )
    assert unpriced.value.code == "model_price_unknown"
    assert "audio_minute" in unpriced.value.message
    # ... and a key without one is served, the row flagged as served without a price.
    plain = billing.create_key()
    api(plain["key"]).audio.transcriptions.create(
        model="gpt-4o-transcribe", file=minute, response_format="text"
    )
    [row] = await billing.wait_for_rows(plain["id"], 1)
    assert (row["cost_usd"], row["unpriced"]) == (0.0, 1)


async def test_a_transcription_priced_by_tokens_reserves_for_its_audio_and_bills_its_usage(
    billing: Deployment,
) -> None:
    """gpt-4o-transcribe bills audio input tokens ($6 per 1M) and transcript tokens ($10):
    admission reserved only its text prompt (about $0), so a key at the edge of its budget
    was served a whole transcription past it. A minute of audio now reserves 600 audio
    tokens and 300 transcript tokens ($0.0066); the answer's usage is what is billed."""
    minute = ("minute.wav", silent_wav(60))
    edge = billing.create_key(max_budget=0.005)
    with pytest.raises(openai.RateLimitError) as refused:
        sdk(billing, edge["key"]).audio.transcriptions.create(
            model="gpt-4o-transcribe", file=minute
        )
    assert refused.value.code == "insufficient_quota"

    able = billing.create_key(max_budget=0.1)
    answer = sdk(billing, able["key"]).audio.transcriptions.create(
        model="gpt-4o-transcribe", file=minute
    )
    assert answer.text == "hello world"  # the fake upstream reports 14 audio tokens, 45 out
    [row] = await billing.wait_for_rows(able["id"], 1)
    billed = (14 * 6 + 45 * 10) / M
    assert (row["prompt_tokens"], row["completion_tokens"]) == (14, 45)
    assert (row["cost_usd"], row["unpriced"]) == (pytest.approx(billed), 0)
    assert billing.key_info(able["id"])["spend_usd"] == pytest.approx(billed)


def mp3_claiming_hours(seconds: float, claimed_frames: int) -> bytes:
    """`seconds` of silence as MP3 whose Info header claims `claimed_frames` frames (1,152
    samples each at 16 kHz: 500 hours for 25 million), as a crafted or broken file may."""
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("mp3", rate=16_000, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, int(16_000 * seconds)), dtype=np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 16_000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    data = bytearray(out.getvalue())
    at = data.index(b"Info") + 8  # tag, flags, then the frame count (big-endian)
    data[at : at + 4] = claimed_frames.to_bytes(4, "big")
    return bytes(data)


async def test_a_transcription_is_billed_by_the_audio_its_file_holds_not_its_header_claim(
    billing: Deployment,
) -> None:
    """A 1-second MP3 whose header claims 500 hours was priced by the claim: $180 to
    reserve, so a key with a $0.10 budget was refused it as over quota, and a key with a
    bigger one was billed $180 for a plain-text transcript of one second."""
    liar = ("short.mp3", mp3_claiming_hours(1.0, 25_000_000))
    key = billing.create_key(max_budget=0.1)
    text = sdk(billing, key["key"]).audio.transcriptions.create(
        model="whisper-1", file=liar, response_format="text"
    )
    assert text.strip() == "hello world"
    [row] = await billing.wait_for_rows(key["id"], 1)
    assert row["audio_seconds"] == pytest.approx(1.0, abs=0.2)
    assert (row["cost_usd"], row["unpriced"]) == (pytest.approx(0.006 / 60, rel=0.2), 0)


async def test_an_image_edit_is_billed_by_the_tokens_its_answer_reports(
    billing: Deployment,
) -> None:
    """GPT Image models bill edits by tokens; only the number of pictures was read from
    the answer, which a price by tokens cannot bill: every edit cost $0 (flagged
    unpriced), so a key's budget never moved."""
    key = billing.create_key(max_budget=1.0)
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    edited = sdk(billing, key["key"]).images.edit(
        model="gpt-image-1", image=("a.png", picture, "image/png"), prompt="add a hat"
    )
    assert edited.data and edited.data[0].b64_json == "aGVsbG8="
    [row] = await billing.wait_for_rows(key["id"], 1)
    billed = (10 * 5 + 40 * 10 + 272 * 40) / M  # text and image input, picture tokens
    assert (row["prompt_tokens"], row["completion_tokens"], row["images"]) == (50, 272, 1)
    assert (row["cost_usd"], row["unpriced"]) == (pytest.approx(billed), 0)


async def test_a_streamed_picture_is_passed_through_and_billed_by_its_tokens(
    billing: Deployment, upstream: FakeUpstream
) -> None:
    """`stream: true` never reached the upstream (not a field aiport knew), so the SDK,
    reading events, got a JSON answer and no picture at all."""
    key = billing.create_key(max_budget=1.0)
    events = list(
        sdk(billing, key["key"]).images.generate(
            model="gpt-image-1", prompt="a red ball", stream=True, partial_images=1
        )
    )
    assert [e.type for e in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert events[-1].b64_json == "aGVsbG8="
    assert upstream.last("/images/generations")["body"]["stream"] is True
    [row] = await billing.wait_for_rows(key["id"], 1)
    billed = (10 * 5 + 40 * 10 + 272 * 40) / M
    assert (row["prompt_tokens"], row["completion_tokens"], row["images"]) == (50, 272, 1)
    assert (row["cost_usd"], row["unpriced"]) == (pytest.approx(billed), 0)


async def test_an_image_stream_cut_before_its_picture_bills_the_partial_pictures_sent(
    billing: Deployment,
) -> None:
    """OpenAI bills each partial picture of a GPT Image stream (100 image output tokens);
    a stream that broke off before its `completed` event (which reports the usage) was
    billed $0 for the prompt and the pictures it had sent."""
    key = billing.create_key(max_budget=1.0)
    url = billing.first.base_url + "/v1/images/generations"
    asked = {"model": "gpt-image-1", "prompt": "cut: a red ball", "stream": True}
    for partials in (2, 3):
        answer = raw_request(url, asked | {"partial_images": partials}, key=key["key"])
        assert answer.body.count(b"event: image_generation.partial_image") == partials
        assert b"image_generation.completed" not in answer.body
    rows = await billing.wait_for_rows(key["id"], 2)
    # 15 characters of prompt: 4 tokens; 100 output tokens per partial picture (a whole
    # picture of the default quality may have 4160).
    assert sorted((r["prompt_tokens"], r["completion_tokens"]) for r in rows) == [
        (4, 200),
        (4, 300),
    ]
    for row in rows:
        billed = (4 * 5 + row["completion_tokens"] * 40) / M
        assert (row["cost_usd"], row["images"]) == (pytest.approx(billed), 0), row
    # A low-quality picture has 272 output tokens: three partial pictures bill no more.
    low = billing.create_key(max_budget=1.0)
    body = asked | {"partial_images": 3, "quality": "low", "size": "1024x1024"}
    raw_request(url, body, key=low["key"])
    [row] = await billing.wait_for_rows(low["id"], 1)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (4, 272), row
    # A client that leaves after two partial pictures is billed them, too.
    left = billing.create_key(max_budget=1.0)
    hang = asked | {"prompt": "hang: a red ball", "partial_images": 2}
    sock = raw_post(billing.first, left["key"], "/v1/images/generations", hang)
    assert read_events(sock, 2).count(b"event: image_generation.partial_image") == 2
    sock.close()
    row = await cut_stream_row(billing, left["id"])
    assert (row["prompt_tokens"], row["completion_tokens"]) == (4, 200), row


async def test_a_streamed_image_edit_is_passed_through_and_billed_by_its_tokens(
    billing: Deployment,
) -> None:
    """The upstream's events were read as one JSON answer: a 502 for every streamed edit."""
    key = billing.create_key(max_budget=1.0)
    events = list(
        sdk(billing, key["key"]).images.edit(
            model="gpt-image-1",
            image=("a.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
            prompt="add a hat",
            stream=True,
            partial_images=1,
        )
    )
    assert [e.type for e in events] == ["image_edit.partial_image", "image_edit.completed"]
    [row] = await billing.wait_for_rows(key["id"], 1)
    billed = (10 * 5 + 40 * 10 + 272 * 40) / M
    assert (row["prompt_tokens"], row["completion_tokens"], row["images"]) == (50, 272, 1)
    assert (row["status"], row["cost_usd"], row["unpriced"]) == (200, pytest.approx(billed), 0)


async def test_a_legacy_completion_reserves_every_prompt_and_every_candidate(
    billing: Deployment,
) -> None:
    """OpenAI completes each prompt of a list `n` times and generates `best_of` candidates
    (billing them all); the reservation counted one prompt and `n`: a list of 20 prompts or
    `best_of: 20` reserved 1,000 tokens ($0.002) for 20,000 ($0.04) — past a $0.01 budget."""
    key = billing.create_key(max_budget=0.01)["key"]
    url = billing.first.base_url + "/v1/completions"
    body = {"model": "gpt-3.5-turbo-instruct", "max_tokens": 1000}
    for asked in ({"prompt": ["Hello"] * 20}, {"prompt": "Hello", "best_of": 20}):
        refused = assert_openai_error(raw_request(url, body | asked, key=key), 429)
        assert refused["code"] == "insufficient_quota", refused
    assert raw_request(url, body | {"prompt": ["Hello"] * 2, "best_of": 2}, key=key).status == 200
    mismatched = raw_request(url, body | {"prompt": "Hello", "n": 3, "best_of": 2}, key=key)
    assert assert_openai_error(mismatched, 400, "best_of")


async def test_a_legacy_completion_without_max_tokens_is_sent_what_it_reserved(
    billing: Deployment, upstream: FakeUpstream
) -> None:
    """It reserved OpenAI's default, 16 tokens, but was sent no limit: an upstream whose
    default is another (llama.cpp's server: until the context ends) could answer past it."""
    key = billing.create_key(max_budget=1.0)["key"]
    url = billing.first.base_url + "/v1/completions"
    for stream in (False, True):
        asked = {"model": "gpt-3.5-turbo-instruct", "prompt": "Hello", "stream": stream}
        assert raw_request(url, asked, key=key).status == 200
        assert upstream.last("/completions")["body"]["max_tokens"] == 16
    asked = {"model": "gpt-3.5-turbo-instruct", "prompt": "Hello", "max_tokens": 5}
    assert raw_request(url, asked, key=key).status == 200
    assert upstream.last("/completions")["body"]["max_tokens"] == 5


async def test_a_request_that_fails_before_any_output_costs_nothing(
    billing: Deployment,
) -> None:
    created = billing.create_key(max_budget=5.0)
    key = created["key"]
    big = [{"role": "user", "content": "x" * 400_000}]  # ~100k tokens: $3 at gpt-4's price
    assert_openai_error(chat(billing.first, key, "error-400", messages=big, max_tokens=9), 400)
    failing = chat(billing.first, key, "error-502", messages=big, max_tokens=9, stream=True)
    assert_openai_error(failing, 502)
    speech = raw_request(
        billing.first.base_url + "/v1/audio/speech",
        {"model": "error-500", "input": "Hallo " * 500, "voice": "alloy"},
        key=key,
    )
    assert_openai_error(speech, 500)

    rows = await billing.wait_for_rows(created["id"], 3)
    assert sorted(r["status"] for r in rows) == [400, 500, 502]
    for row in rows:
        assert row["prompt_tokens"] == row["completion_tokens"] == row["characters"] == 0, row
        assert row["cost_usd"] == 0.0 and row["unpriced"] == 0, row
    await asyncio.sleep(0.2)  # the reservations are settled in the background
    info = billing.key_info(created["id"])
    assert info["spend_usd"] == 0.0 and info["tokens_used"] == 0


# -- streams cut by the client ------------------------------------------------------------


def open_raw_stream(proc: AiportProcess, key: str, model: str, tag: str) -> socket.socket:
    """A streaming chat request on a raw socket with a small receive buffer, so that the
    test decides when (and whether) the answer is read."""
    messages = [{"role": "user", "content": "Hello there"}]
    asked = {"model": model, "stream": True, "user": tag, "messages": messages}
    return raw_post(proc, key, CHAT_PATH, asked)


def raw_post(proc: AiportProcess, key: str, path: str, asked: dict[str, Any]) -> socket.socket:
    body = json.dumps(asked).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", proc.port))
    sock.sendall(head + body)
    return sock


def read_events(sock: socket.socket, count: int) -> bytes:
    """Read until `count` SSE events have arrived; everything read, headers included."""
    data = b""
    while data.count(b"\n\n") < count:
        chunk = sock.recv(65536)
        assert chunk, data[-300:]
        data += chunk
    return data


def tokens_of(chars: int) -> int:
    return math.ceil(chars / 4)


async def cut_stream_row(billing: Deployment, key_id: str) -> dict[str, Any]:
    [row] = await billing.wait_for_rows(key_id, 1)
    assert row["status"] == 499, row
    return row


async def test_a_stream_cut_after_some_chunks_costs_what_was_delivered(
    billing: Deployment, upstream: FakeUpstream
) -> None:
    created = billing.create_key(max_budget=10.0)
    tag = uuid.uuid4().hex
    sock = open_raw_stream(billing.first, created["key"], "endless", tag)
    read = await asyncio.to_thread(read_events, sock, 4)  # the role, then 3 of "tick "
    sock.close()
    row = await cut_stream_row(billing, created["id"])

    seen = read.count(b'"content":"tick "')
    sent = upstream.sent_chunks[tag]
    assert seen >= 3
    assert tokens_of(5 * seen) <= row["completion_tokens"] <= tokens_of(5 * sent), (row, sent)
    assert row["prompt_tokens"] > 0  # the prompt was processed: billed as estimated
    assert row["cost_usd"] > 0


async def test_a_stream_the_client_stopped_reading_then_closed_costs_what_was_delivered(
    billing: Deployment, upstream: FakeUpstream
) -> None:
    created = billing.create_key(max_budget=10.0)
    tag = uuid.uuid4().hex
    sock = open_raw_stream(billing.first, created["key"], "flood", tag)
    read = await asyncio.to_thread(read_events, sock, 2)  # the role and the first text

    def stalled() -> bool:
        """aiport stopped taking chunks: its writes to this client are blocked."""
        before = upstream.sent_chunks.get(tag, 0)
        time.sleep(0.3)
        return before > 0 and upstream.sent_chunks.get(tag, 0) == before

    assert await asyncio.to_thread(wait_for, stalled, 20)
    sock.close()
    row = await cut_stream_row(billing, created["id"])

    seen = read.count(b'"content":"' + b"x" * 4000)
    sent = upstream.sent_chunks[tag]
    assert seen >= 1
    assert tokens_of(4000 * seen) <= row["completion_tokens"] <= tokens_of(4000 * sent), (
        row,
        sent,
    )
    assert await asyncio.to_thread(wait_for, lambda: "client_gone" in upstream.stream_events)


async def test_a_streamed_transcription_is_billed_by_the_usage_its_last_event_reports(
    billing: Deployment,
) -> None:
    """gpt-4o-transcribe with `stream: true` answers with events, the last of which
    (`transcript.text.done`) carries the token usage. It was billed nothing and flagged
    unpriced: a key with a budget transcribed for free."""
    key = billing.create_key(max_budget=1.0)
    client = openai.OpenAI(
        base_url=billing.first.base_url + "/v1", api_key=key["key"], max_retries=0
    )
    events = list(
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("minute.wav", silent_wav(60)), stream=True
        )
    )
    assert [e.type for e in events][-1] == "transcript.text.done"
    assert "".join(e.delta for e in events if e.type == "transcript.text.delta") == "hello world"
    [row] = await billing.wait_for_rows(key["id"], 1)
    assert (row["prompt_tokens"], row["completion_tokens"], row["unpriced"]) == (1000, 500, 0)
    # 1,000 audio tokens at $6 and 500 output tokens at $10 per million
    assert row["cost_usd"] == pytest.approx(0.006 + 0.005)
