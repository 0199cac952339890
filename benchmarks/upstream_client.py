"""The upstream HTTP client alone: aiport's own (`backends/http_client.py`, httptools) against
the well-kept libraries it could be replaced with (aiohttp's client, httpx), same requests.

Each client runs in its own process pinned to CPU 0 with uvloop (as `aiport serve` runs),
against the cheap mock upstream (`benchmarks/mock_upstream.py`) pinned to CPU 1, and sends
non-stream chat requests one at a time (c1) and 16 at a time (c16), then streams (c1). It
reports requests per second and the client process's CPU time per request; the ratios are
each library ÷ aiport's client in the same run.

    .venv/bin/python benchmarks/upstream_client.py [--seconds 4] [--httpx-python PATH]

httpx is `httpx`, or `httpx2` (the fork the OpenAI SDK brings here) when httpx is missing;
`--httpx-python` runs the httpx client with another interpreter that has httpx and uvloop
(e.g. the LiteLLM venv of `benchmarks/compare/setup.sh`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}],"max_tokens":64}'
STREAM_BODY = BODY[:-1] + b',"stream":true}'
HEADERS = {"content-type": "application/json", "authorization": "Bearer sk-mock"}
CLIENTS = ("aiport", "aiohttp", "httpx")
VERSIONS = {"aiport": "aiport (httptools)"}


def pinned(cpu: int, command: list[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu), *command]
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- one client, in its own process ------------------------------------------------------


async def aiport_client(base: str):  # type: ignore[no-untyped-def]
    from aiport.backends.http_client import Pool

    pool = Pool(base, connect_timeout=5, read_timeout=30)
    headers = list(HEADERS.items())

    async def send(body: bytes, stream: bool) -> int:
        response = await pool.request("POST", "/chat/completions", headers, body)
        try:
            if stream:
                size = 0
                async for piece in response.chunks():
                    size += len(piece)
                return size
            return len(await response.read())
        finally:
            response.close()

    return send, pool.close


async def aiohttp_client(base: str):  # type: ignore[no-untyped-def]
    import aiohttp

    VERSIONS["aiohttp"] = f"aiohttp {aiohttp.__version__}"
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
    url = base + "/chat/completions"

    async def send(body: bytes, stream: bool) -> int:
        async with session.post(url, data=body, headers=HEADERS) as response:
            if stream:
                size = 0
                async for piece in response.content.iter_any():
                    size += len(piece)
                return size
            return len(await response.read())

    async def close() -> None:
        await session.close()

    return send, close


async def httpx_client(base: str):  # type: ignore[no-untyped-def]
    try:
        import httpx
    except ImportError:
        import httpx2 as httpx  # type: ignore[no-redef]

    VERSIONS["httpx"] = f"{httpx.__name__} {httpx.__version__}"
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=100), timeout=30)
    url = base + "/chat/completions"

    async def send(body: bytes, stream: bool) -> int:
        if stream:
            async with client.stream("POST", url, content=body, headers=HEADERS) as response:
                size = 0
                async for piece in response.aiter_raw():
                    size += len(piece)
                return size
        response = await client.post(url, content=body, headers=HEADERS)
        return len(response.content)

    async def close() -> None:
        await client.aclose()

    return send, close


async def load(send, concurrency: int, seconds: float, stream: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    body = STREAM_BODY if stream else BODY
    for _ in range(50):  # warm-up: connections open, code paths imported
        await send(body, stream)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await send(body, stream)
            latencies.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "cpu_us": cpu / len(latencies) * 1e6,
    }


async def run_one(name: str, base: str, seconds: float) -> dict[str, dict[str, float]]:
    make = {"aiport": aiport_client, "aiohttp": aiohttp_client, "httpx": httpx_client}[name]
    send, close = await make(base)
    try:
        return {
            "chat c1": await load(send, 1, seconds, False),
            "chat c16": await load(send, 16, seconds, False),
            "stream c1": await load(send, 1, seconds, True),
        }
    finally:
        result = close()
        if asyncio.iscoroutine(result):
            await result


def child(name: str, base: str, seconds: float) -> None:
    import uvloop

    steps = uvloop.run(run_one(name, base, seconds))
    print(json.dumps({"library": VERSIONS[name], "steps": steps}))


# -- the comparison ----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--httpx-python", default=sys.executable)
    parser.add_argument("--child", nargs=2, metavar=("CLIENT", "BASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.seconds)
        return
    port = free_port()
    mock = subprocess.Popen(
        pinned(1, [sys.executable, str(HERE / "mock_upstream.py"), "--port", str(port)])
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/models", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        results = {}
        for name in CLIENTS:
            python = args.httpx_python if name == "httpx" else sys.executable
            command = [
                python,
                __file__,
                "--seconds",
                str(args.seconds),
                "--child",
                name,
                base,
            ]
            output = subprocess.run(pinned(0, command), capture_output=True, text=True, check=True)
            results[name] = json.loads(output.stdout)
    finally:
        mock.terminate()
        mock.wait()
    print_table(results)


def print_table(results: dict[str, dict[str, Any]]) -> None:
    print("clients: " + ", ".join(results[n]["library"] for n in CLIENTS))
    print(
        "| step | metric | "
        + " | ".join(CLIENTS)
        + " | "
        + " | ".join(f"{n} ÷ aiport" for n in CLIENTS[1:])
        + " |"
    )
    print("|---|---|" + "--:|" * (2 * len(CLIENTS) - 1))
    for step in results["aiport"]["steps"]:
        for metric, unit in (("rps", "req/s"), ("p50_ms", "p50 ms"), ("cpu_us", "CPU µs/req")):
            values = [results[n]["steps"][step][metric] for n in CLIENTS]
            ratios = [v / values[0] for v in values[1:]]
            cells = [f"{v:,.0f}" if metric != "p50_ms" else f"{v:.3f}" for v in values]
            print(
                f"| {step} | {unit} | "
                + " | ".join(cells)
                + " | "
                + " | ".join(f"{r:.2f}×" for r in ratios)
                + " |"
            )


if __name__ == "__main__":
    main()
