"""Spooled uploads never outlive their request: every failure path removes its file, what
a dead process left is swept at start, and a caller is authenticated and admitted by its
limits before a byte of the body is read."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import (
    MASTER_KEY,
    UPSTREAM_KEY,
    AiportProcess,
    assert_openai_error,
    proxy_config,
    raw_request,
)

BODY_LIMIT = 50_000
BOUNDARY = "spool-test"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x01" * 20_000


def field(name: str, value: str, extra: str = "") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n{extra}\r\n{value}\r\n'
    ).encode()


def file_part(data: bytes = MP3) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    )
    return head.encode() + data + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
PATH = "/v1/audio/transcriptions"


@pytest.fixture(scope="module")
def server(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    workdir = tmp_path_factory.mktemp("spool")
    uploads = workdir / "data" / "uploads"
    # What processes left: a loose file, and the folder of a process that died (its lock
    # file is there, but nobody holds it) ...
    (uploads / "dead0000").mkdir(parents=True)
    (uploads / "dead0000" / "upload-half").write_bytes(b"x" * 100)
    (uploads / "dead0000.lock").touch()
    (uploads / "upload-loose").write_bytes(b"x" * 100)
    # ... and the folder of a process that is alive (this test holds its lock).
    (uploads / "live0000").mkdir()
    (uploads / "live0000" / "upload-busy").write_bytes(b"x" * 100)
    lock = os.open(uploads / "live0000.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)
    process = AiportProcess(
        workdir,
        config=proxy_config(upstream),
        env={"OPENAI_API_KEY": UPSTREAM_KEY, "AIPORT_MAX_BODY_BYTES": str(BODY_LIMIT)},
    ).start()
    yield process
    process.stop()
    os.close(lock)


def spooled(server: AiportProcess) -> list[Path]:
    """Upload files of the server's own (not the test's live folder)."""
    uploads = server.workdir / "data" / "uploads"
    return [
        p
        for p in uploads.rglob("*")
        if p.is_file() and "live0000" not in str(p) and not p.name.endswith(".lock")
    ]


def no_files_left(server: AiportProcess) -> None:
    deadline = time.monotonic() + 5
    while spooled(server):
        assert time.monotonic() < deadline, spooled(server)
        time.sleep(0.05)


def test_leftovers_of_dead_processes_are_swept_at_start(server: AiportProcess) -> None:
    uploads = server.workdir / "data" / "uploads"
    assert not (uploads / "upload-loose").exists()
    assert not (uploads / "dead0000").exists() and not (uploads / "dead0000.lock").exists()
    assert (uploads / "live0000" / "upload-busy").exists(), "a live process's upload was taken"
    assert "removed 2 spooled uploads" in server.log()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (form(file_part(), field("model", "whisper-1"), field("prompt", "p" * 40_000)), 413),
        (
            form(file_part(), field("model", "whisper-1", "Content-Transfer-Encoding: bogus\r\n")),
            400,
        ),
        (form(file_part(), field("model", "whisper-1"), field("temperature", "5")), 400),
        (form(file_part(b"%PDF-1.4 not audio"), field("model", "whisper-1")), 400),
    ],
    ids=["later-field-over-the-limit", "later-part-malformed", "invalid-field", "not-audio"],
)
def test_a_failed_upload_leaves_no_file(server: AiportProcess, body: bytes, status: int) -> None:
    assert_openai_error(raw_request(server.base_url + PATH, body, headers=HEADERS), status)
    no_files_left(server)


def head(key: str, length: int) -> bytes:
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: {HEADERS['Content-Type']}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def send_partly(server: AiportProcess, key: str, body: bytes, sent: int) -> bytes:
    """Send the head and `sent` bytes of `body`, then wait for an answer without the rest."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head(key, len(body)) + body[:sent])
        try:
            return sock.recv(65536)
        except TimeoutError:
            return b""  # still waiting for the body


def test_a_dropped_connection_after_the_file_leaves_no_file(server: AiportProcess) -> None:
    body = form(file_part(), field("model", "whisper-1"))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head(MASTER_KEY, len(body)) + body[: len(file_part()) + 20])
        deadline = time.monotonic() + 5
        while not spooled(server):  # the file part is on disk; then the client goes
            assert time.monotonic() < deadline
            time.sleep(0.01)
    no_files_left(server)


def test_a_wrong_key_is_refused_before_the_body(server: AiportProcess) -> None:
    body = form(field("model", "whisper-1"), file_part())
    answer = send_partly(server, "sk-wrong", body, 100)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:100]
    no_files_left(server)


def test_a_rate_limited_key_is_refused_before_the_body(server: AiportProcess) -> None:
    created = raw_request(server.base_url + "/admin/keys", {"name": "one a minute", "rpm": 1})
    key = created.json()["key"]
    body = form(field("model", "whisper-1"), file_part())
    first = raw_request(server.base_url + PATH, body, headers=HEADERS, key=key)
    assert first.status == 200, first.body[:300]
    answer = send_partly(server, key, body, 100)
    assert answer.startswith(b"HTTP/1.1 429"), answer[:100]
    assert b'"code":"rate_limit_exceeded"' in answer
    no_files_left(server)
