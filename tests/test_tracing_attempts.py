"""Attempt spans and attempt records line up when a group mixes a local engine (no span:
nothing goes over the network) with upstream deployments (a span each)."""

from __future__ import annotations

from opentelemetry.propagators.textmap import DefaultGetter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from aiport.context import RequestContext
from aiport.routing.attempts import AttemptRecord
from aiport.tracing import Tracing


def in_memory_tracing() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing = Tracing.__new__(Tracing)  # the real class, with an in-memory exporter
    tracing.provider = TracerProvider()
    tracing.provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.tracer = tracing.provider.get_tracer("test")
    tracing.propagator = TraceContextTextMapPropagator()
    tracing.getter = DefaultGetter()
    tracing.kinds = SpanKind
    tracing.capture_content = False
    tracing.local_backends = frozenset({"local-chat"})
    return tracing, exporter


def test_a_local_attempt_does_not_shift_the_upstream_attempts_statuses() -> None:
    tracing, exporter = in_memory_tracing()
    ctx = RequestContext("req_mixed", "/v1/chat/completions")
    trace = tracing.start({}, ctx, "/v1/chat/completions")
    # The local engine was full (503, no span); then the upstream answered (200, a span).
    ctx.attempts.append(AttemptRecord("local-chat/smollm2", 503, 1.0, "local-chat/smollm2"))
    trace.attempt_headers("openai", "http://127.0.0.1:9/v1")
    ctx.attempts.append(AttemptRecord("openai/gpt-4o", 200, 2.0, "openai/gpt-4o"))
    ctx.model, ctx.backend, ctx.deployment = "mixed", "openai", "openai/gpt-4o"
    trace.finish("/v1/chat/completions")
    [attempt] = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert attempt.status.status_code != StatusCode.ERROR
    assert "error.type" not in (attempt.attributes or {})
