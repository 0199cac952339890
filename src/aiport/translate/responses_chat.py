"""The Responses API over chat completions: requests one way, answers the other.

A Responses request becomes a chat request (instructions → system message, items →
messages, function tools → chat tools, `text.format` → `response_format`); a chat answer
becomes a `response` object with `message` and `function_call` output items. Built-in
tools only OpenAI runs (web search, file search, …) cannot reach a chat model and are
left out; item types a chat model cannot take are a 400 naming the item.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiport.errors import InvalidRequest
from aiport.protocol.responses import ResponseRequest

JSON = dict[str, Any]

INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


# -- request: Responses → chat ---------------------------------------------------------


def chat_request(req: ResponseRequest, model: str, *, stream: bool = False) -> JSON:
    """The chat-completions body that asks a chat model what `req` asks."""
    chat: JSON = {"model": model, "messages": chat_messages(req)}
    tools = [_chat_tool(tool) for tool in req.tools or [] if tool.get("type") == "function"]
    if tools:
        chat["tools"] = tools
        if req.tool_choice is not None:
            chat["tool_choice"] = _chat_tool_choice(req.tool_choice)
        if req.parallel_tool_calls is not None:
            chat["parallel_tool_calls"] = req.parallel_tool_calls
    optional = {
        "temperature": req.temperature,
        "top_p": req.top_p,
        "max_tokens": req.max_output_tokens,
        "user": req.user,
        "safety_identifier": req.safety_identifier,
        "prompt_cache_key": req.prompt_cache_key,
        "service_tier": req.service_tier,
    }
    chat |= {key: value for key, value in optional.items() if value is not None}
    if req.top_logprobs:
        chat |= {"logprobs": True, "top_logprobs": req.top_logprobs}
    effort = (req.reasoning or {}).get("effort")
    if effort is not None:
        chat["reasoning_effort"] = effort
    response_format = _response_format(req)
    if response_format is not None:
        chat["response_format"] = response_format
    if stream:
        chat |= {"stream": True, "stream_options": {"include_usage": True}}
    return chat


@dataclass
class Source:
    """Where a chat message came from: `item`, the request's field ("instructions" or
    "input[i]"), and the `function_call` items its `tool_calls` are, in order."""

    item: str
    calls: list[str] = field(default_factory=list)


def chat_messages(req: ResponseRequest, sources: list[Source] | None = None) -> list[JSON]:
    """The chat messages `req` stands for; `sources`, when given, is filled in step."""
    messages: list[JSON] = []
    sources = [] if sources is None else sources
    if req.instructions:
        messages.append({"role": "system", "content": req.instructions})
        sources.append(Source("instructions"))
    for index, item in enumerate(req.input_items()):
        _add_item(messages, sources, item, f"input[{index}]")
    if not messages:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    return messages


def _add_item(messages: list[JSON], sources: list[Source], item: JSON, param: str) -> None:
    count = len(messages)
    _add_message(messages, item, param)
    if len(messages) > count:
        sources.append(Source(param))
    if item.get("type") == "function_call":
        sources[-1].calls.append(param)


def _add_message(messages: list[JSON], item: JSON, param: str) -> None:
    kind = item.get("type")
    if kind == "message":
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise InvalidRequest(f"Invalid value for '{param}.role': {role!r}.", param=param)
        role = "system" if role == "developer" else role
        content = _chat_content(item.get("content"), role, param)
        messages.append({"role": role, "content": content})
    elif kind == "function_call":
        for field in ("name", "arguments"):
            if not isinstance(item.get(field, ""), str):
                raise InvalidRequest(f"`{field}` must be a string.", param=f"{param}.{field}")
        call = {
            "id": item.get("call_id") or item.get("id"),
            "type": "function",
            "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"},
        }
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and "tool_calls" in last:
            last["tool_calls"].append(call)
        elif last is not None and last["role"] == "assistant" and isinstance(last["content"], str):
            last["tool_calls"] = [call]
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        if isinstance(output, list):
            output = "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
        messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": output})
    elif kind == "reasoning":
        return  # a chat model neither needs nor accepts another model's reasoning
    else:
        raise InvalidRequest(
            f"Input items of type {kind!r} cannot be sent to this model (it speaks chat "
            "completions); send messages, function_call and function_call_output items.",
            param=f"{param}.type",
        )


def _chat_content(content: Any, role: str, param: str) -> Any:
    if content is None:  # OpenAI: a message item needs its content
        raise InvalidRequest(
            f"Missing required parameter: '{param}.content'.", param=f"{param}.content"
        )
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        message = "Content must be a string or a list of parts."
        raise InvalidRequest(message, param=f"{param}.content")
    parts: list[JSON] = []
    for index, part in enumerate(content):
        if not isinstance(part, dict):
            raise InvalidRequest("A part must be an object.", param=f"{param}.content[{index}]")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "summary_text", "refusal"):
            text = part.get("text") or part.get("refusal") or ""
            if not isinstance(text, str):
                message = "A text part's text must be a string."
                raise InvalidRequest(message, param=f"{param}.content[{index}].text")
            parts.append({"type": "text", "text": text})
        elif kind == "input_image":
            url = part.get("image_url") or part.get("file_id")
            image: JSON = {"url": url}
            if part.get("detail"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise InvalidRequest(
                f"Content of type {kind!r} cannot be sent to this model.", param=f"{param}.content"
            )
    if role != "user" or all(p["type"] == "text" for p in parts):
        return "".join(p.get("text", "") for p in parts)  # the most portable form
    return parts


def _chat_tool(tool: JSON) -> JSON:
    function: JSON = {"name": tool["name"]}
    for key in ("description", "parameters", "strict"):
        if tool.get(key) is not None:
            function[key] = tool[key]
    function.setdefault("parameters", {"type": "object", "properties": {}})
    return {"type": "function", "function": function}


def _chat_tool_choice(choice: str | JSON) -> str | JSON:
    if isinstance(choice, str):
        return choice
    if choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    if choice.get("type") == "allowed_tools":
        return str(choice.get("mode") or "auto")
    return "auto"


def _response_format(req: ResponseRequest) -> JSON | None:
    fmt = req.text.format if req.text else None
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "json_object"}
    schema: JSON = {"name": fmt.name or "response", "schema": fmt.schema_ or {}}
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    if fmt.description:
        schema["description"] = fmt.description
    return {"type": "json_schema", "json_schema": schema}


# -- answer: chat → Responses ----------------------------------------------------------


def response_shell(req: ResponseRequest, model: str, response_id: str | None = None) -> JSON:
    """A `response` object in progress, echoing the request as OpenAI does."""
    text: JSON = {"format": {"type": "text"}, "verbosity": "medium"}
    if req.text is not None and req.text.format is not None:
        text["format"] = req.text.format.model_dump(by_alias=True, exclude_none=True)
    response: JSON = {
        "id": response_id or new_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "max_tool_calls": req.max_tool_calls,
        "model": model,
        "output": [],
        "parallel_tool_calls": True if req.parallel_tool_calls is None else req.parallel_tool_calls,
        "previous_response_id": req.previous_response_id,
        "prompt_cache_key": req.prompt_cache_key,
        "reasoning": {"effort": (req.reasoning or {}).get("effort"), "summary": None},
        "safety_identifier": req.safety_identifier,
        "service_tier": "default",
        "store": req.store is not False,
        "temperature": 1.0 if req.temperature is None else req.temperature,
        "text": text,
        "tool_choice": "auto" if req.tool_choice is None else req.tool_choice,
        "tools": req.tools or [],
        "top_logprobs": req.top_logprobs or 0,
        "top_p": 1.0 if req.top_p is None else req.top_p,
        "truncation": req.truncation or "disabled",
        "metadata": req.metadata or {},
    }
    # `user` and `usage` are left out until known: the spec has no null for them (OpenAI
    # itself sends nulls; the SDKs take either).
    if req.user is not None:
        response["user"] = req.user
    return response


def response_usage(usage: Any) -> JSON:
    usage = usage if isinstance(usage, dict) else {}
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + completion,
    }


def message_item(text: str, item_id: str, status: str = "completed") -> JSON:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "content": [output_text_part(text)] if status == "completed" else [],
        "role": "assistant",
    }


def output_text_part(text: str) -> JSON:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def function_call_item(
    call_id: str, name: str, arguments: str, item_id: str, status: str = "completed"
) -> JSON:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def finish(response: JSON, finish_reason: str | None, usage: Any) -> JSON:
    """Mark `response` done: completed, or incomplete with OpenAI's reason."""
    reason = INCOMPLETE_REASONS.get(finish_reason or "")
    response["status"] = "incomplete" if reason else "completed"
    response["incomplete_details"] = {"reason": reason} if reason else None
    response["completed_at"] = int(time.time()) if not reason else None
    response["usage"] = response_usage(usage)
    return response


def response_from_chat(req: ResponseRequest, model: str, chat: JSON) -> JSON:
    """The `response` object for a whole chat completion (its first choice), named as the
    completion names its model (`model` if it does not)."""
    response = response_shell(req, str(chat.get("model") or model))
    choice = (chat.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, str) and content:
        response["output"].append(message_item(content, new_id("msg")))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        response["output"].append(
            function_call_item(
                call.get("id") or new_id("call"),
                function.get("name") or "",
                function.get("arguments") or "",
                new_id("fc"),
            )
        )
    return finish(response, choice.get("finish_reason"), chat.get("usage"))
