"""What metrics and tracing cost per proxied request: aiport's CPU time per request with
metrics off (`AIPORT_METRICS=false`), on (the default), and on with OTLP tracing to a
local receiver, in the same run.

Each configuration is its own `aiport serve` (pinned to CPU 0) in front of the cheap mock
upstream; the load (wrk when installed, else a Python client) and the mock run on CPU 1.
Rounds alternate between the configurations (off, on, traced, off, …) so that a busy
machine slows them alike; the figure per configuration is its median over the rounds of
aiport's user+system CPU seconds (from /proc) divided by the requests answered, for plain
chat completions and for streams (64 chunks each).

    .venv/bin/python benchmarks/observability_overhead.py [--rounds 5] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy_overhead import (
    CHAT_BODY,
    HERE,
    KEY,
    free_port,
    pinned,
    python_chat,
    wait_http,
    wrk_chat,
)

CONFIGS = {
    "metrics off": {"AIPORT_METRICS": "false"},
    "metrics on": {},
    "metrics + tracing": {"OTEL_EXPORTER_OTLP_ENDPOINT": "{receiver}"},
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Receiver:
    """An OTLP/HTTP endpoint that accepts span batches and counts their bytes."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        async def traces(request: web.Request) -> web.Response:
            self.received += len(await request.read())
            return web.Response(content_type="application/x-protobuf")

        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/v1/traces", traces)
        web.run_app(app, host="127.0.0.1", port=self.port, print=None, handle_signals=False)


def start_gateway(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = pinned(0, [sys.executable, "-m", "aiport", "serve", "--port", str(port)])
    gateway = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_http(f"http://127.0.0.1:{port}/health")
    return gateway, f"http://127.0.0.1:{port}/v1"


def chat_load(url: str, seconds: int) -> float:
    """Requests answered by 16 connections in `seconds`."""
    if shutil.which("wrk"):
        figures = wrk_chat(url + "/chat/completions", 16, seconds)
    else:
        figures = asyncio.run(python_chat(url + "/chat/completions", 16, seconds))
    return figures["rps"] * seconds


async def stream_load(url: str, count: int) -> int:
    body = CHAT_BODY[:-1] + ',"stream":true}'
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            async with session.post(url + "/chat/completions", data=body, headers=headers) as r:
                await r.read()

        for _ in range(count // 4):
            await asyncio.gather(*(one() for _ in range(4)))
    return count // 4 * 4


def measure(env: dict[str, str], seconds: int, streams: int) -> tuple[float, float]:
    """CPU ms per chat request and per stream, for one configuration."""
    gateway, url = start_gateway(env)
    try:
        chat_load(url, 1)  # warm up
        before = cpu_seconds(gateway.pid)
        answered = chat_load(url, seconds)
        middle = cpu_seconds(gateway.pid)
        streamed = asyncio.run(stream_load(url, streams))
        after = cpu_seconds(gateway.pid)
    finally:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(15)
    return (middle - before) * 1000 / answered, (after - middle) * 1000 / streamed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--streams", type=int, default=1000)
    args = parser.parse_args()

    receiver = Receiver()
    mock_port = free_port()
    mock = subprocess.Popen(
        pinned(1, [sys.executable, str(HERE / "mock_upstream.py"), "--port", str(mock_port)])
    )
    data_dir = tempfile.mkdtemp(prefix="aiport-bench-")
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AIPORT_"))},
        "AIPORT_MASTER_KEY": KEY,
        "AIPORT_DATA_DIR": data_dir,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1",
        "OPENAI_API_KEY": "sk-mock",
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in CONFIGS}
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        for _ in range(args.rounds):
            for name, extra in CONFIGS.items():
                env = {
                    **base,
                    **{
                        k: v.format(receiver=f"http://127.0.0.1:{receiver.port}")
                        for k, v in extra.items()
                    },
                }
                results[name].append(measure(env, args.seconds, args.streams))
    finally:
        mock.send_signal(signal.SIGTERM)
        mock.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)

    load = "wrk" if shutil.which("wrk") else "python aiohttp"
    print(f"load generator: {load}, {args.rounds} rounds")
    print(
        f"{'aiport CPU per request':24} {'chat ms':>9} {'ratio':>7} {'stream ms':>10} {'ratio':>7}"
    )
    off_chat = statistics.median(r[0] for r in results["metrics off"])
    off_stream = statistics.median(r[1] for r in results["metrics off"])
    for name, rounds in results.items():
        chat = statistics.median(r[0] for r in rounds)
        stream = statistics.median(r[1] for r in rounds)
        ratios = f"{chat / off_chat:6.3f}x {stream:10.3f} {stream / off_stream:6.3f}x"
        print(f"{name:24} {chat:9.3f} {ratios}")
    print(f"spans received by the local OTLP receiver: {receiver.received:,} bytes")


if __name__ == "__main__":
    main()
