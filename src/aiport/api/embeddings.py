"""POST /embeddings."""

from __future__ import annotations

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import build_call, route
from aiport.api.responses import json_response
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.embeddings import EmbeddingRequest


async def create_embedding(request: web.Request) -> web.Response:
    ctx = context(request)
    body = await read_json(request, services(request).settings.max_json_bytes)
    embedding = validate(EmbeddingRequest, body)
    estimate = Estimate(prompt_tokens=estimate_prompt_tokens({"input": body.get("input")}))
    target = await route(request, embedding.model, estimate, kind="embeddings")
    call = build_call(request, target, embedding, body, embedding.model)
    result = await target.backend.embeddings(call)
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)
