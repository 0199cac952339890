"""Reading request bodies: size decided before reading, JSON parsed once, uploads spooled.

Validation errors become a 400 naming the offending field in `param`, the way OpenAI does.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from aiohttp import BodyPartReader, HttpVersion11, MultipartReader, web
from aiohttp.hdrs import CONTENT_TRANSFER_ENCODING
from aiohttp.web_protocol import RequestPayloadError
from pydantic import ValidationError

from aiport.backends.base import Upload
from aiport.errors import InvalidRequest, PayloadTooLarge
from aiport.protocol.common import WireModel, without_null_defaults

M = TypeVar("M", bound=WireModel)

NOT_JSON = (
    "We could not parse the JSON body of your request. The body must be a JSON object "
    "and the Content-Type application/json."
)
_UPLOAD_CHUNK = 256 * 1024
# Deeper bodies are refused as they are read: orjson writes at most 254 levels, so a body
# that parsed could otherwise fail later, when it is passed on. Real requests (JSON schemas,
# tool parameters) stay far below this.
MAX_JSON_DEPTH = 128
TOO_DEEP = f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "dict"})


class NotJSON(InvalidRequest):
    """A body that is not a JSON object, in OpenAI's words; `reason` says why the JSON
    did not parse (None: it parsed, but is not an object), for protocols that word it."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(NOT_JSON)
        self.reason = reason


def check_declared_size(request: web.Request, limit: int) -> None:
    """Refuse a body whose declared length is over `limit` before reading a byte of it."""
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(f"Request body of {length} bytes is over the {limit}-byte limit.")


def expect(limit: int) -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    """An `Expect: 100-continue` handler that refuses a too-large body before the client
    sends it (aiohttp's own says "continue" to anything): without "100 Continue" the
    handler runs, and its first step, `check_declared_size`, answers 413 through the
    middleware like any other error (request id, the route's error shape, the access log)."""

    async def handler(request: web.Request) -> web.StreamResponse | None:
        if request.content_length is not None and request.content_length > limit:
            return None
        continuing = request.headers.get("Expect", "").lower() == "100-continue"
        if continuing and request.version == HttpVersion11:
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0
        return None

    return handler


async def read_json(request: web.Request, limit: int) -> dict[str, Any]:
    check_declared_size(request, limit)
    # `request.content_type` parses the header (~2 µs a request, measured): only when the
    # header could name a multipart type at all.
    declared = request.headers.get("Content-Type", "")
    if "multipart" in declared.lower() and request.content_type.startswith("multipart/"):
        raise NotJSON(f"the body is {request.content_type}, not application/json")
    raw = await read_bytes(request, limit)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NotJSON(str(exc)) from exc
    if not isinstance(body, dict):
        raise NotJSON(None)
    # Only a body with that many brackets can be that deep (a count at C speed).
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _too_deep(body):
        raise InvalidRequest(TOO_DEEP)
    return body


def _too_deep(value: Any) -> bool:
    level: list[Any] = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


async def read_bytes(request: web.Request, limit: int) -> bytes:
    """The whole body, refused (413) as soon as it is over `limit`."""
    try:
        length = request.content_length
        if length is not None:
            content = request.content
            # A body all here already, as sent (nothing to decode), is taken as it is:
            # `request.read()` copies it twice over two reads, ~3 µs a request (measured).
            if (
                content.is_eof()
                and length <= request.client_max_size
                and "Content-Encoding" not in request.headers
            ):
                return content.read_nowait()
            return await request.read()
        chunks: list[bytes] = []
        total = 0
        async for chunk in request.content.iter_chunked(_UPLOAD_CHUNK):
            total += len(chunk)
            if total > limit:
                raise PayloadTooLarge(f"Request body is over the {limit}-byte limit.")
            chunks.append(chunk)
        return b"".join(chunks)
    except RequestPayloadError as exc:
        raise _undecodable_body(request) from exc


def _undecodable_body(request: web.Request) -> InvalidRequest:
    """aiohttp decodes a `Content-Encoding` (gzip, deflate, br) as it reads: a body that is
    not what it says is the client's error."""
    encoding = request.headers.get("Content-Encoding", "")[:40]
    return InvalidRequest(
        f"The request body could not be decoded as its Content-Encoding ({encoding}) says.",
        code="invalid_http_request",
    )


def validate(model: type[M], body: dict[str, Any], *, strict: bool = True) -> M:
    """The body as `model`, or a 400 naming the first bad field.

    JSON bodies are checked strictly, as OpenAI does: `true` is not a number, `"0.7"` is not
    a temperature. Form fields arrive as text, so uploads pass `strict=False`.
    """
    try:
        return model.model_validate(body, strict=strict)
    except ValidationError as exc:
        error = exc
    # Off the fast path: a null that means its default (the SDKs send None as null).
    if any(value is None for value in body.values()):
        try:
            return model.model_validate(without_null_defaults(model, body), strict=strict)
        except ValidationError as exc:
            error = exc
    raise _as_invalid_request(error) from None


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
            if parts and parts[-1].endswith("[]"):  # a form list's item: `name[0]`, not `name[][0]`
                parts[-1] = parts[-1][:-2]
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
    `file` part streamed to a temporary file under `spool_dir`.

    On success the caller owns (and deletes) the file; on any failure it is already gone.
    """
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
    try:
        total = 0
        while (part := await _next_part(reader)) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            if part.name == "file":
                if upload is not None:
                    _discard(upload)
                    upload = None
                upload = await _spool(part, limit - total, spool_dir)
                total += upload.size
                continue
            value = (await _read_field(part)).decode("utf-8", "replace")
            total += len(value)
            if total > limit:
                raise PayloadTooLarge(f"Request body is over the {limit}-byte limit.")
            if part.name.endswith("[]"):
                fields.setdefault(part.name, []).append(value)
            else:
                fields[part.name] = value
    except RequestPayloadError as exc:
        if upload is not None:
            _discard(upload)
        raise _undecodable_body(request) from exc
    except BaseException:
        if upload is not None:
            _discard(upload)
        raise
    return fields, upload


async def _next_part(reader: MultipartReader) -> Any:
    try:
        return await reader.next()
    except ValueError as exc:
        raise InvalidRequest("The multipart body is malformed.", param="file") from exc


# Content-Transfer-Encoding is deprecated in forms (RFC 7578) but allowed; these we decode.
_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})
_FIELD_ENCODINGS = _IDENTITY_ENCODINGS | {"base64", "quoted-printable"}
# A file is decoded chunk by chunk, which aiohttp keeps aligned for base64 only.
_FILE_ENCODINGS = _IDENTITY_ENCODINGS | {"base64"}


def _transfer_encoding(part: BodyPartReader, allowed: frozenset[str]) -> str:
    encoding = part.headers.get(CONTENT_TRANSFER_ENCODING, "").strip().lower()
    if encoding not in allowed:
        raise InvalidRequest(
            f"The part `{part.name}` has a Content-Transfer-Encoding this server cannot decode"
            f" ({_short(encoding)}); send it unencoded or as base64.",
            param=part.name,
        )
    return encoding


def _undecodable(part: BodyPartReader) -> InvalidRequest:
    return InvalidRequest(
        f"The part `{part.name}` could not be decoded as its Content-Transfer-Encoding says.",
        param=part.name,
    )


async def _read_field(part: BodyPartReader) -> bytes:
    _transfer_encoding(part, _FIELD_ENCODINGS)
    try:
        return bytes(await part.read(decode=True))
    except (binascii.Error, ValueError) as exc:
        raise _undecodable(part) from exc


async def _spool(part: BodyPartReader, limit: int, spool_dir: Path) -> Upload:
    encoding = _transfer_encoding(part, _FILE_ENCODINGS)
    spool_dir.mkdir(parents=True, exist_ok=True)
    # Not a `with` block: the file must outlive this function (the backend reads it).
    handle = tempfile.NamedTemporaryFile(dir=spool_dir, prefix="upload-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    size = 0
    try:
        with handle:
            while chunk := await part.read_chunk(_UPLOAD_CHUNK):
                if encoding == "base64":
                    chunk = _b64decode(part, chunk)
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


def _b64decode(part: BodyPartReader, chunk: bytes) -> bytes:
    try:
        return base64.b64decode(chunk)
    except (binascii.Error, ValueError) as exc:
        raise _undecodable(part) from exc


def _discard(upload: Upload) -> None:
    upload.path.unlink(missing_ok=True)
