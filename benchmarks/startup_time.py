"""Start-up time of `aiport serve` with every embedded model loaded at start.

Measures, over a few runs: the time until /health/ready answers 200, which is when every
local engine has loaded (the port itself opens at once).
The baseline in the same run is a bare `python -c "import aiport.app"`: the interpreter
and import cost that any start pays.

    .venv/bin/python benchmarks/startup_time.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ready_seconds() -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
    env |= {"AIPORT_MASTER_KEY": "sk-bench", "AIPORT_DATA_DIR": tempfile.mkdtemp()}
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiport", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                pass
            if server.poll() is not None:
                raise RuntimeError("aiport exited during start-up")
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(15)


def import_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import aiport.app"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    baseline = [import_seconds() for _ in range(args.runs)]
    startup = [ready_seconds() for _ in range(args.runs)]
    print(f"import aiport.app (baseline): median {statistics.median(baseline):.2f} s")
    print(
        f"serve, all models loaded:     median {statistics.median(startup):.2f} s "
        f"(runs: {', '.join(f'{s:.2f}' for s in startup)})"
    )


if __name__ == "__main__":
    main()
