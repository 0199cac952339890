"""The whole server, embedded models and all, in a network namespace with only loopback:
proof that nothing reaches for a hub or any other host at start or at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_endpoint_answers_without_network() -> None:
    assert shutil.which("unshare") and shutil.which("ip"), "needs util-linux and iproute2"
    script = f"ip link set lo up && exec {sys.executable} -m tests.support.offline_smoke"
    result = subprocess.run(
        ["unshare", "--net", "bash", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0 and "offline ok" in result.stdout, result.stderr[-3000:]
