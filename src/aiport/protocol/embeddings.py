"""POST /embeddings (CreateEmbeddingRequest)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from aiport.protocol.common import WireModel

MAX_INPUTS = 2048


class EmbeddingRequest(WireModel):
    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValueError("input must not be an empty array")
            if len(value) > MAX_INPUTS:
                raise ValueError(f"input may hold at most {MAX_INPUTS} items")
            if any(isinstance(item, str) and not item for item in value):
                raise ValueError("input must not contain empty strings")
        elif value == "":
            raise ValueError("input must not be an empty string")
        return value

    def texts(self) -> list[str] | None:
        """The inputs as strings, or None when they were sent as token ids."""
        if isinstance(self.input, str):
            return [self.input]
        if all(isinstance(item, str) for item in self.input):
            return list(self.input)  # type: ignore[arg-type]
        return None
