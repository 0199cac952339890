"""aiport in front of an upstream that misbehaves byte by byte: what the caller sees.

Before the first byte to the caller, a bad answer is a 502 in OpenAI's error shape; once a
stream has begun, it ends with one error frame and no `[DONE]`."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from tests.support.faulty_upstream import (
    FaultyUpstream,
    answer,
    chat_chunk,
    chat_completion,
    compressed,
    gzip_bomb,
    gzip_bomb_stream,
    hang_before_headers,
    huge_sse_line,
    interim_then,
    invalid_json,
    length_mismatch,
    module_upstream,
    rate_limited,
    reset_mid_stream,
    slow_first_byte,
    status,
)
from tests.support.server import AiportProcess, assert_openai_error, raw_request, sse_events

MAX_ANSWER = 1 << 20
MAX_EVENT = 64 << 10


faulty = module_upstream("faulty")


@pytest.fixture(scope="module")
def aiport(
    faulty: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    config = {
        "providers": {
            "openai": {
                "base_url": faulty.url,
                "api_key": "sk-upstream",
                "first_byte_timeout": 1.5,
                "max_answer_bytes": MAX_ANSWER,
                "max_event_bytes": MAX_EVENT,
            }
        },
        "default_provider": "openai",
        "local": {"enabled": False},
    }
    server = AiportProcess(tmp_path_factory.mktemp("faulty"), config).start()
    yield server
    server.stop()


def chat(aiport: AiportProcess, model: str, stream: bool = False):  # type: ignore[no-untyped-def]
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": stream}
    return raw_request(aiport.base_url + "/v1/chat/completions", body)


def test_compressed_and_interim_answers_reach_the_sdk_intact(
    aiport: AiportProcess, faulty: FaultyUpstream
) -> None:
    faulty.script("gz", compressed(chat_completion("from gzip", "gz"), "gzip"))
    faulty.script("hints", interim_then(answer(chat_completion("after hints", "hints")), 100, 103))
    client = aiport.client()
    for model, text in (("gz", "from gzip"), ("hints", "after hints")):
        completion = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hi"}]
        )
        assert completion.choices[0].message.content == text


@pytest.mark.parametrize("script", ["gzip-bomb", "too-big", "short-body"])
def test_a_bad_answer_is_a_502_before_the_first_byte(
    aiport: AiportProcess, faulty: FaultyUpstream, script: str
) -> None:
    faulty.script(
        script,
        {
            "gzip-bomb": gzip_bomb(8 << 20),
            "too-big": answer(b'{"x": "' + b"y" * (2 * MAX_ANSWER) + b'"}'),
            "short-body": length_mismatch(),
        }[script],
    )
    response = chat(aiport, script)
    assert_openai_error(response, 502)


@pytest.mark.parametrize("script", ["huge-line", "gzip-bomb-stream"])
def test_a_bad_stream_after_its_first_chunk_ends_with_an_error_frame(
    aiport: AiportProcess, faulty: FaultyUpstream, script: str
) -> None:
    first = chat_chunk("Hello", script)
    faulty.script(
        script,
        huge_sse_line(4 * MAX_EVENT, first)
        if script == "huge-line"
        else gzip_bomb_stream(8 << 20, first),
    )
    response = chat(aiport, script, stream=True)
    assert response.status == 200
    events = sse_events(response.body)
    assert b"[DONE]" not in events
    assert orjson.loads(events[0])["choices"][0]["delta"]["content"] == "Hello"
    assert set(orjson.loads(events[-1])["error"]) == {"message", "type", "param", "code"}
    assert len(events) == 2


def test_a_huge_first_line_is_a_502(aiport: AiportProcess, faulty: FaultyUpstream) -> None:
    faulty.script("huge-first", huge_sse_line(4 * MAX_EVENT))
    assert_openai_error(chat(aiport, "huge-first", stream=True), 502)


def test_upstream_errors_keep_their_status_and_retry_headers(
    aiport: AiportProcess, faulty: FaultyUpstream
) -> None:
    faulty.script("limited", rate_limited(retry_after="7", retry_after_ms="6500"))
    faulty.script("down", status(503, "overloaded"))
    limited = chat(aiport, "limited")
    assert_openai_error(limited, 429)
    assert (limited.headers["retry-after"], limited.headers["retry-after-ms"]) == ("7", "6500")
    assert assert_openai_error(chat(aiport, "down"), 503)["message"] == "overloaded"


def test_invalid_json_is_a_502(aiport: AiportProcess, faulty: FaultyUpstream) -> None:
    faulty.script("garbled", invalid_json())
    assert_openai_error(chat(aiport, "garbled"), 502)


def test_a_reset_mid_stream_ends_with_an_error_frame(
    aiport: AiportProcess, faulty: FaultyUpstream
) -> None:
    faulty.script("reset", reset_mid_stream(chat_chunk("Hello", "reset")))
    events = sse_events(chat(aiport, "reset", stream=True).body)
    assert [list(orjson.loads(event)) for event in events][-1] == ["error"]
    assert len(events) == 2


def test_a_slow_first_byte_waits_and_a_hang_times_out(
    aiport: AiportProcess, faulty: FaultyUpstream
) -> None:
    faulty.script("slow", slow_first_byte(0.2, answer(chat_completion("late", "slow"))))
    faulty.script("hang", hang_before_headers())
    assert chat(aiport, "slow").json()["choices"][0]["message"]["content"] == "late"
    assert_openai_error(chat(aiport, "hang"), 504)
