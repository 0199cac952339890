"""POST /completions (CreateCompletionRequest): legacy text completions."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from aiport.protocol.common import WireModel

DEFAULT_MAX_TOKENS = 16  # OpenAI's default for this endpoint


class CompletionRequest(WireModel):
    model: str = Field(min_length=1)
    prompt: str | list[str] | list[int] | list[list[int]]
    suffix: str | None = None
    max_tokens: int | None = Field(default=DEFAULT_MAX_TOKENS, ge=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    best_of: int | None = Field(default=None, ge=0, le=20)
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    logprobs: int | None = Field(default=None, ge=0, le=5)
    echo: bool | None = False
    stop: str | list[str] | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None

    @field_validator("prompt")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("prompt must not be an empty array")
        return value

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("stop may hold at most 4 sequences")
        return value

    @field_validator("best_of")
    @classmethod
    def _at_least_n(cls, value: int | None, info: ValidationInfo) -> int | None:
        n = info.data.get("n")
        if value is not None and n is not None and value < n:
            raise ValueError(f"best_of must be greater than or equal to n ({n})")
        return value

    @property
    def candidates(self) -> int:
        """Completions generated (and billed): `best_of` (else `n`) for each prompt."""
        prompt = self.prompt
        prompts = len(prompt) if isinstance(prompt, list) and not _is_tokens(prompt) else 1
        return prompts * max(self.n or 1, self.best_of or 1)

    @property
    def wants_usage_chunk(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


def _is_tokens(prompt: list[Any]) -> bool:
    """One prompt as token ids (a list of ints), not a list of prompts."""
    return bool(prompt) and isinstance(prompt[0], int)
