"""POST /images/generations (and the seed's /images/generate); GET of stored pictures."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import route, serve
from aiport.api.middleware import public
from aiport.api.responses import json_response
from aiport.api.sse import Opened, first_chunk, openai_error_frame, write_named_stream
from aiport.backends.base import Backend, Call, ImageSet, JSONBody, StreamChunk, Usage
from aiport.backends.upstream import UpstreamBackend
from aiport.context import RequestContext
from aiport.errors import BadGateway, NotFound
from aiport.imagestore import ROUTE_PREFIX
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.images import DEFAULT_QUALITY, DEFAULT_SIZE, ImageRequest
from aiport.routing.deployment import Group

DALL_E_DEFAULTS = {"size": DEFAULT_SIZE, "quality": DEFAULT_QUALITY}
PARTIAL, COMPLETED = "image_generation.partial_image", "image_generation.completed"
# Each picture's events, of a generation or an edit: its partial pictures, then the whole.
PICTURE_EVENTS = frozenset({PARTIAL, COMPLETED, "image_edit.partial_image", "image_edit.completed"})
COMPLETED_EVENTS = frozenset({COMPLETED, "image_edit.completed"})
PARTIAL_EVENTS = PICTURE_EVENTS - COMPLETED_EVENTS
EVENT_QUALITIES = ("low", "medium", "high", "auto")
TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens", "image_tokens")


async def create_image(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    ctx = context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    image = validate(ImageRequest, body)
    estimate = Estimate(
        prompt_tokens=estimate_prompt_tokens({"prompt": image.prompt}),
        images=image.n,
        image_variant=f"{image.quality} {image.size}",
        meter="images",
    )
    group = await route(request, image.model, estimate, kind="images")

    # The seed's defaults; gpt-image models have other values, so only for DALL·E.
    defaults = DALL_E_DEFAULTS if image.model.startswith("dall-e") else None
    if image.stream:
        return await _stream(request, group, image, body)
    served = await serve(request, group, image, body, _draw, defaults=defaults)
    result = served.result
    ctx.usage, ctx.usage_reported = result.usage, True
    if not isinstance(result, ImageSet):
        return json_response(request, result)
    data = []
    for picture in result.images:
        item: dict[str, str | None] = {"revised_prompt": picture.revised_prompt}
        if image.as_base64:
            item["b64_json"] = base64.b64encode(picture.png).decode("ascii")
        else:
            item["url"] = _public_url(request) + ROUTE_PREFIX + svc.images.save(picture.png)
        data.append(item)
    return json_response(request, {"created": int(time.time()), "data": data})


async def _draw(backend: Backend, call: Call) -> JSONBody | ImageSet:
    return await backend.images(call)


async def _stream(
    request: web.Request, group: Group, image: ImageRequest, body: dict[str, Any]
) -> web.StreamResponse:
    """`stream: true`: GPT Image's events, passed through from an upstream; an embedded
    engine draws whole pictures, so each is one `image_generation.completed` event."""
    ctx = context(request)

    async def open_events(backend: Backend, call: Call) -> Opened:
        if isinstance(backend, UpstreamBackend):
            events = backend.images_stream(call)
        else:
            events = _completed_events(await backend.images(call), image)
        return await first_chunk(metered_pictures(ctx, events))

    served = await serve(request, group, image, body, open_events, stream=True)
    return await write_named_stream(request, served, openai_error_frame)


async def _completed_events(
    result: JSONBody | ImageSet, image: ImageRequest
) -> AsyncGenerator[StreamChunk, None]:
    if not isinstance(result, ImageSet):
        raise BadGateway("The image engine answered a stream with a complete answer.")
    usage = {
        "total_tokens": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "input_tokens_details": {"text_tokens": 0, "image_tokens": 0},
    }
    for picture in result.images:
        event = {
            "type": COMPLETED,
            "b64_json": base64.b64encode(picture.png).decode("ascii"),
            "created_at": int(time.time()),
            "size": image.size,
            "quality": image.quality if image.quality in EVENT_QUALITIES else "auto",
            "background": image.background or "auto",
            "output_format": "png",  # what the engine draws, whatever was asked
            "usage": usage,
        }
        yield StreamChunk(event, event=COMPLETED)


async def metered_pictures(
    ctx: RequestContext, events: AsyncIterator[StreamChunk]
) -> AsyncGenerator[StreamChunk, None]:
    """Pass the events through, counting the pictures delivered and the tokens their
    `completed` events report (each reports its own picture's). A picture cut before its
    `completed` event (by the upstream or the client) is billed by the partial pictures
    the consumer took (`Charge.unfinished_picture`)."""
    ctx.usage = Usage()
    partials = 0  # of the picture in progress
    try:
        async for chunk in events:
            kind = chunk.data.get("type")
            if kind in PICTURE_EVENTS:
                ctx.mark_token()
            yield chunk
            if kind in COMPLETED_EVENTS:
                _add(ctx.usage, Usage.from_openai(chunk.data.get("usage")))
                ctx.usage.images += 1
                ctx.usage_reported = True
                partials = 0
            elif kind in PARTIAL_EVENTS:
                partials += 1
    finally:
        if partials and ctx.charge is not None:
            _add(ctx.usage, ctx.charge.unfinished_picture(partials))
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def _add(usage: Usage, more: Usage) -> None:
    for name in TOKEN_FIELDS:
        setattr(usage, name, getattr(usage, name) + getattr(more, name))


def _public_url(request: web.Request) -> str:
    configured = services(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    return f"{request.scheme}://{request.host}"


@public
async def get_image_file(request: web.Request) -> web.StreamResponse:
    path = services(request).images.path_of(request.match_info["name"])
    if path is None:
        raise NotFound("This image does not exist or its URL has expired.", code="image_not_found")
    return web.FileResponse(
        path,
        headers={
            "content-type": "image/png",
            "cache-control": "private, max-age=300",
            "x-request-id": context(request).request_id,
        },
    )
