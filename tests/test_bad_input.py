"""Bad requests get OpenAI's error shape with the right status and `param`, never a 500.

Every answer here goes through `call`, which also checks the rules that hold for every
response: an `x-request-id`, no 500, and neither the master key nor the upstream key in
the body. The server log is checked for both keys at the end.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import (
    MASTER_KEY,
    UPSTREAM_KEY,
    AiportProcess,
    RawResponse,
    assert_openai_error,
    proxy_config,
    raw_request,
)

MESSAGES = [{"role": "user", "content": "Hallo!"}]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x01" * 2000
SMALL_JSON_LIMIT = 1000
SMALL_BODY_LIMIT = 5000


def call(server: AiportProcess, path: str, body: Any = None, **kwargs: Any) -> RawResponse:
    response = raw_request(server.base_url + path, body, **kwargs)
    assert response.status != 500, response.body
    assert response.headers.get("x-request-id", "").startswith("req_"), response.headers
    assert MASTER_KEY.encode() not in response.body
    assert UPSTREAM_KEY.encode() not in response.body
    return response


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": MESSAGES, **fields}


def speech(**fields: Any) -> dict[str, Any]:
    return {"model": "tts-1", "input": "Hallo", "voice": "alloy", **fields}


def embed(**fields: Any) -> dict[str, Any]:
    return {"model": "text-embedding-3-small", "input": "x", **fields}


def multipart(
    file: bytes | None, filename: str = "speech.mp3", **fields: str
) -> tuple[bytes, dict[str, str]]:
    boundary = "aiport-bad-input"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    if file is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: audio/mpeg\r\n\r\n'.encode()
            + file
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture(scope="module")
def small(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    """A proxy with tiny body limits."""
    server = AiportProcess(
        tmp_path_factory.mktemp("small-limits"),
        config=proxy_config(upstream),
        env={
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "AIPORT_MAX_JSON_BYTES": str(SMALL_JSON_LIMIT),
            "AIPORT_MAX_BODY_BYTES": str(SMALL_BODY_LIMIT),
        },
    ).start()
    yield server
    server.stop()


# -- bodies that are not what the endpoint reads ---------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "gpt-4o", "messages": [',
        b"",
        b"null",
        b'"a string"',
        b"\xff\xfe not utf-8",
        b'{"model": "gpt-4o", "messages": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
    ids=["truncated", "empty", "null", "string", "not-utf8", "too-deep"],
)
def test_malformed_json_is_400(proxy: AiportProcess, raw: bytes) -> None:
    response = call(
        proxy, "/v1/chat/completions", raw, headers={"Content-Type": "application/json"}
    )
    assert_openai_error(response, 400)


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions", "/v1/embeddings", "/moderations", "/images/generate"]
)
def test_json_array_body_is_400(proxy: AiportProcess, path: str) -> None:
    assert_openai_error(call(proxy, path, [chat()]), 400)


def test_form_urlencoded_on_a_json_endpoint_is_400(proxy: AiportProcess) -> None:
    response = call(
        proxy,
        "/v1/chat/completions",
        b"model=gpt-4o&messages=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_openai_error(response, 400)


def test_multipart_on_a_json_endpoint_is_400(proxy: AiportProcess) -> None:
    data, headers = multipart(MP3, model="gpt-4o")
    assert_openai_error(call(proxy, "/v1/chat/completions", data, headers=headers), 400)


def test_json_on_an_upload_endpoint_is_400_naming_file(proxy: AiportProcess) -> None:
    response = call(proxy, "/v1/audio/transcriptions", {"model": "whisper-1"})
    assert_openai_error(response, 400, param="file")


# -- bodies over the limit -------------------------------------------------------------


def send_head_only(server: AiportProcess, path: str, content_type: str, length: int) -> bytes:
    """Send headers claiming `length` bytes, then only a few; return what comes back.

    The rest of the body never comes: a server that waited for it would never answer (the
    socket's timeout turns that into a failure)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {MASTER_KEY}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"model": "gpt-4o", ')
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    return answer


@pytest.mark.parametrize(
    ("path", "content_type", "length"),
    [
        ("/v1/chat/completions", "application/json", SMALL_JSON_LIMIT + 1),
        ("/v1/embeddings", "application/json", 10**9),
        ("/v1/audio/transcriptions", "multipart/form-data; boundary=x", SMALL_BODY_LIMIT + 1),
        ("/audio/transcriptions", "multipart/form-data; boundary=x", 10**9),
        ("/v1/images/edits", "multipart/form-data; boundary=x", SMALL_BODY_LIMIT + 1),
    ],
)
def test_declared_length_over_the_limit_is_413_before_the_body(
    small: AiportProcess, path: str, content_type: str, length: int
) -> None:
    answer = send_head_only(small, path, content_type, length)  # without the body
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"x-request-id: req_" in answer.lower()
    assert b'"code":"request_too_large"' in answer


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/chat/completions", "application/json"),
        ("/v1/audio/transcriptions", "multipart/form-data; boundary=x"),
        ("/v1/images/edits", "multipart/form-data; boundary=x"),
    ],
)
def test_a_body_not_as_its_content_encoding_says_is_a_400(
    small: AiportProcess, path: str, content_type: str
) -> None:
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    answer = call(small, path, b"not gzip at all", headers=headers)
    assert_openai_error(answer, 400)
    assert "Content-Encoding" in answer.json()["error"]["message"]
    assert "Traceback" not in small.log()


def test_chunked_json_over_the_limit_is_413(small: AiportProcess) -> None:
    def pieces() -> Iterator[bytes]:
        yield b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}]}'

    # urllib sends an iterable body with Transfer-Encoding: chunked.
    response = call(
        small,
        "/v1/chat/completions",
        pieces(),  # type: ignore[arg-type]
        headers={"Content-Type": "application/json"},
    )
    assert_openai_error(response, 413)


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/images/edits"])
def test_chunked_upload_over_the_limit_is_413(small: AiportProcess, path: str) -> None:
    data, headers = multipart(MP3 * 4, model="whisper-1")
    response = call(small, path, iter([data]), headers=headers)  # type: ignore[arg-type]
    assert_openai_error(response, 413)


def test_bodies_under_the_limit_still_pass(small: AiportProcess) -> None:
    assert call(small, "/v1/chat/completions", chat()).status == 200
    data, headers = multipart(MP3, model="whisper-1")
    assert call(small, "/v1/audio/transcriptions", data, headers=headers).status == 200


# -- out-of-range and missing parameters -----------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/chat/completions", chat(temperature=3), "temperature"),
        ("/v1/chat/completions", chat(temperature=-0.1), "temperature"),
        ("/v1/chat/completions", chat(top_p=2), "top_p"),
        ("/v1/chat/completions", chat(n=0), "n"),
        ("/v1/chat/completions", chat(max_tokens=0), "max_tokens"),
        ("/v1/chat/completions", chat(max_completion_tokens=-1), "max_completion_tokens"),
        ("/v1/chat/completions", chat(stop=["a", "b", "c", "d", "e"]), "stop"),
        ("/v1/chat/completions", chat(presence_penalty=3), "presence_penalty"),
        ("/v1/chat/completions", chat(temperature=True), "temperature"),  # types are strict
        ("/v1/chat/completions", chat(temperature="0.7"), "temperature"),
        ("/v1/chat/completions", chat(max_tokens="5"), "max_tokens"),
        ("/v1/chat/completions", chat(stream=0), "stream"),
        # OpenAI: "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        ("/v1/chat/completions", chat(stream_options={"include_usage": True}), "stream_options"),
        ("/v1/chat/completions", chat(model=4), "model"),
        # OpenAI: "'tool_choice' is only allowed when 'tools' are specified."
        ("/v1/chat/completions", chat(tool_choice="auto"), "tool_choice"),
        ("/v1/chat/completions", chat(logit_bias={"hello": 5}), "logit_bias"),
        ("/v1/chat/completions", chat(logit_bias={"-1": 5}), "logit_bias"),
        ("/v1/chat/completions", chat(logit_bias={"50256": -101}), "logit_bias"),
        ("/v1/chat/completions", chat(logit_bias={"50256": 100.5}), "logit_bias"),
        ("/v1/embeddings", embed(dimensions=True), "dimensions"),
        ("/v1/audio/speech", speech(speed="fast"), "speed"),
        ("/v1/chat/completions", chat(messages=[]), "messages"),
        ("/v1/chat/completions", chat(messages="hi"), "messages"),
        ("/v1/chat/completions", chat(messages=[{"role": "wizard"}]), "messages[0].role"),
        ("/v1/chat/completions", chat(messages=[{"content": "hi"}]), "messages[0].role"),
        ("/v1/chat/completions", chat(messages=["hi"]), "messages[0]"),
        ("/v1/chat/completions", {"messages": MESSAGES}, "model"),
        ("/v1/chat/completions", {"model": "gpt-4o"}, "messages"),
        ("/v1/chat/completions", chat(model=""), "model"),
        (  # OpenAI: "Missing required parameter: 'response_format.json_schema'."
            "/v1/chat/completions",
            chat(response_format={"type": "json_schema"}),
            "response_format.json_schema",
        ),
        ("/v1/images/generations", {"prompt": "x", "size": "999x999"}, "size"),
        ("/images/generate", {"prompt": "x", "model": "dall-e-2", "size": "1792x1024"}, "size"),
        ("/v1/images/generations", {"prompt": "x", "model": "dall-e-3", "n": 2}, "n"),
        ("/v1/images/generations", {"prompt": "x" * 4001, "model": "dall-e-3"}, "prompt"),
        ("/v1/images/generations", {"prompt": "x", "n": 0}, "n"),
        ("/v1/images/generations", {"prompt": "x", "quality": "ultra"}, "quality"),
        ("/v1/images/generations", {"size": "1024x1024"}, "prompt"),
        ("/v1/images/generations", {"prompt": ""}, "prompt"),
        ("/v1/audio/speech", speech(speed=10), "speed"),
        ("/v1/audio/speech", speech(speed=0.1), "speed"),
        ("/v1/audio/speech", speech(response_format="ogg"), "response_format"),
        ("/v1/audio/speech", speech(input=""), "input"),
        ("/v1/audio/speech", speech(input="x" * 4097), "input"),
        ("/v1/audio/speech", {"input": "Hallo"}, "voice"),
        ("/v1/embeddings", embed(dimensions=0), "dimensions"),
        ("/v1/embeddings", embed(input=[]), "input"),
        ("/v1/embeddings", embed(input=""), "input"),
        ("/v1/embeddings", embed(input=["ok", ""]), "input"),
        ("/v1/embeddings", embed(encoding_format="hex"), "encoding_format"),
        ("/v1/embeddings", {"input": "x"}, "model"),
        ("/v1/moderations", {"input": []}, "input"),
        ("/v1/moderations", {}, "input"),
    ],
)
def test_out_of_range_parameter_is_400_naming_it(
    proxy: AiportProcess, upstream: FakeUpstream, path: str, body: dict[str, Any], param: str
) -> None:
    before = len(upstream.requests)
    error = assert_openai_error(call(proxy, path, body), 400, param=param)
    assert error["type"] == "invalid_request_error"
    assert len(upstream.requests) == before  # refused before anything went upstream


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"temperature": "5"}, "temperature"),
        ({"response_format": "xml"}, "response_format"),
        ({"timestamp_granularities[]": "sentence"}, "timestamp_granularities[0]"),
    ],
)
def test_out_of_range_upload_field_is_400_naming_it(
    proxy: AiportProcess, fields: dict[str, str], param: str
) -> None:
    data, headers = multipart(MP3, model="whisper-1", **fields)
    response = call(proxy, "/v1/audio/transcriptions", data, headers=headers)
    assert_openai_error(response, 400, param=param)


def test_stream_options_pass_with_a_stream_and_as_null_without_one(proxy: AiportProcess) -> None:
    assert call(proxy, "/v1/chat/completions", chat(stream_options=None)).status == 200
    streamed = chat(stream=True, stream_options={"include_usage": True})
    assert call(proxy, "/v1/chat/completions", streamed).status == 200


def test_unknown_fields_are_ignored_and_not_forwarded(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    body = chat(
        vendor_extra={"a": 1},
        api_base="http://evil.invalid",
        base_url="http://evil.invalid",
        api_key="sk-other",
        extra_headers={"x-evil": "1"},
        top_k=5,  # only forwarded to providers that list it in extra_fields
    )
    assert call(proxy, "/v1/chat/completions", body).status == 200
    sent = upstream.last("/chat/completions")
    unknown = {"vendor_extra", "api_base", "base_url", "api_key", "extra_headers", "top_k"}
    assert not unknown & set(sent["body"])
    assert "x-evil" not in {name.lower() for name in sent["headers"]}
    assert sent["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"


# -- uploads ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/audio/translations"])
def test_non_audio_upload_is_400_naming_file(
    proxy: AiportProcess, upstream: FakeUpstream, path: str
) -> None:
    before = len(upstream.requests)
    data, headers = multipart(PNG, filename="x.mp3", model="whisper-1")
    assert_openai_error(call(proxy, path, data, headers=headers), 400, param="file")
    assert len(upstream.requests) == before


@pytest.mark.parametrize("file", [None, b""], ids=["missing", "empty"])
def test_missing_or_empty_file_is_400_naming_file(proxy: AiportProcess, file: bytes | None) -> None:
    data, headers = multipart(file, model="whisper-1")
    response = call(proxy, "/v1/audio/transcriptions", data, headers=headers)
    assert_openai_error(response, 400, param="file")


def test_malformed_multipart_is_400(proxy: AiportProcess) -> None:
    response = call(
        proxy,
        "/v1/audio/transcriptions",
        b"--nope\r\nthis is not a multipart body",
        headers={"Content-Type": "multipart/form-data; boundary=other"},
    )
    assert_openai_error(response, 400)


# -- paths and methods -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/nothing", "/v2/chat/completions", "/v1/models/", "/x"])
def test_unknown_path_is_404_in_openai_shape(proxy: AiportProcess, path: str) -> None:
    assert_openai_error(call(proxy, path, method="GET"), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/chat/completions"),
        ("PUT", "/v1/embeddings"),
        ("DELETE", "/v1/models"),
        ("POST", "/v1/models"),
        ("GET", "/audio/speech"),
    ],
)
def test_wrong_method_is_405_in_openai_shape(proxy: AiportProcess, method: str, path: str) -> None:
    answer = call(proxy, path, method=method)
    assert_openai_error(answer, 405)
    assert method not in answer.headers["Allow"]  # what is allowed (RFC 9110 requires it)
    assert {"GET", "POST"} & {m.strip() for m in answer.headers["Allow"].split(",")}


@pytest.mark.parametrize("path", ["/v1/models", "/models/gpt-4o"])
def test_head_is_answered_where_get_is(proxy: AiportProcess, path: str) -> None:
    """RFC 9110: a server that answers GET answers HEAD (it was a 405)."""
    answer = call(proxy, path, method="HEAD")
    assert (answer.status, answer.body) == (200, b"")
    assert answer.headers["Content-Type"].startswith("application/json")


# -- keys ------------------------------------------------------------------------------


def test_missing_and_wrong_keys_are_told_apart(proxy: AiportProcess) -> None:
    missing = assert_openai_error(call(proxy, "/v1/chat/completions", chat(), key=None), 401)
    wrong = assert_openai_error(call(proxy, "/v1/chat/completions", chat(), key="sk-wrong"), 401)
    assert missing["code"] == wrong["code"] == "invalid_api_key"
    assert missing["message"] != wrong["message"]
    assert "sk-wrong" not in wrong["message"]


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",
        f"Basic {MASTER_KEY}",
        "Bearer",
        "Bearer ",
        MASTER_KEY,
        f"Token {MASTER_KEY}",
    ],
)
def test_malformed_authorization_is_401(proxy: AiportProcess, authorization: str) -> None:
    response = call(
        proxy, "/v1/models", method="GET", key=None, headers={"Authorization": authorization}
    )
    error = assert_openai_error(response, 401)
    assert error["code"] == "invalid_api_key"


def test_bearer_scheme_is_case_insensitive(proxy: AiportProcess) -> None:
    response = call(
        proxy,
        "/v1/models",
        method="GET",
        key=None,
        headers={"Authorization": f"bearer {MASTER_KEY}"},
    )
    assert response.status == 200


def test_keys_never_reach_the_log(proxy: AiportProcess, small: AiportProcess) -> None:
    # Runs last in this module: by now every request above has been logged.
    for server in (proxy, small):
        log = server.log()
        assert log, "the server wrote no log at all"
        assert MASTER_KEY not in log
        assert UPSTREAM_KEY not in log
        assert '"level":"error"' not in log, log


# -- whatever a field holds, the answer is never a 500 ---------------------------------

ODD_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    1e308,
    2**63,
    "",
    "\u0000",
    "x" * 5000,
    [],
    {},
    [None],
    {"a": None},
    [[[]]],
]
ENDPOINT_FIELDS = {
    "/v1/chat/completions": (
        chat(),
        ["model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop",
         "max_tokens", "logit_bias", "response_format", "tools", "tool_choice", "seed", "user"],
    ),
    "/v1/embeddings": (embed(), ["model", "input", "encoding_format", "dimensions"]),
    "/v1/images/generations": (
        {"prompt": "x"},
        ["prompt", "model", "n", "size", "quality", "response_format", "style"],
    ),
    "/v1/audio/speech": (speech(), ["model", "input", "voice", "speed", "response_format"]),
    "/v1/moderations": ({"input": "x"}, ["input", "model"]),
}  # fmt: skip
FUZZ_CASES = [
    (path, field, value)
    for path, (_, fields) in ENDPOINT_FIELDS.items()
    for field in fields
    for value in ODD_VALUES
]


def test_odd_field_values_never_cause_a_500(proxy: AiportProcess) -> None:
    outcomes: dict[int, int] = {}
    for path, field, value in FUZZ_CASES:
        body = {**ENDPOINT_FIELDS[path][0], field: value}
        response = call(proxy, path, body)
        assert response.status in (200, 400), (path, field, value, response.body[:300])
        if response.status == 400:
            assert_openai_error(response, 400)
        outcomes[response.status] = outcomes.get(response.status, 0) + 1
    assert outcomes[400] > len(FUZZ_CASES) / 2, outcomes


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/v1/chat/completions", b'"code":"request_too_large"'),
        ("/v1/messages", b'{"type":"error","error":{"type":"request_too_large"'),
    ],
)
def test_expect_continue_is_refused_before_the_body_when_too_large(
    proxy: AiportProcess, path: str, error: bytes
) -> None:
    """curl sends `Expect: 100-continue` for large uploads: a body over the limit is refused
    with 413 instead of "100 Continue", so the client never sends it — an answer like any
    other (request id, the path's error shape)."""
    import socket

    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
            + f"Authorization: Bearer {MASTER_KEY}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 999999999\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        answer = b""
        while not answer.rstrip().endswith(b"}") and (piece := sock.recv(65536)):
            answer += piece
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert b"100 Continue" not in answer
    assert b"x-request-id: req_" in answer.lower()
    assert error in answer, answer
