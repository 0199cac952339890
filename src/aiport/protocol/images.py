"""POST /images/generations and the seed's /images/generate (CreateImageRequest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from aiport.protocol.common import WireModel

DEFAULT_MODEL = "dall-e-3"  # the seed's default (OpenAI's own is dall-e-2)
DEFAULT_SIZE = "1024x1024"
DEFAULT_QUALITY = "standard"

SIZES = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
}
ALL_SIZES = (
    "256x256",
    "512x512",
    "1024x1024",
    "1792x1024",
    "1024x1792",
    "1536x1024",
    "1024x1536",
)
MAX_PROMPT = {"dall-e-2": 1000, "dall-e-3": 4000}


class ImageRequest(WireModel):
    prompt: str = Field(min_length=1, max_length=32000)
    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    n: int = Field(default=1, ge=1, le=10)
    quality: Literal["standard", "hd", "low", "medium", "high", "auto"] = "standard"
    response_format: Literal["url", "b64_json"] = "url"
    size: str = DEFAULT_SIZE
    style: Literal["vivid", "natural"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    background: Literal["transparent", "opaque", "auto"] | None = None
    moderation: Literal["low", "auto"] | None = None
    user: str | None = None

    @model_validator(mode="after")
    def _size_fits_model(self) -> ImageRequest:
        allowed = SIZES.get(self.model, ALL_SIZES)
        if self.size not in allowed and self.size != "auto":
            raise ValueError(
                f"size must be one of {', '.join(allowed)} for {self.model}, not {self.size!r}"
            )
        if self.model == "dall-e-3" and self.n != 1:
            raise ValueError("dall-e-3 makes one image per request: n must be 1")
        limit = MAX_PROMPT.get(self.model)
        if limit and len(self.prompt) > limit:
            raise ValueError(f"prompt may be at most {limit} characters for {self.model}")
        return self

    @property
    def pixels(self) -> tuple[int, int]:
        """(width, height) of the requested size; `auto` is 1024x1024."""
        if self.size == "auto":
            return (1024, 1024)
        width, height = self.size.split("x")
        return (int(width), int(height))
