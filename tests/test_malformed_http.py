"""Requests aiohttp refuses while parsing — before any handler runs — are answered in
OpenAI's error shape with an `x-request-id`, never with aiohttp's plain text (which quotes
the offending header, key included)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.support.server import MASTER_KEY, AiportProcess


def exchange(server: AiportProcess, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; the status, headers and body of the answer (read until the server
    closes the connection, as it must after a request it could not parse)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head)
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, body = rest.partition(b"\r\n\r\n")
    headers = {}
    for line in header_block.split(b"\r\n"):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def request(*header_lines: bytes) -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        + b"".join(line + b"\r\n" for line in header_lines)
        + b"Content-Length: 2\r\n\r\n{}"
    )


KEY_LINE = f"Authorization: Bearer {MASTER_KEY}".encode()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (request(KEY_LINE + b"\x00"), "invalid_http_request"),  # NUL in a header (after the key)
        (request(b"X-Odd: a\x01b", KEY_LINE), "invalid_http_request"),
        (request(b"No colon here", KEY_LINE), "invalid_http_request"),
        (request(*(f"X-Many-{n}: y".encode() for n in range(200))), "invalid_http_request"),
        (request(KEY_LINE + b"x" * 20_000), "request_header_fields_too_large"),
        (
            b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "request_header_fields_too_large",
        ),
    ],
    ids=["nul", "control", "no-colon", "too-many", "header-too-large", "line-too-long"],
)
def test_refused_by_the_parser_in_openai_shape(proxy: AiportProcess, raw: bytes, code: str) -> None:
    status, headers, body = exchange(proxy, raw)
    assert status == 400, body[:300]
    assert headers["content-type"].startswith("application/json")
    assert headers["x-request-id"].startswith("req_")
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["code"] == code
    assert MASTER_KEY.encode() not in body


def test_the_log_names_the_error_not_the_bytes(proxy: AiportProcess) -> None:
    exchange(proxy, request(KEY_LINE + b"\x00"))
    log = proxy.log()
    assert "refused a malformed HTTP request" in log
    assert MASTER_KEY not in log


@pytest.mark.parametrize(
    "broken", [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"], ids=["bad-size", "bad-ending"]
)
def test_a_body_whose_chunks_break_off_while_read_is_a_400(
    proxy: AiportProcess, broken: bytes
) -> None:
    """The first chunk arrives with the head (the handler starts reading), the broken one
    later: the handler must not wait for the rest of the body for ever."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + KEY_LINE
            + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"1\r\n{\r\n"
        )
        time.sleep(0.2)  # nothing to wait on from outside: the handler is reading by now
        sock.sendall(broken)
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert answer.count(b"HTTP/1.") == 1, answer  # one answer, then the connection closes
    assert b'"code":"invalid_http_request"' in answer


def test_a_body_that_arrives_after_its_head_is_read_whole(proxy: AiportProcess) -> None:
    """A declared length whose bytes are not all there when the handler starts (the rest
    comes later) is waited for, not taken as it stands (a body already whole is)."""
    body = b'{"model": "gpt-4o-mini", "messages": "not a list"}'
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + KEY_LINE
            + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(0.2)  # nothing to wait on from outside: the handler is reading by now
        sock.sendall(body[10:])
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b'"param":"messages"' in answer  # the whole body was parsed
