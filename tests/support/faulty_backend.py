"""A local engine that fails in the ways real engines can, loaded by dotted path from
aiport.yaml like any user-supplied engine (see test_backend_failures.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiport.backends.base import Backend, Call, JSONBody, ModelCard, StreamChunk


class FaultyBackend(Backend):
    def __init__(self, **options: object) -> None:
        self.options = options

    def models(self) -> list[ModelCard]:
        return [
            ModelCard("times-out", owned_by="aiport-local"),
            ModelCard("crashes", owned_by="aiport-local"),
        ]

    async def chat(self, call: Call) -> JSONBody:
        if call.model == "times-out":
            raise TimeoutError("an inner deadline passed")
        raise RuntimeError("the engine crashed")

    async def chat_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        yield StreamChunk({"id": "x", "object": "chat.completion.chunk", "choices": []})
        raise RuntimeError("the engine crashed mid-stream")
