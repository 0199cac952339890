"""POST /chat/completions (CreateChatCompletionRequest)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic needs this one on Python 3.11

from aiport.protocol.common import WireModel, checked_as, needed_by_functions

DEFAULT_TEMPERATURE = 0.7  # the seed's default (OpenAI's own is 1)

Role = Literal["system", "user", "assistant", "tool", "function", "developer"]


class FunctionCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    arguments: str


class ToolCall(BaseModel):
    """An earlier call in the conversation, checked as far as aiport reads it (the local
    engine shows it to the model as text)."""

    model_config = ConfigDict(extra="allow")

    type: str = "function"
    function: FunctionCall | None = Field(default=None, validate_default=True)

    _functions_have_one = field_validator("function")(
        needed_by_functions("a function call needs its `function` object")
    )


class ContentPart(BaseModel):
    """A part of a message's content, checked as far as aiport reads it (the local engine,
    the translation for Claude); the rest passes through as sent."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None
    image_url: str | dict[str, Any] | None = None
    file: dict[str, Any] | None = None


_PARTS: TypeAdapter[list[ContentPart]] = TypeAdapter(list[ContentPart])


def _text_or_parts(value: Any) -> Any:
    if isinstance(value, list):
        _PARTS.validate_python(value, strict=True)
    elif value is not None and not isinstance(value, str):
        raise ValueError("content is a string or a list of parts")
    return value


@with_config(ConfigDict(extra="allow"))
class Message(TypedDict):
    """The role, the shape of the content (text or parts) and an assistant's tool calls
    are checked; the rest passes through as sent. A typed dict, not a model: no object is
    made per message (a 20-message request validated in 36 µs as models, 12 µs so; agents
    send many more)."""

    role: Role
    content: NotRequired[Annotated[Any, AfterValidator(_text_or_parts)]]
    tool_calls: NotRequired[Annotated[list[dict[str, Any]], checked_as(list[ToolCall])] | None]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool | None = None


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = Field(default=None, validate_default=True)

    @field_validator("json_schema")
    @classmethod
    def _needed_by_json_schema(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("type") == "json_schema":
            raise PydanticCustomError("missing", "Field required")
        return value


class FunctionObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(BaseModel):
    """A tool, checked as far as aiport reads it: a function tool's `function` (the local
    engine builds its prompt and grammar from it); the rest passes through as sent."""

    model_config = ConfigDict(extra="allow")

    type: str
    function: FunctionObject | None = Field(default=None, validate_default=True)

    _functions_have_one = field_validator("function")(
        needed_by_functions("a function tool needs its `function` object")
    )


class ChatCompletionRequest(WireModel):
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = Field(default=DEFAULT_TEMPERATURE, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    seed: int | None = None
    response_format: ResponseFormat | None = None
    tools: Annotated[list[dict[str, Any]], checked_as(list[Tool])] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    functions: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=128)
    function_call: str | dict[str, Any] | None = None
    user: str | None = None
    safety_identifier: str | None = Field(default=None, max_length=64)
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    web_search_options: dict[str, Any] | None = None
    moderation: dict[str, Any] | None = None

    @field_validator("logit_bias")
    @classmethod
    def _biases_token_ids(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for token, bias in (value or {}).items():
            if not (token.isascii() and token.isdigit()):
                raise ValueError(f"the key {token!r} is not a token id (a non-negative integer)")
            if not -100 <= bias <= 100:
                raise ValueError(f"the bias of token {token} must be between -100 and 100")
        return value

    @field_validator("tool_choice")
    @classmethod
    def _a_function_is_named(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("tools") is None:
            raise ValueError("'tool_choice' is only allowed when 'tools' are specified")
        if isinstance(value, dict) and value.get("type") == "function":
            function = value.get("function")
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise ValueError(
                    'a function is chosen as {"type": "function", "function": {"name": ...}}'
                )
        return value

    @field_validator("stream_options")
    @classmethod
    def _only_when_streaming(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and not info.data.get("stream"):
            raise ValueError(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled"
            )
        return value

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("stop may hold at most 4 sequences")
        return value

    @property
    def completion_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def wants_usage_chunk(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)
