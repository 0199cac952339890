"""POST /images/edits and /images/variations: multipart, passed through to an upstream.

The form is read whole (within the body limit), its text fields parsed for routing and
admission (`model`, `n`), and the same bytes go upstream unchanged, images and all. No
embedded engine edits pictures: there the answer is a 400 that says what can.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

from aiohttp import web

from aiport.api.bodies import check_declared_size
from aiport.api.context import context, services
from aiport.api.dispatch import route
from aiport.api.responses import json_response
from aiport.backends.base import Call, RawForm
from aiport.errors import InvalidRequest, UnsupportedCapability
from aiport.metering import Estimate, estimate_prompt_tokens

DEFAULT_MODEL = "dall-e-2"  # OpenAI's default for edits and variations
LOCAL_REFUSAL = (
    "The model `{model}` is served by the embedded engine `{engine}`, which cannot {what}: "
    "the built-in sketch renderer draws from a prompt only, and aiport's stable-diffusion.cpp "
    "engine (your own weights) does not offer image-to-image yet, although stable-diffusion.cpp "
    "itself can. Send this to an upstream provider that serves it (OpenAI: gpt-image-1, "
    "dall-e-2)."
)


async def create_image_edit(request: web.Request) -> web.Response:
    return await _forward(request, "edit", "edit images")


async def create_image_variation(request: web.Request) -> web.Response:
    return await _forward(request, "variation", "make image variations")


async def _forward(request: web.Request, operation: str, what: str) -> web.Response:
    svc, ctx = services(request), context(request)
    limit = svc.settings.max_body_bytes
    check_declared_size(request, limit)
    if not request.content_type.startswith("multipart/form-data"):
        raise InvalidRequest("This endpoint takes multipart/form-data.", param="image")
    raw = await request.read()
    fields = form_fields(raw, request.headers["Content-Type"])
    model = fields.get("model") or DEFAULT_MODEL
    try:
        n = int(fields.get("n") or 1)
    except ValueError:
        raise InvalidRequest("n must be an integer.", param="n") from None
    if not 1 <= n <= 10:
        raise InvalidRequest("n must be between 1 and 10.", param="n")
    estimate = Estimate(
        prompt_tokens=estimate_prompt_tokens({"prompt": fields.get("prompt", "")}),
        images=n,
        image_variant=f"{fields.get('quality', 'standard')} {fields.get('size', '1024x1024')}",
        meter="images",
    )
    # The form goes on as it came, to the group's first deployment (no retries here).
    target = (await route(request, model, estimate, kind="images")).deployments[0]
    ctx.served_model, ctx.backend, ctx.deployment = target.model, target.backend.name, target.id
    call = Call.make(
        None, fields, model=target.model, public_model=model, request_id=ctx.request_id
    )
    call.form = RawForm(raw, request.headers["Content-Type"])
    call.timeouts = target.timeouts  # the model's `timeouts:`, as a routed call has them
    try:
        result = await target.backend.image_edit(call, operation)
    except UnsupportedCapability:
        if target.backend.name.startswith("local-"):
            message = LOCAL_REFUSAL.format(model=model, engine=target.backend.name, what=what)
            raise InvalidRequest(message, param="model") from None
        raise
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)


def form_fields(raw: bytes, content_type: str) -> dict[str, str]:
    """The text fields of a multipart form (files are left out)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise InvalidRequest("The multipart body could not be read.", param="image")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and part.get_filename() is None:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                fields[name] = payload.decode("utf-8", "replace")
    return fields
