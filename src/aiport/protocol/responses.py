"""POST /responses (CreateResponse): OpenAI's Responses API request.

`input` is a string or a list of items; only the shape of what aiport itself reads is
checked here (roles, item types, function tools), the rest passes through as sent.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aiport.protocol.common import WireModel, checked_as, needed_by_functions


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text", "json_schema", "json_object"]
    name: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None
    description: str | None = None


class TextParam(BaseModel):
    model_config = ConfigDict(extra="allow")

    format: TextFormat | None = None
    verbosity: str | None = None


class Tool(BaseModel):
    """A tool, checked as far as aiport reads it (a function tool becomes a chat tool)."""

    model_config = ConfigDict(extra="allow")

    type: str
    name: str | None = Field(default=None, validate_default=True)
    description: str | None = None
    parameters: dict[str, Any] | None = None

    _functions_are_named = field_validator("name")(
        needed_by_functions("a function tool needs a `name`")
    )


class ResponseRequest(WireModel):
    model: str = Field(min_length=1)
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    tools: Annotated[list[dict[str, Any]], checked_as(list[Tool])] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_output_tokens: int | None = Field(default=None, ge=16)
    max_tool_calls: int | None = Field(default=None, ge=1)
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    text: TextParam | None = None
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    store: bool | None = True
    previous_response_id: str | None = Field(default=None, min_length=1)
    conversation: str | dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    reasoning: dict[str, Any] | None = None
    include: list[str] | None = None
    truncation: Literal["auto", "disabled"] | None = None
    background: bool | None = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = Field(default=None, max_length=64)
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None
    context_management: list[dict[str, Any]] | None = None
    moderation: dict[str, Any] | None = None

    @field_validator("input")
    @classmethod
    def _items_have_types(cls, value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                if "type" not in item and "role" not in item:
                    raise ValueError("each input item needs a `type` (or a `role` for a message)")
        return value

    def input_items(self) -> list[dict[str, Any]]:
        """`input` as a list of items (a string is one user message)."""
        if self.input is None:
            return []
        if isinstance(self.input, str):
            return [{"type": "message", "role": "user", "content": self.input}]
        return [item if "type" in item else {"type": "message", **item} for item in self.input]
