"""OpenAI's Codex CLI (`codex exec`) and Anthropic's Claude Code (`claude -p`), from the npm
registry (tests/clis, installed by `make test`), driven through aiport to the fake upstream
that scripts a one-step answer — each once passed through and once translated."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import MASTER_KEY, AiportProcess

CLIS = Path(__file__).parent / "clis" / "node_modules"
CODEX = CLIS / "@openai" / "codex" / "bin" / "codex.js"
CLAUDE = CLIS / "@anthropic-ai" / "claude-code" / "cli-wrapper.cjs"  # finds the native binary
ANSWER = "Hello from the stream."


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert shutil.which("node"), "Node.js is needed (`make test` installs it)"
    assert CODEX.is_file() and CLAUDE.is_file(), "run `make test` (it installs tests/clis)"
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd), "NO_COLOR": "1"}
    return subprocess.run(
        command,
        env=base | env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("model", "upstream_path"), [("gpt-5.4", "/responses"), ("vllm-chat", "/chat/completions")]
)
def test_codex_exec(
    proxy: AiportProcess, upstream: FakeUpstream, tmp_path: Path, model: str, upstream_path: str
) -> None:
    home = tmp_path / "codex"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model = "{model}"\n'
        'model_provider = "aiport"\n'
        "[model_providers.aiport]\n"
        'name = "aiport"\n'
        f'base_url = "{proxy.base_url}/v1"\n'
        'env_key = "AIPORT_API_KEY"\n'
        'wire_api = "responses"\n'
    )
    env = {"CODEX_HOME": str(home), "AIPORT_API_KEY": MASTER_KEY}
    seen = len(upstream.requests)
    result = run(["node", str(CODEX), "exec", "--skip-git-repo-check", "Say hello."], env, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ANSWER
    paths = [entry["path"] for entry in upstream.requests[seen:]]
    assert paths == ["/v1" + upstream_path]


@pytest.mark.parametrize(
    ("model", "upstream_path"), [("claude-native", "/messages"), ("vllm-chat", "/chat/completions")]
)
def test_claude_code_print(
    proxy: AiportProcess, upstream: FakeUpstream, tmp_path: Path, model: str, upstream_path: str
) -> None:
    env = {
        "ANTHROPIC_BASE_URL": proxy.base_url,
        "ANTHROPIC_API_KEY": MASTER_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",  # no telemetry, no update checks
        "DISABLE_AUTOUPDATER": "1",
    }
    seen = len(upstream.requests)
    result = run(["node", str(CLAUDE), "-p", "Say hello.", "--model", model], env, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ANSWER
    paths = {entry["path"] for entry in upstream.requests[seen:]}
    assert paths == {"/v1" + upstream_path}
