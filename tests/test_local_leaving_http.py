"""A client that leaves a request to the local chat engine over HTTP stops the model's work
and is billed for what it was sent: for a stream cut after a few chunks, some tokens but
not all it asked for; for an answer left before it came, none. Every protocol on the chat
engine: chat completions, legacy completions, the Responses API, Anthropic's Messages API.

The engine's `busy` (in `/health`) falls back to 0 only once its worker stopped.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest

from tests.support.fake_upstream import wait_for
from tests.support.server import AiportProcess, raw_request

pytestmark = pytest.mark.slow

ASKED = 400  # output tokens asked for: far more than are made before the client leaves
STORY = "Tell a long story about a dragon."


@pytest.fixture(scope="module")
def local(local_server: AiportProcess) -> AiportProcess:
    return local_server  # the session's (loading every model takes a while)


def chat_busy(local: AiportProcess) -> int:
    health = raw_request(local.base_url + "/health").json()
    return int(health["backends"]["local-chat"]["busy"])


def new_key(local: AiportProcess, name: str) -> dict[str, Any]:
    created = raw_request(local.base_url + "/admin/keys", {"name": name})
    assert created.status == 201, created.body
    return dict(created.json())


def billed(local: AiportProcess, key_id: str) -> dict[str, int]:
    """The key's one usage row, once written."""
    rows: list[dict[str, Any]] = []

    def recorded() -> bool:
        rows[:] = raw_request(local.base_url + f"/admin/usage?key={key_id}").json()["data"]
        return sum(row["requests"] for row in rows) == 1

    assert wait_for(recorded, timeout=30), rows
    return {field: int(rows[0][field]) for field in ("errors", "completion_tokens")}


def streams(local: AiportProcess, key: str) -> dict[str, Callable[[], Iterator[Any]]]:
    client = local.client(api_key=key)
    claude = anthropic.Anthropic(base_url=local.base_url, api_key=key, max_retries=0)
    chat = [{"role": "user", "content": STORY}]
    return {
        "chat": lambda: client.chat.completions.create(
            model="gpt-4o", messages=chat, max_tokens=ASKED, stream=True
        ),
        "completions": lambda: client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="1, 2, 3, 4, 5,", max_tokens=ASKED, stream=True
        ),
        "responses": lambda: client.responses.create(
            model="gpt-4o", input=STORY, max_output_tokens=ASKED, stream=True, store=False
        ),
        "messages": lambda: claude.messages.create(
            model="claude-sonnet-5", messages=chat, max_tokens=ASKED, stream=True
        ),
    }


@pytest.mark.parametrize("kind", ["chat", "completions", "responses", "messages"])
def test_a_client_who_leaves_a_stream_stops_it_and_pays_what_it_was_sent(
    local: AiportProcess, kind: str
) -> None:
    key = new_key(local, f"leaves-{kind}")
    stream = streams(local, key["key"])[kind]()
    for received, _ in enumerate(stream):
        if received == 8:
            break
    stream.close()  # type: ignore[attr-defined]
    assert wait_for(lambda: chat_busy(local) == 0, timeout=60)
    row = billed(local, key["id"])
    assert row["errors"] == 1  # 499: the client went away
    assert 0 < row["completion_tokens"] < ASKED, row


def test_a_client_who_leaves_before_the_answer_stops_it_and_pays_nothing(
    local: AiportProcess,
) -> None:
    key = new_key(local, "leaves-whole")
    body = json.dumps(
        {"model": "gpt-4o", "max_tokens": ASKED, "messages": [{"role": "user", "content": STORY}]}
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {key['key']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", local.port), timeout=10) as sock:
        sock.sendall(head + body)
        assert wait_for(lambda: chat_busy(local) == 1, timeout=60)  # generating
    assert wait_for(lambda: chat_busy(local) == 0, timeout=60)
    assert billed(local, key["id"]) == {"errors": 1, "completion_tokens": 0}
