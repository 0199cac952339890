"""What one request carries through the handlers, and how handlers reach the app's services."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from aiport.backends.base import Usage

if TYPE_CHECKING:
    from aiport.auth import Caller
    from aiport.services import Services

SERVICES: web.AppKey[Services] = web.AppKey("aiport.services")
CONTEXT = "aiport.context"


@dataclass(slots=True)
class RequestContext:
    """Filled in as the request goes; the metering step reads it once the response is done."""

    request_id: str
    endpoint: str
    started: float = field(default_factory=time.perf_counter)
    caller: Caller | None = None
    model: str | None = None  # as the client asked
    served_model: str | None = None  # as the backend knows it
    backend: str | None = None
    usage: Usage = field(default_factory=Usage)
    usage_reported: bool = False  # True once the backend told us real usage
    first_token: float | None = None
    status: int = 200
    error_type: str | None = None
    estimated_tokens: int = 0
    admission: Any = None  # the limiter's reservation, settled after the response

    def mark_first_token(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def context(request: web.Request) -> RequestContext:
    ctx: RequestContext = request[CONTEXT]
    return ctx
