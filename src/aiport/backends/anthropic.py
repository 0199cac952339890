"""Anthropic as an upstream: the Messages API passed through natively.

The provider's key goes up as `x-api-key` (never the caller's), with the client's
`anthropic-version` (default 2023-06-01) and `anthropic-beta` headers. Answers and error
bodies pass through as Anthropic sent them. Other protocols are not served by this
provider type (Anthropic's chat-completions compatibility endpoint is an `openai-compatible`
provider).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from aiport.backends.base import Call, JSONBody, StreamChunk, Usage
from aiport.backends.upstream import UpstreamBackend, _parse, _read
from aiport.protocol.messages import DEFAULT_VERSION
from aiport.settings import ProviderConfig

ONLY_MESSAGES = "chat completions (an `anthropic` provider serves the Messages API)"


class AnthropicBackend(UpstreamBackend):
    def __init__(self, name: str, config: ProviderConfig) -> None:
        super().__init__(name, config)
        self.kind = "anthropic"
        self._headers = [("user-agent", "aiport")]
        if config.api_key is not None and config.api_key.get_secret_value():
            self._headers.append(("x-api-key", config.api_key.get_secret_value()))
        self._json_headers = [*self._headers, ("content-type", "application/json")]

    def _headers_for(self, call: Call) -> list[tuple[str, str]]:
        passed = dict(call.headers)
        passed.setdefault("anthropic-version", DEFAULT_VERSION)
        return [*self._json_headers, *passed.items()]

    def error_body(self, raw: bytes, status: int) -> bytes:
        return raw  # Anthropic's own error shape, for Anthropic's clients

    async def _post(self, path: str, call: Call) -> bytes:
        body, headers = orjson.dumps(call.body), self._headers_for(call)
        async with (
            self._deadline(self.config.timeout),
            self._request("POST", path, body, headers) as resp,
        ):
            return await _read(resp, self.name)

    async def messages(self, call: Call) -> JSONBody:
        raw = await self._post("/messages", call)
        data = _parse(raw, self.name)
        return JSONBody(data, raw=raw, usage=anthropic_usage(data.get("usage")))

    async def chat(self, call: Call) -> JSONBody:
        raise self._unsupported(call, ONLY_MESSAGES)

    def chat_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        raise self._unsupported(call, ONLY_MESSAGES)

    async def completions(self, call: Call) -> JSONBody:
        raise self._unsupported(call, "text completions")

    def completions_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        raise self._unsupported(call, "text completions")

    def messages_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        return self._events("/messages", call.body, named=True, headers=self._headers_for(call))

    async def count_tokens(self, call: Call) -> JSONBody:
        raw = await self._post("/messages/count_tokens", call)
        return JSONBody(_parse(raw, self.name), raw=raw)


def anthropic_usage(usage: object) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    names = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    return Usage(
        prompt_tokens=sum(int(usage.get(name) or 0) for name in names),
        completion_tokens=int(usage.get("output_tokens") or 0),
        cached_tokens=int(usage.get("cache_read_input_tokens") or 0),
    )
