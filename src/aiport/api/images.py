"""POST /images/generations (and the seed's /images/generate); GET of stored pictures."""

from __future__ import annotations

import base64
import time

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import route, serve
from aiport.api.middleware import public
from aiport.api.responses import json_response
from aiport.backends.base import Backend, Call, ImageSet, JSONBody
from aiport.errors import NotFound
from aiport.imagestore import ROUTE_PREFIX
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.images import DEFAULT_QUALITY, DEFAULT_SIZE, ImageRequest

DALL_E_DEFAULTS = {"size": DEFAULT_SIZE, "quality": DEFAULT_QUALITY}


async def create_image(request: web.Request) -> web.Response:
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
    served = await serve(request, group, image, body, _draw, defaults=defaults)
    result = served.result
    ctx.usage, ctx.usage_reported = result.usage, True
    if not isinstance(result, ImageSet):
        return json_response(request, result)
    data = []
    for picture in result.images:
        item: dict[str, str | None] = {"revised_prompt": picture.revised_prompt}
        if image.response_format == "b64_json":
            item["b64_json"] = base64.b64encode(picture.png).decode("ascii")
        else:
            item["url"] = _public_url(request) + ROUTE_PREFIX + svc.images.save(picture.png)
        data.append(item)
    return json_response(request, {"created": int(time.time()), "data": data})


async def _draw(backend: Backend, call: Call) -> JSONBody | ImageSet:
    return await backend.images(call)


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
