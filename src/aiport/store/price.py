"""One model's price, and what a request's usage (or its estimate) costs at it, in USD.

Token rates are per 1M tokens. Prompt tokens of a kind the usage reports separately
(cached, written to the cache, audio, image) are billed at that kind's rate when the price
has one, else at `input`; the rest at `input`. A prompt of `long_context[0]` tokens or more
is billed entirely at `long_context[1]`, as OpenAI bills gpt-5.4's long prompts.

Pictures cost `images["<quality> <size>"]` each (DALL·E); GPT Image models are billed by the
tokens the upstream reports instead, and `image_output_tokens` (a high-quality 1024x1024
picture's output tokens) only serves to estimate a request before it runs. Speech costs
`characters` per 1M input characters, transcription `audio_minute` per minute or audio tokens.
A transcription priced by tokens is estimated before it runs from its audio's length: its
audio as input tokens (`AUDIO_TOKENS_PER_SECOND`), its transcript as output tokens
(`TRANSCRIPT_TOKENS_PER_SECOND`); it is billed by the tokens its answer reports.

A price with no rate at all is a free model (moderations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Protocol

# Image output tokens by quality, relative to a high-quality picture (gpt-image-1's table).
QUALITY_SHARE = {"low": 272 / 4160, "medium": 1056 / 4160, "high": 1.0}
# What OpenAI bills for each partial picture of a streamed GPT Image picture: "each partial
# image adds 100 image output tokens" (image-generation guide, "Streaming"; a streamed low
# 1024x1024 picture with one partial reports 372 output tokens where one without reports
# 272, as maximhq/bifrost#4777 shows).
PARTIAL_IMAGE_TOKENS = 100
# OpenAI's rate for audio a user sends: "1 token per 100 ms of audio" (Realtime API guide,
# "Managing costs", developers.openai.com/api/docs/guides/realtime-costs — the only rate it
# publishes; its transcription models report the audio tokens they billed in `usage`).
AUDIO_TOKENS_PER_SECOND = 10
# A transcript's tokens: fast speech, about 200 words a minute, at OpenAI's rule of thumb of
# 100 tokens per 75 words is about 4.4 tokens a second; rounded up, for other languages.
TRANSCRIPT_TOKENS_PER_SECOND = 5
# Units a request can be metered in, and the rates that bill each.
METERS = {
    "tokens": ("input", "output"),
    "images": ("images", "output"),
    "characters": ("characters",),
    "audio": ("audio_minute", "audio_input", "input"),
    "audio length": ("audio_minute",),  # an answer that reports nothing else (plain text)
}


class UsageLike(Protocol):
    """`aiport.backends.base.Usage`, or anything with its fields."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    audio_tokens: int
    image_tokens: int
    audio_seconds: float
    images: int
    characters: int


@dataclass(slots=True)
class _Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    audio_tokens: int = 0
    image_tokens: int = 0
    audio_seconds: float = 0.0
    images: int = 0
    characters: int = 0


@dataclass(frozen=True, slots=True)
class Price:
    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = None
    cache_write: float | None = None
    audio_input: float | None = None
    image_input: float | None = None
    images: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    image_output_tokens: int = 0
    audio_minute: float = 0.0
    characters: float = 0.0
    long_context: tuple[int, Price] | None = None
    # True for a model that costs nothing (no rate at all); worked out once, as every
    # request asks (admission, and the usage row's `unpriced`).
    free: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rates = (f.name for f in fields(self) if f.name not in ("long_context", "free"))
        object.__setattr__(self, "free", not any(self._rate(name) for name in rates))

    def meters(self, meter: str) -> bool:
        """Whether this price can bill a request metered in `meter` (see `METERS`)."""
        return self.free or any(self._rate(name) for name in METERS[meter])

    def cost(self, usage: UsageLike, image_variant: str = "") -> float:
        """USD for what `usage` consumed (0.0 for nothing, never negative or NaN)."""
        rates = self._for_prompt(usage.prompt_tokens)
        total = rates._tokens_cost(usage) + self.characters * usage.characters / 1e6
        total += self.audio_minute * usage.audio_seconds / 60.0
        if usage.images and not (self.output and usage.completion_tokens):
            # Pictures without a token count: billed per picture.
            total += usage.images * self._per_image(image_variant)
        return total if math.isfinite(total) and total > 0 else 0.0

    def estimate(
        self,
        prompt_tokens: int = 0,
        output_tokens: int = 0,
        *,
        images: int = 0,
        image_variant: str = "",
        characters: int = 0,
        audio_seconds: float = 0.0,
    ) -> float:
        """The cost to reserve for a request before it runs: its estimate priced in full."""
        if images and not self.images and self.output:
            output_tokens += images * self.picture_tokens(image_variant)
            images = 0
        audio_tokens = 0
        if audio_seconds and not self.audio_minute:  # a transcription priced by tokens
            audio_tokens = math.ceil(audio_seconds * AUDIO_TOKENS_PER_SECOND)
            prompt_tokens += audio_tokens
            output_tokens += math.ceil(audio_seconds * TRANSCRIPT_TOKENS_PER_SECOND)
        usage = _Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=output_tokens,
            audio_tokens=audio_tokens,
            images=images,
            characters=characters,
            audio_seconds=audio_seconds,
        )
        return self.cost(usage, image_variant)

    def _rate(self, name: str) -> bool:
        value = getattr(self, name)
        if isinstance(value, Mapping):
            return any(value.values())
        return bool(value)

    def _for_prompt(self, prompt_tokens: int) -> Price:
        if self.long_context is not None and prompt_tokens >= self.long_context[0]:
            return self.long_context[1]
        return self

    def _tokens_cost(self, usage: UsageLike) -> float:
        rest = usage.prompt_tokens
        total = 0.0
        for count, rate in (
            (usage.cached_tokens, self.cached_input),
            (usage.cache_write_tokens, self.cache_write),
            (usage.audio_tokens, self.audio_input),
            (usage.image_tokens, self.image_input),
        ):
            if rate is not None and count > 0:
                count = min(count, rest)
                total += count * rate
                rest -= count
        total += rest * self.input + usage.completion_tokens * self.output
        return total / 1e6

    def _per_image(self, variant: str) -> float:
        quality, _, size = variant.partition(" ")
        if quality == "auto":  # DALL·E's own defaults for `auto`
            quality = "standard"
        variant = f"{quality} {'1024x1024' if size == 'auto' else size}"
        if variant in self.images:
            return self.images[variant]
        # A variant the table lacks (say, a new size): the dearest known one, never 0.
        return max(self.images.values(), default=0.0)

    def picture_tokens(self, variant: str) -> int:
        """A GPT Image picture's output tokens at `variant` (`"<quality> <size>"`), as far as
        `image_output_tokens` tells (0 for a price without)."""
        quality, _, size = variant.partition(" ")
        width, _, height = size.partition("x")
        area = 1.5  # `auto` may pick 1536x1024
        if width.isdigit() and height.isdigit():
            area = int(width) * int(height) / (1024 * 1024)
        return math.ceil(self.image_output_tokens * QUALITY_SHARE.get(quality, 1.0) * area)
