"""POST /moderations (CreateModerationRequest) and the 13 categories of its answer."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from aiport.protocol.common import WireModel

DEFAULT_MODEL = "omni-moderation-latest"

CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


class ModerationRequest(WireModel):
    input: str | list[str] | list[dict[str, Any]]
    model: str = Field(default=DEFAULT_MODEL, min_length=1)

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("input must not be an empty array")
        return value

    def texts(self) -> list[str]:
        """Text inputs in order; text parts of multi-modal input, images skipped."""
        if isinstance(self.input, str):
            return [self.input]
        texts: list[str] = []
        for item in self.input:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, dict) and item.get("type") == "text":
                texts.append(str(item.get("text", "")))
        return texts
