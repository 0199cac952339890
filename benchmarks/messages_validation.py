"""What checking the fields inside messages and blocks costs a /v1/messages request.

In one process and one run, a body parsed (orjson) and validated by the request model as
it was before the check (messages and blocks as plain dicts: the baseline) and as it is
(every message and block against the anthropic SDK's fields, `protocol/message_blocks`).
Two bodies: one short question, and a coding agent's long turn (system blocks with
cache_control, `--turns` tool rounds of text, tool_use, tool_result).

    .venv/bin/python -m benchmarks.messages_validation [--turns 100] [--rounds 50]

Prints microseconds per request (the best of the rounds) and the added time as a share of the
baseline. Numbers from different runs or machines are not comparable; the ratio is.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import ConfigDict

from aiport.protocol.messages import Message, MessagesRequest

CACHE = {"type": "ephemeral"}


class PlainMessage(Message):
    """A message as validated before the check: its blocks plain dicts, any field allowed."""

    model_config = ConfigDict(extra="allow")
    content: list[dict[str, Any]] | str  # type: ignore[assignment]
    output_config: Any = None


class PlainRequest(MessagesRequest):
    messages: list[PlainMessage]  # type: ignore[assignment]
    system: str | list[dict[str, Any]] | None = None  # type: ignore[assignment]


def short_body() -> bytes:
    return orjson.dumps(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Hallo!"}],
        }
    )


def agent_body(turns: int) -> bytes:
    """A coding agent's request after `turns` tool rounds, shaped as Claude Code sends it."""
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "text", "text": "Fix the failing test. " * 20}]}
    ]
    for turn in range(turns):
        use_id = f"toolu_{turn:04d}"
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me look at the file. " * 4},
                    {
                        "type": "tool_use",
                        "id": use_id,
                        "name": "Read",
                        "input": {"file_path": f"/src/module_{turn}.py", "limit": 200},
                    },
                ],
            }
        )
        result = {"type": "tool_result", "tool_use_id": use_id, "content": "x = 1\n" * 200}
        messages.append({"role": "user", "content": [result]})
    messages[-1]["content"][-1]["cache_control"] = CACHE
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are Claude Code.", "cache_control": CACHE},
            {"type": "text", "text": "Follow the instructions. " * 400, "cache_control": CACHE},
        ],
        "messages": messages,
        "metadata": {"user_id": "user_1"},
        "stream": True,
    }
    return orjson.dumps(body)


def before(raw: bytes) -> None:
    PlainRequest.model_validate(orjson.loads(raw), strict=True)


def after(raw: bytes) -> None:
    MessagesRequest.model_validate(orjson.loads(raw), strict=True)


def per_call(steps: list[Callable[[bytes], None]], raw: bytes, rounds: int) -> list[float]:
    """Microseconds per call of each step, the best of `rounds` short rounds (~20 ms),
    the steps taking turns within a round (so that the machine's load hits both alike)."""
    calls = max(1, int(0.02 / _once(steps[0], raw)))
    best = [float("inf")] * len(steps)
    for _ in range(rounds):
        for index, step in enumerate(steps):
            start = time.perf_counter()
            for _ in range(calls):
                step(raw)
            best[index] = min(best[index], (time.perf_counter() - start) / calls)
    return [seconds * 1e6 for seconds in best]


def _once(step: Callable[[bytes], None], raw: bytes) -> float:
    start = time.perf_counter()
    step(raw)
    return max(time.perf_counter() - start, 1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    bodies = {
        "short question": short_body(),
        f"agent, {args.turns} tool rounds": agent_body(args.turns),
    }
    print(f"{'body':<28} {'bytes':>9} {'baseline µs':>12} {'with check µs':>14} {'added':>8}")
    for name, raw in bodies.items():
        base, checked = per_call([before, after], raw, args.rounds)
        added = (checked - base) / base
        print(f"{name:<28} {len(raw):>9} {base:>12.1f} {checked:>14.1f} {added:>8.1%}")


if __name__ == "__main__":
    main()
