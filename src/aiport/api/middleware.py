"""The one middleware: request id, CORS, authentication, errors, access log, metering.

It is a single function on purpose: each aiohttp middleware layer costs a coroutine per
request, and this is the hot path. Every response leaves with `x-request-id`; every
failure leaves as OpenAI's error JSON; every authenticated request (but the read-only
admin and console ones, `unmetered`) is metered once, in `finally`, so a client that goes
away mid-stream is still counted.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from aiport.access_log import access_fields
from aiport.api.context import CONTEXT, REQUEST_SERVICES, SERVICES
from aiport.api.responses import add_headers, error_response, started_response
from aiport.context import RequestContext
from aiport.errors import (
    APIError,
    GatewayTimeout,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unavailable,
)
from aiport.lifecycle import Phase, absorb_cut, is_shutdown_cut
from aiport.services import Services

error_log = logging.getLogger("aiport.errors")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Unique, not secret: a random per-process prefix and a counter (no syscall per request).
_ID_PREFIX = "req_" + secrets.token_hex(8)
_request_ids = (f"{_ID_PREFIX}{n:016x}" for n in itertools.count())
CLIENT_CLOSED = 499  # nginx's convention: the client went away before the answer
UNMATCHED = "_unmatched"
SHUTTING_DOWN = "The server is shutting down; please retry."
STARTING = "The server is starting."


def public(handler: Handler) -> Handler:
    """Mark a handler that needs no API key (health checks, unguessable image URLs)."""
    handler.aiport_public = True  # type: ignore[attr-defined]
    return handler


def unmetered(handler: Handler) -> Handler:
    """Mark a read-only admin or console handler: its requests are no usage rows (the
    access log has them). Usage rows are model calls, and changes made through /admin."""

    @functools.wraps(handler)
    async def read_only(request: web.Request) -> web.StreamResponse:
        request[CONTEXT].metered = False
        return await handler(request)

    return read_only


def next_request_id() -> str:
    return next(_request_ids)


@web.middleware
async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The usage row's endpoint: the route, so that usage adds up per endpoint, not per id;
    # an unknown path as it was asked.
    endpoint = route_of(request, unmatched=request.path)
    ctx = RequestContext(request_id=next(_request_ids), endpoint=endpoint)
    request[CONTEXT] = ctx
    svc = request[REQUEST_SERVICES] = request.app[SERVICES]
    cors = svc.cors.headers_for(request)
    if cors is not None:
        if request.method == "OPTIONS":
            return web.Response(status=204, headers={**cors, "x-request-id": ctx.request_id})
        add_headers(request, cors)
    public_handler = getattr(handler, "aiport_public", False)
    lifecycle = svc.lifecycle
    if not lifecycle.serving and not public_handler:
        return _not_serving(request, lifecycle.phase)
    task = lifecycle.enter()
    if svc.metrics is not None:
        svc.metrics.in_flight += 1
    if svc.tracing is not None:
        ctx.trace = svc.tracing.start(request.headers, ctx, route_of(request))
    response: web.StreamResponse | None = None
    try:
        if not public_handler:
            ctx.caller = await svc.auth.authenticate(_presented_key(request))
        response = await handler(request)
    except APIError as exc:
        ctx.error_type = exc.type
        response = _after_failure(request, ctx, exc) or error_response(request, exc)
    except web.HTTPException as exc:
        response = error_response(request, _from_http_exception(exc))
    except asyncio.CancelledError as exc:
        if not is_shutdown_cut(exc):
            ctx.status = CLIENT_CLOSED
            raise
        absorb_cut()
        failure: APIError = Unavailable(SHUTTING_DOWN, headers={"retry-after": "1"})
        ctx.error_type = failure.type
        response = _after_failure(request, ctx, failure) or error_response(request, failure)
    except TimeoutError:  # an OSError too, but ours (a deadline inside), not the client's
        error_log.warning("request %s timed out inside the server", ctx.request_id)
        failure = GatewayTimeout("The request took too long.")
        ctx.error_type = failure.type
        response = _after_failure(request, ctx, failure) or error_response(request, failure)
    except OSError as exc:
        if client_gone(request):
            ctx.status = CLIENT_CLOSED
            raise
        failure = _own_os_error(ctx, exc)
        ctx.error_type = failure.type
        response = _after_failure(request, ctx, failure) or error_response(request, failure)
    except Exception:
        error_log.exception("unhandled error in %s (%s)", request.path, ctx.request_id)
        failure = InternalError("The server had an error.")
        ctx.error_type = failure.type
        response = _after_failure(request, ctx, failure) or error_response(request, failure)
    finally:
        if response is not None and ctx.status == 200:
            ctx.status = response.status
        _finish(svc, request, ctx)
        lifecycle.leave(task)
    return response


def client_gone(request: web.Request) -> bool:
    """Whether the client's connection is closed: then an OSError was its leaving (499),
    otherwise one of ours (disk, database...)."""
    transport = request.transport
    return transport is None or transport.is_closing()


def _own_os_error(ctx: RequestContext, exc: OSError) -> APIError:
    error_log.error("request %s failed inside the server: %r", ctx.request_id, exc, exc_info=exc)
    if isinstance(exc, ConnectionError):  # refused or reset: a database, Redis...
        return Unavailable(
            "A service this server depends on is unreachable; please retry shortly.",
            headers={"retry-after": "1"},
        )
    reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
    return InternalError(f"The server could not complete the request: {reason}.")


def _not_serving(request: web.Request, phase: Phase) -> web.StreamResponse:
    message = SHUTTING_DOWN if phase is Phase.DRAINING else STARTING
    response = error_response(request, Unavailable(message, headers={"retry-after": "1"}))
    response.force_close()  # a client with a kept-alive connection reconnects elsewhere
    return response


def _presented_key(request: web.Request) -> str | None:
    """The Authorization header, or Anthropic's `x-api-key` as a Bearer key (the
    Anthropic SDKs and Claude Code send that)."""
    authorization = request.headers.get("Authorization")
    if authorization is None and "x-api-key" in request.headers:
        return "Bearer " + request.headers["x-api-key"]
    return authorization


def _after_failure(
    request: web.Request, ctx: RequestContext, exc: APIError
) -> web.StreamResponse | None:
    """A failure after the status line went out cannot be answered with a second response:
    drop the connection so the client sees a broken answer, never a hanging one."""
    started = started_response(request)
    if started is None:
        return None
    ctx.status = exc.status
    if request.transport is not None:
        request.transport.close()
    return started


def route_of(request: web.Request, unmatched: str = UNMATCHED) -> str:
    """The route's pattern (bounded, unlike the path): `/v1/models/{model}`; `unmatched`
    for a path no route has."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else unmatched


def _finish(svc: Services, request: web.Request, ctx: RequestContext) -> None:
    seconds = time.perf_counter() - ctx.started
    elapsed_ms = seconds * 1000
    if ctx.caller is not None:
        svc.accounts.finish(ctx, elapsed_ms)
    metrics = svc.metrics
    if metrics is not None:
        metrics.in_flight -= 1
        if ctx.streaming:
            metrics.open_streams -= 1
        metrics.request_finished(ctx, route_of(request), seconds)
    if ctx.trace is not None:
        ctx.trace.finish(route_of(request))
    if svc.access_log is not None:
        svc.access_log.write(
            f"{request.method} {request.path} {ctx.status} {elapsed_ms:.1f}ms",
            access_fields(ctx),
        )


def _from_http_exception(exc: web.HTTPException) -> APIError:
    if exc.status == 404:
        return NotFound("Unknown request URL. Check the path and method.", code="unknown_url")
    if exc.status == 405:
        allowed = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return MethodNotAllowed("This method is not allowed on this path.", headers=allowed)
    if exc.status == 413:
        return PayloadTooLarge("The request body is too large.")
    error = APIError(exc.reason or "HTTP error")
    error.status = exc.status
    error.type = "invalid_request_error" if exc.status < 500 else "server_error"
    return error
