"""Anthropic's list prices (standard tier, USD per 1M tokens), defaults of `aiport.store.pricing`.

Sources, as of 2026-08-21:
- Anthropic's pricing page (https://platform.claude.com/docs/en/about-claude/pricing) as
  transcribed, with a check date per model (2026-07-29), in pydantic/genai-prices,
  `prices/providers/anthropic.yml` at commit 47df840 (2026-08-21) — the same file set as
  OpenAI's prices in `price_list`; the table on Anthropic's page, as quoted in the same
  period, agrees for every model below;
- Claude Sonnet 5: $3 / $15 from 2026-09-01 (its introductory $2 / $10 ended 2026-08-31,
  in the same file); Opus 4.6 and Sonnet 4.6 bill long prompts at the base rates since
  2026-03-13; Sonnet 4.5 still bills a prompt over 200k tokens (1M-context beta) at its
  long-context rates, entirely.

Cache rates: `cached_input` is a cache hit (0.1x input), `cache_write` a 5-minute cache
write (1.25x input). Anthropic bills 1-hour cache writes at 2x input; the usage a request
reports counts them with the 5-minute writes, so aiport bills them at the 5-minute rate —
less than Anthropic charges — until usage separates the two.

Prices that depend on how a request was served, applied by what Anthropic's `usage`
reports it served (`speed`, `inference_geo`), and reserved by what the request asks for:
- fast mode (`speed: "fast"`): every token rate times the model's fast-mode multiplier
  (`FAST_MODE`): Opus 4.6 6x ($30 / $150, Anthropic's fast-mode page), Opus 4.8 and Opus 5
  2x ($10 / $50, as Vercel's and OpenRouter's catalogues list them). A model Anthropic
  reports fast for and this table does not name is billed at its standard rates (less
  than Anthropic charges: its multiplier is not confirmed here, so not guessed);
- US-only inference (`inference_geo: "us"`, Opus 4.6 and later, the only models that take
  it): every token rate times 1.1 (Anthropic's pricing and data-residency pages);
- long prompts: `long_context` below (Sonnet 4.5 over 200k tokens);
- the Priority Tier (`service_tier: "priority"`) is a commitment whose per-token prices
  Anthropic does not publish: billed at the standard rates; batch prices (50%) apply only
  to the Message Batches API, which aiport does not serve.

Not confirmed by these sources, so not guessed: the 5.1/5.5 models (Fable 5.1, Mythos 5.x,
Opus/Sonnet/Haiku 5.5), web search and other server tools.
A name not here is unpriced until `prices:` in aiport.yaml gives it a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiport.store.price import Price

LONG_PROMPT = 200_001  # prompt tokens from which Sonnet 4.5's long-context rates apply
FAST_MODE: Mapping[str, float] = MappingProxyType(
    {"claude-opus-4-6": 6.0, "claude-opus-4-8": 2.0, "claude-opus-5": 2.0}
)
US_INFERENCE = 1.1  # `inference_geo: "us"`


def _claude(
    input: float, output: float, cached: float, cache_write: float, long: Price | None = None
) -> Price:
    return Price(
        input=input,
        output=output,
        cached_input=cached,
        cache_write=cache_write,
        long_context=(LONG_PROMPT, long) if long is not None else None,
    )


_OPUS_4 = _claude(15.00, 75.00, 1.50, 18.75)
_OPUS_4_5 = _claude(5.00, 25.00, 0.50, 6.25)
_SONNET = _claude(3.00, 15.00, 0.30, 3.75)

ANTHROPIC_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        # Opus
        "claude-opus-5": _OPUS_4_5,
        "claude-opus-4-8": _OPUS_4_5,
        "claude-opus-4-7": _OPUS_4_5,
        "claude-opus-4-6": _OPUS_4_5,
        "claude-opus-4-5": _OPUS_4_5,
        "claude-opus-4-1": _OPUS_4,
        "claude-opus-4-0": _OPUS_4,
        "claude-opus-4": _OPUS_4,
        "claude-3-opus": _OPUS_4,
        "claude-3-opus-latest": _OPUS_4,
        # Sonnet
        "claude-sonnet-5": _SONNET,
        "claude-sonnet-4-6": _SONNET,
        "claude-sonnet-4-5": _claude(
            3.00, 15.00, 0.30, 3.75, long=_claude(6.00, 22.50, 0.60, 7.50)
        ),
        "claude-sonnet-4-0": _SONNET,
        "claude-sonnet-4": _SONNET,
        "claude-3-7-sonnet": _SONNET,
        "claude-3-7-sonnet-latest": _SONNET,
        "claude-3-5-sonnet": _SONNET,
        "claude-3-5-sonnet-latest": _SONNET,
        "claude-3-sonnet": _SONNET,
        # Haiku
        "claude-haiku-4-5": _claude(1.00, 5.00, 0.10, 1.25),
        "claude-3-5-haiku": _claude(0.80, 4.00, 0.08, 1.00),
        "claude-3-5-haiku-latest": _claude(0.80, 4.00, 0.08, 1.00),
        "claude-3-haiku": _claude(0.25, 1.25, 0.03, 0.30),
        # Fable
        "claude-fable-5": _claude(10.00, 50.00, 1.00, 12.50),
    }
)
