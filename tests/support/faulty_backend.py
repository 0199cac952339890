"""A local engine that fails in the ways real engines can, loaded by dotted path from
aiport.yaml like any user-supplied engine (see test_backend_failures.py).

Options: `start_delay` (seconds its start takes), `start_error` (start fails with this).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiport.backends.base import Backend, BinaryBody, Call, JSONBody, ModelCard, StreamChunk, Usage


class FaultyBackend(Backend):
    def __init__(self, **options: object) -> None:
        self.options = options

    async def start(self) -> None:
        await asyncio.sleep(float(self.options.get("start_delay", 0)))  # type: ignore[arg-type]
        if "start_error" in self.options:
            raise RuntimeError(str(self.options["start_error"]))

    def models(self) -> list[ModelCard]:
        return [
            ModelCard("times-out", owned_by="aiport-local"),
            ModelCard("crashes", owned_by="aiport-local"),
            ModelCard("picky", owned_by="aiport-local"),
        ]

    async def chat(self, call: Call) -> JSONBody:
        if call.model == "times-out":
            raise TimeoutError("an inner deadline passed")
        if call.model == "picky":
            # A defect of its own code that one request's input meets: content given as a
            # list of parts has no `.upper()` (AttributeError); text is answered.
            text = call.body["messages"][-1]["content"].upper()
            return JSONBody(
                {
                    "id": "chatcmpl-picky",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "picky",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            )
        raise RuntimeError("the engine crashed")

    async def chat_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        yield StreamChunk({"id": "x", "object": "chat.completion.chunk", "choices": []})
        if call.model == "picky":
            # The same defect, met once the stream has begun.
            text = call.body["messages"][-1]["content"].upper()
            delta = {"index": 0, "delta": {"content": text}, "finish_reason": "stop"}
            yield StreamChunk({"id": "x", "object": "chat.completion.chunk", "choices": [delta]})
            return
        raise RuntimeError("the engine crashed mid-stream")

    async def speech(self, call: Call) -> BinaryBody:
        """Audio whose voice engine fails after the first chunk (`crashes`)."""
        return BinaryBody(
            "audio/wav", _audio_then_crash(), Usage(characters=len(call.body["input"]))
        )


async def _audio_then_crash() -> AsyncIterator[bytes]:
    yield b"RIFF" + bytes(60)
    raise RuntimeError("the voice engine crashed mid-stream")
