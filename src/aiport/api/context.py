"""How handlers reach the app's services and the request's `RequestContext`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from aiport.context import RequestContext

if TYPE_CHECKING:
    from aiport.services import Services

SERVICES: web.AppKey[Services] = web.AppKey("aiport.services")
CONTEXT = "aiport.context"
REQUEST_SERVICES = "aiport.services"  # the app's services, on the request itself (see below)


def services(request: web.Request) -> Services:
    """The app's services. The gateway middleware puts them on the request: a handler asks
    for them several times, and `request.app` is a chain of properties each time."""
    try:
        found: Services = request[REQUEST_SERVICES]
    except KeyError:
        return request.app[SERVICES]
    return found


def context(request: web.Request) -> RequestContext:
    ctx: RequestContext = request[CONTEXT]
    return ctx
