"""What aiport adds on top of an upstream: throughput and latency against the mock directly.

Runs, in one go and on this machine: the mock upstream alone ("direct"), then aiport in
front of it with auth, validation, request ids and logging on. The load generator is wrk
when installed (Debian's `wrk`), else a Python client; aiport is pinned to CPU 0 and the
mock and the load to CPU 1 when `taskset` exists, as `benchmarks/compare/compare.sh` does.

    .venv/bin/python benchmarks/proxy_overhead.py [--seconds 5]

Prints a table and the ratios aiport ÷ direct. Numbers from different runs or machines are
not comparable; the ratio within one run is the figure to read.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
KEY = "sk-bench"
CHAT_BODY = (
    '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you?"}],'
    '"max_tokens":64}'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int, command: list[str]) -> list[str]:
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
        return ["taskset", "-c", str(cpu), *command]
    return command


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk_chat(url: str, connections: int, seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = '{CHAT_BODY}'\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {KEY}"\n'
        )
    command = pinned(
        1, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url]
    )
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _wrk_latency(output, "50%")
    p99 = _wrk_latency(output, "99%")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": float(non2xx.group(1)) if non2xx else 0,
    }


def _wrk_latency(output: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def python_chat(url: str, connections: int, seconds: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                started = time.perf_counter()
                async with session.post(url, data=CHAT_BODY, headers=headers) as response:
                    await response.read()
                    errors += response.status != 200
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "errors": float(errors),
    }


async def stream_ttft(url: str, count: int) -> dict[str, float]:
    """Time to the first `data:` event and to `[DONE]`, one stream at a time."""
    body = CHAT_BODY[:-1] + ',"stream":true}'
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    first: list[float] = []
    total: list[float] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                got_first = False
                async for line in response.content:
                    if not got_first and line.startswith(b"data:"):
                        first.append((time.perf_counter() - started) * 1000)
                        got_first = True
                    if line.startswith(b"data: [DONE]"):
                        break
            total.append((time.perf_counter() - started) * 1000)
    return {"ttft_p50_ms": statistics.median(first), "total_p50_ms": statistics.median(total)}


def measure(base: str, seconds: int) -> dict[str, float]:
    url = base + "/chat/completions"
    results: dict[str, float] = {}
    for connections in (1, 16):
        if shutil.which("wrk"):
            figures = wrk_chat(url, connections, seconds)
        else:
            figures = asyncio.run(python_chat(url, connections, seconds))
        for name, value in figures.items():
            results[f"chat c{connections} {name}"] = value
    results.update(asyncio.run(stream_ttft(url, 200)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()

    mock_port, gateway_port = free_port(), free_port()
    mock = subprocess.Popen(
        pinned(1, [sys.executable, str(HERE / "mock_upstream.py"), "--port", str(mock_port)])
    )
    data_dir = tempfile.mkdtemp(prefix="aiport-bench-")
    env = {
        **os.environ,
        "AIPORT_MASTER_KEY": KEY,
        "AIPORT_DATA_DIR": data_dir,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1",
        "OPENAI_API_KEY": "sk-mock",
    }
    gateway = subprocess.Popen(
        pinned(0, [sys.executable, "-m", "aiport", "serve", "--port", str(gateway_port)]),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"http://127.0.0.1:{gateway_port}/health/ready")
        idle_rss = rss_mb(gateway.pid)
        direct = measure(f"http://127.0.0.1:{mock_port}/v1", args.seconds)
        through = measure(f"http://127.0.0.1:{gateway_port}/v1", args.seconds)
        peak_rss = rss_mb(gateway.pid)
    finally:
        for process in (gateway, mock):
            process.send_signal(signal.SIGTERM)
            process.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"load generator: {'wrk' if shutil.which('wrk') else 'python aiohttp'}")
    print(f"{'metric':28} {'direct':>10} {'aiport':>10} {'aiport/direct':>14}")
    for name in direct:
        ratio = through[name] / direct[name] if direct[name] else float("nan")
        print(f"{name:28} {direct[name]:10.2f} {through[name]:10.2f} {ratio:13.2f}x")
    added = through["ttft_p50_ms"] - direct["ttft_p50_ms"]
    print(f"stream first-chunk overhead (p50): {added:.2f} ms")
    print(f"aiport RSS: idle {idle_rss:.0f} MB, after load {peak_rss:.0f} MB")


if __name__ == "__main__":
    main()
