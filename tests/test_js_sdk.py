"""The official `openai` npm package is a contract too: run it against aiport in proxy
mode and on the embedded models."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.server import MASTER_KEY, AiportProcess

JS_DIR = Path(__file__).parent / "js"


def run_js_checks(base_url: str) -> subprocess.CompletedProcess[str]:
    assert shutil.which("node"), "Node.js is needed (Debian's nodejs; `make test` installs it)"
    assert (JS_DIR / "node_modules" / "openai").is_dir(), "run `make test` (it runs npm ci)"
    return subprocess.run(
        ["node", "sdk_check.mjs", base_url + "/v1", MASTER_KEY],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_js_sdk_through_the_proxy(proxy: AiportProcess) -> None:
    result = run_js_checks(proxy.base_url)
    assert result.returncode == 0 and "js sdk ok" in result.stdout, result.stderr[-2000:]


@pytest.mark.slow
def test_js_sdk_on_the_embedded_models(tmp_path: Path) -> None:
    server = AiportProcess(tmp_path).start(timeout=180)
    try:
        result = run_js_checks(server.base_url)
    finally:
        server.stop()
    assert result.returncode == 0 and "js sdk ok" in result.stdout, result.stderr[-2000:]
