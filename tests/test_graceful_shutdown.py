"""SIGTERM drains: `/health/ready` turns 503 at once, new requests are refused with 503,
the requests in flight get the grace period, the rest are cut with an error frame, every
usage row is written, and the process exits 0."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import (
    MASTER_KEY,
    UPSTREAM_KEY,
    AiportProcess,
    assert_openai_error,
    proxy_config,
    raw_request,
    sse_events,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

GRACE = 4.0  # the 800 ms streams finish well inside it, even on a loaded machine
AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}


def usage_statuses(server: AiportProcess) -> dict[str, int]:
    """request id → status, as stored (SQLite in the data dir)."""
    conn = sqlite3.connect(server.workdir / "data" / "aiport.db", timeout=10)
    try:
        return dict(conn.execute("SELECT request_id, status FROM usage_records").fetchall())
    finally:
        conn.close()


class OpenStream:
    """A chat stream read until it ends; `begun` is set once its first event arrived."""

    def __init__(self, session: aiohttp.ClientSession, url: str, model: str) -> None:
        self.begun = asyncio.Event()
        self.body = b""
        self.request_id = ""
        self.task = asyncio.create_task(self._read(session, url, model))

    async def _read(self, session: aiohttp.ClientSession, url: str, model: str) -> None:
        body = {"model": model, "messages": [{"role": "user", "content": "x"}], "stream": True}
        async with session.post(url, json=body, headers=AUTH) as response:
            assert response.status == 200
            self.request_id = response.headers["x-request-id"]
            self.body = await response.content.readuntil(b"\n\n")
            self.begun.set()
            self.body += await response.read()


async def test_sigterm_during_50_open_streams(upstream: FakeUpstream, tmp_path: Path) -> None:
    server = AiportProcess(
        tmp_path,
        config=proxy_config(upstream),
        env={"OPENAI_API_KEY": UPSTREAM_KEY, "AIPORT_SHUTDOWN_GRACE": str(GRACE)},
    )
    await asyncio.to_thread(server.start)
    url = server.base_url + "/v1/chat/completions"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        # 25 that finish inside the grace period, 25 that never would.
        models = ["first-then-sleep-800"] * 25 + ["endless"] * 25
        streams = [OpenStream(session, url, model) for model in models]
        await asyncio.wait_for(asyncio.gather(*(s.begun.wait() for s in streams)), 30)

        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        endless = [s.task for s, model in zip(streams, models, strict=True) if model == "endless"]
        while raw_request(server.base_url + "/health/ready", key=None).status != 503:
            assert not any(t.done() for t in endless), "still ready in the grace period's end"
            await asyncio.sleep(0.01)
        # At once: while the streams that only the grace period's end can cut are all open.
        assert not any(t.done() for t in endless)
        ready = raw_request(server.base_url + "/health/ready", key=None).json()
        assert ready["status"] == "draining"
        assert raw_request(server.base_url + "/health/live", key=None).status == 200
        refused = raw_request(
            url, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
        )
        error = assert_openai_error(refused, 503)
        assert error["code"] == "service_unavailable" and "shutting down" in error["message"]

        await asyncio.wait_for(asyncio.gather(*(s.task for s in streams)), GRACE + 10)
    code = await asyncio.to_thread(server.process.wait, 15)
    assert code == 0, server.log()

    for stream, model in zip(streams, models, strict=True):
        events = sse_events(stream.body)
        if model == "endless":  # cut at the end of the grace period, with an error frame
            assert events[-1].startswith(b'{"error":'), events[-3:]
            assert b'"code":"service_unavailable"' in events[-1]
            assert b"[DONE]" not in events
        else:
            assert events[-1] == b"[DONE]", events[-3:]
    rows = usage_statuses(server)
    assert {s.request_id: rows.get(s.request_id) for s in streams} == {
        s.request_id: 503 if model == "endless" else 200
        for s, model in zip(streams, models, strict=True)
    }
    assert "Traceback" not in server.log()
