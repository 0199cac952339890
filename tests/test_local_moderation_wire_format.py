"""The embedded moderation model answers with OpenAI's moderation object, one result per input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiport.backends.base import Call
from aiport.backends.local.moderation import MODEL_ID, ModerationBackend, split_pieces
from aiport.errors import InvalidRequest
from aiport.protocol.moderations import CATEGORIES, ModerationRequest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[ModerationBackend]:
    backend = ModerationBackend()
    await backend.start()
    yield backend
    await backend.close()


def call(body: dict[str, Any]) -> Call:
    return Call.from_body(ModerationRequest, body, MODEL_ID, public_model="omni-moderation-latest")


async def test_every_result_has_all_13_categories(backend: ModerationBackend) -> None:
    answer = await backend.moderate(call({"input": "I will find you and hurt you."}))
    data = answer.data
    assert data["id"].startswith("modr-")
    assert data["model"] == "omni-moderation-latest"
    (result,) = data["results"]
    assert isinstance(result["flagged"], bool)
    for key in ("categories", "category_scores", "category_applied_input_types"):
        assert list(result[key]) == list(CATEGORIES)
    assert all(isinstance(v, bool) for v in result["categories"].values())
    assert all(0.0 <= v <= 1.0 for v in result["category_scores"].values())
    assert all(v == ["text"] for v in result["category_applied_input_types"].values())
    assert result["flagged"] == any(result["categories"].values())
    assert answer.usage.prompt_tokens > 0


async def test_a_list_gives_one_result_per_input_in_order(backend: ModerationBackend) -> None:
    texts = ["Have a lovely day!", "I'm going to kill you tonight.", "", "Wie spät ist es?"]
    results = (await backend.moderate(call({"input": texts}))).data["results"]
    assert len(results) == 4
    assert [r["flagged"] for r in results] == [False, True, False, False]
    assert all(v == 0.0 for v in results[2]["category_scores"].values())


async def test_multimodal_text_parts_are_judged_together(backend: ModerationBackend) -> None:
    parts = [
        {"type": "text", "text": "Look at this picture."},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "text", "text": "I want to kill myself."},
    ]
    (result,) = (await backend.moderate(call({"input": parts}))).data["results"]
    assert result["categories"]["self-harm"]


async def test_image_only_input_is_refused(backend: ModerationBackend) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    with pytest.raises(InvalidRequest) as caught:
        await backend.moderate(call({"input": [image]}))
    assert caught.value.param == "input"


async def test_one_harmful_sentence_in_a_long_text_is_found(backend: ModerationBackend) -> None:
    filler = "The quarterly report shows steady growth in every region and the team is happy. "
    harmful = "The guards dragged the prisoners out and beat them with iron bars until they died. "
    text = filler * 12 + harmful + filler * 12
    (result,) = (await backend.moderate(call({"input": text}))).data["results"]
    assert result["categories"]["violence"]


def test_long_text_is_split_into_bounded_pieces() -> None:
    text = "A short sentence here. " * 2000 + "x" * 1000
    pieces = split_pieces(text)
    assert 1 < len(pieces) <= 64
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert split_pieces("   ") == []
    assert split_pieces("Hi. How are you? Fine.") == ["Hi. How are you? Fine."]
    assert (
        len(
            split_pieces("This is a perfectly ordinary sentence about the weather in Hamburg. " * 3)
        )
        == 3
    )


def test_model_card_and_status(backend: ModerationBackend) -> None:
    (card,) = backend.models()
    assert card.id == MODEL_ID
    assert card.capabilities == ("moderations",)
    assert backend.status() == {"model": MODEL_ID, "loaded": True, "busy": 0}
