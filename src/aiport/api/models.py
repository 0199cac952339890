"""GET /models and /models/{id}: what this caller may use."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aiport.api.context import context, services
from aiport.api.responses import json_response
from aiport.errors import ModelNotFound
from aiport.protocol.models import model_list, model_object


async def list_models(request: web.Request) -> web.Response:
    return json_response(request, model_list(await _visible(request)))


async def retrieve_model(request: web.Request) -> web.Response:
    model_id = request.match_info["model"]
    for model in await _visible(request):
        if model["id"] == model_id:
            return json_response(request, model)
    raise ModelNotFound(model_id)


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
