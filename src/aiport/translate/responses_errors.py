"""A chat error told in the Responses API's words: the `param` of a 400 that the chat path
(validation, the engines' limits) raised names the field the caller sent to /v1/responses
(`text.format.schema`, `tools[1].parameters`, `input[2].output`), never a chat-only name
such as `response_format.json_schema.schema` or `messages[3].content`. Where no field maps
exactly, the nearest Responses field is named."""

from __future__ import annotations

import re

from aiport.errors import APIError
from aiport.protocol.responses import ResponseRequest
from aiport.translate.chat_errors import INDEXED, bracketed, in_callers_terms, prefixed
from aiport.translate.responses_chat import Source, chat_messages

# Chat prefix → Responses prefix, first match wins (longest first).
PREFIXES = (
    ("response_format.json_schema", "text.format"),
    ("response_format", "text.format"),
    ("tool_choice.function", "tool_choice"),
    ("reasoning_effort", "reasoning.effort"),
    ("max_completion_tokens", "max_output_tokens"),
    ("max_tokens", "max_output_tokens"),
    ("n", "max_output_tokens"),  # a Responses request asks for one answer of up to this
    ("logprobs", "top_logprobs"),
    ("stream_options", "stream"),
    ("functions", "tools"),
    ("function_call", "tool_choice"),
)
# A field of a chat tool call → the same field of its `function_call` item.
CALL_FIELDS = {"id": "call_id", "function.name": "name", "function.arguments": "arguments"}


def in_responses_terms(exc: APIError, req: ResponseRequest) -> APIError:
    """`exc` with its `param` (and the param where its message quotes it) renamed."""
    return in_callers_terms(exc, lambda param: responses_param(param, req))


def responses_param(param: str, req: ResponseRequest) -> str:
    """The Responses request's field for the chat request's `param`."""
    param = bracketed(param)
    indexed = INDEXED.match(param)
    if indexed is not None:
        name, index, rest = indexed.group(1), int(indexed.group(2)), indexed.group(3)
        if name == "tools":
            return _tool_param(req, index, rest)
        return _message_param(req, index, rest)
    if param == "messages":
        return "input"
    return prefixed(param, PREFIXES) or param


def _tool_param(req: ResponseRequest, index: int, rest: str) -> str:
    """Chat's tools are the request's function tools, in order."""
    functions = [i for i, tool in enumerate(req.tools or []) if tool.get("type") == "function"]
    if index >= len(functions):
        return "tools"
    rest = rest.removeprefix("function").removeprefix(".")
    return f"tools[{functions[index]}]" + (f".{rest}" if rest else "")


def _message_param(req: ResponseRequest, index: int, rest: str) -> str:
    sources: list[Source] = []
    try:
        chat_messages(req, sources)
    except APIError:
        return "input"
    if index >= len(sources):
        return "input"
    source = sources[index]
    call = re.match(r"^tool_calls\[(\d+)\]\.?(.*)$", rest)
    if call is not None:
        number, field = int(call.group(1)), call.group(2)
        if number >= len(source.calls):
            return source.item
        named = CALL_FIELDS.get(field)
        return source.calls[number] + (f".{named}" if named else "")
    if source.item == "instructions":
        return "instructions"
    kind = req.input_items()[int(source.item[len("input[") : -1])].get("type")
    if kind == "function_call_output":
        rest = {"content": "output", "tool_call_id": "call_id"}.get(rest.split("[")[0], "")
    elif kind == "function_call":
        rest = ""
    return source.item + (f".{rest}" if rest else "")
