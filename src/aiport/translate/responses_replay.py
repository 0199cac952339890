"""A stored response told again as its event stream: GET /responses/{id}?stream=true.

aiport keeps a response's final state, not the events it was first streamed as, so the
replay is made from that state, in the order and shape of a live stream (see
`responses_stream`): `response.created`, `response.in_progress`; per output item its
`response.output_item.added`, its content (each text, refusal or argument string as one
delta), its `.done` events and `response.output_item.done`; then the event of the final
status (`response.completed`, `.incomplete` or `.failed`) with the whole response. Other
item kinds (e.g. an upstream's reasoning) are told as `added` and `done` only. Sequence
numbers count from 0 and are the same on every replay, so `starting_after` resumes one.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
EMPTY_WHEN_OPENED: dict[Any, JSON] = {
    "message": {"content": []},
    "function_call": {"arguments": ""},
}
FINAL_EVENT = {"incomplete": "response.incomplete", "failed": "response.failed"}


def replay_events(response: JSON) -> list[JSON]:
    """Every event of `response` (a final, stored one), in order."""
    events = _Events()
    started = _started(response)
    events.add("response.created", response=started)
    events.add("response.in_progress", response=started)
    for index, item in enumerate(response.get("output") or []):
        _item(events, index, item)
    final = FINAL_EVENT.get(str(response.get("status")), "response.completed")
    events.add(final, response=response)
    return events.sent


class _Events:
    def __init__(self) -> None:
        self.sent: list[JSON] = []

    def add(self, kind: str, **fields: Any) -> None:
        self.sent.append({"type": kind, **fields, "sequence_number": len(self.sent)})


def _started(response: JSON) -> JSON:
    """The response as `response.created` showed it: in progress, nothing made yet."""
    started = {key: value for key, value in response.items() if key != "usage"}
    started |= {"status": "in_progress", "output": [], "completed_at": None}
    return started | {"error": None, "incomplete_details": None}


def _item(events: _Events, index: int, item: JSON) -> None:
    kind, item_id = item.get("type"), item.get("id")
    opened = dict(item)
    if "status" in item:
        opened["status"] = "in_progress"
    if kind in EMPTY_WHEN_OPENED:
        opened |= EMPTY_WHEN_OPENED[kind]
    events.add("response.output_item.added", output_index=index, item=opened)
    if kind == "message":
        for part_index, part in enumerate(item.get("content") or []):
            where = {"item_id": item_id, "output_index": index, "content_index": part_index}
            _part(events, where, part)
    elif kind == "function_call":
        where = {"item_id": item_id, "output_index": index}
        arguments = str(item.get("arguments") or "")
        if arguments:
            events.add("response.function_call_arguments.delta", **where, delta=arguments)
        name = item.get("name")
        events.add("response.function_call_arguments.done", **where, name=name, arguments=arguments)
    events.add("response.output_item.done", output_index=index, item=item)


def _part(events: _Events, where: JSON, part: JSON) -> None:
    kind = part.get("type")
    if kind == "output_text":
        text = str(part.get("text") or "")
        empty = part | {"text": "", "annotations": [], "logprobs": []}
        events.add("response.content_part.added", **where, part=empty)
        if text:
            events.add("response.output_text.delta", **where, delta=text, logprobs=[])
        logprobs = part.get("logprobs") or []
        events.add("response.output_text.done", **where, text=text, logprobs=logprobs)
    elif kind == "refusal":
        refusal = str(part.get("refusal") or "")
        events.add("response.content_part.added", **where, part=part | {"refusal": ""})
        if refusal:
            events.add("response.refusal.delta", **where, delta=refusal)
        events.add("response.refusal.done", **where, refusal=refusal)
    else:
        events.add("response.content_part.added", **where, part=part)
    events.add("response.content_part.done", **where, part=part)
