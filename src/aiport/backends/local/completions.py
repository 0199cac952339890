"""Legacy text completions (`/completions`) on an embedded llama.cpp model.

The prompt goes to the model as given (no chat template); `n` and a list of prompts give
one choice each, in OpenAI's order, each a turn of its own in the runner's fair order (a
long one gives way to another key's request and resumes after, as chat's do), and
together within the engine's `max_request_tokens`. `best_of` generates that many
candidates per prompt and answers with the `n` of the highest mean logprob per token
(every candidate billed; not streamed, as at OpenAI). `logprobs` (0–5) come in the legacy
shape (`tokens`, `token_logprobs`, `top_logprobs`, `text_offset`); `echo` puts the prompt
before the text; `max_tokens: 0` generates nothing (the prompt is read and counted).
Token-id prompts, `suffix` (no fill-in-the-middle here) and `echo` with `logprobs` (the
prompt's own logprobs are not computed) are a 400 naming the parameter.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, cast

from aiport.backends.base import JSON, Call, JSONBody, StreamChunk, Usage
from aiport.backends.local.resume import Generation, turns
from aiport.backends.local.runner import Emitter
from aiport.errors import InvalidRequest
from aiport.protocol.completions import CompletionRequest


def candidates(req: CompletionRequest) -> int:
    """Generations per prompt: `best_of`, else `n`."""
    return max(req.n or 1, req.best_of or 1)


def engine_requests(req: CompletionRequest) -> list[tuple[str, JSON]]:
    """(prompt, runtime request) per generation: each prompt `candidates` times."""
    if req.suffix:
        raise InvalidRequest("`suffix` is not supported by local models.", param="suffix")
    if req.echo and req.logprobs is not None:
        raise InvalidRequest(
            "`echo` with `logprobs` is not supported by local models (the prompt's own "
            "logprobs are not computed).",
            param="logprobs",
        )
    ranked = candidates(req) > (req.n or 1)
    if ranked and req.stream:
        raise InvalidRequest("`best_of` results cannot be streamed.", param="best_of")
    prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
    if not all(isinstance(p, str) for p in prompts):
        raise InvalidRequest("Local models take text prompts, not token ids.", param="prompt")
    base: JSON = {
        "stream": True,
        "stream_options": {"include_usage": True},
        "timings_per_token": True,  # the tokens made so far (`resume.Generation` counts them)
    }
    logprobs = 1 if ranked else req.logprobs  # candidates are ranked by their logprobs
    optional = {
        # llama.cpp makes a token however few are asked for: 0 asks for one, taken back
        # (`nothing_generated`).
        "max_tokens": req.max_tokens or (None if req.max_tokens is None else 1),
        "temperature": req.temperature,
        "top_p": req.top_p,
        "stop": req.stop,
        "presence_penalty": req.presence_penalty,
        "frequency_penalty": req.frequency_penalty,
        "logit_bias": req.logit_bias,
        # 0 asks for the chosen tokens' own logprobs, which llama.cpp gives only with one
        # alternative or more (`legacy_logprobs` drops them again).
        "logprobs": None if logprobs is None else max(1, logprobs),
    }
    base |= {key: value for key, value in optional.items() if value is not None}
    seeds = choice_seeds(req.seed, candidates(req))
    return [(str(p), base | seed | {"prompt": p}) for p in prompts for seed in seeds]


def choice_seeds(seed: int | None, count: int) -> list[JSON]:
    """Each choice's own seed from the request's (one seed for all made every choice the
    same answer); llama.cpp seeds are uint32, and 0xFFFFFFFF means "pick one at random"."""
    if seed is None:
        return [{}] * count
    return [{"seed": (seed + i) % 0xFFFFFFFF} for i in range(count)]


def nothing_generated(chunk: JSON) -> JSON:
    """A chunk of `max_tokens: 0`'s generation with the token llama.cpp made taken back:
    no text, no logprobs, no completion tokens counted (the prompt's still are)."""
    choices = [
        choice
        | {"text": "", "logprobs": None}
        | ({"finish_reason": "length"} if choice.get("finish_reason") else {})
        for choice in chunk.get("choices") or []
    ]
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        usage = usage | {"completion_tokens": 0}
    return chunk | {"choices": choices, "usage": usage}


def best_of(generated: list[list[Any]], k: int, n: int) -> list[int]:
    """The generations that answer: of each prompt's `k` candidates (`generated` holds
    their tokens' logprobs, one prompt's candidates after another's), the `n` with the
    highest mean logprob per token, the likeliest first; all, in order, when k is n."""
    if k == n:
        return list(range(len(generated)))
    chosen: list[int] = []
    for start in range(0, len(generated), k):
        group = range(start, start + k)
        chosen += sorted(group, key=lambda g: _mean_logprob(generated[g]), reverse=True)[:n]
    return chosen


def _mean_logprob(tokens: list[Any]) -> float:
    values = [t["logprob"] for t in tokens if isinstance(t.get("logprob"), int | float)]
    return sum(values) / len(values) if values else float("-inf")


def complete(emitter: Emitter, server: Any, generation: Generation) -> None:
    """Run one turn of a choice's token stream; emit `(index, chunk)` until it ends,
    gives way or is cancelled."""
    try:
        generation.run(emitter, server.handle_completions)
    except (RuntimeError, ValueError) as exc:
        emitter.emit((generation.index, {"error": {"code": 400, "message": f"{exc}"}}))


def _text(chunk: JSON) -> str:
    return "".join(choice.get("text") or "" for choice in chunk.get("choices") or [])


def _resume(request: JSON, text: str) -> JSON:
    """Goes on after `text`: the prompt is what came before."""
    return request | {"prompt": request["prompt"] + text}


def legacy_logprobs(logprobs: Any, offset: int, alternatives: int) -> JSON | None:
    """llama.cpp's chat-shaped logprobs in the legacy completions shape, with at most
    `alternatives` top tokens each."""
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return None
    tokens, offsets, position = [], [], offset
    for entry in content:
        tokens.append(entry.get("token", ""))
        offsets.append(position)
        position += len(entry.get("token", ""))
    return {
        "tokens": tokens,
        "token_logprobs": [entry.get("logprob") for entry in content],
        "top_logprobs": [
            {
                top.get("token", ""): top.get("logprob")
                for top in (entry.get("top_logprobs") or [])[:alternatives]
            }
            for entry in content
        ],
        "text_offset": offsets,
    }


class LlamaCompletions:
    """Mixed into the llama.cpp chat backend: the same engine, its runner, no template."""

    async def _completion_chunks(
        self, call: Call, req: CompletionRequest
    ) -> AsyncGenerator[tuple[int, JSON]]:
        from aiport.backends.local.chat import _raise_runtime_error

        requests = [request for _, request in engine_requests(req)]
        self.check_output(len(requests), req.max_tokens)  # type: ignore[attr-defined]
        engine = await self.loaded()  # type: ignore[attr-defined]
        runner = self.runner  # type: ignore[attr-defined]
        options = self.options  # type: ignore[attr-defined]
        choices = [
            Generation(
                index,
                request,
                turn_tokens=options.turn_tokens,
                context=options.n_ctx,
                text_of=_text,
                resume=_resume,
            )
            for index, request in enumerate(requests)
        ]
        stream = runner.stream_turns(complete, turns(choices, engine.server), key=call.key_id)
        async with aclosing(cast(AsyncGenerator[Any], stream)) as items:
            async for index, chunk in items:
                if "error" in chunk:
                    _raise_runtime_error(chunk["error"])
                yield index, chunk if req.max_tokens != 0 else nothing_generated(chunk)

    async def completions(self, call: Call) -> JSONBody:
        req = call.request_as(CompletionRequest)
        prompts = [prompt for prompt, _ in engine_requests(req)]
        texts: list[list[str]] = [[] for _ in prompts]
        logprobs: list[list[Any]] = [[] for _ in prompts]
        finish: dict[int, str] = {}
        usage = Usage()
        async with aclosing(self._completion_chunks(call, req)) as chunks:
            async for index, chunk in chunks:
                for choice in chunk.get("choices") or []:
                    texts[index].append(choice.get("text") or "")
                    content = (choice.get("logprobs") or {}).get("content")
                    logprobs[index] += content or []
                    finish[index] = choice.get("finish_reason") or finish.get(index, "stop")
                _add_usage(usage, chunk.get("usage"), index, candidates(req))
        choices = []
        for number, index in enumerate(best_of(logprobs, candidates(req), req.n or 1)):
            echo = prompts[index] if req.echo else ""
            choices.append(
                {
                    "text": echo + "".join(texts[index]),
                    "index": number,
                    "logprobs": legacy_logprobs(
                        {"content": logprobs[index]}, len(echo), req.logprobs
                    )
                    if req.logprobs is not None
                    else None,
                    "finish_reason": finish.get(index, "stop"),
                }
            )
        data = _head(call) | {"choices": choices, "usage": _openai_usage(usage)}
        return JSONBody(data, usage=usage)

    async def completions_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        req = call.request_as(CompletionRequest)
        prompts = [prompt for prompt, _ in engine_requests(req)]
        head, usage, echoed = _head(call), Usage(), set[int]()
        with_usage = call.want_usage or req.wants_usage_chunk
        async with aclosing(self._completion_chunks(call, req)) as chunks:
            async for index, chunk in chunks:
                _add_usage(usage, chunk.get("usage"), index, candidates(req))
                for choice in chunk.get("choices") or []:
                    text = choice.get("text") or ""
                    if req.echo and index not in echoed:
                        echoed.add(index)
                        text = prompts[index] + text
                    logprobs = None
                    if req.logprobs is not None:
                        logprobs = legacy_logprobs(choice.get("logprobs"), 0, req.logprobs)
                    out = {
                        "text": text,
                        "index": index,
                        "logprobs": logprobs,
                        "finish_reason": choice.get("finish_reason"),
                    }
                    data = head | {"choices": [out]}
                    yield StreamChunk(data | {"usage": None} if with_usage else data)
        if with_usage:
            yield StreamChunk(head | {"choices": [], "usage": _openai_usage(usage)})


def _head(call: Call) -> JSON:
    return {
        "id": f"cmpl-{secrets.token_hex(14)}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": call.public_model,
        "system_fingerprint": "aiport-local",
    }


def _add_usage(usage: Usage, reported: Any, index: int, k: int) -> None:
    """Each generation's output counts (`best_of`'s discarded candidates too); a prompt
    counts once, however many generations it had (`k`)."""
    if isinstance(reported, dict):
        if index % k == 0:
            usage.prompt_tokens += int(reported.get("prompt_tokens", 0))
        usage.completion_tokens += int(reported.get("completion_tokens", 0))


def _openai_usage(usage: Usage) -> JSON:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }
