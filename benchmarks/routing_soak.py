"""A soak of the routing path: a two-deployment group in front of a randomly faulty
upstream, clients that read whole answers, whole streams, or leave mid-stream.

It checks what must hold however long it runs: no 500 from aiport's own code, stable file
descriptors and memory, and exactly one usage row per request.

    .venv/bin/python -m benchmarks.routing_soak --seconds 300      # the long run
    (tests/test_routing_soak.py runs it for 20 s in `make test`)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from tests.support.faulty_upstream import (
    HANG,
    FaultyUpstream,
    Script,
    accept_then_close,
    answer,
    chat_chunk,
    chat_completion,
    finished_chat_stream,
    invalid_json,
    rate_limited,
    reset_mid_stream,
    slow_first_byte,
    status,
)
from tests.support.server import AiportProcess, raw_request

WORKERS = 8
SCRIPTS_PER_DEPLOYMENT = 20_000


def menu(model: str) -> list[tuple[int, Script]]:
    """(weight, script): mostly good answers, and every kind of fault."""
    return [
        (6, answer(chat_completion("fine", model=model))),
        (6, finished_chat_stream(model, "Hello", " soak", " test", completion_tokens=3)),
        (1, status(503)),
        (1, rate_limited(retry_after_ms="50")),
        (1, reset_mid_stream(chat_chunk("Hel", model), chat_chunk("lo", model))),
        (1, slow_first_byte(0.3, answer(chat_completion("late", model=model)))),
        (1, invalid_json()),
        (1, accept_then_close()),
        (1, [HANG]),
    ]


def scripts(model: str, rng: random.Random) -> list[Script]:
    weights, choices = zip(*menu(model), strict=True)
    return rng.choices(choices, weights=weights, k=SCRIPTS_PER_DEPLOYMENT)


def config(upstream: FaultyUpstream) -> dict[str, Any]:
    provider = {"base_url": upstream.url, "first_byte_timeout": 1}
    return {
        "providers": {"openai": provider, "backup": dict(provider)},
        "models": {
            "soak": {
                "deployments": [
                    {"provider": "openai", "model": "soak-a"},
                    {"provider": "backup", "model": "soak-b"},
                ]
            }
        },
        "router": {
            "backoff_base": 0.01,
            "backoff_max": 0.1,
            "deadline": 4,
            "breaker": {"consecutive_failures": 4, "cooldown": 0.5, "cooldown_max": 2},
        },
        "local": {"enabled": False},
    }


@dataclass
class Report:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    client_errors: Counter[str] = field(default_factory=Counter)
    request_ids: set[str] = field(default_factory=set)
    fds: tuple[int, int] = (0, 0)
    rss_mb: tuple[float, float] = (0.0, 0.0)
    rows: int = 0
    distinct_rows: int = 0

    def problems(self) -> list[str]:
        found = []
        if self.statuses.get(500):
            found.append(f"{self.statuses[500]} answers were 500")
        if self.rows != self.requests or self.distinct_rows != self.requests:
            found.append(f"{self.requests} requests but {self.rows} usage rows")
        if self.fds[1] - self.fds[0] > 8:
            found.append(f"file descriptors grew from {self.fds[0]} to {self.fds[1]}")
        if self.rss_mb[1] - self.rss_mb[0] > 40:
            found.append(f"memory grew from {self.rss_mb[0]:.0f} to {self.rss_mb[1]:.0f} MB")
        return found


async def client(base: str, key: str, until: float, rng: random.Random, report: Report) -> None:
    url = base + "/v1/chat/completions"
    headers = {"Authorization": f"Bearer {key}"}
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while time.monotonic() < until:
            kind = rng.choice(("plain", "stream", "leave"))
            body = {"model": "soak", "messages": [{"role": "user", "content": "hi"}]}
            body["stream"] = kind != "plain"
            report.requests += 1
            try:
                async with session.post(url, json=body, headers=headers) as response:
                    report.statuses[response.status] += 1
                    report.request_ids.add(response.headers.get("x-request-id", ""))
                    if kind == "leave":
                        await response.content.readany()
                        continue  # leaving the block closes the connection mid-stream
                    await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                report.client_errors[type(exc).__name__] += 1


def measure(server: AiportProcess) -> tuple[int, float]:
    assert server.process is not None
    pid = server.process.pid
    fds = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return fds, rss


def count_rows(server: AiportProcess, key_id: str) -> tuple[int, int]:
    path = server.workdir / "data" / "aiport.db"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        row = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT request_id) FROM usage_records WHERE key_id = ?",
            (key_id,),
        ).fetchone()
        return int(row[0]), int(row[1])
    finally:
        conn.close()


def soak(seconds: float, workdir: Path, seed: int = 1) -> Report:
    rng = random.Random(seed)
    upstream = FaultyUpstream().start()
    for model in ("soak-a", "soak-b"):
        upstream.script(model, *scripts(model, rng))
    server = AiportProcess(workdir, config=config(upstream)).start()
    report = Report()
    try:
        created = raw_request(server.base_url + "/admin/keys", {"name": "soak"}, method="POST")
        key, key_id = created.json()["key"], created.json()["id"]
        warm = Report()
        asyncio.run(_run(server.base_url, key, 2.0, rng, warm))  # pools and caches fill
        time.sleep(1.0)
        fds_before, rss_before = measure(server)
        asyncio.run(_run(server.base_url, key, seconds, rng, report))
        time.sleep(1.5)  # streams left behind are closed, rows flushed
        fds_after, rss_after = measure(server)
        report.fds, report.rss_mb = (fds_before, fds_after), (rss_before, rss_after)
        report.requests += warm.requests
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            report.rows, report.distinct_rows = count_rows(server, key_id)
            if report.rows >= report.requests:
                break
            time.sleep(0.2)
    finally:
        server.stop()
        upstream.stop()
    return report


async def _run(base: str, key: str, seconds: float, rng: random.Random, report: Report) -> None:
    until = time.monotonic() + seconds
    seeds = [rng.random() for _ in range(WORKERS)]
    await asyncio.gather(*(client(base, key, until, random.Random(s), report) for s in seeds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiport-soak-") as workdir:
        report = soak(args.seconds, Path(workdir))
    print(
        json.dumps(
            {
                "requests": report.requests,
                "statuses": dict(report.statuses),
                "client_errors": dict(report.client_errors),
                "fds": report.fds,
                "rss_mb": [round(v, 1) for v in report.rss_mb],
                "usage_rows": report.rows,
                "problems": report.problems(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
