"""GET /health: for load balancers; no key needed, no secrets shown."""

from __future__ import annotations

import time

from aiohttp import web

from aiport.api.context import services
from aiport.api.middleware import public
from aiport.api.responses import json_response


@public
async def health(request: web.Request) -> web.Response:
    svc = services(request)
    backends = {}
    for backend in svc.backends:
        report = {"ready": backend.name not in svc.failed, **backend.status()}
        if backend.name in svc.failed:
            report["error"] = svc.failed[backend.name]
        backends[backend.name] = report
    return json_response(
        request,
        {
            "status": "ok",
            "uptime_seconds": round(time.time() - svc.started_at, 1),
            "backends": backends,
        },
    )
