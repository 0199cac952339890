"""Anthropic's protocol headers on /v1/messages: the caller's `anthropic-version` and
`anthropic-beta` (Anthropic's beta features depend on them) go on to an Anthropic upstream,
and never to one that is not Anthropic — not when the model is translated for a chat
upstream, not when an Anthropic deployment fails over to one within the same request.
The official `anthropic` SDK, a real `aiport serve`, a scripted HTTP upstream on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import orjson
import pytest

from tests.support.faulty_upstream import (
    FaultyUpstream,
    answer,
    chat_completion,
    module_upstream,
    status,
)
from tests.support.server import MASTER_KEY, AiportProcess

ANTHROPIC_KEY, CHAT_KEY = "sk-ant-upstream", "sk-chat-upstream"
BETAS = ["context-management-2025-06-27", "interleaved-thinking-2025-05-14"]
HELLO: Any = [{"role": "user", "content": "Hallo!"}]
PROTOCOL_HEADERS = {"anthropic-version", "anthropic-beta"}

upstream = module_upstream()


@pytest.fixture(scope="module")
def gateway(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    config = {
        "providers": {
            "claude": {"type": "anthropic", "base_url": upstream.url, "api_key": ANTHROPIC_KEY},
            "chat": {"base_url": upstream.url, "api_key": CHAT_KEY},
        },
        "models": {
            "claude-first": {
                "provider": "claude",
                "model": "claude-m",
                "num_retries": 0,
                "fallbacks": ["chat-only"],
            },
            "chat-only": {"provider": "chat", "model": "chat-m"},
        },
        "router": {"backoff_base": 0.01, "backoff_max": 0.05},
        "local": {"enabled": False},
    }
    server = AiportProcess(tmp_path_factory.mktemp("messages-headers"), config=config).start()
    yield server
    server.stop()


@pytest.fixture
def client(gateway: AiportProcess, upstream: FaultyUpstream) -> anthropic.Anthropic:
    upstream.clear()
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=MASTER_KEY, max_retries=0)


def anthropic_message(model: str) -> bytes:
    return orjson.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "Hello from Claude."}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 4},
        }
    )


def create(client: anthropic.Anthropic, model: str, **extra: Any) -> Any:
    return client.beta.messages.create(
        model=model,
        max_tokens=20,
        messages=HELLO,
        betas=BETAS,
        extra_headers={"anthropic-version": "2023-06-01"},
        **extra,
    )


def sent(upstream: FaultyUpstream, model: str) -> dict[str, str]:
    [request] = [r for r in upstream.requests if r.key == model]
    return request.headers


def test_an_anthropic_upstream_gets_the_callers_version_and_betas(
    client: anthropic.Anthropic, upstream: FaultyUpstream
) -> None:
    upstream.script("claude-m", answer(anthropic_message("claude-m")))
    message = create(client, "claude-first")
    assert message.content[0].text == "Hello from Claude."
    headers = sent(upstream, "claude-m")
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["anthropic-beta"] == ",".join(BETAS)
    assert headers["x-api-key"] == ANTHROPIC_KEY and "authorization" not in headers


def test_the_caller_picks_no_workspace_and_bills_no_one_else(
    client: anthropic.Anthropic, upstream: FaultyUpstream
) -> None:
    upstream.script("claude-m", answer(anthropic_message("claude-m")))
    create(
        client,
        "claude-first",
        workspace_id="wrkspc_other",
        user_profile_id="prof_other",
        billing_policy={"type": "billing_policy", "bill_to": "self"},  # the default: passed
    )
    assert not {"anthropic-workspace-id", "anthropic-user-profile-id"} & set(
        sent(upstream, "claude-m")
    )
    [request] = [r for r in upstream.requests if r.key == "claude-m"]
    assert request.body_json["billing_policy"] == {"type": "billing_policy", "bill_to": "self"}


@pytest.mark.parametrize("model", ["claude-first", "chat-only"])
def test_billing_someone_else_is_refused(
    client: anthropic.Anthropic, upstream: FaultyUpstream, model: str
) -> None:
    """aiport bills the key for what it serves: a request Anthropic would bill to another
    organization would be paid twice."""
    with pytest.raises(anthropic.BadRequestError) as refused:
        create(
            client,
            model,
            user_profile_id="prof_1",
            billing_policy={"type": "billing_policy", "bill_to": "user_profile"},
        )
    error: Any = refused.value.body
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith("billing_policy: aiport bills")
    assert upstream.requests == []


def test_a_chat_upstream_never_gets_anthropics_headers(
    client: anthropic.Anthropic, upstream: FaultyUpstream
) -> None:
    upstream.script("chat-m", answer(chat_completion("Hello from chat.", model="chat-m")))
    message = create(client, "chat-only")
    assert message.content[0].text == "Hello from chat."
    headers = sent(upstream, "chat-m")
    assert not PROTOCOL_HEADERS & set(headers), headers
    assert headers["authorization"] == f"Bearer {CHAT_KEY}" and "x-api-key" not in headers


def test_nor_when_an_anthropic_deployment_falls_back_to_it(
    client: anthropic.Anthropic, upstream: FaultyUpstream
) -> None:
    upstream.script("claude-m", status(529, "Overloaded"))
    upstream.script("chat-m", answer(chat_completion("Hello from chat.", model="chat-m")))
    message = create(client, "claude-first")
    assert message.content[0].text == "Hello from chat."
    assert sent(upstream, "claude-m")["anthropic-beta"] == ",".join(BETAS)
    headers = sent(upstream, "chat-m")
    assert not PROTOCOL_HEADERS & set(headers), headers
    assert "x-api-key" not in headers
