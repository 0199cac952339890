"""`aiport serve --workers 2` stopped with requests in flight, as a terminal (SIGINT to the
foreground process group) or systemd (SIGTERM to every process of the service) stops it:
each process shuts down once, every request is answered, and every request has exactly one
usage row."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import MASTER_KEY, UPSTREAM_KEY, AiportProcess, proxy_config

pytestmark = pytest.mark.asyncio(loop_scope="session")

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
IN_FLIGHT = 20


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def usage_rows(server: AiportProcess) -> list[tuple[str, int]]:
    conn = sqlite3.connect(server.workdir / "data" / "aiport.db", timeout=10)
    try:
        return conn.execute("SELECT request_id, status FROM usage_records").fetchall()
    finally:
        conn.close()


async def one_request(session: aiohttp.ClientSession, url: str, n: int) -> tuple[str, bytes]:
    stream = n % 2 == 0  # half streams that pause, half answers that come late
    body = {
        "model": "first-then-sleep-1000" if stream else "slow-1000",
        "messages": [{"role": "user", "content": f"request {n}"}],
        "stream": stream,
    }
    async with session.post(url, json=body, headers=AUTH) as response:
        assert response.status == 200, await response.text()
        data = await response.read()
        assert data.endswith(b"data: [DONE]\n\n") if stream else b"chatcmpl-fake" in data
        return response.headers["x-request-id"], data


@pytest.mark.parametrize("stop", ["ctrl-c", "systemd"])
async def test_every_request_in_flight_has_one_usage_row(
    upstream: FakeUpstream, tmp_path: Path, stop: str
) -> None:
    server = AiportProcess(
        tmp_path,
        config=proxy_config(upstream),
        env={"OPENAI_API_KEY": UPSTREAM_KEY},
        args=("--workers", "2"),
        own_session=True,
    )
    await asyncio.to_thread(server.start)
    assert server.process is not None
    deadline = time.monotonic() + 30
    while server.log().count('"msg":"ready"') < 2:  # both workers listening
        assert time.monotonic() < deadline, server.log()
        await asyncio.sleep(0.05)
    workers = children(server.process.pid)
    assert len(workers) == 2

    sent_before = len(upstream.requests)
    url = server.base_url + "/v1/chat/completions"
    # A new connection per request, so that SO_REUSEPORT spreads them over the workers.
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        requests = [asyncio.create_task(one_request(session, url, n)) for n in range(IN_FLIGHT)]
        while len(upstream.requests) - sent_before < IN_FLIGHT:  # all in flight upstream
            assert time.monotonic() < deadline + 30
            await asyncio.sleep(0.01)
        if stop == "ctrl-c":
            os.killpg(server.process.pid, signal.SIGINT)
        else:  # KillMode=control-group: every process at once (and the supervisor again)
            os.killpg(server.process.pid, signal.SIGTERM)
            for pid in workers:
                os.kill(pid, signal.SIGTERM)
        answered = await asyncio.wait_for(asyncio.gather(*requests), 30)
    code = await asyncio.to_thread(server.process.wait, 30)
    assert code == 0, server.log()

    ids = [request_id for request_id, _ in answered]
    assert len({request_id[:20] for request_id in ids}) == 2, "both workers served"
    rows = usage_rows(server)
    assert Counter(request_id for request_id, _ in rows if request_id in ids) == Counter(ids)
    assert all(status == 200 for request_id, status in rows if request_id in ids)
    log = server.log()
    assert log.count("shutting down 2 workers") == 1
    assert log.count('"msg":"SIGTERM: shutting down"') == 2  # each worker once
    assert "Traceback" not in log and '"level":"error"' not in log
