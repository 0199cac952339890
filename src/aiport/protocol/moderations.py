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

    @field_validator("input", mode="before")
    @classmethod
    def _parts_well_formed(cls, value: Any) -> Any:
        """Multi-modal parts are a `text` part with its text or an `image_url` part with
        its URL (a part without its text was moderated as an empty text)."""
        if isinstance(value, list):
            for index, part in enumerate(value):
                if isinstance(part, dict):
                    _check_part(index, part)
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


def _check_part(index: int, part: dict[str, Any]) -> None:
    kind = part.get("type")
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise ValueError(f"input[{index}], a `text` part, needs its `text` as a string")
    elif kind == "image_url":
        image = part.get("image_url")
        if not isinstance(image, dict) or not isinstance(image.get("url"), str):
            raise ValueError(
                f"input[{index}], an `image_url` part, needs an `image_url` object with a `url`"
            )
    else:
        raise ValueError(f"input[{index}] has type {kind!r}: a part is `text` or `image_url`")
