"""One key's heavy chat request against another key's light one, measured in one run.

Key B's light request (8 tokens) is timed on an idle engine (the baseline), then sent
while key A's heavy request runs:

1. many choices, on one slot (`concurrency: 1`, so no spare slot hides the effect): A asks
   for `n=--choices` × 48 tokens; served as now (each choice a turn of its own in the
   per-key fair order) and as before (all choices in one turn);
2. a large enum, on two slots (B has a slot of its own): A's `response_format` holds a
   string enum of 1,000 values (OpenAI's limit, served) and of `--beyond` values (past
   it: refused with a 400 now; served here with the check switched off, to show what the
   limit prevents), against a plain request of A's (the cost of sharing the engine).
   llama.cpp applies the grammar on its one decoding thread, so every request waits on it.

3. many long requests, on the default slots: A sends `--long` requests of `--tokens`
   tokens at once (every slot taken, the rest waiting); served as now (a generation gives
   way to B every `turn_tokens` tokens and resumes after) and as before (`turn_tokens: 0`,
   each generation to its end); A's time for all of them beside it, the cost to A.

Reported: B sends one request after another while A's runs; B's slowest latency against
the idle baseline (a ratio), and how many answers B had meanwhile.

Run: `.venv/bin/python benchmarks/local_chat_heavy_requests.py [--choices 8] [--beyond 3000]
[--long 8] [--tokens 2000] [--only long]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable
from typing import Any

from aiport.backends.base import Call
from aiport.backends.local import chat
from aiport.backends.local.chat import DEFAULT_MODEL_ID, LlamaChatBackend, LlamaEngine
from aiport.backends.local.runner import Emitter
from aiport.protocol.chat import ChatCompletionRequest

COUNT = [{"role": "user", "content": "Count from 1 to 100, one number per line."}]
ANIMALS = [{"role": "user", "content": "List 500 animals, one per line."}]


def call(key: str, **body: Any) -> Call:
    body = {"model": "m", "messages": COUNT, "temperature": 0} | body
    return Call.from_body(ChatCompletionRequest, body, DEFAULT_MODEL_ID, key_id=key)


async def light(backend: LlamaChatBackend) -> float:
    began = time.perf_counter()
    await backend.chat(call("B", max_tokens=8))
    return time.perf_counter() - began


async def light_during(backend: LlamaChatBackend, heavy: Awaitable[Any]) -> tuple[float, int]:
    """B's slowest latency and its number of answers while A's heavy request runs (B sends
    one request after another, from when A holds a slot to when A is answered)."""
    task = asyncio.ensure_future(heavy)
    while not backend.runner.busy:
        await asyncio.sleep(0.001)
    latencies = []
    while not task.done():
        latencies.append(await light(backend))
    await task
    return max(latencies), len(latencies)


def all_choices_in_one_turn(emitter: Emitter, engine: LlamaEngine, choices: list[Any]) -> None:
    """How `n` ran before: one slot for every choice, one after another."""
    for generation in choices:
        engine.generate(emitter, generation)
        if emitter.cancelled():
            return


async def heavy_in_one_turn(backend: LlamaChatBackend, n: int) -> None:
    engine = await backend.loaded()
    req = call("A", n=n, max_tokens=48).request_as(ChatCompletionRequest)
    messages = [dict(message) for message in req.messages]
    choices = chat.generations(chat.engine_requests(req, messages, {}), turn_tokens=0, context=512)
    async for _ in backend.runner.stream(all_choices_in_one_turn, engine, choices, key="A"):
        pass


def enum_format(values: int) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"w": {"type": "string", "enum": [f"value{i}" for i in range(values)]}},
        "required": ["w"],
    }
    return {"type": "json_schema", "json_schema": {"name": "pick", "schema": schema}}


async def baseline(backend: LlamaChatBackend) -> float:
    await light(backend)  # warm
    idle = statistics.median([await light(backend) for _ in range(3)])
    print(f"B alone ({backend.slots} slot(s)): {idle:.2f}s")
    return idle


async def report(backend: LlamaChatBackend, name: str, heavy: Awaitable[Any], idle: float) -> None:
    slowest, answers = await light_during(backend, heavy)
    print(
        f"B during A: {name}: slowest {slowest:.2f}s = {slowest / idle:.1f}x alone, "
        f"{answers} answers"
    )


async def many_choices(choices: int) -> None:
    backend = LlamaChatBackend(n_ctx=512, concurrency=1, queue_size=4)
    await backend.start()
    idle = await baseline(backend)
    now = backend.chat(call("A", n=choices, max_tokens=48))
    await report(backend, f"n={choices} × 48 tokens, each choice a turn (now)", now, idle)
    before = heavy_in_one_turn(backend, choices)
    await report(backend, f"n={choices} × 48 tokens, all in one turn (before)", before, idle)
    await backend.close()


async def large_enums(beyond: int) -> None:
    """Two slots: B has one of its own, and still waits on A's grammar."""
    backend = LlamaChatBackend(n_ctx=512, concurrency=2, queue_size=4)
    await backend.start()
    idle = await baseline(backend)
    plain = backend.chat(call("A", max_tokens=16))
    await report(backend, "16 tokens, no schema (sharing the engine)", plain, idle)
    served = backend.chat(call("A", max_tokens=16, response_format=enum_format(1000)))
    await report(backend, "a 1,000-value enum (OpenAI's limit; served)", served, idle)
    chat.check_schemas = lambda *_: None  # type: ignore[assignment]  # what the limit prevents
    past = backend.chat(call("A", max_tokens=16, response_format=enum_format(beyond)))
    await report(backend, f"a {beyond:,}-value enum (past the limit: a 400 now)", past, idle)
    await backend.close()


async def all_of(requests: list[Awaitable[Any]]) -> tuple[float, int]:
    """Seconds until every request is answered, and the tokens they made."""
    began = time.perf_counter()
    answers = await asyncio.gather(*requests)
    return time.perf_counter() - began, sum(answer.usage.completion_tokens for answer in answers)


async def long_requests(count: int, tokens: int) -> None:
    backend = LlamaChatBackend(queue_size=count + 4)
    await backend.start()
    idle = await baseline(backend)
    now = backend.options.turn_tokens
    for name, turn_tokens in (("to its end (before)", 0), (f"every {now} tokens (now)", now)):
        backend.options = backend.options.model_copy(update={"turn_tokens": turn_tokens})
        heavy = all_of(
            [backend.chat(call("A", messages=ANIMALS, max_tokens=tokens)) for _ in range(count)]
        )
        timed = asyncio.ensure_future(heavy)
        await report(backend, f"{count} × {tokens} tokens, giving way {name}", timed, idle)
        seconds, made = timed.result()
        print(f"  A: {made} tokens in {seconds:.1f}s = {made / seconds:.1f} tokens/s")
    await backend.close()


async def main(choices: int, beyond: int, long: int, tokens: int, only: str | None) -> None:
    if only in (None, "choices"):
        await many_choices(choices)
    if only in (None, "enums"):
        await large_enums(beyond)
    if only in (None, "long"):
        await long_requests(long, tokens)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--choices", type=int, default=8)
    parser.add_argument("--beyond", type=int, default=3000)
    parser.add_argument("--long", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--only", choices=["choices", "enums", "long"])
    args = parser.parse_args()
    asyncio.run(main(args.choices, args.beyond, args.long, args.tokens, args.only))
