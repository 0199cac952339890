"""Local chat under concurrent streams: one llama.cpp slot (the old default) against the
auto-sized slots (continuous batching), with the shipped Q4_1 weights and rewritten as Q4_0
(`weights: q4_0`), all through HTTP with the official SDK, one run.

For each configuration an `aiport serve` with only the chat engine starts; then 1, 4 and
8 streamed chats (`--max-tokens` each, distinct questions, temperature 0.7 and fixed
seeds) run at once. Reported per level: aggregate completion tokens/s (usage from the
stream's usage chunk, over the wall time from the first request to the last token) and
the slowest time to the first content token. Ratios are within this run.

Then, for both weights, prompt-prefix reuse: four requests in a row that share a long
system prompt (about 870 tokens) and differ in the question; the first computes the
prompt, the later ones find it in the KV cache (`usage.prompt_tokens_details.cached_tokens`)
and start sooner.

Run: `.venv/bin/python benchmarks/local_chat_concurrency.py [--max-tokens 128] [--rounds 2]`
(the first start with `weights: q4_0` writes the Q4_0 file once, into ~/.cache/aiport).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openai import AsyncOpenAI

KEY = "sk-bench-0123456789"
OFF = {"enabled": False}
QUESTIONS = [
    "Write a story about a dragon who learns to bake bread.",
    "Explain how a bicycle works, step by step.",
    "Describe a walk through a forest in autumn.",
    "Write a letter to a friend about a trip to the sea.",
    "Tell the history of a small mountain village.",
    "Explain why the sky is blue to a child.",
    "Describe the perfect breakfast in detail.",
    "Write a poem about a lighthouse keeper.",
]
SYSTEM = " ".join(
    f"Rule {i}: answer politely, keep facts straight, and prefer short sentences about topic {i}."
    for i in range(40)
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`aiport serve` with only the chat engine, configured with `chat` options."""

    def __init__(self, chat: dict[str, Any], workdir: Path) -> None:
        self.port = free_port()
        config = {
            "local": {
                "engines": {
                    "chat": chat,
                    **dict.fromkeys(
                        ("embeddings", "speech", "transcription", "moderation", "images"), OFF
                    ),
                }
            }
        }
        path = workdir / f"aiport-{self.port}.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
        env |= {
            "AIPORT_MASTER_KEY": KEY,
            "AIPORT_DATA_DIR": str(workdir / f"data-{self.port}"),
            "AIPORT_ACCESS_LOG": "false",
        }
        command = [sys.executable, "-m", "aiport", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--config", str(path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                ready = f"http://127.0.0.1:{self.port}/health/ready"
                with urllib.request.urlopen(ready) as answer:  # 200 once models are loaded
                    if answer.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("aiport did not start")
        self.client = AsyncOpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key=KEY)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@dataclass
class Stream:
    tokens: int
    first_token: float  # seconds after the request was sent
    cached: int


async def one_stream(
    client: AsyncOpenAI, question: str, max_tokens: int, seed: int, system: str | None = None
) -> Stream:
    messages: list[Any] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": question})
    began = time.perf_counter()
    first: float | None = None
    tokens = cached = 0
    stream = await client.chat.completions.create(
        model="gpt-4o",
        messages=messages,
        max_tokens=max_tokens,
        temperature=0.7,
        seed=seed,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content and first is None:
            first = time.perf_counter() - began
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
            details = chunk.usage.prompt_tokens_details
            cached = (details.cached_tokens or 0) if details else 0
    return Stream(tokens, first if first is not None else float("nan"), cached)


async def level(
    client: AsyncOpenAI, streams: int, max_tokens: int, round_: int
) -> tuple[float, float]:
    """(aggregate tokens/s, slowest time to first token) for `streams` chats at once."""
    began = time.perf_counter()
    results = await asyncio.gather(
        *(
            one_stream(client, QUESTIONS[i % len(QUESTIONS)], max_tokens, 100 * round_ + i)
            for i in range(streams)
        )
    )
    wall = time.perf_counter() - began
    return sum(r.tokens for r in results) / wall, max(r.first_token for r in results)


async def measure(server: Server, max_tokens: int, rounds: int) -> dict[int, tuple[float, float]]:
    await one_stream(server.client, "Hello!", 8, 0)  # warm-up
    figures: dict[int, list[tuple[float, float]]] = {1: [], 4: [], 8: []}
    for round_ in range(rounds):
        for streams in figures:
            figures[streams].append(await level(server.client, streams, max_tokens, round_))
    return {
        streams: (
            statistics.median(f[0] for f in runs),
            statistics.median(f[1] for f in runs),
        )
        for streams, runs in figures.items()
    }


async def prefix_reuse(server: Server) -> list[Stream]:
    return [
        await one_stream(server.client, question, 8, 1, system=SYSTEM) for question in QUESTIONS[:4]
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    configs = {
        "one slot (old default)": {"concurrency": 1},
        "auto slots (default)": {},
        "auto slots, q4_0 weights": {"weights": "q4_0"},
    }
    results: dict[str, dict[int, tuple[float, float]]] = {}
    reuse: dict[str, list[Stream]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name, chat in configs.items():
            server = Server(chat, Path(workdir))
            try:
                results[name] = await measure(server, args.max_tokens, args.rounds)
                if "concurrency" not in chat:
                    reuse[name] = await prefix_reuse(server)
            finally:
                await server.client.close()
                server.stop()
    print(
        f"{args.max_tokens}-token streamed chats, median of {args.rounds} rounds, "
        f"{os.cpu_count()} cores"
    )
    print(f"{'':24} {'streams':>7} {'tokens/s':>9} {'slowest TTFT s':>15} {'÷ 1 stream':>11}")
    for name, figures in results.items():
        single = figures[1][0]
        for streams, (rate, ttft) in figures.items():
            print(f"{name:24} {streams:7} {rate:9.1f} {ttft:15.2f} {rate / single:10.2f}×")
    old, new = results["one slot (old default)"], results["auto slots (default)"]
    q4_0 = results["auto slots, q4_0 weights"]
    print(f"auto ÷ one slot at 4 streams: {new[4][0] / old[4][0]:.2f}× tokens/s")
    print(
        f"q4_0 ÷ shipped weights at 4 streams: {q4_0[4][0] / new[4][0]:.2f}× tokens/s, "
        f"{q4_0[4][1] / new[4][1]:.2f}× the slowest first token"
    )
    for name, streams in reuse.items():
        print(f"{name}: shared ~870-token system prompt, 4 requests in a row:")
        for i, stream in enumerate(streams):
            print(
                f"  request {i + 1}: first token {stream.first_token:.3f} s, "
                f"cached prompt tokens {stream.cached}"
            )


if __name__ == "__main__":
    asyncio.run(main())
