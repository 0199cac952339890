"""POST /images/generations and the seed's /images/generate (CreateImageRequest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

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
    # `model` first: fields are validated in order, and the checks of prompt, n and size
    # depend on the model (each check names its own field in a 400's `param`).
    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    prompt: str = Field(min_length=1, max_length=32000)
    n: int = Field(default=1, ge=1, le=10)
    quality: Literal["standard", "hd", "low", "medium", "high", "auto"] = "standard"
    response_format: Literal["url", "b64_json"] | None = None  # see `as_base64`
    size: str = DEFAULT_SIZE
    style: Literal["vivid", "natural"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    background: Literal["transparent", "opaque", "auto"] | None = None
    moderation: Literal["low", "auto"] | None = None
    stream: bool | None = None
    partial_images: int | None = Field(default=None, ge=0, le=3)
    user: str | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_fits_model(cls, value: str, info: ValidationInfo) -> str:
        model = info.data.get("model", DEFAULT_MODEL)
        limit = MAX_PROMPT.get(model)
        if limit and len(value) > limit:
            raise ValueError(f"prompt may be at most {limit} characters for {model}")
        return value

    @field_validator("n")
    @classmethod
    def _n_fits_model(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("model", DEFAULT_MODEL) == "dall-e-3" and value != 1:
            raise ValueError("dall-e-3 makes one image per request: n must be 1")
        return value

    @field_validator("size")
    @classmethod
    def _size_fits_model(cls, value: str, info: ValidationInfo) -> str:
        model = info.data.get("model", DEFAULT_MODEL)
        allowed = SIZES.get(model, ALL_SIZES)
        if value not in allowed and value != "auto":
            raise ValueError(f"size must be one of {', '.join(allowed)} for {model}, not {value!r}")
        return value

    @field_validator("stream")
    @classmethod
    def _stream_fits_model(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        model = info.data.get("model", DEFAULT_MODEL)
        if value and model.startswith("dall-e"):
            raise ValueError(f"{model} does not stream: only GPT Image models do")
        return value

    @property
    def as_base64(self) -> bool:
        """Answer with `b64_json`: asked for, or by default for a GPT Image model (which
        always answers so at OpenAI); else with a `url`."""
        if self.response_format is None:
            return self.model.startswith("gpt-image")
        return self.response_format == "b64_json"

    @property
    def pixels(self) -> tuple[int, int]:
        """(width, height) of the requested size; `auto` is 1024x1024."""
        if self.size == "auto":
            return (1024, 1024)
        width, height = self.size.split("x")
        return (int(width), int(height))
