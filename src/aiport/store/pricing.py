"""What a request costs, from a price table in USD.

Prices are per 1M input / output tokens, per image, per audio minute and per 1M characters
(speech). The defaults are OpenAI's public list prices for the model names the seed uses;
a config can override or add models with a mapping such as
`{"gpt-4o": {"input": 2.5, "output": 10}, "my-model": {"input": 0.1}}` — fields left out
keep the default's value. A dated snapshot (`gpt-4o-2024-08-06`) is priced as its family
(`gpt-4o`); an unknown model costs 0 (embedded models are free to run).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Protocol


class UsageLike(Protocol):
    """`aiport.backends.base.Usage` or anything with the same fields."""

    prompt_tokens: int
    completion_tokens: int
    audio_seconds: float
    images: int
    characters: int


@dataclass(frozen=True, slots=True)
class Price:
    input_per_million: float = 0.0
    output_per_million: float = 0.0
    per_image: float = 0.0
    per_audio_minute: float = 0.0
    per_million_characters: float = 0.0


DEFAULT_PRICES: Mapping[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4-turbo": Price(10.00, 30.00),
    "gpt-4": Price(30.00, 60.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "o1": Price(15.00, 60.00),
    "o1-mini": Price(1.10, 4.40),
    "o3-mini": Price(1.10, 4.40),
    "text-embedding-3-small": Price(0.02),
    "text-embedding-3-large": Price(0.13),
    "text-embedding-ada-002": Price(0.10),
    "whisper-1": Price(per_audio_minute=0.006),
    "tts-1": Price(per_million_characters=15.00),
    "tts-1-hd": Price(per_million_characters=30.00),
    "dall-e-3": Price(per_image=0.040),
    "dall-e-2": Price(per_image=0.020),
    "text-moderation-latest": Price(),
    "text-moderation-stable": Price(),
    "omni-moderation-latest": Price(),
}

# Short names accepted in config next to the field names.
_ALIASES = {
    "input": "input_per_million",
    "output": "output_per_million",
    "image": "per_image",
    "audio_minute": "per_audio_minute",
    "characters": "per_million_characters",
}
_FIELDS = {f.name for f in fields(Price)}


class PriceTable:
    """Prices by model name; see the module docstring for the override format."""

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, float] | Price] | None = None,
        *,
        defaults: Mapping[str, Price] = DEFAULT_PRICES,
    ) -> None:
        self._prices: dict[str, Price] = dict(defaults)
        for model, spec in (overrides or {}).items():
            if isinstance(spec, Price):
                self._prices[model] = spec
            else:
                self._prices[model] = _merge(self._prices.get(model, Price()), model, spec)

    def price(self, model: str) -> Price | None:
        """The model's price: exact name first, else the longest `family-…` match."""
        if model in self._prices:
            return self._prices[model]
        best = max(
            (name for name in self._prices if model.startswith(name + "-")),
            key=len,
            default=None,
        )
        return self._prices[best] if best is not None else None

    def cost(self, model: str, usage: UsageLike) -> float:
        """USD for what `usage` consumed on `model` (0.0 for an unpriced model)."""
        p = self.price(model)
        if p is None:
            return 0.0
        total = (
            usage.prompt_tokens * p.input_per_million
            + usage.completion_tokens * p.output_per_million
            + usage.characters * p.per_million_characters
        ) / 1e6
        total += usage.images * p.per_image + usage.audio_seconds / 60.0 * p.per_audio_minute
        return total if math.isfinite(total) and total > 0 else 0.0

    def estimate(
        self,
        model: str,
        prompt_tokens: int = 0,
        max_output_tokens: int = 0,
        *,
        images: int = 0,
        audio_seconds: float = 0.0,
        characters: int = 0,
    ) -> float:
        """An upper-bound cost to reserve against a budget before the request runs."""
        return self.cost(
            model,
            _Usage(prompt_tokens, max_output_tokens, audio_seconds, images, characters),
        )


@dataclass(slots=True)
class _Usage:
    prompt_tokens: int
    completion_tokens: int
    audio_seconds: float
    images: int
    characters: int


def cost(model: str, usage: UsageLike, table: PriceTable | None = None) -> float:
    """USD for `usage` on `model` by `table` (the default prices when None)."""
    return (table or _DEFAULT_TABLE).cost(model, usage)


def _merge(base: Price, model: str, spec: Mapping[str, float]) -> Price:
    changes: dict[str, float] = {}
    for key, value in spec.items():
        name = _ALIASES.get(key, key)
        if name not in _FIELDS:
            raise ValueError(f"unknown price field {key!r} for model {model!r}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"price {key!r} for model {model!r} must be a number ≥ 0")
        changes[name] = float(value)
    return replace(base, **changes)


_DEFAULT_TABLE = PriceTable()
