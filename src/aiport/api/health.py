"""Health for load balancers and operators.

- `/health/live`: the process is up and its event loop answers (200, no key).
- `/health/ready`: it can serve (no key): 503 while starting, while draining for a
  shutdown, when no backend is up, or when no deployment of any model is healthy (all
  ejected by their breakers). Load balancers and Kubernetes route by this. Anyone sees
  how many deployments are in each state; only the master key sees which (their ids
  name providers and upstream models, and their states tell of outages).
- `/health`: per backend for anyone: an embedded engine `up` or `down`; an upstream as the
  requests sent there tell (`Router.observed`: `up`, `degraded`, `down` or `unknown` before
  the first) — never probed, since a health poll must cost no money nor rate limit. With
  the master key also the details (load state, error texts, paths; an upstream's last
  request and breakers), which are not for the public.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from aiport.api.context import services
from aiport.api.middleware import public
from aiport.api.responses import json_response
from aiport.backends.base import Backend
from aiport.backends.upstream import UpstreamBackend
from aiport.services import Services


@public
async def live(request: web.Request) -> web.Response:
    return json_response(request, {"status": "live"})


@public
async def ready(request: web.Request) -> web.Response:
    svc = services(request)
    reason = not_ready_reason(svc)
    states = svc.router.states()
    report: dict[str, Any] = {"status": reason or "ready", "deployment_counts": _counts(states)}
    if svc.auth.is_master(request.headers.get("Authorization")):
        report["deployments"] = states
    response = json_response(request, report)
    if reason is not None:
        response.set_status(503)
    return response


# A breaker's state as an operator names it: closed lets requests through, open ejects.
_COUNTED = {"closed": "healthy", "half_open": "half_open", "open": "ejected", "down": "down"}


def _counts(states: dict[str, str]) -> dict[str, int]:
    counts = dict.fromkeys(_COUNTED.values(), 0)
    for state in states.values():
        counts[_COUNTED[state]] += 1
    return counts


def not_ready_reason(svc: Services) -> str | None:
    """Why this instance should get no traffic now, or None when it can serve."""
    if not svc.lifecycle.serving:
        return svc.lifecycle.phase.value  # "starting" or "draining"
    if svc.backends and all(backend.name in svc.failed for backend in svc.backends):
        return "no_backend_up"  # (an instance with none configured serves the admin API)
    if not svc.router.any_healthy():
        return "no_healthy_deployment"
    return None


@public
async def health(request: web.Request) -> web.Response:
    svc = services(request)
    master = svc.auth.is_master(request.headers.get("Authorization"))
    describe = _details if master else _status
    report: dict[str, Any] = {
        "status": not_ready_reason(svc) or "ok",
        "backends": {b.name: describe(svc, b) for b in svc.backends},
    }
    if master:
        report["uptime_seconds"] = round(time.time() - svc.started_at, 1)
    return json_response(request, report)


def _status(svc: Services, backend: Backend) -> str:
    return str(_observed(svc, backend)["status"])


def _observed(svc: Services, backend: Backend) -> dict[str, Any]:
    if backend.name in svc.failed:
        return {"status": "down"}
    if isinstance(backend, UpstreamBackend):
        return svc.router.observed(backend.name)
    return {"status": "up"}  # an embedded engine: in this process, loaded or loading


def _details(svc: Services, backend: Backend) -> dict[str, Any]:
    error = svc.failed.get(backend.name)
    observed = _observed(svc, backend)
    details: dict[str, Any] = {"status": observed.pop("status"), "ready": not error}
    details |= backend.status() | observed
    if error is not None:
        details["error"] = error
    return details
