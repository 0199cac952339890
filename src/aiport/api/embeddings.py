"""POST /embeddings."""

from __future__ import annotations

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import services
from aiport.api.dispatch import answer, cached, cached_response, route, serve
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.embeddings import EmbeddingRequest


async def create_embedding(request: web.Request) -> web.Response:
    body = await read_json(request, services(request).settings.max_json_bytes)
    embedding = validate(EmbeddingRequest, body)
    estimate = Estimate(prompt_tokens=estimate_prompt_tokens({"input": body.get("input")}))
    group = await route(request, embedding.model, estimate, kind="embeddings")
    lookup = await cached(request, group, "embeddings", body)
    if lookup is not None and lookup.answer is not None:
        return cached_response(request, lookup)
    served = await serve(request, group, embedding, body, lambda b, c: b.embeddings(c))
    return answer(request, lookup, group, served)
