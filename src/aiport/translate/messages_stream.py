"""A chat-completion chunk stream, as the Messages API's event stream.

The sequence is Anthropic's: `message_start` (the message, no content yet); per block
`content_block_start` (the first one followed by a `ping`), `content_block_delta`…
(`text_delta` for text, `input_json_delta` for a tool call's input), `content_block_stop`;
then `message_delta` with the `stop_reason` and the usage totals, and `message_stop`.
Input tokens are only known at the end of a chat stream, so `message_start` carries 0 and
`message_delta` the real count (the SDKs take the later value, as Anthropic's streams allow).
"""

from __future__ import annotations

from typing import Any

from aiport.translate.messages_chat import JSON, STOP_REASONS, message_shell, new_id, usage_of


class MessageEvents:
    """Feed it chat chunks (`feed`), then `close`; each returns the events to send."""

    def __init__(self, model: str) -> None:
        self.message = message_shell(model)
        self._index = -1  # the open block's index
        self._open: str | None = None  # its kind: "text" or "tool_use"
        self._calls: dict[int, int] = {}  # chat tool-call index → block index
        self._finish_reason: str | None = None
        self._usage: Any = None

    def start(self) -> list[JSON]:
        return [{"type": "message_start", "message": dict(self.message)}]

    def feed(self, chunk: JSON) -> list[JSON]:
        events: list[JSON] = []
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if isinstance(text, str) and text:
                if self._open != "text":
                    events += self._open_block({"type": "text", "text": ""}, "text")
                events.append(self._delta({"type": "text_delta", "text": text}))
            for call in delta.get("tool_calls") or []:
                events += self._call_delta(call)
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
        return events

    def close(self) -> list[JSON]:
        events = self._close_block()
        usage = usage_of(self._usage)
        stop = STOP_REASONS.get(self._finish_reason or "stop", "end_turn")
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": usage,
            }
        )
        events.append({"type": "message_stop"})
        return events

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
