"""OpenTelemetry traces to a real OTLP/HTTP receiver on loopback: a chat, a stream and a
failed request, with the GenAI attributes, a child span per upstream attempt, and the
client's and the upstream's `traceparent` on the same trace."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.log_lines import wait_for_line
from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.server import MASTER_KEY, UPSTREAM_KEY, AiportProcess, proxy_config, raw_request

SERVER, CLIENT = 2, 3  # OTLP span kinds
STATUS_ERROR = 2
CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_PARENT = "b7ad6b7169203331"


@pytest.fixture(scope="module")
def receiver() -> Iterator[OTLPReceiver]:
    server = OTLPReceiver().start()
    yield server
    server.stop()


def traced(
    workdir: Path, upstream: FakeUpstream, receiver: OTLPReceiver, content: bool = False
) -> AiportProcess:
    env = {
        "OPENAI_API_KEY": UPSTREAM_KEY,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_SERVICE_NAME": "aiport-test",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true" if content else "false",
    }
    return AiportProcess(workdir, config=proxy_config(upstream), env=env).start()


@pytest.fixture(scope="module")
def server(
    upstream: FakeUpstream, receiver: OTLPReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    process = traced(tmp_path_factory.mktemp("traced"), upstream, receiver)
    yield process
    process.stop()


def chat(server: AiportProcess, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    body = {"messages": [{"role": "user", "content": "Say hi"}], **body}
    return raw_request(server.base_url + "/v1/chat/completions", body, headers=headers)


def spans_of(receiver: OTLPReceiver, trace_id: str, count: int) -> list[ReceivedSpan]:
    for _ in range(2):
        spans = [s for s in receiver.wait_for(len(receiver.spans) + 1) if s.trace_id == trace_id]
        if len(spans) >= count:
            return spans
    return [s for s in receiver.spans if s.trace_id == trace_id]


def request_span(spans: list[ReceivedSpan]) -> ReceivedSpan:
    [span] = [s for s in spans if s.kind == SERVER]
    return span


def test_a_chat_is_one_genai_span_with_a_child_per_upstream_attempt(
    server: AiportProcess, upstream: FakeUpstream, receiver: OTLPReceiver
) -> None:
    parent = f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"
    answer = chat(
        server,
        {"model": "gpt-4o", "max_tokens": 20, "temperature": 0.2, "top_p": 0.9},
        headers={"traceparent": parent},
    )
    assert answer.status == 200
    sent = upstream.last("/chat/completions")["headers"]
    # The upstream saw our trace, under the attempt's span.
    _version, trace_id, span_id, flags = sent["traceparent"].split("-")
    assert trace_id == CLIENT_TRACE and flags == "01"
    spans = spans_of(receiver, CLIENT_TRACE, 2)
    top = request_span(spans)
    assert top.name == "chat gpt-4o" and top.parent_span_id == CLIENT_PARENT
    a = top.attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.request.max_tokens"] == 20
    assert a["gen_ai.request.temperature"] == pytest.approx(0.2)
    assert a["gen_ai.request.top_p"] == pytest.approx(0.9)
    body = answer.json()
    assert a["gen_ai.response.id"] == body["id"]
    assert a["gen_ai.response.model"] == body["model"]
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert a["gen_ai.usage.input_tokens"] == body["usage"]["prompt_tokens"]
    assert a["gen_ai.usage.output_tokens"] == body["usage"]["completion_tokens"]
    assert "error.type" not in a and "gen_ai.input.messages" not in a  # content: opt-in
    [attempt] = [s for s in spans if s.kind == CLIENT]
    assert attempt.parent_span_id == top.span_id and attempt.span_id == span_id
    assert attempt.name == "chat gpt-4o"
    assert attempt.attributes["server.address"] == "127.0.0.1"
    assert attempt.attributes["server.port"] == upstream.port
    assert attempt.attributes["gen_ai.provider.name"] == "openai"
    # The access log line carries the trace id.
    line = wait_for_line(server, answer.headers["x-request-id"], '"logger":"aiport.access"')
    assert line["trace_id"] == CLIENT_TRACE


def test_a_stream_and_a_failure(
    server: AiportProcess, upstream: FakeUpstream, receiver: OTLPReceiver
) -> None:
    streamed = chat(server, {"model": "gpt-4o", "stream": True})
    assert streamed.status == 200
    trace_id = upstream.last("/chat/completions")["headers"]["traceparent"].split("-")[1]
    top = request_span(spans_of(receiver, trace_id, 2))
    assert top.name == "chat gpt-4o"
    assert top.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert top.attributes["gen_ai.usage.output_tokens"] > 0
    assert top.attributes["gen_ai.response.id"].startswith("chatcmpl")

    failed = chat(server, {"model": "error-500"})
    assert failed.status == 500
    trace_id = upstream.last("/chat/completions")["headers"]["traceparent"].split("-")[1]
    spans = spans_of(receiver, trace_id, 2)
    top = request_span(spans)
    assert top.name == "chat error-500" and top.status_code == STATUS_ERROR
    assert top.attributes["error.type"] == "server_error"
    assert "gen_ai.usage.input_tokens" not in top.attributes  # nothing was delivered
    [attempt] = [s for s in spans if s.kind == CLIENT]
    assert attempt.status_code == STATUS_ERROR and attempt.attributes["error.type"] == "500"


def test_message_content_only_when_the_operator_opts_in(
    upstream: FakeUpstream, receiver: OTLPReceiver, tmp_path: Path
) -> None:
    process = traced(tmp_path, upstream, receiver, content=True)
    try:
        assert chat(process, {"model": "gpt-4o"}).status == 200
        trace_id = upstream.last("/chat/completions")["headers"]["traceparent"].split("-")[1]
        top = request_span(spans_of(receiver, trace_id, 2))
        assert "Say hi" in top.attributes["gen_ai.input.messages"]
        assert top.attributes["gen_ai.output.messages"].startswith('[{"role":"assistant"')
    finally:
        process.stop()


def test_no_trace_headers_go_upstream_when_tracing_is_off(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    env = {"OPENAI_API_KEY": UPSTREAM_KEY}
    process = AiportProcess(tmp_path, config=proxy_config(upstream), env=env).start()
    try:
        headers = {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"}
        answer = raw_request(
            process.base_url + "/v1/chat/completions",
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
            headers=headers,
            key=MASTER_KEY,
        )
        assert answer.status == 200
        assert "traceparent" not in {
            h.lower() for h in upstream.last("/chat/completions")["headers"]
        }
    finally:
        process.stop()


def test_without_an_endpoint_nothing_of_opentelemetry_is_imported(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from aiport.settings import Settings\n"
        "from aiport.app import create_app\n"
        "create_app(Settings(data_dir=sys.argv[1]), 'sk-master-key-for-this-check')\n"
        "loaded = [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "assert not loaded, loaded\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AIPORT_"))}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
