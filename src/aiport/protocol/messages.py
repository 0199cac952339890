"""POST /messages and /messages/count_tokens: Anthropic's Messages API request.

What aiport reads is checked for every model: the top-level fields it knows (every body
field of the `anthropic` SDK's create and count_tokens, stable and beta;
tests/test_messages_api_proxy.py checks the list against the installed SDK), the numbers
Anthropic checks, roles, and content as text or blocks that name their `type`.
Everything else is Anthropic's to judge where Anthropic answers: a top-level field not in
the list, and the fields inside messages and blocks, go to an Anthropic deployment as
sent, so a client newer than the list is answered by Anthropic itself. Where aiport
answers in Anthropic's place (a translated or embedded model), an unknown top-level field
is refused, as Anthropic refuses it, and `SDKFields` checks the inner fields against the
installed SDK's types (`message_blocks`).
What aiport decides is refused for every model (`AIPORT_DECIDES`): `fallbacks` (Anthropic
would answer with another model), a `billing_policy` that bills another organization, a
`user_profile_id` or `workspace_id` in the body (aiport bills the key; the SDK sends
these two as headers, which aiport does not pass on).
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

NOT_ATTRIBUTED_ELSEWHERE = (
    "aiport bills this key for the request; it is not attributed to another user profile "
    "or workspace at Anthropic. Leave out `{name}`"
)
# Top-level fields aiport decides itself, refused even where Anthropic judges the rest.
AIPORT_DECIDES = {
    "user_profile_id": NOT_ATTRIBUTED_ELSEWHERE.format(name="user_profile_id"),
    "workspace_id": NOT_ATTRIBUTED_ELSEWHERE.format(name="workspace_id"),
}


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
    def unknown_fields(cls, body: dict[str, Any]) -> dict[str, Any]:
        """The top-level fields of `body` this model does not define, as sent."""
        names = cls.wire_names()
        return {name: value for name, value in body.items() if name not in names}


class MessagesRequest(CountTokensRequest):
    max_tokens: int = Field(ge=0)  # 0: fill Anthropic's prompt cache, generate nothing
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
