"""OpenAI's list prices (standard tier, USD), the defaults of `aiport.store.pricing`.

Sources, as of 2026-08-21 (the GPT-6 group, added 2026-11-30, names its own beside it):
- token prices: OpenAI's pricing page (https://developers.openai.com/api/docs/pricing) as
  transcribed, with a check date per model, in pydantic/genai-prices,
  `prices/providers/openai.yml` at commit 47df840 (2026-08-21); the gpt-5.4 and gpt-5.6
  long-context rates (prompts of 272k tokens or more) from the same file;
- per-unit prices of the older endpoints, from OpenAI's pricing page as quoted in the same
  period: DALL·E per image by quality and size, tts-1/-hd per 1M characters, whisper-1 per
  minute;
- image output tokens per picture (used only to *estimate* a GPT Image request before it
  runs): OpenAI's image-generation guide, gpt-image-1's table (low 272, medium 1056, high
  4160 tokens for 1024x1024; 1.5x for 1024x1536 and 1536x1024).

GPT-5.6 Sol: OpenAI cut it to $4 / $0.40 / $20 from 2026-08-21 as a promotion it
guaranteed only through 2026-11-21 (TheKrush/PromptFuel v1.0.17, gramext/dist v0.1.0, LaoZhang
API's notice of 2026-09-24); whether it still runs on 2026-11-30 is not confirmed here, so
the table keeps the list price ($5 / $30), which may bill more than OpenAI charges while it
does.

Not confirmed, so not guessed: gpt-6.2-astra (its $8 / $40 and $0.40 cached input are
published — OpenAI's models page, LiteLLM discussion #52347 — but not its cache-write rate,
which OpenAI reports and bills separately), per-image token counts of gpt-image-1.5/-2
(their estimate scales gpt-image-1's counts by area; the charge uses the tokens OpenAI
reports), a
per-character price of gpt-4o-mini-tts (OpenAI bills it per text and audio token, which a
binary speech answer does not report: it is unpriced on /audio/speech), and every model
not listed here (realtime, audio-preview, search, fine-tuned models...). dall-e-2/-3 and
gpt-image-1 are retired at OpenAI but keep their last prices for upstreams that serve
them. Moderations are free. A name not here is unpriced until `prices:` in aiport.yaml
gives it a price.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiport.store.price import Price

LONG_CONTEXT = 272_000  # prompt tokens from which the gpt-5.4 / 5.6 long-context rates apply
# GPT-6: "for requests with more than 272K input tokens" (an exact 272,000 is short).
GPT_6_LONG_CONTEXT = 272_001


def _tokens(
    input: float,
    output: float,
    cached: float | None = None,
    *,
    cache_write: float | None = None,
    long: Price | None = None,
    long_from: int = LONG_CONTEXT,
) -> Price:
    """A text model's price per 1M tokens; `long` for prompts of `long_from` tokens or more."""
    return Price(
        input=input,
        output=output,
        cached_input=cached,
        cache_write=cache_write,
        long_context=(long_from, long) if long is not None else None,
    )


def _gpt_6(input: float, cached: float, cache_write: float, output: float) -> Price:
    """A GPT-6 model: over 272K prompt tokens the whole request pays twice the input and
    cache rates and 1.5 times the output rate (OpenAI's model pages)."""
    long = _tokens(input * 2, output * 1.5, cached * 2, cache_write=cache_write * 2)
    return _tokens(
        input, output, cached, cache_write=cache_write, long=long, long_from=GPT_6_LONG_CONTEXT
    )


def _image_model(
    input: float, image_input: float, cached: float, output: float, tokens_per_image: int
) -> Price:
    """A GPT Image model: billed by tokens; `tokens_per_image` is a high-quality 1024x1024
    picture's output tokens, for estimates only."""
    return Price(
        input=input,
        image_input=image_input,
        cached_input=cached,
        output=output,
        image_output_tokens=tokens_per_image,
    )


FREE = Price()

_DALL_E_3 = Price(
    images=MappingProxyType(
        {
            "standard 1024x1024": 0.040,
            "standard 1024x1792": 0.080,
            "standard 1792x1024": 0.080,
            "hd 1024x1024": 0.080,
            "hd 1024x1792": 0.120,
            "hd 1792x1024": 0.120,
        }
    )
)
_DALL_E_2 = Price(
    images=MappingProxyType(
        {"standard 256x256": 0.016, "standard 512x512": 0.018, "standard 1024x1024": 0.020}
    )
)

_GPT_5_6_SOL = _tokens(
    5.00, 30.00, 0.50, cache_write=6.25, long=_tokens(10.00, 45.00, 1.00, cache_write=12.50)
)

OPENAI_PRICES: Mapping[str, Price] = MappingProxyType(
    {
        # GPT-6 family, 2026-11-30. Cache writes are OpenAI's 30-minute rate (1.25x input);
        # its 12-hour writes cost 2x input, and usage does not tell them apart, so they are
        # billed at the 30-minute rate — less than OpenAI charges. Long prompts: `_gpt_6`.
        # - gpt-6.2-sol: its model page (developers.openai.com/api/docs/models/gpt-6.2-sol);
        # - gpt-6.1-terra: OpenAI's models page ($1 / $5), cached input, cache writes and long
        #   rates as LiteLLM's launch post (docs.litellm.ai/blog/gpt-6-1-terra) and apidog.com
        #   quote its model page;
        # - gpt-6.1-sol: OpenAI's models page ($2 / $10), the rest from its model page as
        #   amine123max/Codex-Manager 0.4.7 and KZCFG/AILSA-SubSwitch 1.0.0(g) quote it;
        # - gpt-6-sol, gpt-6-luna: their model pages (read 2026-10-01) as quoted in LiteLLM's
        #   launch post, discussion #42523 and merefield/codexometer v0.18.4;
        # - gpt-6-astra: OpenAI's models page ($10 / $50), cache rates and long rates from
        #   LiteLLM discussion #39633 and prefect12/codex-token-meter 0.2.22.
        "gpt-6.2-sol": _gpt_6(2.00, 0.10, 2.50, 10.00),
        "gpt-6.1-terra": _gpt_6(1.00, 0.05, 1.25, 5.00),
        "gpt-6.1-sol": _gpt_6(2.00, 0.10, 2.50, 10.00),
        "gpt-6-astra": _gpt_6(10.00, 1.00, 12.50, 50.00),
        "gpt-6-sol": _gpt_6(2.00, 0.20, 2.50, 10.00),
        "gpt-6-luna": _gpt_6(0.10, 0.01, 0.125, 0.50),
        # GPT-5 family (sources above, 2026-08-21; gpt-5.6-terra and -luna as OpenAI's models
        # page lists them on 2026-11-30; for gpt-5.6-sol see the module docstring)
        "gpt-5": _tokens(1.25, 10.00, 0.125),
        "gpt-5-chat-latest": _tokens(1.25, 10.00, 0.125),
        "gpt-5-codex": _tokens(1.25, 10.00, 0.125),
        "gpt-5-mini": _tokens(0.25, 2.00, 0.025),
        "gpt-5-nano": _tokens(0.05, 0.40, 0.005),
        "gpt-5-pro": _tokens(15.00, 120.00),
        "gpt-5.1": _tokens(1.25, 10.00, 0.125),
        "gpt-5.1-chat-latest": _tokens(1.25, 10.00, 0.125),
        "gpt-5.1-codex": _tokens(1.25, 10.00, 0.125),
        "gpt-5.1-codex-mini": _tokens(0.25, 2.00, 0.025),
        "gpt-5.2": _tokens(1.75, 14.00, 0.175),
        "gpt-5.2-chat-latest": _tokens(1.75, 14.00, 0.175),
        "gpt-5.2-codex": _tokens(1.75, 14.00, 0.175),
        "gpt-5.2-pro": _tokens(21.00, 168.00),
        "gpt-5.3-chat-latest": _tokens(1.75, 14.00, 0.175),
        "gpt-5.3-codex": _tokens(1.75, 14.00, 0.175),
        "gpt-5.4": _tokens(2.50, 15.00, 0.25, long=_tokens(5.00, 22.50, 0.50)),
        "gpt-5.4-mini": _tokens(0.75, 4.50, 0.075),
        "gpt-5.4-nano": _tokens(0.20, 1.25, 0.02),
        "gpt-5.4-pro": _tokens(30.00, 180.00, long=_tokens(60.00, 270.00)),
        "gpt-5.5": _tokens(5.00, 30.00, 0.50),
        "gpt-5.5-pro": _tokens(30.00, 180.00),
        "gpt-5.6": _GPT_5_6_SOL,
        "gpt-5.6-sol": _GPT_5_6_SOL,
        "gpt-5.6-terra": _tokens(
            2.00, 12.00, 0.20, cache_write=2.50, long=_tokens(4.00, 18.00, 0.40, cache_write=5.00)
        ),
        "gpt-5.6-luna": _tokens(
            0.20, 1.20, 0.02, cache_write=0.25, long=_tokens(0.40, 1.80, 0.04, cache_write=0.50)
        ),
        # GPT-4.1 and GPT-4o families
        "gpt-4.1": _tokens(2.00, 8.00, 0.50),
        "gpt-4.1-mini": _tokens(0.40, 1.60, 0.10),
        "gpt-4.1-nano": _tokens(0.10, 0.40, 0.025),
        "gpt-4o": _tokens(2.50, 10.00, 1.25),
        "gpt-4o-2024-05-13": _tokens(5.00, 15.00),
        "chatgpt-4o-latest": _tokens(5.00, 15.00),
        "gpt-4o-mini": _tokens(0.15, 0.60, 0.075),
        # reasoning models
        "o1": _tokens(15.00, 60.00, 7.50),
        "o1-preview": _tokens(15.00, 60.00, 7.50),
        "o1-mini": _tokens(1.10, 4.40, 0.55),
        "o1-pro": _tokens(150.00, 600.00),
        "o3": _tokens(2.00, 8.00, 0.50),
        "o3-mini": _tokens(1.10, 4.40, 0.55),
        "o3-pro": _tokens(20.00, 80.00),
        "o3-deep-research": _tokens(10.00, 40.00, 2.50),
        "o4-mini": _tokens(1.10, 4.40, 0.275),
        "o4-mini-deep-research": _tokens(2.00, 8.00, 0.50),
        # older chat models
        "gpt-4-turbo": _tokens(10.00, 30.00),
        "gpt-4-turbo-preview": _tokens(10.00, 30.00),
        "gpt-4-0125-preview": _tokens(10.00, 30.00),
        "gpt-4-1106-preview": _tokens(10.00, 30.00),
        "gpt-4": _tokens(30.00, 60.00),
        "gpt-4-32k": _tokens(60.00, 120.00),
        "gpt-3.5-turbo": _tokens(0.50, 1.50),
        "gpt-3.5-turbo-0613": _tokens(1.50, 2.00),
        "gpt-3.5-turbo-1106": _tokens(1.00, 2.00),
        "gpt-3.5-turbo-16k": _tokens(3.00, 4.00),
        "gpt-3.5-turbo-instruct": _tokens(1.50, 2.00),
        # embeddings
        "text-embedding-3-small": _tokens(0.02, 0.0),
        "text-embedding-3-large": _tokens(0.13, 0.0),
        "text-embedding-ada-002": _tokens(0.10, 0.0),
        # images
        "gpt-image-1": _image_model(5.00, 10.00, 1.25, 40.00, 4160),
        "gpt-image-1-mini": _image_model(2.00, 2.50, 0.20, 8.00, 4160),
        "gpt-image-1.5": _image_model(5.00, 8.00, 1.25, 32.00, 4160),
        "gpt-image-2": _image_model(5.00, 8.00, 1.25, 30.00, 4160),
        "dall-e-3": _DALL_E_3,
        "dall-e-2": _DALL_E_2,
        # speech and transcription
        "tts-1": Price(characters=15.00),
        "tts-1-hd": Price(characters=30.00),
        "gpt-4o-mini-tts": _tokens(0.60, 12.00),
        "whisper-1": Price(audio_minute=0.006),
        "gpt-4o-transcribe": Price(input=2.50, audio_input=6.00, output=10.00),
        "gpt-4o-transcribe-diarize": Price(input=2.50, audio_input=6.00, output=10.00),
        "gpt-4o-mini-transcribe": Price(input=1.25, audio_input=3.00, output=5.00),
        # moderations
        "omni-moderation-latest": FREE,
        "omni-moderation-2024-09-26": FREE,
        "text-moderation-latest": FREE,
        "text-moderation-stable": FREE,
        "text-moderation-007": FREE,
    }
)
