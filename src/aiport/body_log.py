"""Request and response bodies in the log, for the keys an operator names (opt-in).

`log_bodies: {keys: [key_…, master], max_bytes: 8192}` in aiport.yaml logs, for requests
made with those keys, the JSON body of each model request and of its JSON answer as one
line each (logger `aiport.bodies`, with the request id and key id). Before a body is
written, every value under a name that suggests a secret (`api_key`, `authorization`,
`token`, `password`, `secret`, …) and every string that looks like an API key or a Bearer
credential is replaced by `[redacted]`; the result is cut at `max_bytes` (then
`"truncated": true`). Streams log their request only; binary answers and uploads are not
logged.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson

log = logging.getLogger("aiport.bodies")

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"(api[_-]?key|authorization|token|secret|password|credential)", re.I)
_SECRET_VALUE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+\S+)")
# Counts, not credentials: `max_tokens`, `prompt_tokens`, `prompt_tokens_details`, …
_TOKEN_COUNT = re.compile(r"tokens(_details)?$", re.I)


def redact(value: Any) -> Any:
    """`value` with secrets replaced (see the module docstring); the input is not changed."""
    if isinstance(value, dict):
        return {k: REDACTED if _secret_name(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    return value


def _secret_name(name: object) -> bool:
    return (
        isinstance(name, str) and bool(_SECRET_NAME.search(name)) and not _TOKEN_COUNT.search(name)
    )


class BodyLog:
    def __init__(self, keys: list[str], max_bytes: int) -> None:
        self.keys = frozenset(keys)
        self.max_bytes = max_bytes

    def wants(self, key_id: str) -> bool:
        return key_id in self.keys

    def write(self, direction: str, request_id: str, key_id: str, body: Any) -> None:
        text = orjson.dumps(redact(body)).decode()
        truncated = len(text.encode()) > self.max_bytes
        if truncated:
            text = text.encode()[: self.max_bytes].decode(errors="ignore")
        log.info(
            "%s body",
            direction,
            extra={
                "request_id": request_id,
                "key_id": key_id,
                "body": text,
                "truncated": truncated or None,
            },
        )
