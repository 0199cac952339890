"""Costs from the price table: defaults, dated snapshots, config overrides."""

from __future__ import annotations

import pytest

from aiport.backends.base import Usage
from aiport.store.pricing import Price, PriceTable, cost


def test_default_prices_for_the_seeds_models() -> None:
    assert cost("gpt-4o", Usage(prompt_tokens=1_000_000, completion_tokens=100_000)) == (
        pytest.approx(2.50 + 1.00)
    )
    assert cost("gpt-4o-mini", Usage(prompt_tokens=1_000_000)) == pytest.approx(0.15)
    assert cost("text-embedding-3-small", Usage(prompt_tokens=500_000)) == pytest.approx(0.01)
    assert cost("whisper-1", Usage(audio_seconds=90)) == pytest.approx(0.009)
    assert cost("tts-1", Usage(characters=2_000)) == pytest.approx(0.03)
    assert cost("dall-e-3", Usage(images=2)) == pytest.approx(0.08)
    assert cost("text-moderation-007", Usage(prompt_tokens=10**6)) == 0.0


def test_dated_snapshots_are_priced_as_their_family() -> None:
    table = PriceTable()
    assert table.price("gpt-4o-2024-08-06") == table.price("gpt-4o")
    assert table.price("gpt-4o-mini-2024-07-18") == table.price("gpt-4o-mini")
    assert table.price("gpt-4-0613") == table.price("gpt-4")
    assert table.price("gpt-4omega") is None  # a family match needs the dash
    assert table.cost("smollm2-135m", Usage(prompt_tokens=10**9)) == 0.0


def test_config_overrides_merge_with_defaults() -> None:
    table = PriceTable(
        {
            "gpt-4o": {"output": 12},
            "my-model": {"input": 1, "output_per_million": 2},
            "fixed": Price(per_image=0.5),
        }
    )
    assert table.price("gpt-4o") == Price(2.50, 12.0)
    assert table.cost("my-model", Usage(prompt_tokens=10**6, completion_tokens=10**6)) == 3.0
    assert table.estimate("my-model", 500_000, 1000) == pytest.approx(0.502)
    assert table.cost("fixed", Usage(images=3)) == 1.5


@pytest.mark.parametrize("spec", [{"inptu": 1.0}, {"input": -1.0}, {"input": True}])
def test_bad_price_config_is_refused(spec: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="my-model"):
        PriceTable({"my-model": spec})
