"""llama.cpp's own HTTP listener is unusable from outside; the model loads and unloads cleanly."""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiport.backends.base import Call
from aiport.backends.local.chat import (
    DEFAULT_MODEL_ID,
    LlamaChatBackend,
    LlamaEngine,
    smollm2_gguf_path,
)
from aiport.protocol.chat import ChatCompletionRequest

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]


def tcp_listening_inodes() -> set[str]:
    """Inodes of the TCP sockets in LISTEN state that this process holds."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    listening.add(fields[9])
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            ours.add(target[8:-1])
    return listening & ours


@pytest.fixture(scope="module")
async def loaded() -> AsyncIterator[tuple[LlamaChatBackend, set[str]]]:
    """The backend, loaded lazily, and the TCP listeners its loading opened."""
    backend = LlamaChatBackend(load_at_start=False)
    await backend.start()
    assert backend.status() == {"model": DEFAULT_MODEL_ID, "loaded": False, "busy": 0}
    before = tcp_listening_inodes()
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    result = await backend.chat(Call.from_body(ChatCompletionRequest, body, DEFAULT_MODEL_ID))
    assert result.data["choices"][0]["finish_reason"] in {"stop", "length"}
    opened = tcp_listening_inodes() - before
    yield backend, opened
    await backend.close()


def engine(backend: LlamaChatBackend) -> LlamaEngine:
    assert backend.engine is not None
    return backend.engine


def unix_request(path: str, method: str, target: str, body: object, key: str | None) -> int:
    connection = http.client.HTTPConnection("localhost", timeout=10)
    connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.sock.connect(path)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    connection.request(method, target, body=json.dumps(body), headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


async def test_the_first_call_loads_the_model(loaded: tuple[LlamaChatBackend, set[str]]) -> None:
    backend, _ = loaded
    assert backend.status() == {"model": DEFAULT_MODEL_ID, "loaded": True, "busy": 0}
    assert [card.id for card in backend.models()] == [DEFAULT_MODEL_ID]
    assert backend.models()[0].capabilities == ("chat",)


async def test_no_tcp_port_is_opened(loaded: tuple[LlamaChatBackend, set[str]]) -> None:
    _, opened = loaded
    assert opened == set()


async def test_the_listener_is_a_private_unix_socket(
    loaded: tuple[LlamaChatBackend, set[str]],
) -> None:
    path = Path(engine(loaded[0]).socket_path)
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # other users cannot reach it


async def test_the_listener_refuses_requests_without_the_key(
    loaded: tuple[LlamaChatBackend, set[str]],
) -> None:
    llama = engine(loaded[0])
    chat = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    for key in (None, "wrong-key"):
        assert llama.http_get("/v1/models", key)[0] == 401
        assert llama.http_get("/props", key)[0] == 401
        assert unix_request(llama.socket_path, "POST", "/v1/chat/completions", chat, key) == 401
        assert unix_request(llama.socket_path, "POST", "/completion", {"prompt": "a"}, key) == 401


async def test_the_template_without_tools_is_detected(
    loaded: tuple[LlamaChatBackend, set[str]],
) -> None:
    assert engine(loaded[0]).supports_tools is False


async def test_a_tool_capable_template_accepts_tools() -> None:
    template = (
        "{% if tools %}<|im_start|>system\n<tools>{% for tool in tools %}{{ tool | tojson }}"
        "{% endfor %}</tools>\nCall a tool as <tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
        "{% endif %}{% for message in messages %}"
        '{% if message.role == "assistant" and message.tool_calls %}<|im_start|>assistant'
        "{% for tool_call in message.tool_calls %}\n<tool_call>\n"
        '{"name": "{{ tool_call.function.name }}", "arguments": '
        "{{ tool_call.function.arguments if tool_call.function.arguments is string "
        "else tool_call.function.arguments | tojson }}}\n</tool_call>{% endfor %}<|im_end|>\n"
        "{% else %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n"
        "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    backend = LlamaChatBackend(chat_template=template, n_ctx=512)
    await backend.start()
    try:
        assert engine(backend).supports_tools is True
        body = {
            "model": "m",
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [WEATHER_TOOL],
            "max_tokens": 4,
        }
        result = await backend.chat(Call.from_body(ChatCompletionRequest, body, "m"))
        assert result.data["choices"][0]["finish_reason"] in {"stop", "length", "tool_calls"}
    finally:
        await backend.close()


async def test_any_gguf_serves_under_its_own_id_and_close_unloads_it() -> None:
    backend = LlamaChatBackend(model_id="my-smol", gguf_path=str(smollm2_gguf_path()), n_ctx=512)
    await backend.start()
    assert [card.id for card in backend.models()] == ["my-smol"]
    body = {"model": "mine", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    result = await backend.chat(Call.from_body(ChatCompletionRequest, body, "my-smol"))
    assert result.data["model"] == "mine" and result.usage.completion_tokens > 0
    folder = Path(engine(backend).socket_path).parent
    assert folder.exists()
    await backend.close()
    assert not folder.exists()
    assert backend.status()["loaded"] is False


async def test_a_missing_gguf_file_fails_at_start_with_its_path(tmp_path: Path) -> None:
    backend = LlamaChatBackend(model_id="mine", gguf_path=str(tmp_path / "absent.gguf"))
    with pytest.raises(RuntimeError, match=r"absent\.gguf"):
        await backend.start()
    assert backend.status() == {"model": "mine", "loaded": False, "busy": 0}
