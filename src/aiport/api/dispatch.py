"""The steps every model endpoint shares: pick the backend, check access, build the call."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aiport.api.context import context, services
from aiport.api.responses import add_headers
from aiport.backends.base import Call, Upload
from aiport.backends.upstream import UpstreamBackend
from aiport.errors import ModelNotFound
from aiport.metering import Estimate
from aiport.protocol.common import WireModel
from aiport.routing import Target


async def admit_before_body(request: web.Request) -> None:
    """Uploads: the caller's limits are checked (and the request counted) before its body is
    read, so a key over its limits cannot make the server spool files. The model is not
    known yet (a form may send it after the file): `route(..., admitted=True)` prices the
    request once it is."""
    headers = await services(request).accounts.admit(
        context(request), Estimate(meter="audio"), priced_as=None
    )
    if headers:
        add_headers(request, headers)


async def route(
    request: web.Request,
    public_model: str,
    estimate: Estimate,
    kind: str | None = None,
    *,
    admitted: bool = False,
) -> Target:
    """The backend for `public_model`, if this caller may use it (else 404, as OpenAI does)
    and its limits admit the request's `estimate` — decided here, before any model work
    (or, `admitted`, already before the body was read). The request is priced by the
    served model: an upstream's name for it, or nothing for an embedded engine. `kind`
    (chat, messages, images, …) lets a model family resolve locally only on its own
    endpoint."""
    ctx = context(request)
    svc = services(request)
    ctx.model = public_model
    if ctx.caller is not None and not ctx.caller.may_use(public_model):
        raise ModelNotFound(public_model)
    target = svc.router.resolve(public_model, kind)
    svc.check_available(target.backend)
    ctx.served_model = target.model
    ctx.backend = target.backend.name
    priced_as = target.model if isinstance(target.backend, UpstreamBackend) else None
    if admitted:
        svc.accounts.reprice(ctx, estimate, priced_as)
        return target
    headers = await svc.accounts.admit(ctx, estimate, priced_as)
    if headers:
        add_headers(request, headers)
    return target


def build_call(
    request: web.Request,
    target: Target,
    validated: WireModel,
    body: dict[str, Any],
    public_model: str,
    upload: Upload | None = None,
    *,
    defaults: dict[str, Any] | None = None,
    want_usage: bool = False,
) -> Call:
    """The call for `target`: the request as validated, and the body to forward (only the
    spec's fields plus the provider's allowed extras; see `Call.make`)."""
    ctx = context(request)
    if ctx.trace is not None:
        ctx.trace.request_body(body)
    bodies = services(request).body_log
    if bodies is not None and ctx.caller is not None and bodies.wants(ctx.caller.key_id):
        bodies.write("request", ctx.request_id, ctx.caller.key_id, body)
    backend = target.backend
    return Call.make(
        validated,
        body,
        model=target.model,
        public_model=public_model,
        request_id=ctx.request_id,
        key_id=ctx.caller.key_id if ctx.caller is not None else "",
        extra_fields=backend.config.extra_fields if isinstance(backend, UpstreamBackend) else (),
        defaults=defaults,
        want_usage=want_usage,
        upload=upload,
    )
