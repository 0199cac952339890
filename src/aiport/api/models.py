"""GET /models and /models/{id}: what this caller may use.

OpenAI's shape, or Anthropic's (`ModelInfo`, pages with `has_more`, `first_id`, `last_id`;
errors in its shape with its `request-id` header) when the request carries the
`anthropic-version` header that Anthropic's SDKs and Claude Code send.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from aiport.api.anthropic_errors import ID_HEADER, anthropic_error_body, invalid_request
from aiport.api.context import context, services
from aiport.api.responses import add_headers, json_response
from aiport.errors import APIError, ModelNotFound
from aiport.protocol.models import (
    AnthropicListQuery,
    anthropic_model,
    anthropic_page,
    model_list,
    model_object,
)


async def list_models(request: web.Request) -> web.Response:
    if not _anthropic_client(request):
        return json_response(request, model_list(await _visible(request)))
    try:
        query = AnthropicListQuery.model_validate(dict(request.query))
    except ValidationError as exc:
        raise invalid_request(exc) from None
    return json_response(request, anthropic_page(await _visible(request), query))


async def retrieve_model(request: web.Request) -> web.Response:
    anthropic = _anthropic_client(request)
    model_id = request.match_info["model"]
    for model in await _visible(request):
        if model["id"] == model_id:
            return json_response(request, anthropic_model(model) if anthropic else model)
    raise ModelNotFound(model_id)


def _anthropic_client(request: web.Request) -> bool:
    """Whether Anthropic's client asks (then its answers carry `request-id` too)."""
    if "anthropic-version" not in request.headers:
        return False
    add_headers(request, {ID_HEADER: context(request).request_id})
    return True


def _error_body(request: web.Request, exc: APIError) -> bytes:
    """A failure in the asking client's shape (`api.responses.error_response` reads it),
    with Anthropic's `request-id` also when it failed before the handler ran (a bad key)."""
    if _anthropic_client(request):
        return anthropic_error_body(request, exc)
    return exc.body()


list_models.aiport_error_body = _error_body  # type: ignore[attr-defined]
retrieve_model.aiport_error_body = _error_body  # type: ignore[attr-defined]


async def _visible(request: web.Request) -> list[dict[str, Any]]:
    svc = services(request)
    caller = context(request).caller
    models = [model_object(m.id, m.owned_by, m.created) for m in svc.router.listed()]
    default = svc.router.default
    if default is not None:
        known = {m["id"] for m in models}
        models += [m for m in await svc.upstream_models(default) if m["id"] not in known]
    if caller is not None and caller.models is not None:
        models = [m for m in models if caller.may_use(m["id"])]
    return models
