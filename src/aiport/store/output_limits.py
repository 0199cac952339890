"""The most output tokens a model may produce for one choice of a request that sets no
limit: what a key's budgets reserve for it (`api.dispatch.route`).

An OpenAI upstream sent no `max_tokens` / `max_completion_tokens` / `max_output_tokens`
answers with up to the model's own maximum; reasoning models (o-series, gpt-5) routinely
use many thousands of tokens. Reserving a typical answer instead let a budget be overspent
by the rest, which was only billed afterwards.

Sources, as of 2026-11-30: OpenAI's model pages (developers.openai.com/api/docs/models), as
quoted by the model catalogues of Vercel's AI Gateway, Helicone and Box (gpt-5 family
128,000; gpt-5-pro 272,000; gpt-5.4 128,000; gpt-5.5 272,000 where sources differ, the
larger; o3 / o4-mini 100,000), and the figures those pages have given since the models'
release for the older ones (gpt-4o 16,384, gpt-4.1 32,768, o1 100,000, o1-mini 65,536,
gpt-4-turbo 4,096, gpt-4 8,192, gpt-3.5-turbo 4,096). A name matches exactly or as a dated
snapshot, like a price.

Every other model (gpt-5.6, an OpenAI-compatible server's own models, anything new)
reserves `UNKNOWN_MAX_OUTPUT`, 128,000 tokens — the maximum of OpenAI's mainline gpt-5
models, so a new one is not under-reserved by much; a request sets `max_tokens` to
reserve less. An `anthropic` provider's requests reserve the `default_max_tokens` it sends,
and an embedded engine its own bound (`Backend.most_output`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiport.store.pricing import undated

UNKNOWN_MAX_OUTPUT = 128_000

_GPT_5 = 128_000
_CHAT_LATEST = 16_384  # the gpt-5*-chat-latest models (ChatGPT's non-reasoning snapshots)
_O_SERIES = 100_000

MAX_OUTPUT_TOKENS: Mapping[str, int] = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "gpt-5",
                "gpt-5-codex",
                "gpt-5-mini",
                "gpt-5-nano",
                "gpt-5.1",
                "gpt-5.1-codex",
                "gpt-5.1-codex-mini",
                "gpt-5.2",
                "gpt-5.2-codex",
                "gpt-5.3-codex",
                "gpt-5.4",
                "gpt-5.4-mini",
                "gpt-5.4-nano",
            ),
            _GPT_5,
        ),
        **dict.fromkeys(
            (
                "gpt-5-chat-latest",
                "gpt-5.1-chat-latest",
                "gpt-5.2-chat-latest",
                "gpt-5.3-chat-latest",
            ),
            _CHAT_LATEST,
        ),
        "gpt-5-pro": 272_000,
        "gpt-5.5": 272_000,
        "gpt-4.1": 32_768,
        "gpt-4.1-mini": 32_768,
        "gpt-4.1-nano": 32_768,
        "gpt-4o": 16_384,
        "gpt-4o-2024-05-13": 4_096,
        "chatgpt-4o-latest": 16_384,
        "gpt-4o-mini": 16_384,
        **dict.fromkeys(
            ("o1", "o1-pro", "o3", "o3-mini", "o3-pro", "o4-mini", "o3-deep-research"),
            _O_SERIES,
        ),
        "o4-mini-deep-research": _O_SERIES,
        "o1-preview": 32_768,
        "o1-mini": 65_536,
        "gpt-4-turbo": 4_096,
        "gpt-4-turbo-preview": 4_096,
        "gpt-4-0125-preview": 4_096,
        "gpt-4-1106-preview": 4_096,
        "gpt-4": 8_192,
        "gpt-3.5-turbo": 4_096,
        "gpt-3.5-turbo-1106": 4_096,
        "gpt-3.5-turbo-instruct": 4_096,
    }
)


def max_output_tokens(model: str) -> int:
    """The most output tokens `model` may produce for one choice (see the module doc)."""
    found = MAX_OUTPUT_TOKENS.get(model)
    if found is None:
        found = MAX_OUTPUT_TOKENS.get(undated(model))
    return found if found is not None else UNKNOWN_MAX_OUTPUT
