"""The official `openai` npm package is a contract too: run it against aiport in proxy
mode and on the embedded models."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.server import MASTER_KEY, AiportProcess

JS_DIR = Path(__file__).parent / "js"


def check_js_sdk(server: AiportProcess) -> None:
    """`sdk_check.mjs` against `server`; on failure, what node and the server said.

    The timeout only stops a hang: the checks take seconds, but minutes on a loaded machine
    (the embedded model's answers are bounded, not fast)."""
    assert shutil.which("node"), "Node.js is needed (Debian's nodejs; `make test` installs it)"
    assert (JS_DIR / "node_modules" / "openai").is_dir(), "run `make test` (it runs npm ci)"
    try:
        result = subprocess.run(
            ["node", "sdk_check.mjs", server.base_url + "/v1", MASTER_KEY],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        output = result.stdout + result.stderr
        passed = result.returncode == 0 and "js sdk ok" in result.stdout
    except subprocess.TimeoutExpired as timeout:
        output, passed = f"{timeout}\n{timeout.stdout!r}\n{timeout.stderr!r}", False
    assert passed, f"{output[-3000:]}\n--- server log ---\n{server.log()[-6000:]}"


def test_js_sdk_through_the_proxy(proxy: AiportProcess) -> None:
    check_js_sdk(proxy)


@pytest.mark.slow
def test_js_sdk_on_the_embedded_models(local_server: AiportProcess) -> None:
    check_js_sdk(local_server)
