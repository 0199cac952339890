"""Health for load balancers and operators: `/health/live`, `/health/ready`, and `/health`
whose details (deployment ids, error texts, paths) only the master key sees."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import (
    ANTHROPIC_UPSTREAM_KEY,
    UPSTREAM_KEY,
    AiportProcess,
    assert_openai_error,
    proxy_config,
    raw_request,
)

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


def test_ready_counts_deployments_and_names_them_only_to_the_master_key(
    proxy: AiportProcess,
) -> None:
    details = raw_request(proxy.base_url + "/health/ready").json()
    assert details["status"] == "ready"
    assert details["deployments"]["vllm/meta-llama/Llama-3-8B"] == "closed"
    counts = {"healthy": len(details["deployments"]), "half_open": 0, "ejected": 0, "down": 0}
    assert details["deployment_counts"] == counts

    for key in (None, "sk-wrong"):  # a wrong key is no key here, not a 401
        public = raw_request(proxy.base_url + "/health/ready", key=key)
        assert public.status == 200
        assert public.json() == {"status": "ready", "deployment_counts": counts}


def test_no_public_answer_names_a_deployment_an_upstream_or_its_key(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    ids = raw_request(proxy.base_url + "/health/ready").json()["deployments"]
    secrets = [upstream.url, UPSTREAM_KEY, ANTHROPIC_UPSTREAM_KEY, *ids]
    secrets += [id.split("/", 1)[1] for id in ids]  # the upstream model names
    chat = {"model": "my-llama", "messages": [{"role": "user", "content": "x"}]}
    asked = [("/health", None), ("/health/live", None), ("/health/ready", None)]
    asked += [("/v1/models", None), ("/v1/chat/completions", chat), ("/admin/deployments", None)]
    asked += [("/no/such/path", None)]
    for path, body in asked:
        for key in (None, "sk-wrong"):
            response = raw_request(proxy.base_url + path, body, key=key)
            seen = response.body.decode() + str(dict(response.headers))
            leaked = [secret for secret in secrets if secret in seen]
            assert not leaked, (path, key, response.status, leaked)


@pytest.fixture(scope="module")
def unasked(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    """aiport in front of the fake upstream, which no request has reached through it yet."""
    process = AiportProcess(
        tmp_path_factory.mktemp("unasked"),
        config=proxy_config(upstream),
        env={"OPENAI_API_KEY": UPSTREAM_KEY},
    )
    yield process.start()
    process.stop()


def test_health_says_what_requests_told_of_an_upstream_and_never_asks_it(
    unasked: AiportProcess, upstream: FakeUpstream
) -> None:
    """/health called every upstream "up" without ever asking it. Asking on each poll would
    cost money and rate limit (the console polls every 10 s): it reports what the requests
    sent there told — the last one's outcome and the breakers — and "unknown" before any."""
    url = unasked.base_url
    sent = len(upstream.requests)
    for _ in range(3):
        public = raw_request(url + "/health", key=None).json()
        unknown = dict.fromkeys(("anthropic", "openai", "vllm"), "unknown")
        assert public == {"status": "ok", "backends": unknown}
        assert raw_request(url + "/health").status == 200  # the details, for the master key
        assert raw_request(url + "/admin/deployments").status == 200
    assert len(upstream.requests) == sent  # not one request upstream to find out
    details = raw_request(url + "/health").json()["backends"]
    assert details["openai"]["status"] == "unknown" and details["openai"]["last_request"] is None
    breakers = details["vllm"]["breakers"]
    assert breakers["closed"] > 0 and breakers["half_open"] == breakers["open"] == 0

    hello = [{"role": "user", "content": "Hallo"}]
    chat = {"model": "my-llama", "messages": hello}
    assert raw_request(url + "/v1/chat/completions", chat).status == 200
    failing = {"model": "error-503", "messages": hello}  # to OpenAI, which answers 503
    assert raw_request(url + "/v1/chat/completions", failing).status == 503
    public = raw_request(url + "/health", key=None).json()["backends"]
    assert public == {"anthropic": "unknown", "openai": "degraded", "vllm": "up"}
    details = raw_request(url + "/health").json()["backends"]
    answered = details["vllm"]["last_request"]
    assert answered["status"] == 200 and 0 <= answered["seconds_ago"] < 60
    assert abs(answered["at"] - time.time()) < 60
    assert details["openai"]["last_request"]["status"] == 503
    groups = raw_request(url + "/admin/deployments").json()["data"]
    last = {d["id"]: d["last_request"] for g in groups for d in g["deployments"]}
    assert last["vllm/meta-llama/Llama-3-8B"]["status"] == 200
    assert last["anthropic/claude-sonnet-4-5"] is None


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
    counts = ready.json()["deployment_counts"]
    assert "deployments" not in ready.json() and counts["down"] > 0
    assert counts == {"healthy": 0, "half_open": 0, "ejected": 0, "down": counts["down"]}
    details = raw_request(broken.base_url + "/health/ready")  # the master key
    assert details.status == 503 and details.json()["status"] == "no_backend_up"
    assert set(details.json()["deployments"].values()) == {"down"}  # each deployment's state

    for key in (None, "sk-wrong"):
        public = raw_request(broken.base_url + "/health", key=key)
        assert public.status == 200
        assert public.json() == {"status": "no_backend_up", "backends": {"local-faulty": "down"}}
        assert SECRET_PATH.encode() not in public.body

    details = raw_request(broken.base_url + "/health").json()["backends"]["local-faulty"]
    assert details["status"] == "down" and details["ready"] is False
    assert SECRET_PATH in details["error"]
