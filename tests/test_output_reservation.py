"""What a request without an output limit reserves, per backend that may serve it: budgets
the most it may produce, tpm what it is sent or a typical answer (`api.dispatch.route`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiport.api.dispatch import _without_limit
from aiport.backends.anthropic import AnthropicBackend
from aiport.backends.local.chat import LlamaChatBackend
from aiport.backends.upstream import UpstreamBackend
from aiport.metering import Estimate, completion_estimate, without_limit
from aiport.settings import ProviderConfig
from aiport.store.output_limits import UNKNOWN_MAX_OUTPUT, max_output_tokens

OPENAI = UpstreamBackend("openai", ProviderConfig(base_url="http://127.0.0.1:9/v1"))
CLAUDE = AnthropicBackend("anthropic", ProviderConfig(base_url="http://127.0.0.1:9/v1"))
LOCAL = LlamaChatBackend(n_ctx=4096)


def member(backend: Any, model: str) -> Any:
    """A deployment as `_without_limit` reads it: its backend and model name."""
    return SimpleNamespace(backend=backend, model=model)


def unlimited(n: int = 1) -> Estimate:
    """A chat request's estimate without max_tokens, 100 prompt tokens, `n` choices."""
    return Estimate(
        prompt_tokens=100,
        output_tokens=completion_estimate(None, n),
        outputs_without_limit=without_limit(None, n),
    )


def test_published_maximums_match_names_and_their_snapshots() -> None:
    assert max_output_tokens("gpt-5") == 128_000
    assert max_output_tokens("gpt-5-2025-08-07") == 128_000
    assert max_output_tokens("o4-mini") == 100_000
    assert max_output_tokens("gpt-4o-mini") == 16_384
    assert max_output_tokens("gpt-4o-2024-05-13") == 4_096  # its own entry, not gpt-4o's
    assert max_output_tokens("my-vllm-llama") == UNKNOWN_MAX_OUTPUT


def test_budgets_reserve_the_most_tpm_counts_what_is_sent() -> None:
    gpt_5 = _without_limit(unlimited(n=2), [member(OPENAI, "gpt-5")])
    assert gpt_5.tokens == 100 + 2 * 128_000
    assert gpt_5.rate_tokens == 100 + 2 * 1024
    claude = _without_limit(unlimited(), [member(CLAUDE, "claude-sonnet-4-5")])
    assert (claude.tokens, claude.rate_tokens) == (100 + 4096, 100 + 4096)
    local = _without_limit(unlimited(), [member(LOCAL, "smollm2-135m-instruct")])
    assert (local.tokens, local.rate_tokens) == (100 + 4096, 100 + 1024)  # its n_ctx
    # A group reserves for the most of those that may serve it.
    group = [member(CLAUDE, "claude-sonnet-4-5"), member(OPENAI, "gpt-4o")]
    mixed = _without_limit(unlimited(), group)
    assert (mixed.tokens, mixed.rate_tokens) == (100 + 16_384, 100 + 4096)


def test_a_request_with_a_limit_reserves_it() -> None:
    limited = Estimate(prompt_tokens=100, output_tokens=completion_estimate(500, 1))
    assert limited.rate_tokens == limited.tokens == 600
