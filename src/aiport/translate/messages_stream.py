"""A chat-completion chunk stream, as the Messages API's event stream.

The sequence is Anthropic's: `message_start` (the message, no content yet); per block
`content_block_start` (the first one followed by a `ping`), `content_block_delta`…
(`text_delta` for text, `input_json_delta` for a tool call's input), `content_block_stop`;
then `message_delta` with the `stop_reason` (`stop_sequence` and the sequence where the
chat answer names it) and the usage totals, and `message_stop`.

`message_start` waits for the first chunk with something in it, and carries the prompt's
token count: exact where the backend counted it before generating (the embedded model
does), else the estimate it is given. A chat stream's own count only comes at its end, in
`message_delta`, whose cumulative usage overwrites the start's (as Anthropic's SDKs and
Claude Code read it); the estimate keeps Claude Code's context display and live progress
close to the truth meanwhile, where 0 would show an empty context.
"""

from __future__ import annotations

from typing import Any

from aiport.translate.messages_chat import JSON, message_shell, new_id, stop_fields, usage_of


class MessageEvents:
    """Feed it chat chunks (`feed`), then `close`; each returns the events to send."""

    def __init__(self, model: str, input_tokens: int = 0) -> None:
        self.message = message_shell(model)
        self.message["usage"]["input_tokens"] = input_tokens
        self._started = False
        self._index = -1  # the open block's index
        self._open: str | None = None  # its kind: "text" or "tool_use"
        self._calls: dict[int, int] = {}  # chat tool-call index → block index
        self._stop: JSON = {}
        self._usage: Any = None

    def feed(self, chunk: JSON, prompt_tokens: int | None = None) -> list[JSON]:
        """Events for one chunk; `prompt_tokens`: the prompt's exact count, if known."""
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        choices = [c for c in chunk.get("choices") or [] if c.get("index", 0) == 0]
        if not self._started and not (self._usage or any(_says_something(c) for c in choices)):
            return []  # a role chunk: the start waits for the count that may come with content
        events = self._start(prompt_tokens, chunk.get("model"))
        for choice in choices:
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if isinstance(text, str) and text:
                if self._open != "text":
                    events += self._open_block({"type": "text", "text": ""}, "text")
                events.append(self._delta({"type": "text_delta", "text": text}))
            for call in delta.get("tool_calls") or []:
                events += self._call_delta(call)
            if choice.get("finish_reason"):
                self._stop = stop_fields(choice)
        return events

    def close(self) -> list[JSON]:
        events = self._start(None, None) + self._close_block()
        stop = self._stop or stop_fields({"finish_reason": "stop"})
        # Without the chat stream's usage the input count is left out: the start's stands.
        usage = usage_of(self._usage) if self._usage else {"output_tokens": 0}
        events.append({"type": "message_delta", "delta": stop, "usage": usage})
        events.append({"type": "message_stop"})
        return events

    def _start(self, prompt_tokens: int | None, model: Any) -> list[JSON]:
        if self._started:
            return []
        self._started = True
        if prompt_tokens:
            self.message["usage"]["input_tokens"] = prompt_tokens
        if model:
            self.message["model"] = str(model)  # as the chat stream names it
        return [{"type": "message_start", "message": dict(self.message)}]

    def _call_delta(self, part: JSON) -> list[JSON]:
        events: list[JSON] = []
        key = int(part.get("index", 0))
        function = part.get("function") or {}
        if key not in self._calls:
            block: JSON = {
                "type": "tool_use",
                "id": part.get("id") or new_id("toolu"),
                "name": function.get("name") or "",
                "input": {},
            }
            events += self._open_block(block, "tool_use")
            self._calls[key] = self._index
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments and self._calls[key] == self._index:
            events.append(self._delta({"type": "input_json_delta", "partial_json": arguments}))
        return events

    def _open_block(self, block: JSON, kind: str) -> list[JSON]:
        events = self._close_block()
        self._index += 1
        self._open = kind
        events.append({"type": "content_block_start", "index": self._index, "content_block": block})
        if self._index == 0:
            events.append({"type": "ping"})
        return events

    def _delta(self, delta: JSON) -> JSON:
        return {"type": "content_block_delta", "index": self._index, "delta": delta}

    def _close_block(self) -> list[JSON]:
        if self._open is None:
            return []
        self._open = None
        return [{"type": "content_block_stop", "index": self._index}]


def _says_something(choice: JSON) -> bool:
    delta = choice.get("delta") or {}
    return bool(delta.get("content") or delta.get("tool_calls") or choice.get("finish_reason"))
