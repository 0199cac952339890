"""Anthropic's list prices (standard tier, USD per 1M tokens), defaults of `aiport.store.pricing`.

Sources, as of 2026-11-30 (each group in the table names its own):
- Anthropic's pricing page (https://platform.claude.com/docs/en/about-claude/pricing, "Model
  pricing"; its earlier copy at docs.anthropic.com for the retired models) for every model
  from Opus 3 to Fable 5.1 — its table lists Opus 4.5 to 5 at $5 / $25, Opus 4 / 4.1 and
  Opus 3 at $15 / $75, Sonnet 3.7 to 4.6 at $3 / $15, Haiku 4.5, 3.5 and 3 at $1, $0.80 and
  $0.25 input, Fable 5 at $10 / $50 with $1 cache hits and Fable 5.1 with $0.25 ones;
- Anthropic's model pages (platform.claude.com/docs/en/models/<model>/overview) for the
  models released after that copy of the pricing page: Sonnet 5 (models/sonnet-5), Opus 5.5
  (models/opus-5-5), Sonnet 5.5 (models/sonnet-5-5) and Haiku 5.5 (models/haiku-5-5), each
  with its input, output, 5-minute / 1-hour cache write and cache read rates;
- Claude Sonnet 5: $2 / $10. Its launch announced these as introductory until 2026-08-31
  and $3 / $15 after; Anthropic made them permanent (announcement updated 2026-08-10, as
  Piebald-AI/splitrail#235 and thevibeworks/cctrace#108 record), and its model page lists
  $2 / $10 today. Opus 4.6 and Sonnet 4.6 bill long prompts at the base rates since
  2026-03-13; Sonnet 4.5 still bills a prompt over 200k tokens (1M-context beta) at its
  long-context rates, entirely; Haiku 5.5 bills a prompt over 100,000 tokens (cache reads
  and writes included) at its higher rates, entirely.

Cache rates: `cached_input` is a cache hit (0.1x input on most models, 0.05x on Opus 5.5,
0.025x on Fable 5.1), `cache_write` a 5-minute cache write (1.25x input). Anthropic bills
1-hour cache writes at 2x input; the usage a request reports counts them with the 5-minute
writes, so aiport bills them at the 5-minute rate — less than Anthropic charges — until
usage separates the two.

Prices that depend on how a request was served, applied by what Anthropic's `usage`
reports it served (`speed`, `inference_geo`), and reserved by what the request asks for:
- fast mode (`speed: "fast"`): every token rate times the model's fast-mode multiplier
  (`FAST_MODE`): Opus 4.6 6x ($30 / $150, Anthropic's fast-mode page), Opus 4.8 and Opus 5
  2x ($10 / $50, as Vercel's and OpenRouter's catalogues list them). A model Anthropic
  reports fast for and this table does not name is billed at its standard rates (less
  than Anthropic charges: its multiplier is not confirmed here, so not guessed — Opus 5.5's
  $8 / $40 is quoted only by a third party, apidog.com);
- US-only inference (`inference_geo: "us"`, Opus 4.6 and later, the only models that take
  it): every token rate times 1.1 (Anthropic's pricing and data-residency pages);
- long prompts: `long_context` below (Sonnet 4.5 over 200k tokens, Haiku 5.5 over 100k);
- the Priority Tier (`service_tier: "priority"`) is a commitment whose per-token prices
  Anthropic does not publish: billed at the standard rates; batch prices (50%) apply only
  to the Message Batches API, which aiport does not serve.

Where sources disagree: Sonnet 5.5's cache hits. Its model page lists $0.20 (0.1x); several
catalogues (kurofune/claudit v1.9.2, TheKrush/PromptFuel v1.0.23, the `synaps` crate) say
Anthropic cut them to $0.10 (0.05x) on 2026-10-07. The copy of Anthropic's page read here
may predate that (it compares Sonnet 5.5 with Haiku 4.5, not 5.5), but no copy of a page of
Anthropic's shows the cut, so the provider's $0.20 stands — up to 2x what Anthropic may
charge for cache hits — until one does.

Not confirmed, so not guessed: Claude Mythos 5 / 5.1 (priced like Fable 5 / 5.1 on the
pricing page, but limited to verified organisations and their model ids not confirmed here),
web search and other server tools. A name not here is unpriced until `prices:` in aiport.yaml
gives it a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiport.store.price import Price

LONG_PROMPT = 200_001  # prompt tokens from which Sonnet 4.5's long-context rates apply
HAIKU_5_5_LONG_PROMPT = 100_001  # "prompts over 100,000 tokens" (cache reads and writes count)
FAST_MODE: Mapping[str, float] = MappingProxyType(
    {"claude-opus-4-6": 6.0, "claude-opus-4-8": 2.0, "claude-opus-5": 2.0}
)
US_INFERENCE = 1.1  # `inference_geo: "us"`


def _claude(
    input: float,
    output: float,
    cached: float,
    cache_write: float,
    long: Price | None = None,
    *,
    long_from: int = LONG_PROMPT,
) -> Price:
    """A Claude model's price; `long` for prompts of `long_from` tokens or more."""
    return Price(
        input=input,
        output=output,
        cached_input=cached,
        cache_write=cache_write,
        long_context=(long_from, long) if long is not None else None,
    )


_OPUS_4 = _claude(15.00, 75.00, 1.50, 18.75)
_OPUS_4_5 = _claude(5.00, 25.00, 0.50, 6.25)
_SONNET = _claude(3.00, 15.00, 0.30, 3.75)
_SONNET_5 = _claude(2.00, 10.00, 0.20, 2.50)

ANTHROPIC_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        # Opus 5.5: models/opus-5-5 ($4 / $20, cache writes $5 / $8, hits $0.20), 2026-11-30
        "claude-opus-5-5": _claude(4.00, 20.00, 0.20, 5.00),
        # Opus 3 to 5: the pricing page, 2026-11-30
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
        # Sonnet 5 and 5.5: models/sonnet-5 and models/sonnet-5-5 ($2 / $10, cache writes
        # $2.50 / $4, hits $0.20 — for 5.5 see "Where sources disagree" above), 2026-11-30
        "claude-sonnet-5-5": _SONNET_5,
        "claude-sonnet-5": _SONNET_5,
        # Sonnet 3.5 to 4.6: the pricing page, 2026-11-30 (Sonnet 3 keeps its last list price)
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
        # Haiku 5.5: models/haiku-5-5, by prompt length ($0.10 / $0.50, writes $0.125, hits
        # $0.01 up to 100,000 tokens; $0.50 / $2.50, $0.625, $0.05 over), 2026-11-30. The
        # cache-hit rates are cut off in the copy of that page read here; apidog.com's guide
        # and kurofune/claudit v1.9.2 give them, at Anthropic's usual 0.1x input.
        "claude-haiku-5-5": _claude(
            0.10,
            0.50,
            0.01,
            0.125,
            long=_claude(0.50, 2.50, 0.05, 0.625),
            long_from=HAIKU_5_5_LONG_PROMPT,
        ),
        # Haiku 3 to 4.5: the pricing page, 2026-11-30
        "claude-haiku-4-5": _claude(1.00, 5.00, 0.10, 1.25),
        "claude-3-5-haiku": _claude(0.80, 4.00, 0.08, 1.00),
        "claude-3-5-haiku-latest": _claude(0.80, 4.00, 0.08, 1.00),
        "claude-3-haiku": _claude(0.25, 1.25, 0.03, 0.30),
        # Fable: the pricing page, 2026-11-30 (5.1's cache hits are 0.025x input)
        "claude-fable-5-1": _claude(10.00, 50.00, 0.25, 12.50),
        "claude-fable-5": _claude(10.00, 50.00, 1.00, 12.50),
    }
)
