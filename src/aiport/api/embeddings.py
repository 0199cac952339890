"""POST /embeddings."""

from __future__ import annotations

import orjson
from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import cached, cached_response, keep, route, serve
from aiport.api.responses import json_response
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.embeddings import EmbeddingRequest


async def create_embedding(request: web.Request) -> web.Response:
    ctx = context(request)
    body = await read_json(request, services(request).settings.max_json_bytes)
    embedding = validate(EmbeddingRequest, body)
    estimate = Estimate(prompt_tokens=estimate_prompt_tokens({"input": body.get("input")}))
    group = await route(request, embedding.model, estimate, kind="embeddings")
    lookup = await cached(request, group, "embeddings", body)
    if lookup is not None and lookup.answer is not None:
        return cached_response(request, lookup)
    served = await serve(request, group, embedding, body, lambda b, c: b.embeddings(c))
    result = served.result
    ctx.usage, ctx.usage_reported = result.usage, True
    served.lease.settle(result.usage.prompt_tokens)
    keep(request, lookup, group, served, result.raw or orjson.dumps(result.data))
    return json_response(request, result)
