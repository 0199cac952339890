"""OpenAI's GPT-6 models at their list prices on 2026-11-30 (sources beside the table in
`aiport.store.price_list`): what a request's usage costs for known token counts, below and
above the 272K-token long-context line."""

from __future__ import annotations

import pytest

from aiport.backends.base import Usage
from aiport.store.pricing import PriceTable

M = 1_000_000


def _usage(fresh: int, read: int, written: int, output: int) -> Usage:
    return Usage(
        prompt_tokens=fresh + read + written,
        cached_tokens=read,
        cache_write_tokens=written,
        completion_tokens=output,
    )


def _dollars(counts: tuple[int, int, int, int], rates: tuple[float, ...]) -> float:
    return sum(n * r for n, r in zip(counts, rates, strict=True)) / M


# (model, (input, cached input, cache write, output)); above 272K input tokens the whole
# request pays 2x input and cache rates and 1.5x output.
@pytest.mark.parametrize(
    ("model", "rates"),
    [
        ("gpt-6-astra", (10.00, 1.00, 12.50, 50.00)),
        ("gpt-6-sol", (2.00, 0.20, 2.50, 10.00)),
        ("gpt-6-luna", (0.10, 0.01, 0.125, 0.50)),
        ("gpt-6.1-sol", (2.00, 0.10, 2.50, 10.00)),
        ("gpt-6.1-sol-2026-09-29", (2.00, 0.10, 2.50, 10.00)),
        ("gpt-6.1-terra", (1.00, 0.05, 1.25, 5.00)),
        ("gpt-6.2-sol", (2.00, 0.10, 2.50, 10.00)),
    ],
)
def test_a_gpt_6_request_costs_its_published_rates(
    model: str, rates: tuple[float, float, float, float]
) -> None:
    table = PriceTable()
    short = (200_000, 50_000, 22_000, 10_000)  # 272,000 prompt tokens: still short
    assert table.cost(model, _usage(*short)) == pytest.approx(_dollars(short, rates))
    long = (200_001, 50_000, 22_000, 10_000)
    doubled = (rates[0] * 2, rates[1] * 2, rates[2] * 2, rates[3] * 1.5)
    assert table.cost(model, _usage(*long)) == pytest.approx(_dollars(long, doubled))


def test_gpt_6_2_astra_stays_unpriced_until_its_cache_write_rate_is_confirmed() -> None:
    assert PriceTable().price("gpt-6.2-astra") is None
