"""What one request may ask of the embedded llama.cpp engine, checked before it runs.

- **Output**: choices × max_tokens at most `max_request_tokens` (a choice without
  max_tokens counts as the context, `n_ctx`, which no choice can outgrow). A single choice
  is never refused for its max_tokens: the context bounds it, and coding tools send 32,000
  or more. `n=128` with a large max_tokens would otherwise keep a slot busy for hours.
- **JSON schemas** (`response_format` and the tools' parameters, which llama.cpp turns
  into grammars): OpenAI's documented limits for Structured Outputs — 5,000 object
  properties, 10 levels of nested objects, 1,000 enum values, 120,000 characters of
  property names, definition names, enum and const values, and 15,000 characters for one
  string enum of more than 250 values. A const and an anyOf branch count as enum values
  here (stricter than OpenAI's text): `anyOf` of 4,000 consts is the same grammar as a
  4,000-value enum, and took as long. llama.cpp samples a grammar on its one decoding
  thread, which every slot shares: a 20,000-value enum held every other request up for
  minutes (98 s for the request itself); 1,000 values cost about one token's time.

Both are a 400 naming the limit and the parameter, as OpenAI's are.
"""

from __future__ import annotations

from typing import Any

from aiport.errors import InvalidRequest

MAX_PROPERTIES = 5000
MAX_OBJECT_DEPTH = 10
MAX_ENUM_VALUES = 1000
MAX_SCHEMA_CHARS = 120_000
LARGE_ENUM = 250  # one string enum with more values than this …
LARGE_ENUM_CHARS = 15_000  # … may hold at most this many characters


def check_output(
    choices: int, max_tokens: int | None, *, n_ctx: int, budget: int, model: str
) -> None:
    """400 on `n` when `choices` choices of up to `max_tokens` each exceed `budget`."""
    each = n_ctx if max_tokens is None else min(max_tokens, n_ctx)
    if choices > 1 and choices * each > budget:
        raise InvalidRequest(
            f"This request asks the local model `{model}` for {choices} choices × {each} "
            f"tokens (max_tokens, or the context of {n_ctx} tokens if less) = "
            f"{choices * each} output tokens; at most {budget} are served per request. "
            "Ask for fewer choices (n) or set a smaller max_tokens.",
            param="n",
        )


class SchemaBudget:
    """Counts what llama.cpp's grammars will hold over all of one request's schemas."""

    def __init__(self) -> None:
        self.properties = self.enum_values = self.chars = 0

    def check(self, schema: Any, param: str) -> None:
        """400 on `param` once `schema` (added to those checked before) crosses a limit."""
        stack: list[tuple[Any, int]] = [(schema, 0)]
        while stack:  # iterative: a deeply nested schema cannot exhaust Python's stack
            node, depth = stack.pop()
            if isinstance(node, list):
                stack.extend((item, depth) for item in node)
            elif isinstance(node, dict):
                stack.extend(self._children(node, depth, param))
        self._within(param)

    def _children(self, node: dict[str, Any], depth: int, param: str) -> list[tuple[Any, int]]:
        children: list[tuple[Any, int]] = []
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                if depth + 1 > MAX_OBJECT_DEPTH:
                    self._refuse(param, f"at most {MAX_OBJECT_DEPTH} levels of nested objects")
                self.properties += len(value)
                self.chars += sum(len(name) for name in value)
                children += [(child, depth + 1) for child in value.values()]
            elif key in ("$defs", "definitions") and isinstance(value, dict):
                self.chars += sum(len(name) for name in value)
                children += [(child, depth) for child in value.values()]
            elif key == "enum" and isinstance(value, list):
                self._count_enum(value, param)
            elif key == "const":  # an enum of one: a grammar's alternative like the others
                self.enum_values += 1
                self.chars += len(str(value))
            else:
                if key in ("anyOf", "oneOf") and isinstance(value, list):
                    self.enum_values += sum(map(_plain_branch, value))
                if isinstance(value, dict | list):
                    children.append((value, depth))
        return children

    def _count_enum(self, values: list[Any], param: str) -> None:
        chars = sum(len(str(value)) for value in values)
        self.enum_values += len(values)
        self.chars += chars
        self._within(param)
        strings = all(isinstance(value, str) for value in values)
        if strings and len(values) > LARGE_ENUM and chars > LARGE_ENUM_CHARS:
            self._refuse(
                param,
                f"at most {LARGE_ENUM_CHARS} characters in one string enum of more than "
                f"{LARGE_ENUM} values (this one has {len(values)} values, {chars} characters)",
            )

    def _within(self, param: str) -> None:
        if self.enum_values > MAX_ENUM_VALUES:
            self._refuse(
                param,
                f"at most {MAX_ENUM_VALUES} enum values in total (a const or an anyOf "
                "branch counts as one)",
            )
        if self.properties > MAX_PROPERTIES:
            self._refuse(param, f"at most {MAX_PROPERTIES} object properties in total")
        if self.chars > MAX_SCHEMA_CHARS:
            self._refuse(
                param,
                f"at most {MAX_SCHEMA_CHARS} characters of property names, definition "
                "names, enum and const values in total",
            )

    @staticmethod
    def _refuse(param: str, limit: str) -> None:
        raise InvalidRequest(
            f"Invalid schema: local models (as OpenAI's Structured Outputs) take {limit}.",
            param=param,
        )


def _plain_branch(branch: Any) -> bool:
    """An anyOf branch that is not counted by its own const or enum."""
    return not (isinstance(branch, dict) and ("const" in branch or "enum" in branch))


def check_schemas(response_format: Any, tools: list[dict[str, Any]] | None) -> None:
    """The request's JSON schemas, together, within the limits (400 on the first past)."""
    budget = SchemaBudget()
    json_schema = getattr(response_format, "json_schema", None)
    if getattr(response_format, "type", None) == "json_schema" and isinstance(json_schema, dict):
        budget.check(json_schema.get("schema"), "response_format.json_schema.schema")
    for index, tool in enumerate(tools or []):
        function = tool.get("function")
        if isinstance(function, dict):
            budget.check(function.get("parameters"), f"tools[{index}].function.parameters")
