"""POST /images/edits and /images/variations: multipart, passed through to an upstream.

The form is read whole (within the body limit), its text fields parsed for routing and
admission (`model`, `n`), and its bytes go upstream as they came, images and all — only
the `model` field says the deployment's own name for the model. Like every other endpoint
it is served by `serve` (retries, breaker, fallbacks): the form is in memory, so each
attempt sends it again. No embedded engine edits pictures: there the answer is a 400 that
says what can.
"""

from __future__ import annotations

import base64
import binascii
import quopri
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import HTTP

from aiohttp import web

from aiport.api.bodies import check_declared_size, read_bytes
from aiport.api.context import context, services
from aiport.api.dispatch import route, serve
from aiport.api.images import metered_pictures
from aiport.api.responses import json_response
from aiport.api.sse import Opened, first_chunk, openai_error_frame, write_named_stream
from aiport.backends.base import Backend, Call, JSONBody, RawForm
from aiport.backends.upstream import UpstreamBackend
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
UNREADABLE = "The multipart body could not be read."


async def create_image_edit(request: web.Request) -> web.StreamResponse:
    return await _forward(request, "edit", "edit images")


async def create_image_variation(request: web.Request) -> web.StreamResponse:
    return await _forward(request, "variation", "make image variations")


async def _forward(request: web.Request, operation: str, what: str) -> web.StreamResponse:
    svc, ctx = services(request), context(request)
    check_declared_size(request, svc.settings.max_body_bytes)
    if not request.content_type.startswith("multipart/form-data"):
        raise InvalidRequest("This endpoint takes multipart/form-data.", param="image")
    raw = await read_bytes(request, svc.settings.max_body_bytes)
    form = Form.parse(raw, request.headers["Content-Type"])
    fields = form.fields
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
    group = await route(request, model, estimate, kind="images")

    def with_form(call: Call) -> None:
        call.form = form.naming(call.model)

    async def edit(backend: Backend, call: Call) -> JSONBody:
        try:
            return await backend.image_edit(call, operation)
        except UnsupportedCapability:
            if not backend.name.startswith("local-"):
                raise
            message = LOCAL_REFUSAL.format(model=model, engine=backend.name, what=what)
            raise InvalidRequest(message, param="model") from None

    if operation == "edit" and fields.get("stream") == "true":

        async def open_events(backend: Backend, call: Call) -> Opened:
            if isinstance(backend, UpstreamBackend):
                return await first_chunk(metered_pictures(ctx, backend.image_edit_stream(call)))
            if backend.name.startswith("local-"):
                message = LOCAL_REFUSAL.format(model=model, engine=backend.name, what=what)
                raise InvalidRequest(message, param="model")
            raise InvalidRequest("Only an upstream provider streams image edits.", param="stream")

        opened = await serve(
            request, group, None, dict(fields), open_events, adjust=with_form, stream=True
        )
        return await write_named_stream(request, opened, openai_error_frame)
    served = await serve(request, group, None, dict(fields), edit, adjust=with_form)
    result = served.result
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)


@dataclass(frozen=True, slots=True)
class Form:
    """A multipart form as the client sent it, its text fields, and each part's bytes."""

    raw: bytes
    content_type: str
    fields: dict[str, str]
    boundary: bytes
    parts: tuple[bytes, ...]  # each as sent: its headers, a blank line, its content
    names: tuple[str | None, ...]  # each part's text field name (None for a file)

    @classmethod
    def parse(cls, raw: bytes, content_type: str) -> Form:
        """Only each part's headers (and the text fields) are parsed: a picture is copied
        once, never scanned by the email parser (2 s and 10x its size for 25 MB)."""
        head = _HEADERS.parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode())
        boundary = head.get_boundary()
        if not boundary:
            raise InvalidRequest(UNREADABLE, param="image")
        parts = _split(raw, b"--" + boundary.encode())
        fields: dict[str, str] = {}
        names: list[str | None] = []
        for part in parts:
            name, value = _text_field(part)
            names.append(name)
            if name is not None and value is not None:
                fields[name] = value
        return cls(raw, content_type, fields, boundary.encode(), parts, tuple(names))

    def naming(self, model: str) -> RawForm:
        """The form as sent, its `model` field (added if there was none) set to `model`."""
        if self.fields.get("model") == model:
            return RawForm(self.raw, self.content_type)
        named = b'Content-Disposition: form-data; name="model"\r\n\r\n' + model.encode()
        parts = [part for part, name in zip(self.parts, self.names, strict=True) if name != "model"]
        delimiter = b"--" + self.boundary
        body = b"".join(delimiter + b"\r\n" + part + b"\r\n" for part in [*parts, named])
        return RawForm(body + delimiter + b"--\r\n", self.content_type)


_HEADERS = BytesHeaderParser(policy=HTTP)


def _split(raw: bytes, delimiter: bytes) -> tuple[bytes, ...]:
    """Each part between the delimiters, as sent (its headers, a blank line, its content),
    copied once. No part contains the delimiter (RFC 2046), so finding it is exact."""
    marker = b"\r\n" + delimiter
    at = 0 if raw.startswith(delimiter) else raw.find(marker) + 2  # after a preamble
    parts: list[bytes] = []
    while at >= 0 and raw.startswith(delimiter, at):
        at += len(delimiter)
        if raw.startswith(b"--", at):
            return tuple(parts)
        line_end = raw.find(b"\r\n", at)  # the delimiter's line may end in padding
        end = raw.find(marker, line_end) if line_end >= 0 else -1
        if end < 0:
            break
        parts.append(raw[line_end + 2 : end])
        at = end + 2
    raise InvalidRequest(UNREADABLE, param="image")


def _text_field(part: bytes) -> tuple[str | None, str | None]:
    """A part's field name and text; (None, None) for a file (its content left alone)."""
    if part.startswith(b"\r\n"):  # no headers
        head, content_at = b"", 2
    else:
        blank = part.find(b"\r\n\r\n")
        if blank < 0:
            raise InvalidRequest(UNREADABLE, param="image")
        head, content_at = part[: blank + 2], blank + 4
    headers = _HEADERS.parsebytes(head + b"\r\n")
    name = headers.get_param("name", header="content-disposition")
    if not isinstance(name, str) or headers.get_filename() is not None:
        return None, None
    content = part[content_at:]
    encoding = str(headers.get("content-transfer-encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            content = base64.b64decode(content)
        elif encoding == "quoted-printable":
            content = quopri.decodestring(content)
    except (binascii.Error, ValueError):
        raise InvalidRequest(UNREADABLE, param=name) from None
    return name, content.decode("utf-8", "replace")
