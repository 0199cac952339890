"""What the fake upstream answers, the same in every protocol it speaks.

Models named `agent-…` act like a model that uses tools: given tools and no tool result
yet, they call the first tool (arguments made from its schema); given a tool result, they
answer with it. Every other model answers with fixed text. The Responses API and Anthropic
streams are built event for event as OpenAI and Anthropic send them (their documented
sequences), so a translated stream can be compared with a native one.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
CREATED = 1727346173
TEXT = "Hello from the fake upstream."
STREAM_WORDS = ("Hello", " from", " the", " stream.")
CALL_ID = "call_fake0001"
_response_ids = (f"resp_fake{n:06d}" for n in itertools.count())
SAMPLES = {"string": "Paris", "integer": 3, "number": 1.5, "boolean": True}


@dataclass
class Answer:
    text: str | None = None
    tool: str | None = None
    arguments: str = ""
    stop_sequence: str | None = None  # the one of the request's stop sequences it ended on

    @property
    def words(self) -> tuple[str, ...]:
        if self.text == TEXT:
            return STREAM_WORDS
        first, *rest = (self.text or "").split(" ")
        return (first, *(" " + word for word in rest))


def sample_arguments(schema: Any) -> str:
    properties = (schema or {}).get("properties") or {}
    return json.dumps({n: SAMPLES.get(p.get("type"), "x") for n, p in properties.items()})


def answer(model: str, tools: list[tuple[str, Any]], tool_result: str | None) -> Answer:
    """`tools`: (name, parameters schema) pairs; `tool_result`: the latest tool output."""
    if model.startswith("agent-") and tool_result is not None:
        return Answer(text=f"The tool said: {tool_result}")
    if model.startswith("agent-") and tools:
        name, schema = tools[0]
        return Answer(tool=name, arguments=sample_arguments(schema))
    return Answer(text=TEXT)


# -- chat completions ------------------------------------------------------------------


def chat_answer(body: JSON) -> Answer:
    tools = [
        (t["function"]["name"], t["function"].get("parameters"))
        for t in body.get("tools") or []
        if t.get("type") == "function"
    ]
    last = (body.get("messages") or [{}])[-1]
    result = str(last.get("content")) if last.get("role") == "tool" else None
    return answer(str(body.get("model")), tools, result)


def chat_tool_message(found: Answer) -> JSON:
    call = {"id": CALL_ID, "type": "function"}
    call["function"] = {"name": found.tool, "arguments": found.arguments}
    return {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}


def chat_tool_deltas(found: Answer) -> list[JSON]:
    half = len(found.arguments) // 2
    first = {"index": 0, "id": CALL_ID, "type": "function"}
    first["function"] = {"name": found.tool, "arguments": ""}
    pieces = (found.arguments[:half], found.arguments[half:])
    return [
        {"role": "assistant", "content": None, "tool_calls": [first]},
        *({"tool_calls": [{"index": 0, "function": {"arguments": p}}]} for p in pieces),
    ]


# -- the Responses API -------------------------------------------------------------------


def responses_answer(body: JSON) -> Answer:
    tools = [(t["name"], t.get("parameters")) for t in body.get("tools") or [] if "name" in t]
    items = body.get("input")
    last = items[-1] if isinstance(items, list) and items else {}
    result = last.get("output") if last.get("type") == "function_call_output" else None
    return answer(str(body.get("model")), tools, None if result is None else str(result))


def response_object(
    body: JSON, status: str, output: list[JSON], usage: JSON | None, response_id: str
) -> JSON:
    return {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": False,
        "completed_at": CREATED + 1 if status == "completed" else None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": body.get("model"),
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "metadata": {},
    } | ({"usage": usage} if usage else {})


def response_usage(prompt: int, completion: int) -> JSON:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def output_item(found: Answer, text: str, status: str = "completed") -> JSON:
    if found.tool is not None:
        return {
            "id": "fc_fake0001",
            "type": "function_call",
            "status": status,
            "arguments": found.arguments if status == "completed" else "",
            "call_id": CALL_ID,
            "name": found.tool,
        }
    content = [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}]
    return {
        "id": "msg_fake0001",
        "type": "message",
        "status": status,
        "content": content if status == "completed" else [],
        "role": "assistant",
    }


def response_events(body: JSON) -> list[JSON]:
    """The events OpenAI sends for one answer (text or one function call)."""
    found = responses_answer(body)
    events: list[JSON] = []

    def add(kind: str, **fields: Any) -> None:
        events.append({"type": kind, **fields, "sequence_number": len(events)})

    response_id = next(_response_ids)
    started = response_object(body, "in_progress", [], None, response_id)
    add("response.created", response=started)
    add("response.in_progress", response=started)
    add("response.output_item.added", output_index=0, item=output_item(found, "", "in_progress"))
    where = {"output_index": 0}
    if found.tool is not None:
        half = len(found.arguments) // 2
        for piece in (found.arguments[:half], found.arguments[half:]):
            add(
                "response.function_call_arguments.delta",
                item_id="fc_fake0001",
                **where,
                delta=piece,
            )
        add(
            "response.function_call_arguments.done",
            item_id="fc_fake0001",
            **where,
            name=found.tool,
            arguments=found.arguments,
        )
        usage = response_usage(9, 12)
    else:
        where |= {"item_id": "msg_fake0001", "content_index": 0}
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        add("response.content_part.added", **where, part=part)
        for word in found.words:
            add("response.output_text.delta", **where, delta=word, logprobs=[])
        text = "".join(found.words)
        add("response.output_text.done", **where, text=text, logprobs=[])
        add("response.content_part.done", **where, part=part | {"text": text})
        usage = response_usage(9, 4)
    item = output_item(found, "".join(found.words))
    add("response.output_item.done", output_index=0, item=item)
    add(
        "response.completed",
        response=response_object(body, "completed", [item], usage, response_id),
    )
    return events


def response_whole(body: JSON) -> JSON:
    found = responses_answer(body)
    item = output_item(found, found.text or "")
    usage = response_usage(11, 6 if found.tool is None else 12)
    return response_object(body, "completed", [item], usage, next(_response_ids))


# -- Anthropic's Messages API ------------------------------------------------------------


def messages_answer(body: JSON) -> Answer:
    tools = [(t["name"], t.get("input_schema")) for t in body.get("tools") or [] if "name" in t]
    last = (body.get("messages") or [{}])[-1]
    content = last.get("content")
    results = (
        [b for b in content if b.get("type") == "tool_result"] if isinstance(content, list) else []
    )
    result = None
    if results:
        output = results[-1].get("content")
        result = output if isinstance(output, str) else "".join(b.get("text", "") for b in output)
    found = answer(str(body.get("model")), tools, result)
    return _stopped(found, body.get("stop_sequences") or [])


def _stopped(found: Answer, stops: list[str]) -> Answer:
    """The answer cut where the first of `stops` would begin, as a model stops on one."""
    hits = [(found.text.find(stop), stop) for stop in stops if found.text and stop in found.text]
    if not hits or found.text is None:
        return found
    position, stop = min(hits)
    return Answer(text=found.text[:position], stop_sequence=stop)


def _stop_reason(found: Answer) -> str:
    return "tool_use" if found.tool else "stop_sequence" if found.stop_sequence else "end_turn"


def anthropic_usage(body: JSON, input_tokens: int, output_tokens: int) -> JSON:
    """Usage as Anthropic counts it; a request whose `metadata.user_id` is `cached` read
    100 prompt tokens from the cache and wrote 20 to it."""
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if (body.get("metadata") or {}).get("user_id") == "cached":
        usage |= {"cache_read_input_tokens": 100, "cache_creation_input_tokens": 20}
    if body.get("speed") or body.get("inference_geo"):  # how it was served, as asked
        usage["speed"] = body.get("speed") or "standard"
        usage["inference_geo"] = body.get("inference_geo") or "global"
    return usage


def anthropic_message(body: JSON, found: Answer, text: str, usage: JSON) -> JSON:
    content: list[JSON] = []
    if found.tool is not None:
        content.append(
            {
                "type": "tool_use",
                "id": "toolu_fake0001",
                "name": found.tool,
                "input": json.loads(found.arguments),
            }
        )
    else:
        content.append({"type": "text", "text": text})
    return {
        "id": "msg_fake0001",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": content,
        "stop_reason": _stop_reason(found),
        "stop_sequence": found.stop_sequence,
        "usage": usage,
    }


def message_whole(body: JSON) -> JSON:
    found = messages_answer(body)
    usage = anthropic_usage(body, 11, 6 if found.tool is None else 12)
    return anthropic_message(body, found, found.text or "", usage)


def message_events(body: JSON) -> list[JSON]:
    """The events Anthropic sends for one answer (text or one tool use)."""
    found = messages_answer(body)
    start = anthropic_message(body, found, "", anthropic_usage(body, 9, 1))
    start |= {"content": [], "stop_reason": None}
    events: list[JSON] = [{"type": "message_start", "message": start}]
    if found.tool is not None:
        block = {"type": "tool_use", "id": "toolu_fake0001", "name": found.tool, "input": {}}
        half = len(found.arguments) // 2
        deltas = [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in (found.arguments[:half], found.arguments[half:])
        ]
        output = 12
    else:
        block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": word} for word in found.words]
        output = 4
    events.append({"type": "content_block_start", "index": 0, "content_block": block})
    events.append({"type": "ping"})
    events += [{"type": "content_block_delta", "index": 0, "delta": d} for d in deltas]
    events.append({"type": "content_block_stop", "index": 0})
    if body.get("model") == "overloaded-midstream":  # Anthropic gives up after a word
        error = {"type": "overloaded_error", "message": "Overloaded"}
        return [*events[:4], {"type": "error", "error": error}]
    stop = {"stop_reason": _stop_reason(found), "stop_sequence": found.stop_sequence}
    events.append({"type": "message_delta", "delta": stop, "usage": {"output_tokens": output}})
    events.append({"type": "message_stop"})
    return events
