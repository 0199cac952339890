"""Reading request bodies: size decided before reading, JSON parsed once, uploads spooled.

Validation errors become a 400 naming the offending field in `param`, the way OpenAI does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from aiohttp import BodyPartReader, HttpVersion11, web
from pydantic import ValidationError

from aiport.backends.base import Upload
from aiport.errors import InvalidRequest, PayloadTooLarge
from aiport.protocol.common import WireModel

M = TypeVar("M", bound=WireModel)

NOT_JSON = (
    "We could not parse the JSON body of your request. The body must be a JSON object "
    "and the Content-Type application/json."
)
_UPLOAD_CHUNK = 256 * 1024
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "dict"})


def check_declared_size(request: web.Request, limit: int) -> None:
    """Refuse a body whose declared length is over `limit` before reading a byte of it."""
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(f"Request body of {length} bytes is over the {limit}-byte limit.")


def expect(limit: int) -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    """An `Expect: 100-continue` handler that refuses a too-large body before the client
    sends it (aiohttp's own says "continue" to anything)."""

    async def handler(request: web.Request) -> web.StreamResponse | None:
        try:
            check_declared_size(request, limit)
        except PayloadTooLarge as error:
            response = web.Response(
                status=error.status, body=error.body(), content_type="application/json"
            )
            response.force_close()  # the body, if sent anyway, is not read
            return response
        continuing = request.headers.get("Expect", "").lower() == "100-continue"
        if continuing and request.version == HttpVersion11:
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0
        return None

    return handler


async def read_json(request: web.Request, limit: int) -> dict[str, Any]:
    check_declared_size(request, limit)
    if request.content_type.startswith("multipart/"):
        raise InvalidRequest(NOT_JSON)
    raw = await _read_bounded(request, limit)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(NOT_JSON) from exc
    if not isinstance(body, dict):
        raise InvalidRequest(NOT_JSON)
    return body


async def _read_bounded(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None:
        return await request.read()
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.content.iter_chunked(_UPLOAD_CHUNK):
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"Request body is over the {limit}-byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


def validate(model: type[M], body: dict[str, Any], *, strict: bool = True) -> M:
    """The body as `model`, or a 400 naming the first bad field.

    JSON bodies are checked strictly, as OpenAI does: `true` is not a number, `"0.7"` is not
    a temperature. Form fields arrive as text, so uploads pass `strict=False`.
    """
    try:
        return model.model_validate(body, strict=strict)
    except ValidationError as exc:
        raise _as_invalid_request(exc) from None


def _as_invalid_request(exc: ValidationError) -> InvalidRequest:
    error = exc.errors(include_url=False)[0]
    param = _param_name(error["loc"])
    if error["type"] == "missing":
        return InvalidRequest(f"Missing required parameter: '{param}'.", param=param)
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) else f" ({_short(value)})"
    return InvalidRequest(f"Invalid value for '{param}'{shown}: {message}.", param=param)


def _param_name(loc: tuple[int | str, ...]) -> str:
    # Pydantic adds the union member tried ("str", "list[str]"...) to the path; drop those
    # (but not form fields named like `timestamp_granularities[]`).
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif ("[" in item and not item.endswith("[]")) or item in _UNION_MEMBERS:
            continue
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "body"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


async def read_form(
    request: web.Request, limit: int, spool_dir: Path
) -> tuple[dict[str, Any], Upload | None]:
    """Read a multipart form: text fields into a dict (repeated `x[]` fields as lists), the
    `file` part streamed to a temporary file under `spool_dir` (the caller deletes it)."""
    check_declared_size(request, limit)
    if not request.content_type.startswith("multipart/form-data"):
        raise InvalidRequest(
            "This endpoint takes multipart/form-data with a `file` part.", param="file"
        )
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as exc:
        raise InvalidRequest("The multipart body could not be read.", param="file") from exc
    fields: dict[str, Any] = {}
    upload: Upload | None = None
    total = 0
    while True:
        try:
            part = await reader.next()
        except ValueError as exc:
            raise InvalidRequest("The multipart body is malformed.", param="file") from exc
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.name == "file":
            if upload is not None:
                _discard(upload)
            upload = await _spool(part, limit - total, spool_dir)
            total += upload.size
            continue
        value = (await part.read(decode=True)).decode("utf-8", "replace")
        total += len(value)
        if total > limit:
            raise PayloadTooLarge(f"Request body is over the {limit}-byte limit.")
        if part.name.endswith("[]"):
            fields.setdefault(part.name, []).append(value)
        else:
            fields[part.name] = value
    return fields, upload


async def _spool(part: BodyPartReader, limit: int, spool_dir: Path) -> Upload:
    spool_dir.mkdir(parents=True, exist_ok=True)
    # Not a `with` block: the file must outlive this function (the backend reads it).
    handle = tempfile.NamedTemporaryFile(dir=spool_dir, prefix="upload-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    size = 0
    try:
        with handle:
            while chunk := await part.read_chunk(_UPLOAD_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Upload is over the {limit}-byte limit.")
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(
        path=path,
        filename=part.filename or "audio",
        content_type=part.headers.get("content-type", "application/octet-stream"),
        size=size,
    )


def _discard(upload: Upload) -> None:
    upload.path.unlink(missing_ok=True)
