"""Errors in Anthropic's shape, and its `request-id` header, for the Messages API's paths.

`{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}` with the
status Anthropic's SDKs map to their exception classes, and every answer with `request-id`
(the SDKs read it into `_request_id`): both are aiport's request id, as `x-request-id`. An
Anthropic upstream's own error body passes through as it came but for its `request_id`; an
OpenAI-shaped one is reshaped. Where Anthropic's words differ from OpenAI's (a missing key,
a body that is not JSON), they are Anthropic's.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from aiport.api.bodies import NotJSON
from aiport.api.context import context
from aiport.api.responses import add_headers
from aiport.api.sse import event_frame
from aiport.auth import MISSING_KEY
from aiport.backends.base import StreamChunk
from aiport.errors import APIError, AuthenticationFailed, InvalidRequest, UpstreamError
from aiport.protocol.message_blocks import CHOICE_LABELS

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ANTHROPIC_TYPES = frozenset(ERROR_TYPES.values()) | {"api_error"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The labels pydantic puts in an error's path for the member of a union it tried.
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "dict", "list"}) | CHOICE_LABELS
# Anthropic's own words where its check is not pydantic's.
_MESSAGES = {("messages", "too_short"): "at least one message is required"}
# How the key checks (`auth`, `keycache`) say a key is not known.
WRONG_KEY_WORDS = "Incorrect API key provided"
ID_HEADER = "request-id"  # Anthropic's; aiport's `x-request-id` stays beside it


def anthropic_errors(handler: Handler) -> Handler:
    """A handler whose answers are Anthropic's: failures in its shape, `request-id` on
    every one (`api.responses.error_response` reads both marks, also for a failure before
    the handler ran; other routes pay nothing for it)."""

    @functools.wraps(handler)
    async def answer(request: web.Request) -> web.StreamResponse:
        add_headers(request, {ID_HEADER: context(request).request_id})
        return await handler(request)

    answer.aiport_error_body = anthropic_error_body  # type: ignore[attr-defined]
    answer.aiport_id_header = ID_HEADER  # type: ignore[attr-defined]
    return answer


def invalid_request(exc: ValidationError) -> InvalidRequest:
    """The first of `exc`'s errors as Anthropic words it, its path dotted and pydantic's
    message (Anthropic validates with pydantic): `max_tokens: Field required`,
    `messages: at least one message is required`."""
    error = exc.errors(include_url=False)[0]
    path = ".".join(str(part) for part in error["loc"] if not _union_member(part))
    message = _MESSAGES.get((path, error["type"])) or str(error["msg"])
    return InvalidRequest(f"{path}: {message.removeprefix('Value error, ')}", param=path)


def _union_member(part: str | int) -> bool:
    return isinstance(part, str) and (part in _UNION_MEMBERS or "[" in part)


def anthropic_error(
    exc: APIError, request_id: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """`exc` in Anthropic's shape; `message` words it otherwise than `exc` does."""
    message, kind = message or exc.message, None
    if isinstance(exc, UpstreamError):
        try:
            data = orjson.loads(exc.raw)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and data.get("type") == "error":
            # An Anthropic upstream's own error, known to the caller by aiport's id.
            return data if request_id is None else data | {"request_id": request_id}
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or message)
            kind = error.get("type") if error.get("type") in ANTHROPIC_TYPES else None
    fallback = "invalid_request_error" if exc.status < 500 else "api_error"
    kind = kind or ERROR_TYPES.get(exc.status, fallback)
    body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def anthropic_error_body(request: web.Request, exc: APIError) -> bytes:
    words = _anthropics_words(request, exc)
    return orjson.dumps(anthropic_error(exc, context(request).request_id, words))


def _anthropics_words(request: web.Request, exc: APIError) -> str | None:
    """Anthropic's wording where OpenAI's would mislead: a missing key, a wrong one sent as
    `x-api-key` (a Bearer key — this SDK's `api_key`, Claude Code's ANTHROPIC_AUTH_TOKEN —
    keeps aiport's words), a body that is not JSON."""
    if isinstance(exc, NotJSON):
        if exc.reason is None:
            return "The request body is not a JSON object."
        return f"The request body is not valid JSON: {exc.reason}"
    if isinstance(exc, AuthenticationFailed):
        if exc.message == MISSING_KEY:
            return "x-api-key header is required"
        wrong = exc.message.startswith(WRONG_KEY_WORDS)
        if wrong and "Authorization" not in request.headers:
            return "invalid x-api-key"
    return None


def error_event(exc: APIError) -> bytes:
    """The `error` event that ends a stream that failed after it began (its response's
    `request-id` header names the request, as Anthropic's)."""
    return event_frame(StreamChunk(anthropic_error(exc), event="error"))
