"""The steps every model endpoint shares: check access, look in the response cache, then
try the model's deployments (retries, fallbacks, breaker) with a call built for each.

A handler does:

    group = await route(request, model, estimate)       # scope, limits → the model's group
    lookup = await cached(request, group, "chat", body)  # optional: only where cacheable
    served = await serve(request, group, wire, body, invoke, ...)
    return answer(request, lookup, group, served)       # a complete JSON answer

`serve` builds one `Call` per attempt (the deployment's own model name, its provider's
extra fields, its timeouts) and returns the result with the lease on the deployment that
answered; a streaming handler calls `served.lease.finish(ok)` when its stream ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import replace
from itertools import chain
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import orjson
from aiohttp import web

from aiport.accounts import ModelPriceUnknown
from aiport.api.context import context, services
from aiport.api.responses import add_headers, json_response
from aiport.backends.base import Backend, Call, CallTimeouts, JSONBody, Upload, Usage
from aiport.backends.upstream import UpstreamBackend
from aiport.context import RequestContext
from aiport.errors import ModelNotFound
from aiport.metering import DEFAULT_OUTPUT_TOKENS, Estimate
from aiport.protocol.common import WireModel
from aiport.routing.attempts import EveryDeploymentOut, Served
from aiport.routing.cache import Lookup
from aiport.routing.cache_store import CachedAnswer
from aiport.routing.deployment import Deployment, Group
from aiport.store.output_limits import max_output_tokens

if TYPE_CHECKING:
    from aiport.services import Services

T = TypeVar("T")
Invoke = Callable[[Backend, Call], Awaitable[T]]
CACHE_DEPLOYMENT = "cache"


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
) -> Group:
    """The model's group, if this caller may use it (else 404, as OpenAI does) and its
    limits admit the request's `estimate` — decided here, before any model work (or,
    `admitted`, already before the body was read). The estimate is priced by the model the
    group's first deployment serves (an upstream's name for it, or nothing for an embedded
    engine), and a budget reserves what the dearest deployment or fallback that may serve
    would cost — for a request that sets no output limit, the most any of them may produce
    (`_without_limit`); `serve` re-prices by the one that answers. A key whose limits count
    cost is refused a group with any deployment it could not be billed for. `kind` (chat,
    messages, images, …) lets a model family resolve locally only on its own endpoint."""
    ctx = context(request)
    svc = services(request)
    ctx.model = public_model
    if ctx.caller is not None and not ctx.caller.may_use(public_model):
        raise ModelNotFound(public_model)
    group = svc.router.resolve(public_model, kind)
    first = priced_as(group.deployments[0])
    policy = group.policy
    several = (
        len(group.deployments) > 1
        or policy.fallbacks
        or policy.context_window_fallbacks
        or policy.content_policy_fallbacks
    )
    if estimate.outputs_without_limit:
        members = chain(group.deployments[:1], _may_also_serve(svc, ctx, group) if several else ())
        estimate = _without_limit(estimate, members)
    # A generator: read only for a budget in USD.
    others = (priced_as(d) for d in _may_also_serve(svc, ctx, group)) if several else ()
    if admitted:
        await svc.accounts.reprice(ctx, estimate, first, others)
    else:
        headers = await svc.accounts.admit(ctx, estimate, first, others)
        if headers:
            add_headers(request, headers)
    for member in group.deployments[1:]:
        # Any deployment may serve: none this key could not be billed for (its reservation
        # goes back, as for any failure before output).
        if not svc.accounts.may_bill(ctx, priced_as(member)):
            raise ModelPriceUnknown(member.model, estimate.meter)
    return group


def _without_limit(estimate: Estimate, deployments: Iterable[Deployment]) -> Estimate:
    """A request without an output limit may get as many tokens as the model produces:
    budgets reserve the most any deployment that may serve it allows (the model's
    published maximum, the `max_tokens` an `anthropic` provider sends in its place, an
    embedded engine's context). A tpm limit counts what the request is sent — that
    `max_tokens`, or a typical answer (`DEFAULT_OUTPUT_TOKENS`) — and the real count once
    it is known, so a request without a limit is not refused by a tpm it fits in."""
    most, sent = 0, DEFAULT_OUTPUT_TOKENS
    for member in deployments:
        bound = member.backend.most_output(member.model)
        most = max(most, bound if bound is not None else max_output_tokens(member.model))
        sent = max(sent, member.backend.default_max_tokens or 0)
    outputs = estimate.outputs_without_limit
    return replace(
        estimate, output_tokens=max(most, sent) * outputs, rate_output_tokens=sent * outputs
    )


def _may_also_serve(svc: Services, ctx: RequestContext, group: Group) -> Iterator[Deployment]:
    """Whatever else may serve the request: the group's other deployments, and those of
    the fallbacks this caller may use."""
    yield from group.deployments[1:]
    policy = group.policy
    fallbacks = {
        *policy.fallbacks,
        *policy.context_window_fallbacks,
        *policy.content_policy_fallbacks,
    }
    for name in fallbacks - {group.name}:
        if ctx.caller is None or ctx.caller.may_use(name):
            with suppress(ModelNotFound):  # the runner skips it too
                yield from svc.router.resolve(name).deployments


def priced_as(deployment: Deployment) -> str | None:
    """The name a deployment is priced by: its upstream's model name; None (free) for an
    embedded engine."""
    return deployment.model if isinstance(deployment.backend, UpstreamBackend) else None


async def serve(
    request: web.Request,
    group: Group,
    validated: WireModel | None,
    body: dict[str, Any],
    invoke: Invoke[T],
    *,
    defaults: dict[str, Any] | None = None,
    want_usage: bool = False,
    adjust: Callable[[Call], None] | None = None,
    upload: Upload | None = None,
    stream: bool = False,
) -> Served[T]:
    """Try the group's deployments (and fallbacks) until one answers; see the module doc.
    Each call is made by `Call.make` (the spec's fields, the deployment's provider's
    extras, `defaults`, `want_usage`), then whatever `adjust` does to it (protocol headers,
    fields to drop)."""
    ctx = context(request)
    svc = services(request)
    caller = ctx.caller
    key = caller.key_id if caller is not None else ""
    if ctx.trace is not None:
        ctx.trace.request_body(body)
    bodies = svc.body_log
    if bodies is not None and caller is not None and bodies.wants(caller.key_id):
        bodies.write("request", ctx.request_id, caller.key_id, body)
    release = svc.gate.acquire(key) or await svc.gate.wait(key)
    plan = CallPlan(ctx, validated, body, invoke, defaults, want_usage, upload, adjust)
    try:
        served = await svc.runner.run(
            group,
            plan,
            stream=stream,
            tokens=ctx.charge.estimate.rate_tokens if ctx.charge is not None else 0,
            may_use=_may_fall_back(svc, ctx) if caller is not None else _anyone,
            attempts=ctx.attempts,
        )
    except BaseException as exc:
        release()
        if ctx.attempts:
            last = ctx.attempts[-1]
            ctx.deployment = last.deployment
            add_headers(request, {"x-aiport-deployment": last.header})
        if isinstance(exc, EveryDeploymentOut):  # refused at once, without an attempt
            out = exc.deployment
            ctx.served_model, ctx.backend, ctx.deployment = out.model, out.backend.name, out.id
        raise
    if stream:
        served.lease.after = release
    else:
        release()
    deployment = served.lease.deployment
    if served.lease.group is not group:
        ctx.fallback = served.lease.group.name
    ctx.served_model = deployment.model
    ctx.backend = deployment.backend.name
    ctx.deployment = deployment.id
    svc.accounts.serve_as(ctx, priced_as(deployment))
    add_headers(request, {"x-aiport-deployment": deployment.header})
    return served


def _anyone(name: str) -> bool:
    return True


def _may_fall_back(svc: Services, ctx: RequestContext) -> Callable[[str], bool]:
    """Which fallbacks this caller may be served by: names its key may use, and none whose
    model it could not be billed for (no escaping a scope, nor the price rule)."""
    caller = ctx.caller
    assert caller is not None

    def allowed(name: str) -> bool:
        if not caller.may_use(name):
            return False
        try:
            fallback = svc.router.resolve(name)
        except ModelNotFound:
            return True  # the runner skips it (and says so in the log)
        return all(svc.accounts.may_bill(ctx, priced_as(d)) for d in fallback.deployments)

    return allowed


class CallPlan(Generic[T]):
    """How to call any deployment with this request: one `Call` per attempt, carrying only
    the spec's fields (plus the provider's allowed extras), so a caller can never choose
    the upstream or its credentials through the body."""

    __slots__ = (
        "adjust",
        "body",
        "ctx",
        "defaults",
        "invoke",
        "upload",
        "validated",
        "want_usage",
    )

    def __init__(
        self,
        ctx: RequestContext,
        validated: WireModel | None,
        body: dict[str, Any],
        invoke: Invoke[T],
        defaults: dict[str, Any] | None,
        want_usage: bool,
        upload: Upload | None,
        adjust: Callable[[Call], None] | None,
    ) -> None:
        self.ctx = ctx
        self.validated = validated
        self.body = body
        self.invoke = invoke
        self.defaults = defaults
        self.want_usage = want_usage
        self.upload = upload
        self.adjust = adjust

    def __call__(
        self, deployment: Deployment, group: Group, timeouts: CallTimeouts
    ) -> Awaitable[T]:
        backend = deployment.backend
        ctx = self.ctx
        ctx.served_model, ctx.backend = deployment.model, backend.name  # this attempt's
        caller = ctx.caller
        call = Call.make(
            self.validated,
            self.body,
            model=deployment.model,
            public_model=group.name,
            request_id=ctx.request_id,
            key_id=caller.key_id if caller is not None else "",  # served in turn locally
            extra_fields=backend.config.extra_fields
            if isinstance(backend, UpstreamBackend)
            else (),
            defaults=self.defaults,
            want_usage=self.want_usage,
            upload=self.upload,
        )
        call.timeouts = timeouts
        if self.adjust is not None:
            self.adjust(call)
        return self.invoke(backend, call)


# -- the response cache ---------------------------------------------------------------


async def cached(
    request: web.Request,
    group: Group,
    endpoint: str,
    body: dict[str, Any],
) -> Lookup | None:
    """Consult the response cache (when the model has one): on a hit the request is
    marked as served by the cache at no cost; `x-aiport-cache` says what happened."""
    svc = services(request)
    if svc.cache is None or group.policy.cache is None:
        return None
    ctx = context(request)
    caller = ctx.caller
    lookup = await svc.cache.lookup(
        group.policy.cache,
        endpoint,
        group.name,
        body,
        caller.key_id if caller is not None else None,
        request.headers.get("Cache-Control"),
    )
    if lookup is None:
        return None
    ctx.cache = lookup.state
    add_headers(request, {"x-aiport-cache": lookup.state})
    if lookup.state == "hit":
        ctx.usage, ctx.usage_reported = Usage(), True  # nothing consumed: costs $0
        ctx.served_model, ctx.backend = group.name, CACHE_DEPLOYMENT
        ctx.deployment = CACHE_DEPLOYMENT
        ctx.mark_token()
        add_headers(request, {"x-aiport-deployment": CACHE_DEPLOYMENT})
    return lookup


def cached_response(request: web.Request, lookup: Lookup) -> web.Response:
    assert lookup.answer is not None and lookup.answer.body is not None
    return json_response(request, JSONBody({}, raw=lookup.answer.body))


def answer(
    request: web.Request,
    lookup: Lookup | None,
    group: Group,
    served: Served[JSONBody],
    *,
    settle: bool = True,
) -> web.Response:
    """Send a complete answer: its usage is what the request consumed, the deployment's
    provider quota is settled with its real tokens (`settle`: when they say anything: a
    moderation's answer reports none), and the response cache keeps it — only one the
    model itself gave, not a fallback's. Its bytes are made once, for both."""
    result = served.result
    ctx = context(request)
    ctx.usage, ctx.usage_reported = result.usage, True
    if settle:
        served.lease.settle(result.usage.prompt_tokens + result.usage.completion_tokens)
    cache = services(request).cache
    if lookup is not None and lookup.store and cache is not None and served.lease.group is group:
        if result.raw is None:
            result.raw = orjson.dumps(result.data)
        cache.keep(lookup, CachedAnswer(result.raw))  # the body
    return json_response(request, result)
