"""Tokens per second: the local chat backend against xllamacpp called directly.

Both sides use the same loaded llama.cpp server (so the same GGUF, context, threads and
sampling settings) and the same request: a story prompt at temperature 0 with a fixed seed,
so both generate the same tokens.

- direct: `Server.handle_chat_completions(request, callback)` on this thread, streaming,
  the callback only counting; nothing else.
- direct-whole: the runtime's own non-streamed answer (no callback).
- backend-stream: `LlamaChatBackend.chat_stream(call)` consumed to the end (validation,
  the ModelRunner's thread and queue, OpenAI framing of every chunk).
- backend-chat: `LlamaChatBackend.chat(call)` (the same stream, folded into one message).

Tokens/s = completion tokens (the runtime's count) / wall-clock seconds of the whole call,
prompt included (the prompt is cached after the warm-up, equally for all sides). CPU
ms/token is the whole process's CPU time per token: the overhead of the backend shows
there even on a busy host, where wall-clock rates swing. Rounds alternate between the
sides; medians are printed. The host should be otherwise idle:
llama.cpp's threads spin-wait on each other, so a busy CPU slows 2 threads badly.

Run: `.venv/bin/python benchmarks/local_chat_tokens.py [--max-tokens 128] [--rounds 5]
[--threads 2]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiport.backends.base import Call
from aiport.backends.local.chat import DEFAULT_MODEL_ID, LlamaChatBackend, engine_requests
from aiport.protocol.chat import ChatCompletionRequest

PROMPT = "Write a long story about a dragon who learns to bake bread."


def body(max_tokens: int) -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 1,
        "stream_options": {"include_usage": True},
    }


Runs = dict[str, list[tuple[int, float, float]]]  # side -> (tokens, tokens/s, CPU ms/token)


async def measure(backend: LlamaChatBackend, max_tokens: int, rounds: int) -> Runs:
    assert backend.engine is not None
    server = backend.engine.server
    payload = body(max_tokens)
    # Exactly the runtime request the backend sends, so both sides sample alike.
    validated = ChatCompletionRequest.model_validate(payload)
    request = engine_requests(validated, payload["messages"], {})[0]
    whole_request = {k: v for k, v in request.items() if k != "stream_options"} | {"stream": False}
    call = Call.make(
        validated, payload, model=DEFAULT_MODEL_ID, public_model="gpt-4o", request_id="bench"
    )

    def direct() -> int:
        usage: dict[str, int] = {}

        def on_chunk(chunk: dict[str, Any]) -> bool:
            usage.update(chunk.get("usage") or {})
            return False

        server.handle_chat_completions(request, on_chunk)
        return usage["completion_tokens"]

    def direct_whole() -> int:
        return int(server.handle_chat_completions(whole_request)["usage"]["completion_tokens"])

    async def backend_stream() -> int:
        last: dict[str, Any] = {}
        async for chunk in backend.chat_stream(call):
            last = chunk.data
        return int(last["usage"]["completion_tokens"])

    async def backend_chat() -> int:
        return (await backend.chat(call)).usage.completion_tokens

    async def blocking(fn: Callable[[], int]) -> int:
        return fn()  # on the event loop's thread on purpose: no hand-off at all

    sides: dict[str, Callable[[], Awaitable[int]]] = {
        "direct": lambda: blocking(direct),
        "direct-whole": lambda: blocking(direct_whole),
        "backend-stream": backend_stream,
        "backend-chat": backend_chat,
    }
    results: Runs = {name: [] for name in sides}
    await backend_chat()  # warm-up: prompt cache, pages, allocator
    for _ in range(rounds):
        for name, run in sides.items():
            began, cpu = time.perf_counter(), time.process_time()
            tokens = await run()
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            results[name].append((tokens, tokens / wall, 1000 * cpu / tokens))
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="default: the backend's")
    args = parser.parse_args()
    backend = LlamaChatBackend(threads=args.threads)
    await backend.start()
    try:
        results = await measure(backend, args.max_tokens, args.rounds)
    finally:
        await backend.close()
    medians = {name: statistics.median(run[1] for run in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(run[2] for run in runs) for name, runs in results.items()}
    print(
        f"SmolLM2-135M Q4_1, {backend.threads} threads, {args.max_tokens} max tokens, "
        f"median of {args.rounds} rounds"
    )
    for name, runs in results.items():
        tokens = sorted({run[0] for run in runs})
        print(
            f"  {name:15s} {medians[name]:7.1f} tokens/s  {cpu[name]:6.2f} CPU ms/token"
            f"  (tokens per call: {tokens})"
        )
    print(f"  backend-stream / direct = {medians['backend-stream'] / medians['direct']:.3f}")
    print(
        f"  backend-chat / direct-whole = {medians['backend-chat'] / medians['direct-whole']:.3f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
