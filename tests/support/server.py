"""Real `aiport serve` processes and raw HTTP helpers, shared by the tests.

Streaming and disconnect behaviour can only be seen through real sockets (httpx's ASGI
transport and aiohttp's in-memory client buffer), so the server runs as a subprocess.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import openai
import yaml

from tests.support.fake_upstream import FakeUpstream

MASTER_KEY = "sk-test-master-0123456789"
UPSTREAM_KEY = "sk-upstream-secret-do-not-leak"
ANTHROPIC_UPSTREAM_KEY = "sk-ant-upstream-secret-do-not-leak"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AiportProcess:
    """`python -m aiport serve` on a free port, with its own data dir and config."""

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        command: tuple[str, ...] = (sys.executable, "-m", "aiport"),
        own_session: bool = False,  # a process group of its own, for signals to the group
    ) -> None:
        self.workdir = workdir
        self.command = command
        self.own_session = own_session
        self.port = free_port()
        self.config = config
        self.env = env or {}
        self.args = args
        self.log_path = workdir / f"aiport-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0, until: str = "/health/ready") -> AiportProcess:
        """Start, and wait until `until` answers 200 (`/health/live`: just listening)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [*self.command, "serve", "--port", str(self.port)]
        if self.config is not None:
            config_path = self.workdir / f"aiport-{self.port}.yaml"
            config_path.write_text(yaml.safe_dump(self.config))
            command += ["--config", str(config_path)]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OPENAI_", "AIPORT_"))
        }
        env |= {
            "AIPORT_MASTER_KEY": MASTER_KEY,
            "AIPORT_DATA_DIR": str(self.workdir / "data"),
            "PYTHONUNBUFFERED": "1",
        }
        env |= self.env
        env = {k: v for k, v in env.items() if v is not None}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, *self.args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=self.own_session,
            )
        self._wait_until(until, timeout)
        return self

    def _wait_until(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"aiport exited early:\n{self.log()}")
            try:
                # /health/ready: 503 (an HTTPError) until every service has started.
                with urllib.request.urlopen(self.base_url + path, timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"aiport did not become ready:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, api_key: str = MASTER_KEY, v1: bool = True) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.base_url + ("/v1" if v1 else ""), api_key=api_key, max_retries=0
        )

    def async_client(self, api_key: str = MASTER_KEY) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.base_url + "/v1", api_key=api_key, max_retries=0)


def proxy_config(upstream: FakeUpstream, **provider: Any) -> dict[str, Any]:
    return {
        "providers": {
            "openai": {
                "base_url": upstream.url,
                "api_key": "${OPENAI_API_KEY}",
                "first_byte_timeout": 3,
                **provider,
            },
            "vllm": {"base_url": upstream.url, "extra_fields": ["top_k"]},
            "anthropic": {
                "type": "anthropic",
                "base_url": upstream.url,
                "api_key": ANTHROPIC_UPSTREAM_KEY,
            },
        },
        "models": {
            "my-llama": {"provider": "vllm", "model": "meta-llama/Llama-3-8B"},
            # Through a provider that speaks only chat: other protocols are translated.
            "vllm-chat": {"provider": "vllm", "model": "fake-chat"},
            "agent-vllm": {"provider": "vllm"},
            "vllm-break": {"provider": "vllm", "model": "break-stream"},
            "claude-native": {"provider": "anthropic", "model": "claude-sonnet-4-5"},
            "agent-claude": {"provider": "anthropic"},
            "claude-overloaded": {"provider": "anthropic", "model": "error-529"},
            "claude-midstream": {"provider": "anthropic", "model": "overloaded-midstream"},
            "claude-slow": {  # the model's own timeouts hold on an Anthropic provider too
                "provider": "anthropic",
                "model": "slow-3000",
                "timeouts": {"first_byte": 0.3, "total": 0.3},
            },
        },
        "local": {"enabled": False},
        # These tests look at how one upstream answer is passed on: no retries, no breaker
        # (tests/test_routing_*.py test those, each on a server of its own).
        "router": NO_RESILIENCE,
    }


NO_RESILIENCE: dict[str, Any] = {
    "num_retries": 0,
    "breaker": {"consecutive_failures": 1_000_000, "min_requests": 1_000_000},
}


# -- raw HTTP, for tests that look at exact bytes, statuses and headers -------------------


@dataclass
class RawResponse:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    url: str,
    body: bytes | dict[str, Any] | list[Any] | None = None,
    *,
    method: str | None = None,
    headers: dict[str, str] | None = None,
    key: str | None = MASTER_KEY,
    timeout: float = 15.0,
) -> RawResponse:
    """One HTTP exchange with urllib; error statuses are answers too, not exceptions.

    A dict or list body is sent as JSON; bytes are sent as given (set the content type).
    """
    sent_headers = dict(headers or {})
    data: bytes | None
    if isinstance(body, dict | list):
        data = json.dumps(body).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    else:
        data = body
    if data is not None:
        # urllib would otherwise claim form-urlencoded for any body.
        sent_headers.setdefault("Content-Type", "application/octet-stream")
    if key is not None:
        sent_headers.setdefault("Authorization", f"Bearer {key}")
    request = urllib.request.Request(url, data=data, headers=sent_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return RawResponse(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return RawResponse(error.code, error.headers, error.read())


def sse_events(raw: bytes) -> list[bytes]:
    """The `data:` payloads of an SSE body, in order (b"[DONE]" included)."""
    return [event[len(b"data: ") :] for event in raw.split(b"\n\n") if event.startswith(b"data: ")]


def assert_openai_error(response: RawResponse, status: int, param: str | None = None) -> Any:
    """The answer is OpenAI's error shape with all four keys; returns the `error` object."""
    assert response.status == status, (response.status, response.body[:300])
    assert response.headers.get("content-type", "").startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    if param is not None:
        assert error["param"] == param, error
    return error
