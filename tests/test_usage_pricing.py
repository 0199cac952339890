"""Costs from the price table: today's OpenAI models, dated snapshots (never a bare
prefix), cached and long prompts, pictures by quality and size, and config overrides."""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest
import yaml

from aiport.accounts import ModelPriceUnknown
from aiport.backends.base import Usage
from aiport.store.price import Price
from aiport.store.pricing import PriceTable, cost

M = 1_000_000


def test_default_prices_for_the_seeds_models() -> None:
    assert cost("gpt-4o", Usage(prompt_tokens=M, completion_tokens=M // 10)) == (
        pytest.approx(2.50 + 1.00)
    )
    assert cost("gpt-4o-mini", Usage(prompt_tokens=M)) == pytest.approx(0.15)
    assert cost("text-embedding-3-small", Usage(prompt_tokens=500_000)) == pytest.approx(0.01)
    assert cost("whisper-1", Usage(audio_seconds=90)) == pytest.approx(0.009)
    assert cost("tts-1", Usage(characters=2_000)) == pytest.approx(0.03)
    assert cost("tts-1-hd", Usage(characters=2_000)) == pytest.approx(0.06)
    assert cost("text-moderation-007", Usage(prompt_tokens=10**6)) == 0.0
    assert cost("omni-moderation-latest", Usage(prompt_tokens=10**6)) == 0.0


@pytest.mark.parametrize(
    ("model", "input_rate", "output_rate"),
    [
        ("gpt-5", 1.25, 10.00),
        ("gpt-5-mini", 0.25, 2.00),
        ("gpt-5-nano", 0.05, 0.40),
        ("gpt-5-pro", 15.00, 120.00),
        ("gpt-5.5", 5.00, 30.00),
        ("gpt-4.1", 2.00, 8.00),
        ("gpt-4.1-mini", 0.40, 1.60),
        ("gpt-4.1-nano", 0.10, 0.40),
        ("o1", 15.00, 60.00),
        ("o1-pro", 150.00, 600.00),
        ("o3", 2.00, 8.00),
        ("o3-pro", 20.00, 80.00),
        ("o4-mini", 1.10, 4.40),
        ("gpt-4o", 2.50, 10.00),
        ("gpt-4o-mini", 0.15, 0.60),
        ("gpt-4o-2024-05-13", 5.00, 15.00),  # a snapshot with a price of its own
        ("gpt-4o-mini-tts", 0.60, 12.00),
        ("text-embedding-3-large", 0.13, 0.0),
        ("text-embedding-ada-002", 0.10, 0.0),
    ],
)
def test_todays_openai_models_have_their_list_price(
    model: str, input_rate: float, output_rate: float
) -> None:
    usage = Usage(prompt_tokens=M, completion_tokens=M)
    assert cost(model, usage) == pytest.approx(input_rate + output_rate)


def test_dated_snapshots_are_priced_as_their_family_and_prefixes_never() -> None:
    table = PriceTable()
    assert table.price("gpt-4o-2024-08-06") == table.price("gpt-4o")
    assert table.price("gpt-4o-mini-2024-07-18") == table.price("gpt-4o-mini")
    assert table.price("gpt-5-2025-08-07") == table.price("gpt-5")
    assert table.price("o1-pro-2025-03-19") == table.price("o1-pro")
    assert table.price("gpt-4-0613") == table.price("gpt-4")
    # A longer name is another model, not a snapshot: no price rather than the wrong one.
    assert table.price("o1-pro") != table.price("o1")
    assert table.price("gpt-4omega") is None
    assert table.price("gpt-4o-mini-realtime-preview") is None
    assert table.price("gpt-4o-audio") is None
    assert table.price("o3-mini-high") is None
    assert table.price("smollm2-135m") is None
    assert table.cost("smollm2-135m", Usage(prompt_tokens=10**9)) == 0.0


def test_cached_and_long_prompts_are_billed_at_their_own_rates() -> None:
    # gpt-5: 1.25 input, 0.125 cached input, 10 output.
    usage = Usage(prompt_tokens=M, cached_tokens=M // 2, completion_tokens=0)
    assert cost("gpt-5", usage) == pytest.approx(0.625 + 0.0625)
    # A cached count larger than the prompt is capped by it.
    assert cost("gpt-5", Usage(prompt_tokens=100, cached_tokens=10**6)) == pytest.approx(
        100 * 0.125 / M
    )
    # gpt-5.4: 2.50 / 15 below 272k prompt tokens, 5 / 22.50 for the whole request above.
    short = Usage(prompt_tokens=271_999, completion_tokens=1000)
    long = Usage(prompt_tokens=272_000, completion_tokens=1000)
    assert cost("gpt-5.4", short) == pytest.approx((271_999 * 2.5 + 1000 * 15) / M)
    assert cost("gpt-5.4", long) == pytest.approx((272_000 * 5 + 1000 * 22.5) / M)
    # Transcription by tokens: audio input tokens have their own rate.
    transcribed = Usage(prompt_tokens=1000, audio_tokens=900, completion_tokens=100)
    assert cost("gpt-4o-transcribe", transcribed) == pytest.approx(
        (100 * 2.5 + 900 * 6 + 100 * 10) / M
    )


def test_usage_is_read_from_every_openai_shape() -> None:
    chat = Usage.from_openai(
        {
            "prompt_tokens": 50,
            "completion_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 40, "audio_tokens": 0},
        }
    )
    assert (chat.prompt_tokens, chat.completion_tokens, chat.cached_tokens) == (50, 7, 40)
    image = Usage.from_openai(
        {
            "input_tokens": 60,
            "output_tokens": 4160,
            "input_tokens_details": {"text_tokens": 10, "image_tokens": 50},
        }
    )
    assert (image.prompt_tokens, image.image_tokens, image.completion_tokens) == (60, 50, 4160)
    assert Usage.from_openai({"type": "duration", "seconds": 3}).audio_seconds == 3.0
    assert Usage.from_openai({"prompt_tokens": -5, "completion_tokens": True}) == Usage()
    assert Usage.from_openai("nonsense") == Usage()


def test_pictures_are_priced_by_quality_and_size_or_by_tokens() -> None:
    table = PriceTable()
    dall_e_3 = table.price("dall-e-3")
    assert dall_e_3 is not None
    assert dall_e_3.cost(Usage(images=1), "standard 1024x1024") == pytest.approx(0.04)
    assert dall_e_3.cost(Usage(images=1), "standard 1792x1024") == pytest.approx(0.08)
    assert dall_e_3.cost(Usage(images=2), "hd 1024x1792") == pytest.approx(0.24)
    assert dall_e_3.cost(Usage(images=1), "standard auto") == pytest.approx(0.04)
    dall_e_2 = table.price("dall-e-2")
    assert dall_e_2 is not None
    assert dall_e_2.cost(Usage(images=3), "standard 256x256") == pytest.approx(0.048)
    assert dall_e_2.cost(Usage(images=1), "standard 512x512") == pytest.approx(0.018)
    # GPT Image models bill the tokens the upstream reports, not a price per picture ...
    gpt_image = table.price("gpt-image-1")
    assert gpt_image is not None
    used = Usage(prompt_tokens=20, completion_tokens=4160, images=1)
    assert gpt_image.cost(used, "high 1024x1024") == pytest.approx((20 * 5 + 4160 * 40) / M)
    # ... and are estimated before they run from the tokens a picture takes.
    assert gpt_image.estimate(20, images=1, image_variant="high 1024x1024") == pytest.approx(
        (20 * 5 + 4160 * 40) / M
    )
    assert gpt_image.estimate(images=1, image_variant="low 1024x1024") == pytest.approx(
        272 * 40 / M
    )
    assert table.price("gpt-image-2") is not None


def test_a_transcription_is_estimated_from_its_length_by_minute_or_by_tokens() -> None:
    """A token-priced transcription was estimated at its prompt only (about $0): a budget
    key could overrun by a whole transcription."""
    table = PriceTable()
    whisper, gpt_4o, mini = (
        table.price(name) for name in ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
    )
    assert whisper is not None and gpt_4o is not None and mini is not None
    assert whisper.estimate(audio_seconds=90) == pytest.approx(0.009)
    # A minute: 600 audio tokens in (10 a second), 300 transcript tokens out (5 a second).
    assert gpt_4o.estimate(audio_seconds=60) == pytest.approx((600 * 6 + 300 * 10) / M)
    assert mini.estimate(audio_seconds=60) == pytest.approx((600 * 3 + 300 * 5) / M)
    # A text prompt is billed at the text rate; a fraction of a second rounds up.
    assert gpt_4o.estimate(40, audio_seconds=0.05) == pytest.approx((40 * 2.5 + 6 + 10) / M)


def test_what_each_price_can_meter() -> None:
    table = PriceTable()

    def meters(model: str, meter: str) -> bool:
        price = table.price(model)
        can = price is not None and price.meters(meter)
        assert (table.price_for(model, meter) is not None) == can  # and remembered so
        assert (table.price_for(model, meter) is not None) == can
        return can

    assert meters("gpt-4o", "tokens") and meters("omni-moderation-latest", "tokens")
    assert meters("tts-1", "characters") and not meters("gpt-4o-mini-tts", "characters")
    assert meters("whisper-1", "audio") and meters("gpt-4o-transcribe", "audio")
    assert meters("dall-e-3", "images") and meters("gpt-image-1", "images")
    assert table.price("omni-moderation-latest") == Price()


def test_config_overrides_merge_with_defaults() -> None:
    table = PriceTable(
        {
            "gpt-4o": {"output": 12},
            "my-model": {"input": 1, "output_per_million": 2},
            "my-free-model": {},
            "fixed": Price(images={"": 0.5}),
            "dall-e-3": {"image hd 1024x1024": 0.1},
        }
    )
    gpt_4o = table.price("gpt-4o")
    assert gpt_4o is not None and (gpt_4o.input, gpt_4o.output) == (2.50, 12.0)
    assert table.cost("my-model", Usage(prompt_tokens=M, completion_tokens=M)) == 3.0
    my_model = table.price("my-model")
    assert my_model is not None
    assert my_model.estimate(500_000, 1000) == pytest.approx(0.502)
    assert table.price("my-free-model") == Price()
    assert table.cost("fixed", Usage(images=3), "standard 1024x1024") == 1.5
    assert table.cost("dall-e-3", Usage(images=1), "hd 1024x1024") == pytest.approx(0.1)
    assert table.cost("dall-e-3", Usage(images=1), "standard 1024x1024") == pytest.approx(0.04)


def test_a_price_knows_once_whether_it_is_free() -> None:
    """`free` is worked out when a price is made (every request asks it), so it must follow
    every way a price is made: the table's merges of config into defaults included."""
    assert Price().free and not Price(input=1).free and not Price(audio_minute=0.006).free
    assert not Price(images=MappingProxyType({"standard 1024x1024": 0.04})).free
    assert Price(images=MappingProxyType({"": 0.0})).free
    table = PriceTable({"nothing": {}, "gpt-4o": {"output": 12}, "mine": {"characters": 15}})
    free = {name: table.price(name).free for name in ("nothing", "gpt-4o", "mine")}  # type: ignore[union-attr]
    assert free == {"nothing": True, "gpt-4o": False, "mine": False}
    with pytest.raises(ValueError, match="mine"):
        PriceTable({"mine": {"free": True}})  # not a price field anyone can set


@pytest.mark.parametrize(
    "spec", [{"inptu": 1.0}, {"input": -1.0}, {"input": True}, {"input": float("inf")}]
)
def test_bad_price_config_is_refused(spec: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="my-model"):
        PriceTable({"my-model": spec})


@pytest.mark.parametrize("meter", ["tokens", "images", "characters", "audio"])
def test_the_price_unknown_message_shows_a_price_that_fixes_it(meter: str) -> None:
    """The operator copies the refusal's example under `prices:`: then the model can be
    billed in the unit it was refused for (gpt-4o-mini-tts on /audio/speech: characters;
    a token price, the only example before, left it refused)."""
    message = ModelPriceUnknown("my-model", meter).message
    found = re.search(r"`prices: ([^`]*)`", message)
    assert found is not None, message
    prices = yaml.safe_load(found.group(1))
    assert PriceTable(prices).price_for("my-model", meter) is not None, message
