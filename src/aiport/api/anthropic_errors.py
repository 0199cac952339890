"""Errors in Anthropic's shape, for the Messages API's paths.

`{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}` with the
status Anthropic's SDKs map to their exception classes. An Anthropic upstream's own error
body passes through as it came; an OpenAI-shaped one is reshaped.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from aiport.api.sse import event_frame
from aiport.backends.base import StreamChunk
from aiport.errors import APIError, InvalidRequest, UpstreamError
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
# The labels pydantic puts in an error's path for the member of a union it tried.
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "dict", "list"}) | CHOICE_LABELS
# Anthropic's own words where its check is not pydantic's.
_MESSAGES = {("messages", "too_short"): "at least one message is required"}


def anthropic_errors(handler: Any) -> Any:
    """Mark a handler whose failures are answered in Anthropic's shape."""
    handler.aiport_error_body = anthropic_error_body
    return handler


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


def anthropic_error(exc: APIError) -> dict[str, Any]:
    message, kind = exc.message, None
    if isinstance(exc, UpstreamError):
        try:
            data = orjson.loads(exc.raw)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and data.get("type") == "error":
            return data  # an Anthropic upstream's own error
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or message)
            kind = error.get("type") if error.get("type") in ANTHROPIC_TYPES else None
    fallback = "invalid_request_error" if exc.status < 500 else "api_error"
    kind = kind or ERROR_TYPES.get(exc.status, fallback)
    return {"type": "error", "error": {"type": kind, "message": message}}


def anthropic_error_body(exc: APIError) -> bytes:
    return orjson.dumps(anthropic_error(exc))


def error_event(exc: APIError) -> bytes:
    """The `error` event that ends a stream that failed after it began."""
    return event_frame(StreamChunk(anthropic_error(exc), event="error"))
