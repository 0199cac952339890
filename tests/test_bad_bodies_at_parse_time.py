"""Bodies that parse but cannot be served are refused while they are read, with a 400 that
says what is wrong — never a 500 from a later step (serialising, decoding a part)."""

from __future__ import annotations

import base64

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import AiportProcess, assert_openai_error, raw_request

MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x01" * 2000
BOUNDARY = "aiport-encodings"


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [255, 300, 1000])
@pytest.mark.parametrize(
    ("path", "template"),
    [
        # A JSON schema is passed on as given, so it is serialised again on the way out.
        (
            "/v1/chat/completions",
            b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],'
            b' "response_format": {"type": "json_schema", "json_schema": {"name": "x",'
            b' "schema": {"deep": NEST}}}}',
        ),
        # Unknown fields are dropped, but the depth is still refused where it is read.
        ("/v1/embeddings", b'{"model": "text-embedding-3-small", "input": "x", "extra": NEST}'),
        ("/admin/keys", b'{"name": "deep", "extra": NEST}'),
    ],
    ids=["chat-schema", "embeddings-extra", "admin"],
)
def test_deeply_nested_json_is_400(
    proxy: AiportProcess, upstream: FakeUpstream, path: str, template: bytes, depth: int
) -> None:
    before = len(upstream.requests)
    body = template.replace(b"NEST", nested(depth))
    response = raw_request(
        proxy.base_url + path, body, headers={"Content-Type": "application/json"}
    )
    error = assert_openai_error(response, 400)
    assert "nested" in error["message"], error
    assert len(upstream.requests) == before


def test_moderately_nested_json_still_passes(proxy: AiportProcess) -> None:
    body = (
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],'
        b' "response_format": {"type": "json_schema", "json_schema": {"name": "x",'
        b' "schema": {"deep": ' + nested(60) + b"}}}}"
    )
    response = raw_request(
        proxy.base_url + "/v1/chat/completions", body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, response.body[:300]


def part(name: str, value: bytes, encoding: str | None, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename:
        head += "Content-Type: audio/mpeg\r\n"
    if encoding:
        head += f"Content-Transfer-Encoding: {encoding}\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def upload(*parts: bytes) -> tuple[bytes, dict[str, str]]:
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.mark.parametrize(
    ("parts", "param"),
    [
        ((part("model", b"whisper-1", "bogus"), part("file", MP3, None, "a.mp3")), "model"),
        ((part("model", b"whisper-1", None), part("file", MP3, "bogus", "a.mp3")), "file"),
        ((part("model", b"d2hpc3Blci0", "base64"), part("file", MP3, None, "a.mp3")), "model"),
        ((part("model", b"whisper-1", None), part("file", b"SUQz!x", "base64", "a.mp3")), "file"),
        ((part("language", b"=ZZ", "quoted-printable"), part("file", MP3, None, "a.mp3")), None),
    ],
    ids=["field-bogus", "file-bogus", "field-bad-base64", "file-bad-base64", "field-bad-qp"],
)
def test_a_part_that_cannot_be_decoded_is_400_naming_it(
    proxy: AiportProcess, parts: tuple[bytes, ...], param: str | None
) -> None:
    data, headers = upload(*parts)
    response = raw_request(proxy.base_url + "/v1/audio/transcriptions", data, headers=headers)
    if param is None:  # quoted-printable is lenient: bad escapes are kept as they are
        assert response.status in (200, 400), response.body[:300]
        return
    error = assert_openai_error(response, 400, param=param)
    assert param in error["message"], error


def test_base64_parts_are_decoded(proxy: AiportProcess, upstream: FakeUpstream) -> None:
    data, headers = upload(
        part("model", base64.b64encode(b"whisper-1"), "base64"),
        part("file", base64.encodebytes(MP3 * 100), "base64", "a.mp3"),  # 76-char lines
    )
    response = raw_request(proxy.base_url + "/v1/audio/transcriptions", data, headers=headers)
    assert response.status == 200, response.body[:300]
    assert upstream.last("/audio/transcriptions")["body"]["file_size"] == len(MP3) * 100
