"""The wheel, installed without extras into a fresh venv, serves as a proxy.

This is what `pip install aiport` gives a user who only wants to front OpenAI: every module
the server imports must come with the runtime dependencies, not with `dev` or `local`.
pip resolves the dependencies as for a user, from its cache where it can.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import UPSTREAM_KEY, AiportProcess

ROOT = Path(__file__).resolve().parents[1]


def pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only the wheel and its runtime dependencies in it."""
    root = tmp_path_factory.mktemp("wheel")
    # No build isolation: the dev venv's setuptools builds it, with no download.
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(root / "dist"), str(ROOT))
    [wheel] = (root / "dist").glob("aiport-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip("--python", str(venv / "bin" / "python"), "install", str(wheel))
    return venv


def test_the_venv_has_no_extras(fresh_venv: Path) -> None:
    """The check below means something only if nothing of the dev venv leaks in."""
    for module in ("httpx", "numpy", "pytest"):
        probe = subprocess.run([fresh_venv / "bin" / "python", "-c", f"import {module}"])
        assert probe.returncode != 0, f"{module} is importable in the fresh venv"


def test_the_installed_command_proxies_a_chat_request(
    fresh_venv: Path, upstream: FakeUpstream, tmp_path: Path
) -> None:
    server = AiportProcess(
        tmp_path,
        env={"OPENAI_API_KEY": UPSTREAM_KEY, "OPENAI_BASE_URL": upstream.url},
        command=(str(fresh_venv / "bin" / "aiport"),),
    )
    server.start()
    try:
        client = server.client()
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hallo!"}]
        )
        assert reply.choices[0].message.content == "Hello from the fake upstream."
        stream = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hallo!"}], stream=True
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream) == (
            "Hello from the stream."
        )
    finally:
        server.stop()
    assert "Traceback" not in server.log(), server.log()
