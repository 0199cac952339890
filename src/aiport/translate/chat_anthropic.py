"""Chat completions over Anthropic's Messages API: requests one way, answers the other.

Request: `system` and `developer` messages become `system` text blocks (in order, wherever
they stood); user parts become text, image (a data URL as a base64 source, an http(s) URL
as a url source) and document (a PDF's `file_data`) blocks; assistant `tool_calls` become
`tool_use` blocks and `tool` messages `tool_result` blocks. Consecutive messages of one
role are merged (Anthropic wants roles alternating and every result of one turn's calls in
the one user message right after it, results first). Function tools become custom tools
(`strict` is left out: not every Claude model takes it); `tool_choice` maps (`required` is
`any`) and `parallel_tool_calls: false` disables parallel tool use; `stop` becomes
`stop_sequences`; a `json_schema` response format becomes `output_config.format`.
`max_tokens` is required by Anthropic: without one the provider's `default_max_tokens`.
`temperature` is capped at 1 (Anthropic's range) and left out when the caller did not
choose it (aiport's default is not Claude's, and newer Claude models refuse it). `n > 1`
and audio are refused; logprobs, penalties, `seed`, `logit_bias`, `json_object` and
`reasoning_effort` have no Anthropic equivalent and are ignored, as Anthropic's own OpenAI
compatibility layer ignores them.

Answer: text blocks join into `content`, `tool_use` blocks become `tool_calls`; thinking
blocks are left out. `stop_reason` maps to `finish_reason`; a matched stop sequence is
also named in the choice's `stop_reason`, as vLLM reports it. Usage counts cache reads and
writes in `prompt_tokens` (OpenAI's prompt count includes cached tokens), with
`prompt_tokens_details.cached_tokens` (reads) and `cache_write_tokens` (writes).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Collection
from typing import Any

from aiport.errors import InvalidRequest, UpstreamError

JSON = dict[str, Any]

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MAX_TEMPERATURE = 1.0
# Anthropic's error types, for an `error` event in a stream (its HTTP errors keep their status).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "overloaded_error": 529,
}
_TOOL_ID = re.compile(r"[^a-zA-Z0-9_-]")
_DATA_URL = re.compile(r"data:([\w/+.-]+);base64,(.*)", re.DOTALL)


# -- request: chat → Messages ----------------------------------------------------------


def messages_request(
    body: JSON, model: str, *, default_max_tokens: int, defaulted: Collection[str] = ()
) -> JSON:
    """The Messages body that asks Claude what the chat `body` asks. `defaulted`: body
    fields aiport filled in itself (left to Anthropic's own defaults)."""
    _refuse_unservable(body)
    system, messages = _system_and_messages(body.get("messages") or [])
    limit = body.get("max_completion_tokens") or body.get("max_tokens") or default_max_tokens
    request: JSON = {"model": model, "max_tokens": limit, "messages": messages}
    if system:
        request["system"] = system
    tools = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(body.get("tools") or [])]
    if tools:
        request["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            request["tool_choice"] = choice
    stop = body.get("stop")
    if stop:
        request["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    request |= _sampling(body, defaulted)
    user = body.get("user") or body.get("safety_identifier")
    if isinstance(user, str) and user:
        request["metadata"] = {"user_id": user}
    output_format = _output_format(body.get("response_format"))
    if output_format is not None:
        request["output_config"] = {"format": output_format}
    if body.get("stream"):
        request["stream"] = True
    return request


def _refuse_unservable(body: JSON) -> None:
    if (body.get("n") or 1) > 1:
        raise InvalidRequest("Claude models answer one choice: `n` must be 1.", param="n")
    if body.get("audio") is not None or "audio" in (body.get("modalities") or []):
        raise InvalidRequest("Claude models do not answer with audio.", param="modalities")
    if body.get("functions") or body.get("function_call"):
        raise InvalidRequest(
            "`functions` is deprecated and not served for Claude models; send `tools`.",
            param="functions",
        )


def _sampling(body: JSON, defaulted: Collection[str]) -> JSON:
    sampling: JSON = {}
    temperature = body.get("temperature")
    if temperature is not None and "temperature" not in defaulted:
        sampling["temperature"] = min(float(temperature), MAX_TEMPERATURE)
    if body.get("top_p") is not None:
        sampling["top_p"] = body["top_p"]
    return sampling


def _system_and_messages(chat: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    system: list[JSON] = []
    messages: list[JSON] = []
    for index, message in enumerate(chat):
        param = f"messages[{index}]"
        role = message.get("role")
        if role in ("system", "developer"):
            system += _text_blocks(message.get("content"), param)
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"), param)
        elif role == "assistant":
            blocks = _assistant_blocks(message, param)
        elif role == "tool":
            blocks = [_tool_result(message, param)]
        else:
            raise InvalidRequest(
                f"Messages of role {role!r} cannot be sent to Claude models; send system, "
                "user, assistant and tool messages.",
                param=f"{param}.role",
            )
        _append(messages, "assistant" if role == "assistant" else "user", blocks)
    _trim_prefill(messages)
    return system, messages


def _append(messages: list[JSON], role: str, blocks: list[JSON]) -> None:
    if not blocks:
        return  # nothing said: Anthropic refuses empty messages
    if messages and messages[-1]["role"] == role:
        merged = messages[-1]["content"] + blocks
        # Tool results first: Anthropic wants them to open the user turn after the calls.
        messages[-1]["content"] = sorted(merged, key=lambda b: b["type"] != "tool_result")
    else:
        messages.append({"role": role, "content": blocks})


def _trim_prefill(messages: list[JSON]) -> None:
    """A final assistant message is a prefill, which Anthropic refuses with trailing
    whitespace."""
    if not messages or messages[-1]["role"] != "assistant":
        return
    last = messages[-1]["content"][-1]
    if last["type"] == "text":
        last["text"] = last["text"].rstrip()
        if not last["text"]:
            messages[-1]["content"].pop()
            if not messages[-1]["content"]:
                messages.pop()


def _text_blocks(content: Any, param: str) -> list[JSON]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content.strip() else []
    blocks: list[JSON] = []
    for part in content or []:
        if part.get("type") not in ("text", "refusal"):
            raise _unsupported_part(part.get("type"), param)
        text = str(part.get("text") or part.get("refusal") or "")
        if text.strip():
            blocks.append({"type": "text", "text": text})
    return blocks


def _user_blocks(content: Any, param: str) -> list[JSON]:
    if isinstance(content, str) or content is None:
        return _text_blocks(content or "", param)
    blocks: list[JSON] = []
    for index, part in enumerate(content):
        kind = part.get("type")
        where = f"{param}.content[{index}]"
        if kind == "text":
            blocks += _text_blocks([part], param)
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            blocks.append({"type": "image", "source": _image_source(str(url), where)})
        elif kind == "file":
            blocks.append(_document(part.get("file") or {}, where))
        else:
            raise _unsupported_part(kind, param)
    return blocks


def _image_source(url: str, param: str) -> JSON:
    found = _DATA_URL.fullmatch(url)
    if found:
        media_type, data = found.groups()
        if media_type not in IMAGE_TYPES:
            raise InvalidRequest(
                f"Claude models take JPEG, PNG, GIF and WebP pictures, not {media_type}.",
                param=f"{param}.image_url",
            )
        return {"type": "base64", "media_type": media_type, "data": data}
    if url.startswith(("https://", "http://")):
        return {"type": "url", "url": url}
    raise InvalidRequest(
        "An image must be a base64 data URL or an http(s) URL.", param=f"{param}.image_url"
    )


def _document(file: JSON, param: str) -> JSON:
    found = _DATA_URL.fullmatch(str(file.get("file_data") or ""))
    if found is None or found.group(1) != "application/pdf":
        raise InvalidRequest(
            "Files reach Claude models as a PDF in `file_data` (a base64 data URL); "
            "uploaded file ids are not served.",
            param=f"{param}.file",
        )
    source = {"type": "base64", "media_type": "application/pdf", "data": found.group(2)}
    document: JSON = {"type": "document", "source": source}
    if file.get("filename"):
        document["title"] = str(file["filename"])
    return document


def _unsupported_part(kind: Any, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"Content of type {kind!r} cannot be sent to Claude models; send text, image_url "
        "and file (PDF) parts.",
        param=f"{param}.content",
    )


def _assistant_blocks(message: JSON, param: str) -> list[JSON]:
    blocks = _text_blocks(message.get("content") or "", param)
    for index, call in enumerate(message.get("tool_calls") or []):
        where = f"{param}.tool_calls[{index}]"
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": _tool_id(call.get("id"), f"{where}.id"),
                "name": function.get("name"),
                "input": _tool_input(function.get("arguments"), f"{where}.function.arguments"),
            }
        )
    return blocks


def _tool_id(value: Any, param: str) -> str:
    """A tool call id as Anthropic takes it (letters, digits, `_` and `-`); the same id
    maps the same way on the call and on its result."""
    if not isinstance(value, str) or not value:
        raise InvalidRequest("A tool call needs its `id`.", param=param)
    return _TOOL_ID.sub("_", value)


def _tool_input(arguments: Any, param: str) -> JSON:
    try:
        value = json.loads(arguments or "{}")
    except (TypeError, json.JSONDecodeError):
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest("Tool call arguments must be a JSON object.", param=param)
    return value


def _tool_result(message: JSON, param: str) -> JSON:
    result: JSON = {
        "type": "tool_result",
        "tool_use_id": _tool_id(message.get("tool_call_id"), f"{param}.tool_call_id"),
    }
    content = message.get("content")
    text = (
        content
        if isinstance(content, str)
        else "".join(
            str(part.get("text") or "") for part in content or [] if isinstance(part, dict)
        )
    )
    if text:
        result["content"] = text
    return result


def _tool(tool: JSON, param: str) -> JSON:
    if tool.get("type") != "function":
        raise InvalidRequest(
            f"Tools of type {tool.get('type')!r} cannot be sent to Claude models; send "
            "function tools.",
            param=f"{param}.type",
        )
    function = tool.get("function") or {}
    schema = dict(function.get("parameters") or {})
    schema.setdefault("type", "object")
    converted: JSON = {"name": function.get("name"), "input_schema": schema}
    if function.get("description"):
        converted["description"] = function["description"]
    return converted


def _tool_choice(choice: Any, parallel: Any) -> JSON | None:
    if isinstance(choice, dict) and choice.get("type") == "function":
        converted: JSON = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        converted = {"type": "any" if choice.get("mode") == "required" else "auto"}
    elif choice in ("auto", "required", "none"):
        converted = {"type": {"required": "any"}.get(choice, choice)}
    elif parallel is False:
        converted = {"type": "auto"}
    else:
        return None
    if parallel is False and converted["type"] != "none":
        converted["disable_parallel_tool_use"] = True
    return converted


def _output_format(response_format: Any) -> JSON | None:
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    return {"type": "json_schema", "schema": schema}


# -- answer: Messages → chat -----------------------------------------------------------


def chat_usage(usage: Any) -> JSON:
    """Anthropic's usage as OpenAI's: cache reads and writes are part of the prompt."""
    usage = usage if isinstance(usage, dict) else {}
    read = int(usage.get("cache_read_input_tokens") or 0)
    written = int(usage.get("cache_creation_input_tokens") or 0)
    prompt = int(usage.get("input_tokens") or 0) + read + written
    completion = int(usage.get("output_tokens") or 0)
    details: JSON = {"cached_tokens": read}
    if written:
        details["cache_write_tokens"] = written
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": details,
    }


def finish_fields(stop_reason: Any, stop_sequence: Any) -> JSON:
    """A choice's `finish_reason` (and `stop_reason`, the matched stop sequence)."""
    fields: JSON = {"finish_reason": FINISH_REASONS.get(str(stop_reason), "stop")}
    if stop_reason == "stop_sequence" and isinstance(stop_sequence, str):
        fields["stop_reason"] = stop_sequence
    return fields


def chat_completion(message: JSON, model: str) -> JSON:
    """The `chat.completion` for a whole Anthropic `message`, named as the message names its
    model (`model` if it does not)."""
    texts: list[str] = []
    calls: list[JSON] = []
    for block in message.get("content") or []:
        if block.get("type") == "text":
            texts.append(str(block.get("text") or ""))
        elif block.get("type") == "tool_use":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            function = {"name": block.get("name"), "arguments": arguments}
            calls.append({"id": block.get("id"), "type": "function", "function": function})
    answer: JSON = {"role": "assistant", "content": "".join(texts), "refusal": None}
    if calls:
        answer["content"] = answer["content"] or None
        answer["tool_calls"] = calls
    choice = {"index": 0, "message": answer, "logprobs": None}
    choice |= finish_fields(message.get("stop_reason"), message.get("stop_sequence"))
    return {
        "id": str(message.get("id") or ""),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(message.get("model") or model),
        "choices": [choice],
        "usage": chat_usage(message.get("usage")),
    }


def stream_error(event: JSON) -> UpstreamError:
    """An `error` event in Anthropic's stream, as the error a chat client gets."""
    error = event.get("error")
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type") or "api_error")
    message = str(error.get("message") or "The upstream failed mid-stream.")
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return UpstreamError(ERROR_STATUS.get(kind, 500), json.dumps(body).encode(), {})
