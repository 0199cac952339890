"""Tool calls from a local model whose chat template has none: a prompt and a grammar.

The tools are described in a system message, and the output is constrained (llguidance,
through llama.cpp's `grammar`) to either plain text or one JSON object
`{"name": <one of the tools>, "arguments": <valid for that tool's schema>}` — only the
call when `tool_choice` is `required` or names a function. The runtime's chunks are then
rewritten: a JSON object becomes one `tool_calls` delta (finish_reason `tool_calls`),
anything else stays text, streamed as it comes. Earlier calls and results in the
conversation are rendered as turns the template can show. A 135M model chooses badly;
the format is always exact, so agent frameworks run end to end offline.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

JSON = dict[str, Any]

PROMPT = (
    "You can call functions. To call one, answer with only a JSON object "
    '{{"name": <function name>, "arguments": {{...}}}} and nothing else; otherwise answer '
    "in plain text.{must}\nFunctions:\n{functions}"
)
MUST = " You must call a function now."
NO_PARAMETERS: JSON = {"type": "object", "properties": {}}


class ToolPlan:
    """What one request with tools needs: its messages, its grammar, and the rewriting of
    the runtime's chunks (per choice)."""

    def __init__(self, tools: list[JSON], tool_choice: Any) -> None:
        functions = [t["function"] for t in tools if t.get("type") == "function"]
        forced = _forced_name(tool_choice)
        if forced is not None:
            functions = [f for f in functions if f.get("name") == forced] or functions
        self.functions = functions
        self.required = forced is not None or tool_choice == "required"
        self._readers: dict[int, _CallReader] = {}

    def messages(self, messages: list[JSON]) -> list[JSON]:
        described = "\n".join(_describe(f) for f in self.functions)
        system = PROMPT.format(must=MUST if self.required else "", functions=described)
        rendered = [_plain(m) for m in messages]
        if rendered and rendered[0].get("role") == "system":
            rendered[0] = {"role": "system", "content": f"{rendered[0]['content']}\n\n{system}"}
        else:
            rendered.insert(0, {"role": "system", "content": system})
        return rendered

    def grammar(self) -> str:
        calls = [_call_schema(f) for f in self.functions]
        schema = calls[0] if len(calls) == 1 else {"anyOf": calls}
        call = "%json " + json.dumps(schema)
        if self.required:
            return f"%llguidance {{}}\nstart: {call}\n"
        # Text is anything that does not open with "{" (nor with white space).
        return f"%llguidance {{}}\nstart: call | text\ncall: {call}\ntext: /[^{{\\s][\\s\\S]*/\n"

    def rewrite(self, index: int, chunk: JSON) -> JSON:
        """A runtime chunk of choice `index` with its content read as text or a call."""
        reader = self._readers.setdefault(index, _CallReader())
        choices = []
        for choice in chunk.get("choices") or []:
            delta = dict(choice.get("delta") or {})
            content = delta.pop("content", None)
            text = reader.feed(content) if isinstance(content, str) else ""
            finish = choice.get("finish_reason")
            if finish is not None:
                rest, call = reader.finish()
                text += rest
                if call is not None:
                    delta["tool_calls"] = [call]
                    finish = "tool_calls"
            if text:
                delta["content"] = text
            choices.append(choice | {"delta": delta, "finish_reason": finish})
        return chunk | {"choices": choices}


class _CallReader:
    """Decides from the first visible character whether an answer is text or a call."""

    def __init__(self) -> None:
        self.kind: str | None = None  # None until decided, then "text" or "call"
        self.buffer = ""

    def feed(self, text: str) -> str:
        if self.kind == "text":
            return text
        self.buffer += text
        if self.kind is None:
            visible = self.buffer.lstrip()
            if not visible:
                return ""
            self.kind = "call" if visible.startswith("{") else "text"
            if self.kind == "text":
                text, self.buffer = self.buffer, ""
                return text
        return ""

    def finish(self) -> tuple[str, JSON | None]:
        """What is left to send as text, and the call (None for a text answer)."""
        text, self.buffer = self.buffer, ""
        call = read_call(text) if self.kind == "call" else None
        return ("", call) if call is not None else (text, None)


def read_call(text: str) -> JSON | None:
    """The `tool_calls` entry a whole answer stands for; None if it is not one (a call
    cut off by max_tokens stays text)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    arguments = json.dumps(data.get("arguments") or {}, ensure_ascii=False)
    return {
        "index": 0,
        "id": "call_" + secrets.token_hex(12),
        "type": "function",
        "function": {"name": data["name"], "arguments": arguments},
    }


def _forced_name(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name")
        return name if isinstance(name, str) else None
    return None


def _describe(function: JSON) -> str:
    parameters = json.dumps(function.get("parameters") or NO_PARAMETERS)
    description = function.get("description") or ""
    return f"- {function.get('name')}: {description} Arguments (JSON schema): {parameters}"


def _call_schema(function: JSON) -> JSON:
    arguments = dict(function.get("parameters") or NO_PARAMETERS)
    # Only the declared arguments: a small model otherwise invents keys until max_tokens.
    if arguments.get("type") == "object":
        arguments.setdefault("additionalProperties", False)
    return {
        "type": "object",
        "properties": {"name": {"const": function.get("name")}, "arguments": arguments},
        "required": ["name", "arguments"],
        "additionalProperties": False,
        # Compact JSON: no room for runs of white space.
        "x-guidance": {"whitespace_flexible": False},
    }


def _plain(message: JSON) -> JSON:
    """A turn the model's template can show: calls and results as text."""
    role = message.get("role")
    if role == "assistant" and message.get("tool_calls"):
        calls = []
        for call in message["tool_calls"]:
            function = call.get("function") or {}
            try:
                arguments = json.loads(function.get("arguments") or "{}")
            except json.JSONDecodeError:
                arguments = {}
            calls.append(json.dumps({"name": function.get("name"), "arguments": arguments}))
        text = "\n".join(calls)
        return {"role": "assistant", "content": (message.get("content") or "") + text}
    if role == "tool":
        return {"role": "user", "content": f"Function result: {message.get('content')}"}
    return message
