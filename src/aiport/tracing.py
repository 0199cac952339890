"""OpenTelemetry traces with the GenAI semantic conventions (the optional `otel` extra).

On when an OTLP endpoint is configured the standard way (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
turn it off); every other `OTEL_*` variable (service name, headers, sampler, batch sizes)
is read by the SDK itself. Off, nothing of OpenTelemetry is imported and a request pays
for one `None` check.

Each request gets a SERVER span named `{gen_ai.operation.name} {gen_ai.request.model}`,
child of the client's W3C `traceparent` when it sent one, with the GenAI attributes; each
upstream attempt a CLIENT child span, whose context goes upstream as `traceparent`. Message
content is recorded (`gen_ai.input.messages`, `gen_ai.output.messages`) only when
`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`.

`current` carries the request's trace to the upstream client without threading it
through every call (a context variable: each request is its own task).
"""

from __future__ import annotations

import contextvars
import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

if TYPE_CHECKING:
    from aiport.context import RequestContext

log = logging.getLogger(__name__)

current: contextvars.ContextVar[RequestTrace | None] = contextvars.ContextVar(
    "aiport_trace", default=None
)
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
LOCAL_PROVIDER = "aiport"
# The route's last segment → gen_ai.operation.name (well-known values where one fits).
OPERATIONS = {
    "completions": "chat",  # /chat/completions; /v1/completions is text_completion below
    "embeddings": "embeddings",
    "responses": "chat",
    "messages": "chat",
    "generations": "generate_content",
    "generate": "generate_content",
    "edits": "generate_content",
    "variations": "generate_content",
    "speech": "text_to_speech",
    "transcriptions": "transcription",
    "translations": "translation",
    "moderations": "moderation",
}
REQUEST_PARAMS = {
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "max_output_tokens": "gen_ai.request.max_tokens",
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "seed": "gen_ai.request.seed",
    "n": "gen_ai.request.choice.count",
}
CONTENT_CAP = 64 * 1024  # characters of message content on a span at most


def wanted() -> bool:
    """Whether the environment asks for traces."""
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def operation_of(route: str) -> str:
    if route.endswith("/v1/completions") or route == "/completions":
        return "text_completion"
    return OPERATIONS.get(route.rsplit("/", 1)[-1], route.rsplit("/", 1)[-1] or "request")


class Tracing:
    """The tracer of one server; `start()` a `RequestTrace` per request."""

    def __init__(self) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.propagators.textmap import DefaultGetter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "aiport")})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.tracer = self.provider.get_tracer("aiport")
        self.propagator = TraceContextTextMapPropagator()
        self.getter = DefaultGetter()
        self.kinds = SpanKind
        self.capture_content = os.environ.get(CAPTURE_ENV, "").lower() == "true"
        self.local_backends: frozenset[str] = frozenset()  # embedded engines: provider aiport

    @classmethod
    def from_env(cls) -> Tracing | None:
        if not wanted():
            return None
        try:
            return cls()
        except ImportError as exc:
            log.error(
                "OTLP tracing is configured but OpenTelemetry is not installed (%s):"
                " pip install 'aiport[otel]'; serving without traces",
                exc,
            )
            return None

    def start(self, headers: Mapping[str, str], ctx: RequestContext, route: str) -> RequestTrace:
        """The request's span (child of the client's `traceparent`), current from now on."""
        parent = self.propagator.extract(headers, getter=self.getter)
        operation = operation_of(route)
        span = self.tracer.start_span(operation, context=parent, kind=self.kinds.SERVER)
        span.set_attribute("gen_ai.operation.name", operation)
        trace = RequestTrace(self, span, ctx, operation)
        current.set(trace)
        return trace

    def close(self) -> None:
        self.provider.shutdown()


class RequestTrace:
    """One request's span, its upstream attempts' spans, and what the answer said."""

    __slots__ = (
        "attempt_spans",
        "ctx",
        "finish_reasons",
        "operation",
        "output",
        "response_id",
        "response_model",
        "span",
        "tracing",
    )

    def __init__(self, tracing: Tracing, span: Any, ctx: RequestContext, operation: str) -> None:
        self.tracing = tracing
        self.span = span
        self.ctx = ctx
        self.operation = operation
        self.attempt_spans: list[tuple[Any, int]] = []  # (span, start in ns)
        self.response_id: str | None = None
        self.response_model: str | None = None
        self.finish_reasons: list[str] = []
        self.output: list[str] = []

    @property
    def trace_id(self) -> str:
        return f"{self.span.get_span_context().trace_id:032x}"

    def request_body(self, body: Mapping[str, Any]) -> None:
        """The request's parameters (and, when allowed, its messages)."""
        span = self.span
        for name, attribute in REQUEST_PARAMS.items():
            value = body.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                span.set_attribute(attribute, value)
        if self.tracing.capture_content:
            messages = body.get("messages", body.get("input"))
            if messages is not None:
                span.set_attribute("gen_ai.input.messages", _capped(messages))

    def attempt_headers(self, provider: str, base_url: str) -> list[tuple[str, str]]:
        """Start an upstream attempt's span; the headers that carry it upstream."""
        from opentelemetry.trace import set_span_in_context

        start = time.time_ns()
        model = self.ctx.served_model
        span = self.tracing.tracer.start_span(
            f"{self.operation} {model or ''}".strip(),
            context=set_span_in_context(self.span),
            kind=self.tracing.kinds.CLIENT,
            start_time=start,
        )
        url = urlsplit(base_url)
        span.set_attribute("gen_ai.provider.name", provider)
        span.set_attribute("gen_ai.operation.name", self.operation)
        if model:
            span.set_attribute("gen_ai.request.model", model)
        if url.hostname:
            span.set_attribute("server.address", url.hostname)
            span.set_attribute("server.port", url.port or (443 if url.scheme == "https" else 80))
        self.attempt_spans.append((span, start))
        carrier: dict[str, str] = {}
        self.tracing.propagator.inject(carrier, context=set_span_in_context(span))
        return list(carrier.items())

    def saw(self, data: Mapping[str, Any]) -> None:
        """An answer or stream chunk: its id, model, finish reasons (and text, if allowed)."""
        if self.response_id is None and isinstance(data.get("id"), str):
            self.response_id = data["id"]
        if self.response_model is None and isinstance(data.get("model"), str):
            self.response_model = data["model"]
        for choice in data.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            reason = choice.get("finish_reason")
            if isinstance(reason, str):
                self.finish_reasons.append(reason)
            if self.tracing.capture_content:
                message = choice.get("message") or choice.get("delta") or {}
                text = message.get("content") if isinstance(message, dict) else None
                if isinstance(text, str):
                    self.output.append(text)

    def finish(self, route: str) -> None:
        """Set what the request did and end its spans."""
        ctx, span = self.ctx, self.span
        local = ctx.backend in self.tracing.local_backends
        if ctx.model:
            span.update_name(f"{self.operation} {ctx.model}")
        if ctx.backend:
            span.set_attribute("gen_ai.provider.name", LOCAL_PROVIDER if local else ctx.backend)
        if ctx.model:
            span.set_attribute("gen_ai.request.model", ctx.model)
        span.set_attribute("http.route", route)
        span.set_attribute("aiport.request_id", ctx.request_id)
        span.set_attribute("http.response.status_code", ctx.status)
        if self.response_id:
            span.set_attribute("gen_ai.response.id", self.response_id)
        if self.response_model or ctx.served_model:
            span.set_attribute("gen_ai.response.model", self.response_model or ctx.served_model)
        if self.finish_reasons:
            span.set_attribute("gen_ai.response.finish_reasons", self.finish_reasons)
        if ctx.delivered:
            span.set_attribute("gen_ai.usage.input_tokens", ctx.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", ctx.usage.completion_tokens)
        if self.output:
            message = [
                {"role": "assistant", "parts": [{"type": "text", "content": "".join(self.output)}]}
            ]
            span.set_attribute("gen_ai.output.messages", _capped(message))
        error = _error_type(ctx)
        self._finish_attempts(ctx)
        if error is not None:
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("error.type", error)
            span.set_status(Status(StatusCode.ERROR, error))
        span.end()

    def _finish_attempts(self, ctx: RequestContext) -> None:
        # Only attempts that went over the network have a span: not a local engine's.
        local = self.tracing.local_backends
        records = [r for r in ctx.attempts if r.deployment.partition("/")[0] not in local]
        for i, (span, start) in enumerate(self.attempt_spans):
            status = records[i].status if i < len(records) else ctx.status
            end = start + int(records[i].ms * 1e6) if i < len(records) else None
            if i + 1 < len(self.attempt_spans) and end is None:
                end = self.attempt_spans[i + 1][1]
            if status >= 400:
                from opentelemetry.trace import Status, StatusCode

                span.set_attribute("error.type", str(status))
                span.set_status(Status(StatusCode.ERROR, str(status)))
            span.end(end_time=end)


def outgoing(headers: list[tuple[str, str]], provider: str, base_url: str) -> list[tuple[str, str]]:
    """`headers` plus the `traceparent` of a new attempt span, when this request is traced."""
    trace = current.get()
    if trace is None:
        return headers
    return [*headers, *trace.attempt_headers(provider, base_url)]


def _error_type(ctx: RequestContext) -> str | None:
    if ctx.status < 400:
        return None
    return ctx.error_type or str(ctx.status)


def _capped(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= CONTENT_CAP else text[:CONTENT_CAP] + "…"
