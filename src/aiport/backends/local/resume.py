"""One llama.cpp generation that gives way to another key's request and resumes after.

llama.cpp decodes a request on one of its slots to its end: one key that sends eight long
requests at once holds every slot for minutes, and another key's short request waits for
one of them to finish. So a `Generation` counts the tokens of its turn; once it made
`turn_tokens` while a call of another key waits for a slot (`Emitter.give_way`), it stops
and waits for its next turn in its key's fair order. That turn goes on from the text
already made — the chat template's assistant prefill, or the prompt plus the text for
legacy completions — the prompt's KV cache found again by llama.cpp's prompt cache, with
`max_tokens` lowered by what was made. Alone on the engine a key never gives way: its
output and throughput are the same.

Only plain text resumes: a request with a grammar (`response_format`, tools), an answer
that shows reasoning or tool-call deltas, or a prompt that already ends with the
assistant's words runs to its end in one turn; so does one within `MARGIN` tokens of its
context (its resumed prompt might not fit). The sampler starts anew at a resume: at
temperature 0 the text is the one made without stopping; otherwise a `seed`'s sequence
and the penalties' memory of the text start over there.

Usage stays exact: a turn that gave way reports the tokens it made (llama.cpp's own count,
`timings.predicted_n`) and, on the first turn, the prompt; a resumed turn's prompt (the
original prompt plus the text so far) is not counted again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiport.backends.base import JSON
from aiport.backends.local.runner import Emitter

Handle = Callable[[JSON, Callable[[JSON], bool]], None]  # llama.cpp's handle_* methods
MARGIN = 16  # tokens of context kept free for what a resumed prompt adds (its template)


class Generation:
    """One choice: its request, the text made so far, and whether its last turn gave way.

    `text_of(chunk)` is the chunk's new text ("" for none), or None when the answer cannot
    be resumed from text (reasoning, tool calls); `resume(request, text)` is the request
    that goes on after `text`, None when this request cannot resume at all."""

    def __init__(
        self,
        index: int,
        request: JSON,
        *,
        turn_tokens: int,
        context: int,
        text_of: Callable[[JSON], str | None],
        resume: Callable[[JSON, str], JSON] | None,
    ) -> None:
        self.index = index
        self.request = request
        self.turn_tokens = turn_tokens if resume is not None else 0
        self.context = context  # tokens of context the request has: prompt and text
        self._text_of = text_of
        self._resume = resume
        self.text: list[str] = []
        self.made = 0  # tokens made by the turns that gave way
        self.turns = 0
        self.gave_way = False

    def _next_request(self) -> JSON:
        if not self.turns or self._resume is None:
            return self.request
        request = self._resume(self.request, "".join(self.text))
        if self.request.get("max_tokens") is not None:
            request["max_tokens"] = self.request["max_tokens"] - self.made
        return request

    def _may_stop(self, timings: dict[str, Any]) -> bool:
        """Past this turn's tokens, with tokens left to make after a resume, and room in
        the context for the resumed prompt."""
        made = int(timings.get("predicted_n") or 0)
        if not self.turn_tokens or made < self.turn_tokens:
            return False
        prompt = int(timings.get("prompt_n") or 0) + int(timings.get("cache_n") or 0)
        if prompt + made + MARGIN >= self.context:
            return False
        limit = self.request.get("max_tokens")
        return limit is None or self.made + made < limit - 1

    def run(self, emitter: Emitter, handle: Handle) -> None:
        """One turn: emit `(index, chunk)` until the generation ends, the caller leaves,
        or it gives way (then `gave_way` is set, and the turn's usage emitted)."""
        request = self._next_request()
        first = not self.turns
        self.turns += 1
        self.gave_way = False
        timings: dict[str, Any] = {}

        def on_chunk(chunk: JSON) -> bool:
            if emitter.cancelled():
                return True
            timings.update(chunk.get("timings") or {})
            if not first and isinstance(chunk.get("usage"), dict):
                chunk["usage"] = _without_prompt(chunk["usage"])
            text = self._text_of(chunk)
            if text is None:
                self.turn_tokens = 0  # not resumable from text: run to the end
            else:
                self.text.append(text)
            emitter.emit((self.index, chunk))
            if self._may_stop(timings) and not _final(chunk) and emitter.give_way():
                self.gave_way = True
                emitter.emit((self.index, _turn_usage(timings, first)))
                self.made += int(timings.get("predicted_n") or 0)
                return True
            return False

        handle(request, on_chunk)


def turns(generations: list[Generation], *before: Any) -> Iterator[tuple[Any, ...]]:
    """The runner's turns for `generations`, in order: `(*before, generation)` once, and
    again after each turn that gave way (read lazily by `ModelRunner.stream_turns`)."""
    for generation in generations:
        yield (*before, generation)
        while generation.gave_way:
            yield (*before, generation)


def _final(chunk: JSON) -> bool:
    """The chunk that ends the generation (or its usage, after that)."""
    return "usage" in chunk or any(c.get("finish_reason") for c in chunk.get("choices") or [])


def _turn_usage(timings: dict[str, Any], first: bool) -> JSON:
    """A usage chunk for a turn that gave way: its tokens, the prompt only once."""
    cached = int(timings.get("cache_n") or 0) if first else 0
    prompt = int(timings.get("prompt_n") or 0) + cached if first else 0
    made = int(timings.get("predicted_n") or 0)
    return {
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": made,
            "total_tokens": prompt + made,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def _without_prompt(usage: JSON) -> JSON:
    """A resumed turn's usage: its prompt was counted by the first turn."""
    made = int(usage.get("completion_tokens") or 0)
    return usage | {
        "prompt_tokens": 0,
        "total_tokens": made,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
