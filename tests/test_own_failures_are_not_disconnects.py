"""An OSError of our own — a full disk while saving an image or spooling an upload, a
database that refuses connections — is an OpenAI-shaped 500/503, logged, and its usage row
says so; only a client that really went away is a 499.

The disk is made "full" for real with a file-size limit on the server process
(RLIMIT_FSIZE via `prlimit`): writes past it fail with EFBIG, as they would with ENOSPC,
while the database (PostgreSQL, through a relay the test can cut) writes no local file.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.accounts_e2e import create_pg_database, drop_pg_database, service_url
from tests.support.fake_upstream import FakeUpstream
from tests.support.server import (
    UPSTREAM_KEY,
    AiportProcess,
    RawResponse,
    assert_openai_error,
    proxy_config,
    raw_request,
)
from tests.support.tcp_relay import TcpProxy, host_port, with_port

pytestmark = pytest.mark.asyncio(loop_scope="session")

FILE_SIZE_LIMIT = 20_000  # bytes: below an image or an upload, above the server's log
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x01" * 60_000


@dataclass
class Constrained:
    server: AiportProcess
    relay: TcpProxy
    database_url: str

    async def post(self, path: str, body: Any, **kwargs: Any) -> RawResponse:
        return await asyncio.to_thread(raw_request, self.server.base_url + path, body, **kwargs)

    async def row_status(self, request_id: str) -> int | None:
        """The usage row's status, once the writer has flushed it (every 0.5 s)."""
        for _ in range(50):
            conn = await asyncpg.connect(self.database_url)
            try:
                status = await conn.fetchval(
                    "SELECT status FROM usage_records WHERE request_id = $1", request_id
                )
            finally:
                await conn.close()
            if status is not None:
                return int(status)
            await asyncio.sleep(0.1)
        return None


@pytest.fixture(scope="module")
async def constrained(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Constrained]:
    admin_url = service_url("AIPORT_TEST_DATABASE_URL")
    database_url, name = await create_pg_database(admin_url)
    relay = TcpProxy(*host_port(database_url, 5432))
    await relay.start()
    off = {"enabled": False}
    engines = {kind: off for kind in ("chat", "embeddings", "speech", "transcription")}
    config = proxy_config(upstream)
    config["local"] = {"engines": {**engines, "moderation": off}}  # images only
    server = AiportProcess(
        tmp_path_factory.mktemp("constrained"),
        config=config,
        env={
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "AIPORT_DATABASE_URL": with_port(database_url, relay.port),
            "AIPORT_ACCESS_LOG": "false",
        },
        command=("prlimit", f"--fsize={FILE_SIZE_LIMIT}", sys.executable, "-m", "aiport"),
    )
    await asyncio.to_thread(server.start)
    try:
        yield Constrained(server, relay, database_url)
    finally:
        await asyncio.to_thread(server.stop)
        await relay.cut()
        await drop_pg_database(admin_url, name)


def data_files(server: AiportProcess, folder: str) -> list[Path]:
    """Files under the data dir's `folder` (an upload spool's lock file aside)."""
    directory = server.workdir / "data" / folder
    return [p for p in directory.rglob("*") if p.is_file() and p.suffix != ".lock"]


async def test_a_full_disk_while_saving_an_image_is_a_500(constrained: Constrained) -> None:
    response = await constrained.post(
        "/v1/images/generations",
        {"model": "aiport-sketch-1", "prompt": "a red house", "response_format": "url"},
    )
    error = assert_openai_error(response, 500)
    assert error["type"] == "server_error" and "File too large" in error["message"]
    assert await constrained.row_status(response.headers["x-request-id"]) == 500
    assert not data_files(constrained.server, "images"), "a partly written image was left"
    assert "failed inside the server" in constrained.server.log()


async def test_a_full_disk_while_spooling_an_upload_is_a_500(constrained: Constrained) -> None:
    boundary = "own-failures"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
            "Content-Type: audio/mpeg\r\n\r\n"
        ).encode()
        + MP3
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await constrained.post(
        "/v1/audio/transcriptions",
        body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    error = assert_openai_error(response, 500)
    assert "File too large" in error["message"]
    assert await constrained.row_status(response.headers["x-request-id"]) == 500
    assert not data_files(constrained.server, "uploads"), "the spooled upload was left"


async def test_a_database_that_refuses_connections_is_a_503_on_the_admin_api(
    constrained: Constrained,
) -> None:
    await constrained.relay.cut()
    try:
        # (a change: read-only admin requests are no usage rows)
        response = await constrained.post("/admin/keys", {"name": "while the database is away"})
    finally:
        await constrained.relay.restore()
    error = assert_openai_error(response, 503)
    assert error["code"] == "service_unavailable"
    assert response.headers["retry-after"] == "1"
    # Written once the database is back, with the status the client saw.
    assert await constrained.row_status(response.headers["x-request-id"]) == 503
