"""`resume.Generation` without a model: when a llama.cpp generation gives way, what its
next turn asks for, and the usage each turn reports (runtime chunks as llama.cpp sends
them with `timings_per_token`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiport.backends.base import JSON
from aiport.backends.local.chat import generations
from aiport.backends.local.runner import Emitter


class Recorder(Emitter):
    """Keeps what is emitted; another key waits whenever `others_wait` says so."""

    def __init__(self, others_wait: bool = True) -> None:
        self.items: list[tuple[int, JSON]] = []
        self.others_wait = others_wait
        self.gave_way = False

    def emit(self, item: Any) -> None:
        self.items.append(item)

    def cancelled(self) -> bool:
        return False

    def give_way(self) -> bool:
        self.gave_way = self.gave_way or self.others_wait
        return self.gave_way


def runtime(words: list[str], prompt: int, finish: str = "length") -> Callable[..., None]:
    """A runtime that answers with `words`, one token each, after a `prompt` of tokens;
    it records the requests it got."""
    requests: list[JSON] = []

    def handle(request: JSON, on_chunk: Callable[[JSON], bool]) -> None:
        requests.append(request)
        for made, word in enumerate(words[: request.get("max_tokens")], start=1):
            timings = {"prompt_n": prompt, "cache_n": 0, "predicted_n": made}
            chunk = {"choices": [{"index": 0, "delta": {"content": word}}], "timings": timings}
            if on_chunk(chunk):
                return
        last = {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        usage = {"prompt_tokens": prompt, "completion_tokens": len(words)}
        on_chunk(last)
        on_chunk({"choices": [], "usage": usage | {"total_tokens": prompt + len(words)}})

    handle.requests = requests  # type: ignore[attr-defined]
    return handle


REQUEST = {"messages": [{"role": "user", "content": "Count."}], "max_tokens": 10}


def usages(emitter: Recorder) -> list[tuple[int, int]]:
    return [
        (chunk["usage"]["prompt_tokens"], chunk["usage"]["completion_tokens"])
        for _, chunk in emitter.items
        if "usage" in chunk
    ]


def test_a_turn_gives_way_after_its_tokens_and_the_next_goes_on_from_its_text() -> None:
    [generation] = generations([REQUEST], turn_tokens=4, context=512)
    handle = runtime([f"{i} " for i in range(1, 11)], prompt=20)
    first = Recorder()
    generation.run(first, handle)
    assert generation.gave_way and usages(first) == [(20, 4)]  # the prompt, 4 tokens
    generation.run(Recorder(others_wait=False), handle)
    assert not generation.gave_way
    resumed = handle.requests[1]  # type: ignore[attr-defined]
    assert resumed["messages"][-1] == {"role": "assistant", "content": "1 2 3 4 "}
    assert resumed["max_tokens"] == 6  # what is left of 10


def test_the_resumed_turn_counts_no_prompt_again() -> None:
    [generation] = generations([REQUEST], turn_tokens=4, context=512)
    generation.run(Recorder(), runtime(["a"] * 10, prompt=20))
    rest = Recorder(others_wait=False)
    generation.run(rest, runtime(["a"] * 6, prompt=24))
    assert usages(rest) == [(0, 6)]


def test_no_turn_gives_way_near_the_end_of_its_context_or_of_its_tokens() -> None:
    [near_context] = generations([REQUEST | {"max_tokens": None}], turn_tokens=4, context=30)
    near_context.run(Recorder(), runtime(["a"] * 10, prompt=20))  # 20 + 4 + 16 > 30
    assert not near_context.gave_way
    [near_limit] = generations([REQUEST | {"max_tokens": 5}], turn_tokens=4, context=512)
    near_limit.run(Recorder(), runtime(["a"] * 10, prompt=20))  # 4 of 5 made: no resume
    assert not near_limit.gave_way


def test_a_constrained_or_prefilled_request_runs_to_its_end() -> None:
    schema = {"type": "json_object"}
    prefilled = {"messages": [*REQUEST["messages"], {"role": "assistant", "content": "1"}]}
    for request in (REQUEST | {"response_format": schema}, REQUEST | prefilled):
        [generation] = generations([request], turn_tokens=4, context=512)
        generation.run(Recorder(), runtime(["a"] * 10, prompt=20))
        assert not generation.gave_way


def test_an_answer_that_shows_reasoning_runs_to_its_end() -> None:
    [generation] = generations([REQUEST], turn_tokens=4, context=512)

    def reasoning(request: JSON, on_chunk: Callable[[JSON], bool]) -> None:
        for made in range(1, 11):
            delta = {"reasoning_content": "hm"} if made == 1 else {"content": "a"}
            timings = {"prompt_n": 20, "predicted_n": made}
            if on_chunk({"choices": [{"index": 0, "delta": delta}], "timings": timings}):
                return

    generation.run(Recorder(), reasoning)
    assert not generation.gave_way
