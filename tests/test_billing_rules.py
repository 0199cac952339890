"""What a key is charged, through a real server in front of the fake upstream: unpriced
models are refused for keys that count cost (or allowed and flagged), requests are priced
by the model that serves them, reservations cover the whole body and every choice, and a
request that failed before any output costs nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.accounts_e2e import CHAT_PATH, Deployment, close_deployment, open_deployment
from tests.support.fake_upstream import FakeUpstream
from tests.support.server import AiportProcess, assert_openai_error, proxy_config, raw_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

M = 1_000_000
UNRELEASED = "gpt-9-unreleased"  # a name the fake upstream serves and no price table knows


def billing_config(upstream: FakeUpstream, **extra: Any) -> dict[str, Any]:
    config = proxy_config(upstream)
    config["models"]["cheap"] = {"provider": "openai", "model": "gpt-4"}
    # The fake upstream fails on these names; priced like gpt-4, so budget keys reach it.
    config["prices"] = {
        "error-400": {"input": 30, "output": 60},
        "error-502": {"input": 30, "output": 60},
        "error-500": {"characters": 30},
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


async def test_unpriced_requests_are_flagged_and_snapshots_priced_exactly(
    billing: Deployment,
) -> None:
    first, allowing = billing.instances
    plain = billing.create_key()  # no budget, no token limit: may use unpriced models
    budget = billing.create_key(max_budget=1.0)
    assert chat(first, plain["key"], UNRELEASED).status == 200
    assert chat(allowing, budget["key"], UNRELEASED).status == 200
    assert chat(first, budget["key"], "o1-pro").status == 200
    assert chat(first, budget["key"], "o1-pro-2025-03-19").status == 200

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


async def test_a_request_that_fails_before_any_output_costs_nothing(
    billing: Deployment,
) -> None:
    created = billing.create_key(max_budget=5.0)
    key = created["key"]
    big = [{"role": "user", "content": "x" * 400_000}]  # ~100k tokens: $3 at gpt-4's price
    assert_openai_error(chat(billing.first, key, "error-400", messages=big), 400)
    assert_openai_error(chat(billing.first, key, "error-502", messages=big, stream=True), 502)
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
