"""Embeddings micro-batching and per-key fairness, measured in one run.

1. Throughput: `--clients` concurrent single-text requests (a mix of queries and
   paragraphs, like a search server's traffic) through the embeddings backend, with
   batching across requests (the default) and without it (`batch_size: 1`, one text per
   model call: how requests were served before); requests/s and the ratio.
2. Fairness: key A sends `--flood` single-text requests at once; right after, key B sends
   one. Reported: how many batches ran between B's arrival and B's answer (at most one
   full batch of A's may be ahead of it), and B's wait against A's median.
3. The same for chat: key A opens 8 streams on the auto slots, then key B one; B's time to
   first token against A's slowest.

The backends are driven in-process (no HTTP), so the figures are the engines' own.

Run: `.venv/bin/python benchmarks/local_batching_fairness.py [--clients 16] [--seconds 5]`
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from aiport.backends.base import Call
from aiport.backends.local.chat import LlamaChatBackend
from aiport.backends.local.embeddings import MiniLMEmbeddingsBackend
from aiport.protocol.embeddings import EmbeddingRequest

QUERIES = [
    "how do I reset my password",
    "quarterly revenue growth by region",
    "cosine similarity of embedding vectors",
    "cheap heating oil prices this week",
    "The support team answers customer tickets about passwords, billing and account access "
    "within one working day, and escalates anything about security at once.",
    "A cache in front of the index keeps most answers under ten milliseconds, even when "
    "the search server ranks thousands of documents per query.",
]


def call(body: dict[str, Any], key: str) -> Call:
    return Call.from_body(EmbeddingRequest, body, "m", key_id=key)


async def throughput(
    backend: MiniLMEmbeddingsBackend, texts: list[str], clients: int, seconds: float
) -> float:
    """Requests/s of `clients` callers each sending one-text requests back to back."""
    done = 0
    stop = time.perf_counter() + seconds

    async def client(index: int) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            text = texts[(index + done) % len(texts)]
            await backend.embeddings(call({"input": text, "model": "m"}, f"k{index}"))
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return done / (time.perf_counter() - began)


async def embeddings_fairness(backend: MiniLMEmbeddingsBackend, flood: int) -> None:
    batcher = backend.batcher

    async def timed(key: str, text: str) -> float:
        began = time.perf_counter()
        await backend.embeddings(call({"input": text, "model": "m"}, key))
        return time.perf_counter() - began

    paragraph = QUERIES[4] * 3  # long texts: a few per batch, so A needs many batches
    flood_tasks = [asyncio.create_task(timed("A", paragraph)) for _ in range(flood)]
    await asyncio.sleep(0.001)
    before = batcher.batches
    b_wait = await timed("B", QUERIES[0])
    batches_before_b = batcher.batches - before - 1
    a_waits = await asyncio.gather(*flood_tasks)
    print(
        f"embeddings fairness: A sent {flood} at once, then B one; batches run before B's: "
        f"{batches_before_b} (of {batcher.batches - before} for all of A's); B waited "
        f"{b_wait * 1000:.0f} ms, A's median {statistics.median(a_waits) * 1000:.0f} ms, "
        f"A's slowest {max(a_waits) * 1000:.0f} ms"
    )


async def chat_fairness() -> None:
    backend = LlamaChatBackend()
    await backend.start()
    body = {"model": "m", "max_tokens": 64, "temperature": 0.7, "stream": True}

    async def first_token(key: str, question: str) -> float:
        began = time.perf_counter()
        first = None
        messages = [{"role": "user", "content": question}]
        async for chunk in backend.chat_stream(call(body | {"messages": messages}, key)):
            if first is None and any(c["delta"].get("content") for c in chunk.data["choices"]):
                first = time.perf_counter() - began
        return first or float("nan")

    try:
        await first_token("warm", "Hello")
        flood = [
            asyncio.create_task(first_token("A", f"Story number {i}."))
            for i in range(3 * backend.slots)
        ]
        await asyncio.sleep(0.05)
        b_first = await first_token("B", "Say hello.")
        a_firsts = await asyncio.gather(*flood)
        print(
            f"chat fairness ({backend.slots} slots): A opened {len(flood)} streams, then B one; "
            f"B's first token after {b_first:.2f} s; A's first tokens: median "
            f"{statistics.median(a_firsts):.2f} s, slowest {max(a_firsts):.2f} s"
        )
    finally:
        await backend.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--flood", type=int, default=50)
    args = parser.parse_args()
    workloads = {"short queries": QUERIES[:4], "queries and paragraphs": QUERIES}
    configs: dict[str, dict[str, Any]] = {
        "off": {"batch_size": 1, "batch_window_ms": 0},  # one text per model call
        "on": {},
    }
    rates: dict[tuple[str, str], float] = {}
    for name, options in configs.items():
        backend = MiniLMEmbeddingsBackend(queue_size=4 * args.clients + args.flood, **options)
        await backend.start()
        try:
            for workload, texts in workloads.items():
                await throughput(backend, texts, args.clients, 0.5)  # warm-up
                rates[name, workload] = await throughput(backend, texts, args.clients, args.seconds)
            if name == "on":
                await embeddings_fairness(backend, args.flood)
        finally:
            await backend.close()
    for workload in workloads:
        off, on = rates["off", workload], rates["on", workload]
        print(
            f"embeddings, {args.clients} concurrent single-text requests ({workload}): "
            f"{off:.0f} req/s without batching, {on:.0f} with: {on / off:.1f}×"
        )
    await chat_fairness()


if __name__ == "__main__":
    asyncio.run(main())
