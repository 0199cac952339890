"""A chat-path error told in the words of the API the caller used: where aiport answers the
Responses or Messages API by translating to chat, a 400 that the chat path raised (its
validation, an engine's limits, an upstream's own 400) names the caller's field, never a
chat-only one (`messages[3].content`, `response_format…`, `max_completion_tokens`). Each
API gives its own `rename` (`responses_errors`, `messages_errors`); this is the common
part: the path's form, the table of prefixes, the error's message and an upstream's body.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson

from aiport.errors import APIError, UpstreamError

Rename = Callable[[str], str]  # chat param (indexes in brackets) → the caller's field
Words = Callable[[str, str], str]  # (caller's field, message) → the message as worded
INDEXED = re.compile(r"^(messages|tools)\[(\d+)\]\.?(.*)$")


def in_callers_terms(exc: APIError, rename: Rename, words: Words | None = None) -> APIError:
    """`exc` with its `param` renamed, and the param where its message quotes it (an
    upstream's error: in the body passed on)."""
    if isinstance(exc, UpstreamError):
        return _upstream_error(exc, rename, words)
    if exc.param is None:
        return exc
    exc.param, exc.message = _renamed(exc.param, exc.message, rename, words)
    return exc


def _renamed(raw: str, message: str, rename: Rename, words: Words | None) -> tuple[str, str]:
    param = rename(bracketed(raw))
    if any(mark in raw for mark in "._[") and raw in message:  # not a plain word (`n`)
        message = message.replace(raw, param)
    return param, words(param, message) if words is not None else message


def _upstream_error(exc: UpstreamError, rename: Rename, words: Words | None) -> APIError:
    try:
        data = orjson.loads(exc.raw)
    except orjson.JSONDecodeError:
        return exc
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("param"), str):
        return exc
    param, message = _renamed(error["param"], str(error.get("message") or ""), rename, words)
    body = orjson.dumps(data | {"error": error | {"param": param, "message": message}})
    return UpstreamError(exc.status, body, exc.headers)


def bracketed(param: str) -> str:
    """pydantic's `messages.0.content` as `messages[0].content`, as OpenAI writes it."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", param)


def prefixed(param: str, prefixes: tuple[tuple[str, str], ...]) -> str | None:
    """`param` with the first of `prefixes` (chat's, the caller's) that it starts with
    replaced; None if none does."""
    for chat, theirs in prefixes:
        if param == chat or param.startswith((chat + ".", chat + "[")):
            return theirs + param[len(chat) :]
    return None
