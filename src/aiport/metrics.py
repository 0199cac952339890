"""Prometheus metrics: what every request did, and gauges sampled from the running server.

The hot path makes one call per request, `Metrics.request_finished(ctx, route, seconds)`,
which finds the request's label combination in a dict and adds to plain numbers there (no
lock, no shared-memory write: measured, prometheus_client's own updates cost a proxied
request ~10% more CPU); in-flight requests and open streams are plain integers too.
`refresh()` writes those sums into the prometheus_client metrics and sets the gauges from
samplers (queues, the usage writer, database and Redis health): at every scrape, and every
second in the background, so that with `--workers N` a scrape of one worker sees the
others' figures of a second ago at most.

With `--workers N` the supervisor points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory
and prometheus_client's multiprocess mode keeps each worker's values in memory-mapped
files there; a scrape of any worker sums them all (gauges by their `multiprocess_mode`).

Label values are bounded: the route's pattern rather than the path, key ids rather than
keys, and a model name only when the router knows it or an upstream answered for it
(otherwise `_other`), so a client cannot mint new series.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from aiport.context import RequestContext

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "_other"
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
OVERHEAD = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
GAPS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
RATES = (1, 5, 10, 25, 50, 100, 200, 500, 1000, 2500)

Sampler = Callable[[], dict[tuple[str, ...], float]]


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class _Tally:
    """A histogram child's observations since the last flush, bucketed here: observing
    is a `bisect` and two additions, and a flush is one update per bucket used."""

    __slots__ = ("bounds", "child", "counts", "total")

    def __init__(self, child: Any, bounds: tuple[float, ...]) -> None:
        self.child = child
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: +Inf
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def flush(self) -> None:
        if not self.total and not any(self.counts):
            return
        # prometheus_client has no public way to add many observations at once; its
        # buckets and sum are values (memory-mapped in multiprocess mode) that `inc`.
        buckets = self.child._buckets
        for i, count in enumerate(self.counts):
            if count:
                buckets[i].inc(count)
                self.counts[i] = 0
        self.child._sum.inc(self.total)
        self.total = 0.0


class _Count:
    """A counter child's increments since the last flush (a plain number: no lock)."""

    __slots__ = ("child", "pending")

    def __init__(self, child: Any) -> None:
        self.child = child
        self.pending = 0

    def flush(self) -> None:
        if self.pending:
            self.child.inc(self.pending)
            self.pending = 0


class _Series:
    """What one label combination of finished requests adds up to until the next flush:
    plain numbers, so that a request costs no lock and no shared-memory write."""

    __slots__ = (
        "cost",
        "cost_child",
        "duration",
        "gaps",
        "input",
        "input_child",
        "output",
        "output_child",
        "rate",
        "requests",
        "requests_child",
        "ttft",
    )

    def __init__(self, m: Metrics, labels: tuple[str, ...]) -> None:
        endpoint, model, served, provider, deployment, status, key = labels
        self.requests_child = m.requests.labels(
            endpoint, model, served, provider, deployment, status, key
        )
        self.input_child = m.tokens.labels(model, provider, key, "input")
        self.output_child = m.tokens.labels(model, provider, key, "output")
        self.cost_child = m.cost.labels(model, provider, key)
        self.requests = self.input = self.output = 0
        self.cost = 0.0
        self.duration = _Tally(m.duration.labels(endpoint, model, provider, status), SECONDS)
        self.ttft = _Tally(m.ttft.labels(model, provider), SECONDS)
        self.gaps = _Tally(m.inter_chunk.labels(model, provider), GAPS)
        self.rate = _Tally(m.output_rate.labels(model, provider), RATES)

    def flush(self) -> None:
        for child, name in (
            (self.requests_child, "requests"),
            (self.input_child, "input"),
            (self.output_child, "output"),
            (self.cost_child, "cost"),
        ):
            value = getattr(self, name)
            if value:
                child.inc(value)
                setattr(self, name, 0)
        for tally in (self.duration, self.ttft, self.gaps, self.rate):
            tally.flush()


class Metrics:
    """Every `aiport_*` metric of one server (its own registry: no globals)."""

    def __init__(self, known_model: Callable[[str], bool] = lambda name: False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess_dir()
        self.known_model = known_model
        self.in_flight = 0
        self.open_streams = 0
        self._series: dict[tuple[str, ...], _Series] = {}
        self._models: dict[str, str] = {}
        self._counts: dict[tuple[Any, ...], _Count] = {}  # counters beside the series
        self._tallies: dict[tuple[Any, ...], _Tally] = {}  # histograms observed per attempt
        self._gauges: list[tuple[Gauge, Sampler]] = []
        self._counters: list[tuple[Counter, Sampler, dict[tuple[str, ...], float]]] = []
        self._define()

    # -- definitions ---------------------------------------------------------------------

    def _counter(self, name: str, doc: str, labels: tuple[str, ...]) -> Counter:
        return Counter(name, doc, labels, registry=self.registry)

    def _histogram(
        self, name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]
    ) -> Histogram:
        return Histogram(name, doc, labels, buckets=buckets, registry=self.registry)

    def counter_of(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return self._counter(name, doc, labels)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...], mode: str = "livesum") -> Gauge:
        return Gauge(name, doc, labels, registry=self.registry, multiprocess_mode=mode)  # type: ignore[arg-type]

    def _define(self) -> None:
        request = ("endpoint", "model", "served_model", "provider", "deployment", "status_class")
        self.requests = self._counter(
            "aiport_requests", "Requests answered, by route and outcome", (*request, "key")
        )
        self.duration = self._histogram(
            "aiport_request_duration_seconds",
            "Whole request time, arrival to last byte",
            ("endpoint", "model", "provider", "status_class"),
            SECONDS,
        )
        self.ttft = self._histogram(
            "aiport_time_to_first_token_seconds",
            "Streams: arrival to the first generated text sent",
            ("model", "provider"),
            SECONDS,
        )
        self.inter_chunk = self._histogram(
            "aiport_inter_chunk_seconds",
            "Streams: mean time between generated chunks, one observation per stream",
            ("model", "provider"),
            GAPS,
        )
        self.output_rate = self._histogram(
            "aiport_output_tokens_per_second",
            "Streams: output tokens per second from the first to the last chunk",
            ("model", "provider"),
            RATES,
        )
        self.overhead = self._histogram(
            "aiport_overhead_seconds",
            "aiport's own time: total (streams: to the first token) less upstream attempts",
            ("endpoint", "provider"),
            OVERHEAD,
        )
        self.upstream = self._histogram(
            "aiport_upstream_duration_seconds",
            "One upstream attempt: sent to answered (streams: to the first chunk)",
            ("provider", "deployment", "status_class"),
            SECONDS,
        )
        self.tokens = self._counter(
            "aiport_tokens",
            "Tokens billed, by type (input, output)",
            ("model", "provider", "key", "type"),
        )
        self.cost = self._counter(
            "aiport_cost_usd", "Cost billed in USD", ("model", "provider", "key")
        )
        self.retries = self._counter(
            "aiport_retries", "Upstream attempts after a request's first", ("model",)
        )
        self.fallbacks = self._counter(
            "aiport_fallbacks", "Requests a fallback model answered", ("model", "fallback")
        )
        self.cache = self._counter(
            "aiport_cache_requests", "Response cache lookups by result", ("model", "result")
        )
        self.limiter = self._counter(
            "aiport_limiter_decisions",
            "Per-key limit decisions: admitted, rate_limited, over_budget, unavailable",
            ("key", "decision"),
        )
        self.track(
            self.gauge("aiport_workers", "Server processes reporting (1 each)", ()),
            lambda: {(): 1},
        )
        self.track(
            self.gauge("aiport_in_flight_requests", "Requests being served", ()),
            lambda: {(): self.in_flight},
        )
        self.track(
            self.gauge("aiport_open_streams", "Streams being sent", ()),
            lambda: {(): self.open_streams},
        )

    # -- samplers ------------------------------------------------------------------------

    def track(self, gauge: Gauge, sampler: Sampler) -> None:
        """Set `gauge` from `sampler()` (label values → value) at every refresh."""
        self._gauges.append((gauge, sampler))

    def track_total(self, counter: Counter, sampler: Sampler) -> None:
        """Advance `counter` to the running totals `sampler()` reports at every refresh."""
        self._counters.append((counter, sampler, {}))

    def refresh(self) -> None:
        """Write what requests added since the last refresh, and sample the gauges."""
        for series in self._series.values():
            series.flush()
        for tally in self._tallies.values():
            tally.flush()
        for count in self._counts.values():
            count.flush()
        for gauge, sampler in self._gauges:
            for labels, value in sampler().items():
                (gauge.labels(*labels) if labels else gauge).set(value)
        for counter, sampler, seen in self._counters:
            for labels, total in sampler().items():
                delta = total - seen.get(labels, 0)
                if delta > 0:
                    (counter.labels(*labels) if labels else counter).inc(delta)
                    seen[labels] = total

    def exposition(self) -> bytes:
        """The text format of every metric (all workers' in multiprocess mode); call
        `refresh()` first, on the event loop's thread, so that it is current."""
        if self.multiprocess is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess)
        return generate_latest(registry)

    # -- the hot path --------------------------------------------------------------------

    def model_label(self, name: str | None, answered: bool) -> str:
        """`name` if it is a bounded label value, else `_other`."""
        if not name:
            return ""
        label = self._models.get(name)
        if label is None:
            if not (answered or self.known_model(name)):
                return OTHER
            label = name if len(self._models) < 10_000 else OTHER
            self._models[name] = label
        return label

    def request_finished(self, ctx: RequestContext, route: str, seconds: float) -> None:
        """Count one finished request; `route` is its route pattern (bounded)."""
        answered = ctx.status < 400
        model = self.model_label(ctx.model, answered)
        served = self.model_label(ctx.served_model, answered)
        provider = ctx.backend or ""
        deployment = ctx.deployment or provider
        status = STATUS_CLASSES[min(ctx.status // 100, 5) - 1] if ctx.status >= 100 else "5xx"
        key = ctx.caller.key_id if ctx.caller is not None else ""
        labels = (route, model, served, provider, deployment, status, key)
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = _Series(self, labels)
        series.requests += 1
        series.duration.observe(seconds)
        if ctx.delivered:
            usage = ctx.usage
            series.input += usage.prompt_tokens
            series.output += usage.completion_tokens
            series.cost += ctx.cost_usd
        if ctx.first_token is not None:
            self._stream_timing(ctx, series)
        if ctx.attempts:
            self._attempts(ctx, route, provider, model, seconds)
        if ctx.fallback is not None:
            self._count(self.fallbacks, model, self.model_label(ctx.fallback, True))
        if ctx.cache is not None:
            self._count(self.cache, model, ctx.cache)
        if ctx.limit_decision is not None:
            self._count(self.limiter, key, ctx.limit_decision)

    def _stream_timing(self, ctx: RequestContext, series: _Series) -> None:
        first = ctx.first_token
        assert first is not None
        series.ttft.observe(first - ctx.started)
        last = ctx.last_token
        if last is not None and ctx.output_chunks > 1 and last > first:
            series.gaps.observe((last - first) / (ctx.output_chunks - 1))
            if ctx.usage.completion_tokens:
                series.rate.observe(ctx.usage.completion_tokens / (last - first))

    def _attempts(
        self, ctx: RequestContext, route: str, provider: str, model: str, seconds: float
    ) -> None:
        upstream = 0.0
        for attempt in ctx.attempts:
            took = attempt.ms / 1000
            upstream += took
            status = STATUS_CLASSES[min(attempt.status // 100, 5) - 1]
            self._tally(self.upstream, SECONDS, provider, attempt.deployment, status).observe(took)
        if len(ctx.attempts) > 1:
            self._count(self.retries, model, by=len(ctx.attempts) - 1)
        end = ctx.first_token - ctx.started if ctx.first_token is not None else seconds
        self._tally(self.overhead, OVERHEAD, route, provider).observe(max(0.0, end - upstream))

    def _tally(self, metric: Histogram, bounds: tuple[float, ...], *labels: str) -> _Tally:
        """`metric`'s child for `labels`, observed in-process until the next refresh."""
        key = (id(metric), *labels)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(metric.labels(*labels), bounds)
        return tally

    def _count(self, metric: Counter, *labels: str, by: int = 1) -> None:
        """Add to `metric`'s child for `labels` in-process until the next refresh."""
        key = (id(metric), *labels)
        count = self._counts.get(key)
        if count is None:
            count = self._counts[key] = _Count(metric.labels(*labels))
        count.pending += by


def runners(engines: dict[str, Any]) -> list[tuple[str, Any]]:
    """The local engines with a runner (`busy`: admitted calls, `concurrency`: slots)."""
    found = []
    for backend in engines.values():
        runner = getattr(backend, "runner", None) or getattr(backend, "_runner", None)
        if runner is not None and hasattr(runner, "busy"):
            found.append((backend.name, runner))
    return found


def engine_sampler(engines: dict[str, Any]) -> tuple[Sampler, Sampler]:
    """Queue depth and busy slots of each local engine's runner."""

    def queued() -> dict[tuple[str, ...], float]:
        return {(n,): max(0, r.busy - r.concurrency) for n, r in runners(engines)}

    def busy() -> dict[tuple[str, ...], float]:
        return {(n,): min(r.busy, r.concurrency) for n, r in runners(engines)}

    return queued, busy
