"""What routing costs on the proxy path, and what the response cache saves.

In one run, against the mock upstream (`mock_upstream.py`):

1. CPU per request of aiport itself (its process's user + system time over the requests),
   for the single-backend path (`OPENAI_BASE_URL`, no config) and for a two-deployment
   group with the response cache on, every request a miss (unique deterministic bodies,
   so each is looked up and stored). Both get the same requests, in alternating rounds.
   `--baseline-rev REV` adds the single-backend path of that git revision (e.g. the
   commit before routing came in, unpacked to a temporary directory) as the baseline of
   both: what the proxy path costs now against what it cost then.
2. CPU per request of cache hits against misses, and the latency of both (one request at a
   time, chat and stream, with a bare-socket client), with the mock answering at once and,
   as a model would, after `--model-ms` (20).

    .venv/bin/python -m benchmarks.routing_overhead [--requests 6000] [--rounds 3]

aiport is pinned to CPU 0, the mock and the load to CPU 1 when `taskset` exists. Figures
from different runs or machines are not comparable; the ratios within one run are.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import yaml
from benchmarks.proxy_overhead import free_port, pinned, wait_http

HERE = Path(__file__).resolve().parent

KEY = "sk-bench"
CONCURRENCY = 16
_unique = itertools.count()


def body(stream: bool, unique: bool = True) -> bytes:
    n = next(_unique) if unique else 0
    return orjson.dumps(
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"Question number {n}, how are you?"}],
            "temperature": 0,
            "max_tokens": 64,
            "stream": stream,
        }
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, requests: int, stream: bool, unique: bool = True) -> int:
    """Send `requests` requests (unique ones, or the same one), CONCURRENCY at a time; the
    number of non-200s."""
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    failures = 0
    left = iter(range(requests))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            nonlocal failures
            for _ in left:
                data = body(stream, unique)
                async with session.post(url, data=data, headers=headers) as response:
                    await response.read()
                    failures += response.status != 200

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return failures


def cpu_per_request(base: str, pid: int, requests: int, stream: bool, unique: bool = True) -> float:
    """Microseconds of aiport CPU per request."""
    before = cpu_seconds(pid)
    failures = asyncio.run(load(base + "/chat/completions", requests, stream, unique))
    if failures:
        raise RuntimeError(f"{failures} requests failed against {base}")
    return (cpu_seconds(pid) - before) / requests * 1e6


def latencies(port: int, count: int, unique: bool, stream: bool = False) -> list[float]:
    """Milliseconds per request, one at a time over one kept-alive connection. The client
    is a bare socket whose request bytes are made before the clock starts: an HTTP client
    library costs about as much per request as a cache hit itself, and would hide it."""
    times = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            data = body(stream, unique)
            request = (
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n"
            ).encode() + data
            started = time.perf_counter()
            sock.sendall(request)
            head = _read_answer(sock)
            times.append((time.perf_counter() - started) * 1000)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"answer {head[:40]!r}")
    return times


def _read_answer(sock: socket.socket) -> bytes:
    """Read one whole answer (by its content-length, or to the last chunk); its head."""
    data = b""
    while True:
        data += sock.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        if not _:
            continue
        lines = head.lower().split(b"\r\n")
        if b"transfer-encoding: chunked" in lines:
            if rest.endswith(b"0\r\n\r\n"):
                return head
            continue
        length = next(int(x.split(b":")[1]) for x in lines if x.startswith(b"content-length"))
        if len(rest) >= length:
            return head


def start(
    port: int, mock_port: int, data_dir: str, config: dict | None, source: str | None = None
) -> subprocess.Popen:
    env = {**os.environ, "AIPORT_MASTER_KEY": KEY, "AIPORT_DATA_DIR": data_dir}
    if source is not None:
        env["PYTHONPATH"] = source
    command = [sys.executable, "-m", "aiport", "serve", "--port", str(port)]
    if config is None:
        env |= {"OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1", "OPENAI_API_KEY": "sk-m"}
    else:
        path = Path(data_dir) / "aiport.yaml"
        path.write_text(yaml.safe_dump(config))
        command += ["--config", str(path)]
    return subprocess.Popen(
        pinned(0, command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def routed_config(mock_port: int) -> dict:
    mock = {"base_url": f"http://127.0.0.1:{mock_port}/v1", "api_key": "sk-m"}
    return {
        "providers": {"a": mock, "b": dict(mock)},
        "models": {
            "gpt-4o-mini": {
                "deployments": [
                    {"provider": "a", "model": "gpt-4o-mini"},
                    {"provider": "b", "model": "gpt-4o-mini"},
                ],
                "cache": True,
            }
        },
        "local": {"enabled": False},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-rev", help="git revision for the single-backend path")
    parser.add_argument("--model-ms", type=float, default=20.0, help="the slow mock's delay")
    args = parser.parse_args()
    baseline_source = None
    if args.baseline_rev:
        baseline_source = tempfile.mkdtemp(prefix="aiport-baseline-")
        archive = subprocess.run(
            ["git", "archive", args.baseline_rev, "src"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", baseline_source], input=archive, check=True)
        baseline_source += "/src"

    mock_port, plain_port, routed_port, old_port = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    )
    slow_port, slow_routed_port = free_port(), free_port()
    mock = subprocess.Popen(
        pinned(1, [sys.executable, str(HERE / "mock_upstream.py"), "--port", str(mock_port)])
    )
    slow_mock = subprocess.Popen(
        pinned(1, [sys.executable, str(HERE / "mock_upstream.py"), "--port", str(slow_port)]),
        env={**os.environ, "MOCK_DELAY_MS": str(args.model_ms)},
    )
    dirs = [tempfile.mkdtemp(prefix="aiport-bench-") for _ in range(4)]
    plain = start(plain_port, mock_port, dirs[0], None)
    routed = start(routed_port, mock_port, dirs[1], routed_config(mock_port))
    slow_routed = start(slow_routed_port, slow_port, dirs[2], routed_config(slow_port))
    servers = {
        "single backend": (plain, plain_port),
        "2 deployments + cache": (routed, routed_port),
    }
    if baseline_source is not None:
        old = start(old_port, mock_port, dirs[3], None, baseline_source)
        servers = {"baseline": (old, old_port), **servers}
    results: dict[tuple[str, bool], list[float]] = {}
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the load beside the mock, away from aiport's CPU 0
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models")
        wait_http(f"http://127.0.0.1:{slow_port}/v1/models")
        for port in (*(port for _, port in servers.values()), slow_routed_port):
            wait_http(f"http://127.0.0.1:{port}/health")
        for process, port in servers.values():  # warm up: pools, caches, first imports
            cpu_per_request(f"http://127.0.0.1:{port}/v1", process.pid, 500, False)
        for _ in range(args.rounds):
            for stream in (False, True):
                for name, (process, port) in servers.items():
                    base = f"http://127.0.0.1:{port}/v1"
                    figure = cpu_per_request(base, process.pid, args.requests, stream)
                    results.setdefault((name, stream), []).append(figure)
        routed_base = f"http://127.0.0.1:{routed_port}/v1"
        hit_cpu = [
            cpu_per_request(routed_base, routed.pid, args.requests, False, unique=False)
            for _ in range(args.rounds)
        ]
        latency = {}
        for stream in (False, True):
            for name, port in (("at once", routed_port), ("slow", slow_routed_port)):
                count = 1000 if name == "at once" else 100
                missed = latencies(port, count, unique=True, stream=stream)
                latencies(port, 1, unique=False, stream=stream)  # the miss that fills it
                hit_times = latencies(port, count, unique=False, stream=stream)
                latency[(name, stream)] = (missed, hit_times)
    finally:
        for process in (*(p for p, _ in servers.values()), slow_routed, mock, slow_mock):
            process.send_signal(signal.SIGTERM)
            process.wait(10)
        for directory in dirs:
            shutil.rmtree(directory, ignore_errors=True)
        if baseline_source is not None:
            shutil.rmtree(Path(baseline_source).parent, ignore_errors=True)

    print(f"aiport CPU per request (µs, median of {args.rounds} rounds of {args.requests})")
    if args.baseline_rev:
        print(f"baseline: the single-backend path of {args.baseline_rev}")
    for stream in (False, True):
        kind = "stream, 64 chunks" if stream else "chat"
        median = {name: statistics.median(results[(name, stream)]) for name in servers}
        single_cpu = median["single backend"]
        routed_cpu = median["2 deployments + cache"]
        line = (
            f"  {kind:18} single backend {single_cpu:7.1f}   2 deployments + cache (misses)"
            f" {routed_cpu:7.1f}   ratio {routed_cpu / single_cpu:5.2f}x"
        )
        if "baseline" in median:
            old_cpu = median["baseline"]
            line += (
                f"   baseline {old_cpu:7.1f}: single {single_cpu / old_cpu:5.2f}x,"
                f" 2 deployments + cache {routed_cpu / old_cpu:5.2f}x"
            )
        print(line)
    miss_cpu = statistics.median(results[("2 deployments + cache", False)])
    hit_cpu_median = statistics.median(hit_cpu)
    print(
        f"cache: CPU per request miss {miss_cpu:.1f} µs, hit {hit_cpu_median:.1f} µs,"
        f" {miss_cpu / hit_cpu_median:.1f}x"
    )
    for (name, stream), (missed, hit_times) in latency.items():
        label = (
            "mock answering at once"
            if name == "at once"
            else f"mock answering after {args.model_ms:g} ms"
        )
        kind = "stream" if stream else "chat"
        miss, hit = statistics.median(missed), statistics.median(hit_times)
        print(
            f"latency p50, one at a time, {kind:6}, {label}: miss {miss:.3f} ms,"
            f" hit {hit:.3f} ms, {miss / hit:.1f}x"
        )


if __name__ == "__main__":
    main()
