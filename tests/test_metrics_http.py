"""GET /metrics after a scripted mix of requests, parsed with prometheus_client's own
parser: exact counter deltas and histogram counts, one worker and two."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiport.body_log import REDACTED, redact
from tests.support import prometheus
from tests.support.fake_upstream import FakeUpstream
from tests.support.log_lines import wait_for_line
from tests.support.prometheus import Samples, delta, total
from tests.support.server import (
    MASTER_KEY,
    UPSTREAM_KEY,
    AiportProcess,
    assert_openai_error,
    free_port,
    proxy_config,
    raw_request,
    sse_events,
)

METRICS_TOKEN = "metrics-token-0123456789"
CHAT = "/v1/chat/completions"
SKETCH = "aiport-sketch-1"  # the embedded image renderer: a local engine without weights


def config(upstream: FakeUpstream) -> dict[str, Any]:
    cfg = proxy_config(upstream)
    engines = ("chat", "embeddings", "speech", "transcription", "moderation")
    cfg["local"] = {"enabled": True, "engines": {e: {"enabled": False} for e in engines}}
    cfg["log_bodies"] = {"keys": ["master"], "max_bytes": 400}
    return cfg


def start(workdir: Path, upstream: FakeUpstream, *args: str) -> AiportProcess:
    env = {"OPENAI_API_KEY": UPSTREAM_KEY, "AIPORT_METRICS_TOKEN": METRICS_TOKEN}
    return AiportProcess(workdir, config=config(upstream), env=env, args=args).start()


@pytest.fixture(scope="module")
def server(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    process = start(tmp_path_factory.mktemp("metrics"), upstream)
    yield process
    process.stop()


def scrape(url: str, key: str | None = METRICS_TOKEN) -> Samples:
    return prometheus.scrape(url, key)


def chat(url: str, model: str, key: str, stream: bool = False) -> Any:
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": stream}
    return raw_request(url + CHAT, body, key=key)


def run_mix(url: str, key: str) -> str:
    """Two answers and a stream from upstream, one local picture, an upstream 500, and a
    request the key's rpm (3) refuses; the stream's request id."""
    assert chat(url, "gpt-4o", key).status == 200
    assert chat(url, "gpt-4o", MASTER_KEY).status == 200
    streamed = chat(url, "gpt-4o", key, stream=True)
    assert streamed.status == 200 and sse_events(streamed.body)[-1] == b"[DONE]"
    picture = raw_request(url + "/v1/images/generations", {"model": SKETCH, "prompt": "a red ball"})
    assert picture.status == 200
    assert_openai_error(chat(url, "error-500", key), 500)
    assert_openai_error(chat(url, "gpt-4o", key), 429)
    return str(streamed.headers["x-request-id"])


def test_metrics_need_the_master_key_or_the_metrics_token(server: AiportProcess) -> None:
    assert_openai_error(raw_request(server.base_url + "/metrics", key=None), 401)
    assert_openai_error(raw_request(server.base_url + "/metrics", key="sk-wrong"), 401)
    key = server_key(server, "peeker")
    assert_openai_error(raw_request(server.base_url + "/metrics", key=key), 401)
    assert scrape(server.base_url, MASTER_KEY)
    assert scrape(server.base_url, METRICS_TOKEN)


def server_key(server: AiportProcess, name: str, **limits: Any) -> str:
    created = raw_request(server.base_url + "/admin/keys", {"name": name, **limits})
    assert created.status == 201, created.body
    return str(created.json()["key"])


def test_a_scripted_mix_gives_exact_deltas(server: AiportProcess) -> None:
    key = server_key(server, "mix", rpm=3)
    key_id = raw_request(server.base_url + "/admin/keys").json()["data"][-1]["id"]
    before = scrape(server.base_url)
    stream_id = run_mix(server.base_url, key)
    after = scrape(server.base_url)
    d = lambda name, **labels: delta(before, after, name, **labels)  # noqa: E731
    route = "/v1/chat/completions"
    assert d("aiport_requests_total", endpoint=route, status_class="2xx") == 3
    assert d("aiport_requests_total", endpoint=route, status_class="2xx", key=key_id) == 2
    assert d("aiport_requests_total", endpoint=route, status_class="2xx", key="master") == 1
    assert d("aiport_requests_total", endpoint=route, status_class="4xx", key=key_id) == 1
    # The unknown model that failed upstream is not a label value of its own.
    assert d("aiport_requests_total", status_class="5xx", model="_other", provider="openai") == 1
    assert d("aiport_requests_total", model="error-500") == 0
    images = "/v1/images/generations"
    assert d("aiport_requests_total", endpoint=images, model=SKETCH, status_class="2xx") == 1
    assert d("aiport_request_duration_seconds_count", endpoint=route) == 5
    assert d("aiport_request_duration_seconds_count", endpoint=images, provider="local-images") == 1
    # One stream: one time to first token; the fake's stream has several chunks.
    assert d("aiport_time_to_first_token_seconds_count", model="gpt-4o") == 1
    assert d("aiport_inter_chunk_seconds_count", model="gpt-4o") == 1
    assert d("aiport_tokens_total", key=key_id, type="input") > 0
    assert d("aiport_tokens_total", key=key_id, type="output") > 0
    assert d("aiport_cost_usd_total", key=key_id, model="gpt-4o") > 0
    assert d("aiport_limiter_decisions_total", key=key_id, decision="admitted") == 3
    assert d("aiport_limiter_decisions_total", key=key_id, decision="rate_limited") == 1
    assert total(after, "aiport_in_flight_requests") == 1  # the scrape itself
    assert total(after, "aiport_open_streams") == 0
    assert total(after, "aiport_database_up") == 1
    # The stream's access log line says what it did.
    line = wait_for_line(server, stream_id, '"logger":"aiport.access"')
    assert line["key_id"] == key_id and line["model"] == "gpt-4o" and line["backend"] == "openai"
    assert line["ttft_ms"] > 0 and line["prompt_tokens"] > 0 and line["completion_tokens"] > 0
    assert line["cost_usd"] > 0 and "trace_id" not in line  # not traced here


def test_bodies_are_logged_for_the_keys_asked_redacted_and_capped(server: AiportProcess) -> None:
    secret = "sk-live-abcdefghijklmnop"
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": f"my key is {secret}"}],
        "api_key": "hunter2",
        "metadata": {"note": "x" * 1000},
    }
    answer = raw_request(server.base_url + CHAT, body)
    assert answer.status == 200
    request_id = answer.headers["x-request-id"]
    asked = wait_for_line(server, request_id, '"msg":"request body"')
    assert asked["key_id"] == "master" and asked["truncated"] is True
    assert secret not in asked["body"] and "hunter2" not in asked["body"]
    assert "my key is [redacted]" in asked["body"] and '"api_key":"[redacted]"' in asked["body"]
    assert len(asked["body"].encode()) <= 400
    answered = wait_for_line(server, request_id, '"msg":"response body"')
    assert json.loads(answered["body"])["id"] == answer.json()["id"]
    # Other keys' bodies are not logged.
    key = server_key(server, "quiet")
    other = chat(server.base_url, "gpt-4o", key)
    time.sleep(0.5)  # the log is flushed every 0.2 s
    assert not [
        t for t in server.log().splitlines() if other.headers["x-request-id"] in t and "body" in t
    ]


def test_token_counts_are_not_taken_for_secrets() -> None:
    """`max_tokens` and usage's `*_tokens` are counts, not credentials: a body log that hid
    them could not show what a request asked for or used; a `token` itself stays hidden."""
    counts = {
        "max_tokens": 5,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "usage": {"prompt_tokens": 11, "prompt_tokens_details": {"cached_tokens": 0}},
    }
    secrets = {"token": "t0ps3cret", "access_token": "a", "auth": {"refresh_token": "r"}}
    assert redact(counts | secrets) == counts | {
        "token": REDACTED,
        "access_token": REDACTED,
        "auth": {"refresh_token": REDACTED},
    }


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_two_workers_add_up(upstream: FakeUpstream, tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path, upstream, "--workers", "2", "--metrics-port", str(port))
    try:
        # Both workers report (each a second after it started), also on the loopback
        # port, without a key.
        wait_until(
            lambda: total(scrape(f"http://127.0.0.1:{port}", key=None), "aiport_workers") == 2
        )
        before = scrape(server.base_url)
        for _ in range(20):  # SO_REUSEPORT spreads them over both workers
            assert chat(server.base_url, "gpt-4o", MASTER_KEY).status == 200
        # The worker not scraped writes its figures every second: wait for them.
        wait_until(
            lambda: (
                delta(before, scrape(server.base_url), "aiport_requests_total", endpoint=CHAT) >= 20
            )
        )
        after = scrape(server.base_url)
        assert delta(before, after, "aiport_requests_total", endpoint=CHAT) == 20
        assert delta(before, after, "aiport_request_duration_seconds_count", endpoint=CHAT) == 20
        assert total(after, "aiport_workers") == 2  # one series, summed over both
    finally:
        server.stop()


def test_the_usage_api_groups_by_model_and_day(server: AiportProcess) -> None:
    assert chat(server.base_url, "gpt-4o", MASTER_KEY).status == 200
    deadline = time.monotonic() + 5  # usage rows are written every 0.5 s
    while True:
        report = raw_request(server.base_url + "/admin/usage?by=model,day&since=1h").json()
        rows = {r["model"]: r for r in report["data"]}
        if "gpt-4o" in rows or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert report["object"] == "list" and report["by"] == ["model", "day"]
    row = rows["gpt-4o"]
    assert row["time"] % 86400 == 0 and row["requests"] >= 1 and row["latency_ms_p50"] > 0
    bad = raw_request(server.base_url + "/admin/usage?by=model,colour")
    assert assert_openai_error(bad, 400, "by")["message"].startswith("cannot group usage by")
