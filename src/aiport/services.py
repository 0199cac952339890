"""Everything a running server holds, opened and closed in one place (the app's lifespan)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiport.accounts import Accounts
from aiport.auth import Authenticator
from aiport.backends.base import Backend
from aiport.backends.registry import build_local_engines, build_router
from aiport.backends.upstream import UpstreamBackend
from aiport.body_log import BodyLog
from aiport.cors import CorsPolicy
from aiport.errors import APIError
from aiport.imagestore import ImageStore
from aiport.lifecycle import Lifecycle
from aiport.logs import AccessLog
from aiport.metrics import Metrics
from aiport.observability import Observability
from aiport.routing.attempts import AttemptRunner
from aiport.routing.cache import ResponseCache, build_cache
from aiport.routing.overload import InFlightGate
from aiport.routing.shared import SharedBreakers
from aiport.routing.table import Router
from aiport.settings import Settings
from aiport.store.responses import ResponseStore
from aiport.tracing import Tracing
from aiport.uploads import UploadSpool

log = logging.getLogger(__name__)

MODEL_LIST_TTL = 60.0


@dataclass
class Services:
    settings: Settings
    auth: Authenticator
    router: Router
    engines: dict[str, Backend]
    upstreams: dict[str, UpstreamBackend]
    cors: CorsPolicy
    images: ImageStore
    uploads: UploadSpool
    accounts: Accounts
    runner: AttemptRunner
    gate: InFlightGate
    stored_responses: ResponseStore
    cache: ResponseCache | None = None
    shared: SharedBreakers | None = None
    access_log: AccessLog | None = None
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    observability: Observability | None = None
    body_log: BodyLog | None = None
    failed: dict[str, str] = field(default_factory=dict)  # backend name → why it is down
    started_at: float = field(default_factory=time.time)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _model_cache: dict[str, tuple[float, list[dict[str, Any]]]] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, master_key: str) -> Services:
        engines = build_local_engines(settings)
        router, upstreams = build_router(settings, engines)
        accounts = Accounts(settings)
        redis = accounts.redis
        shared = SharedBreakers(redis, router) if redis is not None else None
        for health in router.health.values():
            if health.quota is not None and redis is not None:
                health.quota.share(redis)
        config = settings.file.router
        return cls(
            settings=settings,
            auth=Authenticator(master_key, resolver=accounts),
            router=router,
            engines=engines,
            upstreams=upstreams,
            cors=CorsPolicy(settings.cors_origins),
            images=ImageStore(settings.data_dir / "images", settings.image_url_ttl),
            uploads=UploadSpool(settings.data_dir / "uploads"),
            accounts=accounts,
            stored_responses=ResponseStore(accounts.db),
            runner=AttemptRunner(router, on_change=shared.publish if shared else None),
            gate=InFlightGate(config.max_in_flight, config.queue),
            cache=build_cache(settings.file.cache, settings.file.models, redis, engines),
            shared=shared,
            access_log=AccessLog() if settings.access_log else None,
            body_log=BodyLog(**settings.file.log_bodies.model_dump())
            if settings.file.log_bodies
            else None,
            observability=Observability.build(
                settings, master_key, router.knows, frozenset(e.name for e in engines.values())
            ),
        )

    @property
    def metrics(self) -> Metrics | None:
        return self.observability.metrics if self.observability is not None else None

    @property
    def tracing(self) -> Tracing | None:
        return self.observability.tracing if self.observability is not None else None

    @property
    def backends(self) -> list[Backend]:
        return [*self.upstreams.values(), *self.engines.values()]

    def begin_start(self) -> None:
        """Start in the background: the server listens meanwhile (ready once started)."""
        self._tasks.append(asyncio.create_task(self._start_or_stop()))

    async def _start_or_stop(self) -> None:
        try:
            await self.start()
        except OSError as exc:  # a database or Redis it cannot reach: no bug to trace
            log.critical("start-up failed: %s", exc)
            self.lifecycle.request_stop("start-up failed", exit_code=1)
            return
        except Exception:
            log.critical("start-up failed", exc_info=True)
            self.lifecycle.request_stop("start-up failed", exit_code=1)
            return
        self.lifecycle.started()

    async def start(self) -> None:
        """Start every backend at once (model loading overlaps); a failure is reported in
        /health and answers 503 for that backend's models, the others serve on."""
        await asyncio.to_thread(self.uploads.open)  # and sweep what dead processes left
        await self.accounts.start()
        started = time.perf_counter()
        await asyncio.gather(*(self._start_one(backend) for backend in self.backends))
        log.info("backends started in %.1fs", time.perf_counter() - started)
        for group in self.router.groups():
            for deployment in group.deployments:
                deployment.health.down = self.failed.get(deployment.backend.name)
        if self.shared is not None:
            await self.shared.start()
        self._tasks.append(asyncio.create_task(self.images.sweep_forever()))
        if self.observability is not None:
            await self.observability.start(self)

    async def _start_one(self, backend: Backend) -> None:
        try:
            await backend.start()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, ModuleNotFoundError) and type(backend).__module__.startswith(
                "aiport.backends.local"
            ):  # `pip install aiport` without the extra
                reason += " (the embedded models need pip install 'aiport[local]')"
            self.failed[backend.name] = reason
            log.error("backend %s failed to start: %s", backend.name, reason)

    async def close(self) -> None:
        if self.observability is not None:
            await self.observability.close()
        if self.shared is not None:
            await self.shared.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for backend in self.backends:
            try:
                await backend.close()
            except Exception:
                log.exception("backend %s failed to close", backend.name)
        self.uploads.close()
        # Last: requests that were still finishing above have written their usage rows.
        await self.accounts.close()

    async def upstream_models(self, backend: Backend) -> list[dict[str, Any]]:
        """The default provider's model list, cached for a minute; empty if it is down."""
        cached = self._model_cache.get(backend.name)
        if cached is not None and time.monotonic() - cached[0] < MODEL_LIST_TTL:
            return cached[1]
        models: list[dict[str, Any]] = []
        if isinstance(backend, UpstreamBackend):
            try:
                models = await backend.list_models()
            except APIError as exc:
                log.warning("model list of %s unavailable: %s", backend.name, exc.message)
        self._model_cache[backend.name] = (time.monotonic(), models)
        return models
