"""Claude's list prices as Anthropic publishes them on 2026-11-30 (sources beside the table in
`aiport.store.price_list_anthropic`): what a request's usage costs for known token counts."""

from __future__ import annotations

import pytest

from aiport.backends.base import Usage
from aiport.store.pricing import PriceTable

M = 1_000_000


def _usage(fresh: int, read: int, written: int, output: int) -> Usage:
    """A Claude request's usage as aiport records it: cache reads and writes are part of the
    prompt (`translate.chat_anthropic.chat_usage`)."""
    return Usage(
        prompt_tokens=fresh + read + written,
        cached_tokens=read,
        cache_write_tokens=written,
        completion_tokens=output,
    )


# (model, input, cache read, 5-minute cache write, output), USD per 1M tokens.
@pytest.mark.parametrize(
    ("model", "rates"),
    [
        ("claude-sonnet-5", (2.00, 0.20, 2.50, 10.00)),  # was billed at $3 / $15
        ("claude-sonnet-5-20260630", (2.00, 0.20, 2.50, 10.00)),
        ("claude-sonnet-5-5", (2.00, 0.20, 2.50, 10.00)),
        ("claude-opus-5-5", (4.00, 0.20, 5.00, 20.00)),
        ("claude-fable-5-1", (10.00, 0.25, 12.50, 50.00)),
        ("claude-fable-5", (10.00, 1.00, 12.50, 50.00)),
        ("claude-opus-5", (5.00, 0.50, 6.25, 25.00)),
        ("claude-haiku-4-5", (1.00, 0.10, 1.25, 5.00)),
    ],
)
def test_a_claude_request_costs_its_published_rates(
    model: str, rates: tuple[float, float, float, float]
) -> None:
    fresh, read, written, output = 40_000, 30_000, 20_000, 10_000
    expected = sum(n * r for n, r in zip((fresh, read, written, output), rates, strict=True))
    usage = _usage(fresh, read, written, output)
    assert PriceTable().cost(model, usage) == pytest.approx(expected / M)


def test_haiku_5_5_bills_a_prompt_over_100k_tokens_at_its_higher_rates() -> None:
    table = PriceTable()
    # Up to 100,000 prompt tokens (cache reads and writes count): $0.10 input, $0.01 cache
    # reads, $0.125 cache writes, $0.50 output.
    short = _usage(50_000, 30_000, 20_000, 10_000)
    assert table.cost("claude-haiku-5-5", short) == pytest.approx(
        (50_000 * 0.10 + 30_000 * 0.01 + 20_000 * 0.125 + 10_000 * 0.50) / M
    )
    # One token more: the whole request at $0.50, $0.05, $0.625, $2.50.
    long = _usage(50_001, 30_000, 20_000, 10_000)
    assert table.cost("claude-haiku-5-5", long) == pytest.approx(
        (50_001 * 0.50 + 30_000 * 0.05 + 20_000 * 0.625 + 10_000 * 2.50) / M
    )


def test_claude_models_without_a_confirmed_name_stay_unpriced() -> None:
    # Mythos 5 / 5.1 have published prices but no model id confirmed here: not guessed.
    table = PriceTable()
    assert table.price("claude-mythos-5") is None
    assert table.price("claude-mythos-5-1") is None
