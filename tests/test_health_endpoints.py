"""Health for load balancers and operators: `/health/live`, `/health/ready`, and `/health`
whose details (error texts, paths) only the master key sees."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import AiportProcess, assert_openai_error, raw_request

ROOT = Path(__file__).resolve().parents[1]
SECRET_PATH = "/srv/models/private-weights.gguf"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AiportProcess]:
    """A server whose only engine takes a moment to start and then fails, naming a path."""
    off = {"enabled": False}
    engines = {kind: off for kind in ("chat", "embeddings", "speech", "transcription")}
    engines |= {"moderation": off, "images": off}
    engines["faulty"] = {
        "backend": "tests.support.faulty_backend:FaultyBackend",
        "start_delay": 1.5,
        "start_error": f"cannot open {SECRET_PATH}",
    }
    process = AiportProcess(
        tmp_path_factory.mktemp("broken"),
        config={"local": {"engines": engines, "load": "start"}},
        env={"PYTHONPATH": str(ROOT)},
    )
    process.start(until="/health/live")
    yield process
    process.stop()


def test_live_and_ready_need_no_key(proxy: AiportProcess) -> None:
    for path in ("/health/live", "/health/ready"):
        response = raw_request(proxy.base_url + path, key=None)
        assert response.status == 200, (path, response.body)
        assert response.headers["x-request-id"].startswith("req_")
    ready = raw_request(proxy.base_url + "/health/ready", key=None).json()
    assert ready["status"] == "ready"
    assert ready["deployments"]["vllm/meta-llama/Llama-3-8B"] == "closed"


def test_public_health_is_up_or_down_only(proxy: AiportProcess) -> None:
    response = raw_request(proxy.base_url + "/health", key=None)
    backends = {"anthropic": "up", "openai": "up", "vllm": "up"}
    assert response.json() == {"status": "ok", "backends": backends}


def test_a_starting_server_is_live_but_not_ready(broken: AiportProcess) -> None:
    """Right after the listener opened: live; not ready; model requests refused with 503."""
    assert raw_request(broken.base_url + "/health/live", key=None).status == 200
    ready = raw_request(broken.base_url + "/health/ready", key=None)
    assert ready.status == 503 and ready.json()["status"] == "starting"
    refused = raw_request(
        broken.base_url + "/v1/chat/completions",
        {"model": "crashes", "messages": [{"role": "user", "content": "x"}]},
    )
    error = assert_openai_error(refused, 503)
    assert error["code"] == "service_unavailable" and "starting" in error["message"]
    assert refused.headers["retry-after"] == "1"


def test_with_no_backend_up_it_is_not_ready_and_says_why_only_to_the_master_key(
    broken: AiportProcess,
) -> None:
    deadline = time.monotonic() + 30
    while raw_request(broken.base_url + "/health/ready", key=None).json()["status"] == "starting":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    ready = raw_request(broken.base_url + "/health/ready", key=None)
    assert ready.status == 503 and ready.json()["status"] == "no_backend_up"
    assert set(ready.json()["deployments"].values()) == {"down"}  # each deployment's state

    for key in (None, "sk-wrong"):
        public = raw_request(broken.base_url + "/health", key=key)
        assert public.status == 200
        assert public.json() == {"status": "no_backend_up", "backends": {"local-faulty": "down"}}
        assert SECRET_PATH.encode() not in public.body

    details = raw_request(broken.base_url + "/health").json()["backends"]["local-faulty"]
    assert details["status"] == "down" and details["ready"] is False
    assert SECRET_PATH in details["error"]
