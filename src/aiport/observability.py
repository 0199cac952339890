"""Metrics and traces of a running server: what `Services` opens for them.

`Observability.build()` makes the metrics (unless `AIPORT_METRICS=false`) and the tracer
(when OTLP is configured); `start()` registers the gauges read from the server's parts and
runs a background task that refreshes them every second and checks the database and Redis
every ten; `close()` stops it, the loopback listener and the tracer (flushing spans).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiport.metrics import Metrics, Sampler, engine_sampler, runners
from aiport.settings import Settings
from aiport.tracing import Tracing

if TYPE_CHECKING:
    from aiohttp import web

    from aiport.services import Services

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
HEALTH_SECONDS = 10.0
HEALTH_TIMEOUT = 2.0
STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2, "down": 3}


@dataclass
class Observability:
    metrics: Metrics | None
    tracing: Tracing | None
    digests: tuple[bytes, ...]  # who may read /metrics: the master key, the metrics token
    healthy: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _listener: web.AppRunner | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        master_key: str,
        known_model: Callable[[str], bool],
        local_backends: frozenset[str],
    ) -> Observability:
        from aiport.api.metrics import token_digest

        digests = [token_digest(master_key)]
        if settings.metrics_token is not None:
            digests.append(token_digest(settings.metrics_token.get_secret_value()))
        metrics = Metrics(known_model) if settings.metrics else None
        tracing = Tracing.from_env()
        if tracing is not None:
            tracing.local_backends = local_backends
        return cls(metrics, tracing, tuple(digests))

    async def start(self, svc: Services) -> None:
        if self.metrics is None:
            return
        self._track(self.metrics, svc)
        self._task = asyncio.create_task(self._watch(svc), name="metrics")
        port = svc.settings.metrics_port
        if port is not None:
            from aiport.api.metrics import start_loopback_listener

            reuse = svc.settings.workers > 1
            self._listener = await start_loopback_listener(self.metrics, port, reuse)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            await self._listener.cleanup()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.close)

    def _track(self, m: Metrics, svc: Services) -> None:
        queued, busy = engine_sampler(svc.engines)
        m.track(
            m.gauge("aiport_engine_queue_depth", "Requests waiting for a slot", ("engine",)), queued
        )
        m.track(m.gauge("aiport_engine_busy_slots", "Requests running", ("engine",)), busy)
        m.track(
            m.gauge("aiport_engine_slots", "Requests that may run at once", ("engine",)),
            lambda: {(n,): r.concurrency for n, r in runners(svc.engines)},
        )
        m.track(
            m.gauge(
                "aiport_backend_up", "1 when a provider or engine started", ("backend",), "livemin"
            ),
            lambda: {(b.name,): 0 if b.name in svc.failed else 1 for b in svc.backends},
        )
        writer = svc.accounts.writer
        m.track(
            m.gauge("aiport_usage_pending_rows", "Usage rows waiting to be written", ()),
            lambda: {(): writer.pending},
        )
        for name, doc, attribute in (
            ("aiport_usage_rows_written", "Usage rows written", "written"),
            ("aiport_usage_rows_dropped", "Usage rows lost (buffer full or refused)", "dropped"),
            (
                "aiport_usage_write_failures",
                "Usage batch writes that failed (retried)",
                "failed_writes",
            ),
        ):
            m.track_total(m.counter_of(name, doc), _attribute(writer, attribute))
        self._track_deployments(m, svc)
        for name in ("database", "redis"):
            doc = f"1 when {name} answered its last check"
            m.track(m.gauge(f"aiport_{name}_up", doc, (), "livemin"), self._health(name))

    def _track_deployments(self, m: Metrics, svc: Services) -> None:
        """The breaker of each configured deployment: its state, trips and load."""
        router = svc.router
        m.track(
            m.gauge(
                "aiport_deployment_state",
                "0 closed, 1 half-open, 2 open (ejected), 3 down (did not start); workers' worst",
                ("deployment",),
                "livemax",
            ),
            lambda: {(id,): STATE_VALUES[state] for id, state in router.states().items()},
        )
        m.track(
            m.gauge("aiport_deployment_in_flight", "Requests at a deployment", ("deployment",)),
            lambda: {(id,): h.in_flight for id, h in router.configured().items()},
        )
        m.track_total(
            m.counter_of(
                "aiport_deployment_ejections", "Breaker trips of a deployment", ("deployment",)
            ),
            lambda: {(id,): h.ejections for id, h in router.configured().items()},
        )

    def _health(self, name: str) -> Sampler:
        return lambda: {(): self.healthy[name]} if name in self.healthy else {}

    async def _watch(self, svc: Services) -> None:
        assert self.metrics is not None
        ticks = 0
        while True:
            if ticks % int(HEALTH_SECONDS / REFRESH_SECONDS) == 0:
                await self._check_health(svc)
            self.metrics.refresh()
            ticks += 1
            await asyncio.sleep(REFRESH_SECONDS)

    async def _check_health(self, svc: Services) -> None:
        accounts = svc.accounts
        self.healthy["database"] = await _answers(accounts.db.fetchval("SELECT 1"))
        if accounts.redis is not None:
            self.healthy["redis"] = await _answers(accounts.redis.ping())


async def _answers(check: Any) -> float:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await check
        return 1.0
    except Exception:
        return 0.0


def _attribute(owner: object, name: str) -> Sampler:
    return lambda: {(): float(getattr(owner, name))}
