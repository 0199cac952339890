"""The sketch renderer draws everyday prompts as real things, English and German alike."""

from __future__ import annotations

import pytest

from aiport.backends.local.sketch.describe import SIGNATURE, describe_scene
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.render import RenderJob, render_image
from tests.support.sketch_coverage import EVERYDAY, prompts, score

ISSUE_PROMPTS = [
    ("a cat sitting on a sofa", {"cat", "sofa"}),
    ("a bowl of fruit", {"bowl", "red-apple"}),
    ("a portrait of a woman with red hair", {"woman-red-hair"}),
    ("a car on a highway at night", {"automobile"}),
    (
        "three red apples on a wooden table next to a blue cup",
        {"red-apple", "table", "hot-beverage"},
    ),
    ("Ein futuristischer Roboter in einer Cyberpunk-Stadt", {"robot", "city"}),
]


def test_the_prompt_set_is_big_and_half_german() -> None:
    texts = [text for text, _ in prompts()]
    german = [t for t in texts if _german(t)]
    assert len(texts) >= 300 and 0.4 <= len(german) / len(texts) <= 0.6


def _german(text: str) -> bool:
    hints = ("ein", "eine", "einem", "einer", "der", "die", "das", "im", "mit", "und", "auf")
    return any(f" {word} " in f" {text.lower()} " for word in hints)


def test_at_least_95_percent_of_nouns_are_drawn_as_real_things() -> None:
    result = score()
    missed = [f"{n.word} ({n.prompt})" for n in result.nouns if not n.real]
    assert result.share("real") >= 0.95, missed


def test_the_everyday_set_is_new_and_drawn_right() -> None:
    """Prompts as people type them, with counts, colours and positions, a third German."""
    texts = [text for text, _ in prompts(EVERYDAY)]
    assert len(texts) >= 150 and not set(texts) & {text for text, _ in prompts()}
    assert 0.25 <= sum(map(_german, texts)) / len(texts) <= 0.45
    result = score(EVERYDAY)
    wrong = [f"{n.word} ({n.prompt})" for n in result.nouns if not n.right]
    assert result.share("real") >= 0.95 and result.share("right") >= 0.93, wrong


@pytest.mark.parametrize(("prompt", "kinds"), ISSUE_PROMPTS)
def test_the_issues_prompts_draw_real_things(prompt: str, kinds: set[str]) -> None:
    scene = parse_scene(prompt)
    drawn = {obj.kind for obj in scene.objects}
    assert kinds <= drawn and "unknown" not in drawn, scene.objects
    text = describe_scene(scene)
    assert "placeholder" not in text and text.endswith(f"{SIGNATURE}.")


def test_settings_framing_and_variants() -> None:
    assert parse_scene("a cat sitting on a sofa").place == "room"
    assert parse_scene("a car on a highway at night").place == "road"
    portrait = parse_scene("Porträt eines Mannes mit weißen Haaren")
    assert portrait.framing == "portrait" and portrait.objects[0].kind == "man-white-hair"
    assert parse_scene("a green apple").objects[0].kind == "green-apple"
    bowl, fruit = parse_scene("eine Obstschale").objects
    assert (bowl.kind, fruit.relation, fruit.target) == ("bowl", "in", 0)
    assert len({fruit.kind_of(k) for k in range(fruit.count)}) == fruit.count


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("Äpfel", "red-apple"),
        ("cherries", "cherries"),
        ("Häusern", "house"),
        ("knives", "kitchen-knife"),
        ("Kerzen", "candle"),
        ("mice", "mouse"),
    ],
)
def test_plurals_and_cases_find_the_thing(word: str, kind: str) -> None:
    obj = parse_scene(f"viele {word}" if word[0].isupper() else f"some {word}").objects[0]
    assert obj.kind == kind


def test_a_tinted_thing_takes_the_asked_colour() -> None:
    import numpy as np

    def blue_share(prompt: str) -> float:
        job = RenderJob(prompt=prompt, width=256, height=256, transparent=True)
        rgba = np.asarray(render_image(parse_scene(prompt), job)).astype(int)
        r, g, b, alpha = (rgba[..., k] for k in range(4))
        blue = (b > 150) & (b > r * 1.8) & (b > g * 1.3) & (alpha > 200)
        return float(blue.sum() / max(1, (alpha > 200).sum()))

    assert blue_share("a blue cat") > 10 * max(blue_share("a cat"), 0.001)
