"""How handlers reach the app's services and the request's `RequestContext`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from aiport.context import RequestContext

if TYPE_CHECKING:
    from aiport.services import Services

SERVICES: web.AppKey[Services] = web.AppKey("aiport.services")
CONTEXT = "aiport.context"


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def context(request: web.Request) -> RequestContext:
    ctx: RequestContext = request[CONTEXT]
    return ctx
