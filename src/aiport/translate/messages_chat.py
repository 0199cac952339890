"""Anthropic's Messages API over chat completions: requests one way, answers the other.

`system` becomes a system message; user `tool_result` blocks become `tool` messages (before
the rest of that user turn), assistant `tool_use` blocks become `tool_calls`; custom tools
become function tools and `tool_choice` maps (`any` is `required`). A chat answer becomes a
`message` with `text` and `tool_use` blocks and Anthropic's `stop_reason`. Server tools only
Anthropic runs (web search, code execution, …) and `thinking` blocks cannot reach a chat
model and are left out; chat allows at most four stop sequences, so the rest are dropped.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiport.errors import InvalidRequest
from aiport.protocol.messages import CountTokensRequest, MessagesRequest

JSON = dict[str, Any]

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
MAX_CHAT_STOPS = 4
# The chat answer that stands for `max_tokens: 0` (which only fills Anthropic's prompt
# cache): nothing generated, cut at the limit, no model asked.
NOTHING_GENERATED: JSON = {
    "choices": [{"index": 0, "message": {}, "delta": {}, "finish_reason": "length"}]
}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str) -> str:
    """An id in Anthropic's style: `msg_01` and 22 base-62 characters."""
    return prefix + "_01" + "".join(secrets.choice(_BASE62) for _ in range(22))


# -- request: Messages → chat ----------------------------------------------------------


def chat_request(req: CountTokensRequest, model: str, *, stream: bool = False) -> JSON:
    """The chat-completions body that asks a chat model what `req` asks (a token count's
    request, which generates nothing, asks for one token)."""
    full = req if isinstance(req, MessagesRequest) else None
    chat: JSON = {"model": model, "messages": chat_messages(req)}
    chat["max_tokens"] = full.max_tokens if full is not None else 1
    tools = [_chat_tool(tool) for tool in req.tools or [] if is_custom_tool(tool)]
    if tools:
        chat["tools"] = tools
        if req.tool_choice:
            chat |= _chat_tool_choice(req.tool_choice)
    if full is None:
        return chat
    if full.stop_sequences:
        chat["stop"] = full.stop_sequences[:MAX_CHAT_STOPS]
    optional = {"temperature": full.temperature, "top_p": full.top_p}
    chat |= {key: value for key, value in optional.items() if value is not None}
    user = (full.metadata or {}).get("user_id")
    if isinstance(user, str):
        chat["user"] = user
    if stream:
        chat |= {"stream": True, "stream_options": {"include_usage": True}}
    return chat


def chat_messages(req: CountTokensRequest, sources: list[str] | None = None) -> list[JSON]:
    """The chat messages `req` stands for; `sources`, when given, gets the request's field
    each came from, in step (`system`, `messages.1`, or the `tool_result` block
    `messages.2.content.0` that a `tool` message stands for)."""
    messages: list[JSON] = []
    sources = [] if sources is None else sources
    if req.system:
        messages.append({"role": "system", "content": _text_of(req.system, "system")})
        sources.append("system")
    for index, message in enumerate(req.messages):
        param = f"messages[{index}]"
        if message.role == "assistant":
            messages.append(_assistant_message(message.content, param))
        elif message.role == "system":  # text only, in the SDK's types
            messages.append({"role": "system", "content": _text_of(message.content, param)})
        else:
            messages.extend(_user_messages(message.content, param))
        blocks = message.content if isinstance(message.content, list) else []
        results = [
            f"messages.{index}.content.{number}"
            for number, block in enumerate(blocks)
            if block.get("type") == "tool_result"
        ]
        sources += [*results, f"messages.{index}"][: len(messages) - len(sources)]
    return messages


def _text_of(content: Any, param: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
        raise InvalidRequest("Content must be a string or a list of blocks.", param=param)
    return "\n".join(str(block.get("text", "")) for block in content if block.get("type") == "text")


def _assistant_message(content: Any, param: str) -> JSON:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    text: list[str] = []
    calls: list[JSON] = []
    for block in content:
        kind = block.get("type")
        if kind == "text":
            text.append(str(block.get("text", "")))
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            function = {"name": block.get("name"), "arguments": arguments}
            calls.append({"id": block.get("id"), "type": "function", "function": function})
        elif kind not in ("thinking", "redacted_thinking"):
            raise _unsupported(kind, param)
    message: JSON = {"role": "assistant", "content": "".join(text) or None}
    if calls:
        message["tool_calls"] = calls
    elif message["content"] is None:
        message["content"] = ""
    return message


def _user_messages(content: Any, param: str) -> list[JSON]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    results: list[JSON] = []
    parts: list[JSON] = []
    for block in content:
        kind = block.get("type")
        if kind == "tool_result":
            output = block.get("content")
            text = _text_of(output or "", f"{param}.content")
            if block.get("is_error"):
                text = f"Error: {text}"
            results.append(
                {"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": text}
            )
        elif kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block, param)}})
        else:
            raise _unsupported(kind, param)
    if not parts:
        return results
    if all(part["type"] == "text" for part in parts):
        return [*results, {"role": "user", "content": "".join(p["text"] for p in parts)}]
    return [*results, {"role": "user", "content": parts}]


def _image_url(block: JSON, param: str) -> str:
    source = block.get("source")
    source = source if isinstance(source, dict) else {}
    if source.get("type") == "base64":
        return f"data:{source.get('media_type')};base64,{source.get('data')}"
    if source.get("type") == "url":
        return str(source.get("url"))
    raise InvalidRequest("Image sources must be `base64` or `url`.", param=f"{param}.content")


def _unsupported(kind: Any, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"Content blocks of type {kind!r} cannot be sent to this model (it speaks chat "
        "completions); send text, image, tool_use and tool_result blocks.",
        param=f"{param}.content",
    )


def is_custom_tool(tool: JSON) -> bool:
    return tool.get("type") in (None, "custom") and "input_schema" in tool


def _chat_tool(tool: JSON) -> JSON:
    function: JSON = {"name": tool["name"], "parameters": tool.get("input_schema") or {}}
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _chat_tool_choice(choice: JSON) -> JSON:
    kind = choice.get("type")
    fields: JSON = {}
    if kind == "any":
        fields["tool_choice"] = "required"
    elif kind == "tool":
        fields["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif kind in ("auto", "none"):
        fields["tool_choice"] = kind
    if choice.get("disable_parallel_tool_use"):
        fields["parallel_tool_calls"] = False
    return fields


def estimate_input_tokens(chat: JSON) -> int:
    """Characters / 4 of the messages and tools, plus each message's framing."""
    text = json.dumps(chat.get("messages") or [], ensure_ascii=False)
    tools = json.dumps(chat.get("tools") or [], ensure_ascii=False) if chat.get("tools") else ""
    return (len(text) + len(tools) + 3) // 4 + 4 * len(chat.get("messages") or [])


# -- answer: chat → Messages -----------------------------------------------------------


def usage_of(chat_usage: Any) -> JSON:
    usage = chat_usage if isinstance(chat_usage, dict) else {}
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {
        "input_tokens": int(usage.get("prompt_tokens") or 0) - cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": int(usage.get("completion_tokens") or 0),
    }


def tool_input(arguments: str) -> Any:
    """A tool call's arguments as the object Anthropic's `input` is."""
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def message_shell(model: str) -> JSON:
    return {
        "id": new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


def message_from_chat(model: str, chat: JSON) -> JSON:
    """The message for a whole chat answer, named as the answer names its model (`model` if
    it does not)."""
    message = message_shell(str(chat.get("model") or model))
    choice = (chat.get("choices") or [{}])[0]
    answer = choice.get("message") or {}
    if isinstance(answer.get("content"), str) and answer["content"]:
        message["content"].append({"type": "text", "text": answer["content"]})
    for call in answer.get("tool_calls") or []:
        function = call.get("function") or {}
        message["content"].append(
            {
                "type": "tool_use",
                "id": call.get("id") or new_id("toolu"),
                "name": function.get("name") or "",
                "input": tool_input(function.get("arguments") or ""),
            }
        )
    message |= stop_fields(choice)
    message["usage"] = usage_of(chat.get("usage"))
    return message


def stop_fields(choice: JSON) -> JSON:
    """`stop_reason` and `stop_sequence` for a chat choice. Which stop sequence ended it is
    known only where the chat answer names it in `stop_reason`, as vLLM and the embedded
    model do; elsewhere (OpenAI's `finish_reason: stop`) it reads as `end_turn`."""
    finish = choice.get("finish_reason") or "stop"
    matched = choice.get("stop_reason")
    if finish == "stop" and isinstance(matched, str):
        return {"stop_reason": "stop_sequence", "stop_sequence": matched}
    return {"stop_reason": STOP_REASONS.get(finish, "end_turn"), "stop_sequence": None}
