"""POST /messages and /messages/count_tokens: Anthropic's Messages API request.

What aiport reads is checked for every model: the top-level fields (every body field of
the `anthropic` SDK's create and count_tokens, stable and beta; tests/test_messages_api_proxy.py
checks the list against the installed SDK; any other is refused, as Anthropic does), the
numbers Anthropic checks, roles, and content as text or blocks that name their `type`.
The fields inside messages and blocks are Anthropic's to judge: `SDKFields` checks them
against the installed SDK's types (`message_blocks`) only where aiport answers in
Anthropic's place (a translated or embedded model); an Anthropic deployment gets them as
sent, so a client newer than the SDK is answered by Anthropic itself.
`fallbacks` is known but refused: Anthropic would answer with another model; so is a
`billing_policy` that bills another organization than aiport's: aiport bills the key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aiport.protocol.common import WireModel, checked_as
from aiport.protocol.message_blocks import MESSAGE_CONTENT, MESSAGE_OUTPUT_CONFIG, SYSTEM

DEFAULT_VERSION = "2023-06-01"  # sent upstream when the client names no anthropic-version
PASSED_HEADERS = ("anthropic-version", "anthropic-beta")
NO_OTHER_PAYER = (
    "aiport bills this key for the request; Anthropic billing another organization "
    "(`bill_to: user_profile`) would have it paid twice. Leave out `billing_policy` or send "
    "`bill_to: self`"
)
NO_UPSTREAM_FALLBACKS = (
    "aiport does not pass on Anthropic's server-side fallbacks: another model would answer, "
    "outside this key's models and prices. Configure `fallbacks` for the model in aiport"
)


class Message(BaseModel):
    """A message as aiport reads it: its role, its content as text or blocks that each name
    their `type`; its other fields pass on as sent (`SDKFields` judges them)."""

    model_config = ConfigDict(extra="allow")

    role: Literal["user", "assistant", "system"]
    content: list[dict[str, Any]] | str

    @field_validator("content")
    @classmethod
    def _blocks_have_types(cls, value: Any) -> Any:
        if isinstance(value, list) and any("type" not in block for block in value):
            raise ValueError("each content block needs a `type`")
        return value


class SDKMessage(BaseModel):
    """A message with only the fields of the SDK's messages (of every role; tests check
    the list), its blocks checked as the SDK defines them (`message_blocks`)."""

    model_config = ConfigDict(extra="forbid")

    role: Any = None
    content: Annotated[Any, MESSAGE_CONTENT] = None
    clear_at: Any = None
    output_config: Annotated[Any, MESSAGE_OUTPUT_CONFIG] = None


class SDKFields(BaseModel):
    """The fields inside a request's messages and system blocks, as the installed SDK
    defines them: checked (after the request model) where aiport answers in Anthropic's
    place, since a translation would drop a field it does not know unseen."""

    model_config = ConfigDict(extra="ignore")

    messages: list[SDKMessage]
    system: Annotated[Any, SYSTEM] = None


class Tool(BaseModel):
    """A tool, checked as far as aiport reads it (a custom tool becomes a chat tool)."""

    model_config = ConfigDict(extra="allow")

    name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None


class CountTokensRequest(WireModel):
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    system: list[dict[str, Any]] | str | None = None
    tools: Annotated[list[dict[str, Any]], checked_as(list[Tool])] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None
    mcp_servers: list[dict[str, Any]] | None = None
    output_config: dict[str, Any] | None = None
    context_management: dict[str, Any] | None = None
    cache_control: dict[str, Any] | None = None
    speed: str | None = None
    compaction: dict[str, Any] | None = None
    billing_policy: dict[str, Any] | None = None

    @field_validator("billing_policy")
    @classmethod
    def _billed_here(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("bill_to", "self") != "self":
            raise ValueError(NO_OTHER_PAYER)
        return value

    @classmethod
    def unknown_field(cls, body: dict[str, Any]) -> str | None:
        """The first top-level field of `body` this operation does not define, if any."""
        names = cls.wire_names()
        return next((name for name in body if name not in names), None)


class MessagesRequest(CountTokensRequest):
    max_tokens: int = Field(ge=1)
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    stream: bool | None = False
    metadata: dict[str, Any] | None = None
    service_tier: str | None = None
    container: str | dict[str, Any] | None = None
    inference_geo: str | None = None
    diagnostics: dict[str, Any] | None = None
    fallbacks: Any = None  # refused (NO_UPSTREAM_FALLBACKS)
    fallback_credit_token: str | dict[str, Any] | None = None
    thread: dict[str, Any] | None = None
    output_format: dict[str, Any] | None = None  # structured outputs' first beta

    @field_validator("fallbacks")
    @classmethod
    def _no_upstream_fallbacks(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(NO_UPSTREAM_FALLBACKS)
        return value
