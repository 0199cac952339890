"""Anthropic's Messages event stream, as chat-completion chunks.

OpenAI's framing: one `id` and `created` throughout, the role in the first delta
(`message_start`), text deltas as `content`, each `tool_use` block as its own tool call
(numbered from 0 in the order the blocks came; its `input_json_delta`s as incremental
`arguments`), `finish_reason` only in the last choice chunk (sent at `message_stop`);
with usage asked for, `usage: null` in every chunk and one more chunk with `choices: []`
and the totals — input from `message_start`, overwritten by any count `message_delta`
brings (its counts are cumulative). Thinking blocks and pings are left out; an `error`
event is raised as the error it reports.
"""

from __future__ import annotations

import time
from typing import Any

from aiport.translate.chat_anthropic import chat_usage, finish_fields, stream_error

JSON = dict[str, Any]


class ChatChunks:
    """Feed it Anthropic's events (`feed`); `finished` once `message_stop` came."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage
        self.finished = False
        self._head: JSON = {}
        self._calls: dict[int, int] = {}  # content block index → tool call index
        self._usage: JSON = {}
        self._stop: JSON = {}

    def feed(self, event: JSON) -> list[JSON]:
        kind = event.get("type")
        if kind == "message_start":
            return self._start(event.get("message") or {})
        if kind == "content_block_start":
            return self._block_start(int(event.get("index", 0)), event.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(int(event.get("index", 0)), event.get("delta") or {})
        if kind == "message_delta":
            delta = event.get("delta") or {}
            self._stop = finish_fields(delta.get("stop_reason"), delta.get("stop_sequence"))
            counts = event.get("usage") or {}
            self._usage |= {name: value for name, value in counts.items() if value is not None}
            return []
        if kind == "message_stop":
            self.finished = True
            return self._finish()
        if kind == "error":
            raise stream_error(event)
        return []  # ping, content_block_stop, and events added to the protocol later

    def _start(self, message: JSON) -> list[JSON]:
        self._head = {
            "id": str(message.get("id") or ""),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": str(message.get("model") or self.model),
        }
        self._usage = dict(message.get("usage") or {})
        return [self._chunk({"role": "assistant", "content": "", "refusal": None})]

    def _block_start(self, index: int, block: JSON) -> list[JSON]:
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if block.get("type") != "tool_use":
            return []
        self._calls[index] = position = len(self._calls)
        function = {"name": block.get("name"), "arguments": ""}
        call = {"index": position, "id": block.get("id"), "type": "function", "function": function}
        return [self._chunk({"tool_calls": [call]})]

    def _block_delta(self, index: int, delta: JSON) -> list[JSON]:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        if kind == "input_json_delta" and delta.get("partial_json") and index in self._calls:
            call = {"index": self._calls[index], "function": {"arguments": delta["partial_json"]}}
            return [self._chunk({"tool_calls": [call]})]
        return []  # thinking, signatures, citations

    def _finish(self) -> list[JSON]:
        chunks = [self._chunk({}, self._stop or finish_fields("end_turn", None))]
        if self.include_usage:
            chunks.append(self._head | {"choices": [], "usage": chat_usage(self._usage)})
        return chunks

    def _chunk(self, delta: JSON, finish: JSON | None = None) -> JSON:
        choice: JSON = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        choice |= finish or {}
        chunk = self._head | {"choices": [choice]}
        return chunk | {"usage": None} if self.include_usage else chunk
