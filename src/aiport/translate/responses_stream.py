"""A chat-completion chunk stream, as the Responses API's event stream.

The sequence is OpenAI's: `response.created`, `response.in_progress`; per text answer
`response.output_item.added` (a message), `response.content_part.added`,
`response.output_text.delta`…, `response.output_text.done`, `response.content_part.done`,
`response.output_item.done`; per tool call `response.output_item.added` (a function_call),
`response.function_call_arguments.delta`…, `response.function_call_arguments.done`,
`response.output_item.done`; then `response.completed` (or `response.incomplete` when the
output was cut at `max_output_tokens`) carrying the whole response and its usage. Every
event has a `sequence_number`, counting from 0.
"""

from __future__ import annotations

from typing import Any

from aiport.protocol.responses import ResponseRequest
from aiport.translate.responses_chat import (
    JSON,
    finish,
    function_call_item,
    message_item,
    new_id,
    output_text_part,
    response_shell,
)


class ResponseEvents:
    """Feed it chat chunks (`feed`), then `close`; each returns the events to send."""

    def __init__(self, req: ResponseRequest, model: str) -> None:
        self.response = response_shell(req, model)
        self._sequence = 0
        self._output: list[JSON] = []  # items as they will be in the final response
        self._text: JSON | None = None  # the open message item: id, index, pieces
        self._calls: dict[int, JSON] = {}  # chat tool-call index → the open call
        self._finish_reason: str | None = None
        self._usage: Any = None

    def _event(self, kind: str, **fields: Any) -> JSON:
        event = {"type": kind, **fields, "sequence_number": self._sequence}
        self._sequence += 1
        return event

    def start(self, model: Any = None) -> list[JSON]:
        """The first events; `model`: the name the first chunk gives its model, if any."""
        if model:
            self.response["model"] = str(model)
        snapshot = dict(self.response)
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def feed(self, chunk: JSON) -> list[JSON]:
        events: list[JSON] = []
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # the Responses API has one answer; n > 1 is not asked for
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str) and content:
                events += self._text_delta(content, choice.get("logprobs"))
            for call in delta.get("tool_calls") or []:
                events += self._call_delta(call)
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
        return events

    def close(self) -> list[JSON]:
        """Close what is open; the final `response.completed` (or `.incomplete`)."""
        events = self._close_text() + self._close_calls()
        self.response["output"] = list(self._output)
        finish(self.response, self._finish_reason, self._usage)
        kind = "response.incomplete" if self.response["status"] == "incomplete" else None
        events.append(self._event(kind or "response.completed", response=self.response))
        return events

    # -- text ------------------------------------------------------------------------

    def _text_delta(self, text: str, logprobs: Any) -> list[JSON]:
        events: list[JSON] = []
        if self._calls:
            events += self._close_calls()
        if self._text is None:
            item_id, index = new_id("msg"), len(self._output)
            self._text = {"id": item_id, "index": index, "pieces": []}
            self._output.append(message_item("", item_id, status="in_progress"))
            events.append(
                self._event(
                    "response.output_item.added",
                    output_index=index,
                    item=message_item("", item_id, status="in_progress"),
                )
            )
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=item_id,
                    output_index=index,
                    content_index=0,
                    part=output_text_part(""),
                )
            )
        self._text["pieces"].append(text)
        events.append(
            self._event(
                "response.output_text.delta",
                item_id=self._text["id"],
                output_index=self._text["index"],
                content_index=0,
                delta=text,
                logprobs=_logprobs(logprobs),
            )
        )
        return events

    def _close_text(self) -> list[JSON]:
        if self._text is None:
            return []
        item_id, index = self._text["id"], self._text["index"]
        text = "".join(self._text["pieces"])
        self._text = None
        item = message_item(text, item_id)
        self._output[index] = item
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        return [
            self._event("response.output_text.done", **where, text=text, logprobs=[]),
            self._event("response.content_part.done", **where, part=output_text_part(text)),
            self._event("response.output_item.done", output_index=index, item=item),
        ]

    # -- tool calls ------------------------------------------------------------------

    def _call_delta(self, part: JSON) -> list[JSON]:
        events: list[JSON] = []
        key = int(part.get("index", 0))
        function = part.get("function") or {}
        call = self._calls.get(key)
        if call is None:
            events += self._close_text() + self._close_calls()
            item_id, index = new_id("fc"), len(self._output)
            call_id = part.get("id") or new_id("call")
            call = {
                "id": item_id,
                "index": index,
                "call_id": call_id,
                "name": function.get("name") or "",
                "pieces": [],
            }
            self._calls[key] = call
            item = function_call_item(call_id, call["name"], "", item_id, status="in_progress")
            self._output.append(item)
            events.append(self._event("response.output_item.added", output_index=index, item=item))
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            call["pieces"].append(arguments)
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=call["id"],
                    output_index=call["index"],
                    delta=arguments,
                )
            )
        return events

    def _close_calls(self) -> list[JSON]:
        events: list[JSON] = []
        for call in self._calls.values():
            arguments = "".join(call["pieces"])
            item = function_call_item(call["call_id"], call["name"], arguments, call["id"])
            self._output[call["index"]] = item
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=call["id"],
                    output_index=call["index"],
                    name=call["name"],
                    arguments=arguments,
                )
            )
            events.append(
                self._event("response.output_item.done", output_index=call["index"], item=item)
            )
        self._calls.clear()
        return events


def _logprobs(logprobs: Any) -> list[Any]:
    if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
        return list(logprobs["content"])
    return []
