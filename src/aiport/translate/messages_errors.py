"""A chat error told in the Messages API's words: where aiport answers /v1/messages by
translating to chat (an OpenAI-compatible deployment, the embedded engine), the `param` of
a 400 from the chat path names the field the caller sent, dotted as Anthropic writes it
(`messages.2.content.0.tool_use_id`, `tools.1.input_schema`, `max_tokens`), and the
message begins with it (`<field>: <message>`, Anthropic's wording). Where no field maps
exactly, the nearest one is named. The common part: `chat_errors`."""

from __future__ import annotations

import re

from aiport.errors import APIError
from aiport.protocol.messages import MessagesRequest
from aiport.translate.chat_errors import INDEXED, bracketed, in_callers_terms, prefixed
from aiport.translate.messages_chat import chat_messages, is_custom_tool

# Chat prefix → Messages prefix, first match wins (longest first).
PREFIXES = (
    ("response_format.json_schema.schema", "output_config.format.schema"),
    ("response_format", "output_config.format"),
    ("tool_choice.function", "tool_choice"),
    ("parallel_tool_calls", "tool_choice.disable_parallel_tool_use"),
    ("max_completion_tokens", "max_tokens"),
    ("n", "max_tokens"),  # a message is one answer of up to this
    ("stop", "stop_sequences"),
    ("user", "metadata.user_id"),
    ("stream_options", "stream"),
    ("functions", "tools"),
    ("function_call", "tool_choice"),
)
# A chat tool's field → the custom tool's; a chat message's field → its source's.
TOOL_FIELDS = {"parameters": "input_schema", "name": "name", "description": "description"}
MESSAGE_FIELDS = {"content": "content", "tool_calls": "content", "tool_call_id": "tool_use_id"}


def in_messages_terms(exc: APIError, req: MessagesRequest) -> APIError:
    """`exc` with its `param` renamed and its message worded `<param>: <message>`."""
    return in_callers_terms(exc, lambda param: messages_param(param, req), _anthropics_words)


def messages_param(param: str, req: MessagesRequest) -> str:
    """The Messages request's field for the chat request's `param`."""
    param = bracketed(param)
    indexed = INDEXED.match(param)
    if indexed is None:
        return re.sub(r"\[(\d+)\]", r".\1", prefixed(param, PREFIXES) or param)
    name, index, rest = indexed.group(1), int(indexed.group(2)), indexed.group(3)
    field = rest.removeprefix("function.").split(".")[0].split("[")[0]
    if name == "tools":
        custom = [i for i, tool in enumerate(req.tools or []) if is_custom_tool(tool)]
        if index >= len(custom):
            return "tools"
        named = TOOL_FIELDS.get(field)
        return f"tools.{custom[index]}" + (f".{named}" if named else "")
    sources: list[str] = []
    try:
        chat_messages(req, sources)
    except APIError:
        return "messages"
    if index >= len(sources):
        return "messages"
    named = MESSAGE_FIELDS.get(field)
    return sources[index] + (f".{named}" if named and sources[index] != "system" else "")


def _anthropics_words(param: str, message: str) -> str:
    return message if message.startswith(param + ":") else f"{param}: {message}"
