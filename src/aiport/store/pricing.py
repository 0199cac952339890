"""The price table: which `Price` a model name has, with the config's overrides.

The defaults are OpenAI's and Anthropic's list prices (`aiport.store.price_list` and
`price_list_anthropic`, with their sources). A name is priced when it is in the table, or
when it is a dated snapshot of a name in the table (`gpt-4o-2024-08-06`, `gpt-4-0613` and
`claude-sonnet-4-5-20250929` are priced as `gpt-4o`, `gpt-4` and `claude-sonnet-4-5`); never by
a bare prefix, so `o1-pro` is not `o1` and `gpt-4o-mini-tts` is not `gpt-4o-mini`. Any
other name has no price (`None`): the caller decides what that means.

`prices:` in aiport.yaml overrides or adds models, e.g. `{"gpt-4o": {"output": 12},
"my-model": {"input": 0.1, "output": 0.4}}` (USD per 1M tokens); fields left out keep the
default's value. Fields: `input`, `output`, `cached_input`, `cache_write`, `audio_input`,
`image_input` (per 1M tokens), `audio_minute`, `characters` (per 1M characters), `image`
(per picture, any size) or `image <quality> <size>` (e.g. `image hd 1024x1792`). A new
model given `{}` is free.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any

from aiport.store.price import Price, UsageLike
from aiport.store.price_list import OPENAI_PRICES
from aiport.store.price_list_anthropic import ANTHROPIC_PRICES, FAST_MODE, US_INFERENCE

DEFAULT_PRICES: Mapping[str, Price] = MappingProxyType({**OPENAI_PRICES, **ANTHROPIC_PRICES})
# `-2024-08-06` (OpenAI's snapshots since 2024), `-0613` (the older ones) or `-20250929`
# (Anthropic's).
_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")

# Config names (short, and the long ones of earlier versions) → `Price` fields.
_NAMES = {
    **{
        f.name: f.name for f in fields(Price) if f.init and f.name not in ("images", "long_context")
    },
    "input_per_million": "input",
    "output_per_million": "output",
    "per_audio_minute": "audio_minute",
    "per_million_characters": "characters",
}
_IMAGE_NAMES = ("image", "per_image")
_UNSEEN = Price(input=-1.0)  # a marker: no price is negative
_REMEMBERED = 10_000


class PriceTable:
    """Prices by model name; see the module docstring."""

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, float] | Price] | None = None,
        *,
        defaults: Mapping[str, Price] = DEFAULT_PRICES,
    ) -> None:
        self._prices: dict[str, Price] = dict(defaults)
        self._billing: dict[tuple[str, str], Price | None] = {}
        for model, spec in (overrides or {}).items():
            if isinstance(spec, Price):
                self._prices[model] = spec
            else:
                self._prices[model] = _merge(self._prices.get(model, Price()), model, spec)

    def price(self, model: str) -> Price | None:
        """The model's price, by its exact name or as a dated snapshot of a priced name."""
        found = self._prices.get(model)
        if found is None:
            family = undated(model)
            if family != model:
                found = self._prices.get(family)
        return found

    def price_for(self, model: str, meter: str) -> Price | None:
        """The model's price if it can bill a request metered in `meter`, else None.
        Remembered per name (this runs for every request)."""
        known = self._billing.get((model, meter), _UNSEEN)
        if known is _UNSEEN:
            price = self.price(model)
            known = price if price is not None and price.meters(meter) else None
            if len(self._billing) >= _REMEMBERED:  # names come from clients: bounded
                self._billing.clear()
            self._billing[(model, meter)] = known
        return known

    def cost(self, model: str, usage: UsageLike, image_variant: str = "") -> float:
        """USD for `usage` on `model`; 0.0 for an unpriced model."""
        price = self.price(model)
        return price.cost(usage, image_variant) if price is not None else 0.0


def served_multiplier(model: str, speed: str, inference_geo: str) -> float:
    """What Anthropic's token rates of `model` are multiplied by when a request is served
    at `speed` in `inference_geo` (see `price_list_anthropic`): 1.0 for the standard."""
    factor = 1.0
    if speed == "fast":
        factor *= FAST_MODE.get(model) or FAST_MODE.get(undated(model)) or 1.0
    if inference_geo == "us":
        factor *= US_INFERENCE
    return factor


def undated(model: str) -> str:
    """The name a dated snapshot is a snapshot of (`gpt-4o-2024-08-06` → `gpt-4o`)."""
    return _SNAPSHOT.sub("", model)


def cost(model: str, usage: UsageLike, table: PriceTable | None = None) -> float:
    """USD for `usage` on `model` by `table` (the default prices when None)."""
    return (table or _DEFAULT_TABLE).cost(model, usage)


def _merge(base: Price, model: str, spec: Mapping[str, float]) -> Price:
    changes: dict[str, Any] = {}
    images = dict(base.images)
    for key, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
            raise ValueError(f"price {key!r} for model {model!r} must be a number ≥ 0")
        if key in _IMAGE_NAMES:
            images = {variant: float(value) for variant in images} or {"": float(value)}
        elif key.startswith("image "):
            images[key.removeprefix("image ")] = float(value)
        elif key in _NAMES:
            changes[_NAMES[key]] = float(value)
        else:
            raise ValueError(f"unknown price field {key!r} for model {model!r}")
    return replace(base, images=MappingProxyType(images), **changes)


_DEFAULT_TABLE = PriceTable()
