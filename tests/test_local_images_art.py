"""The project's own pictures (`sketch/art/aiport/`): found by their names, drawn, licensed."""

from __future__ import annotations

import numpy as np
import pytest

from aiport.backends.local.sketch.art import ART_FILE, OWN_ART, art_set, raster
from aiport.backends.local.sketch.describe import describe_scene
from aiport.backends.local.sketch.reader import parse_scene
from tests.support.sketch_layout import boxes, height

OWN = sorted(path.stem for path in OWN_ART.glob("*.svg"))


def test_every_own_picture_names_its_source_and_licence() -> None:
    licences = (ART_FILE.parent / "LICENSES.txt").read_text()
    assert OWN and all(f"aiport/{name}.svg" in licences for name in OWN)


@pytest.mark.parametrize("name", OWN)
def test_an_own_picture_fills_its_view_box(name: str) -> None:
    alpha = np.asarray(raster(name, 64, 64))[..., 3]
    rows, cols = np.nonzero(alpha > 24)
    assert rows.min() <= 2 and cols.min() <= 2 and rows.max() >= 61 and cols.max() >= 61
    art = art_set()[name]
    assert art.english and art.german and art.group >= 0


@pytest.mark.parametrize(
    ("prompt", "kind", "count"),
    [
        ("a lighthouse", "lighthouse", 1), ("ein Leuchtturm", "lighthouse", 1),
        ("two windmills", "windmill", 2), ("drei Windmühlen", "windmill", 3),
        ("a waterfall", "waterfall", 1), ("ein Wasserfall", "waterfall", 1),
        ("a branch", "branch", 1), ("a twig", "branch", 1), ("ein Ast", "branch", 1),
        ("ein Zweig", "branch", 1), ("zwei Äste", "branch", 2),
        ("a pillow", "pillow", 1), ("a cushion", "pillow", 1), ("ein Kissen", "pillow", 1),
        ("bamboo", "bamboo", 1), ("Bambus", "bamboo", 1),
        ("a sandcastle", "sandcastle", 1), ("eine Sandburg", "sandcastle", 1),
        ("a swing", "swing", 1), ("eine Schaukel", "swing", 1),
        ("a crib", "crib", 1), ("a cradle", "crib", 1), ("ein Kinderbett", "crib", 1),
        ("a cliff", "cliff", 1), ("eine Klippe", "cliff", 1), ("zwei Klippen", "cliff", 2),
        ("a bench", "bench", 1), ("eine Bank", "bench", 1), ("eine Parkbank", "bench", 1),
    ],
)  # fmt: skip
def test_things_the_emoji_set_lacks_are_drawn_in_english_and_german(
    prompt: str, kind: str, count: int
) -> None:
    scene = parse_scene(prompt)  # were placeholders, a house, a nest, a mouth or nothing
    assert [(obj.kind, obj.count) for obj in scene.objects] == [(kind, count)]
    assert "placeholder" not in describe_scene(scene)


@pytest.mark.parametrize(
    ("prompt", "thing", "surface"),
    [("a parrot on a branch", "parrot", "branch"), ("ein Vogel auf einem Ast", "bird", "branch"),
     ("a crown on a pillow", "crown", "pillow"), ("ein Panda frisst Bambus", "panda", "bamboo"),
     ("a goat on a cliff", "goat", "cliff"), ("a child on a swing", "child", "swing"),
     ("ein Kind auf einer Schaukel", "child", "swing"), ("a baby in a crib", "baby", "crib"),
     ("a cat on a bench", "cat", "bench")],
)  # fmt: skip
def test_the_new_things_take_part_in_scenes(prompt: str, thing: str, surface: str) -> None:
    scene = parse_scene(prompt)
    assert {obj.stands_for or obj.kind for obj in scene.objects} == {thing, surface}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("prompt", "thing", "under", "rests_at"),
    [("a goat on a cliff", "goat", "cliff", (0.0, 0.1)),  # on its top
     ("a cat on a bench", "cat", "bench", (0.3, 0.6)),  # on its seat, before the backrest
     ("a baby in a crib", "baby", "crib", (0.35, 0.75))],  # behind its bars, looking out
)  # fmt: skip
def test_a_thing_rests_on_the_new_things(
    prompt: str, thing: str, under: str, rests_at: tuple[float, float], seed: int
) -> None:
    drawn = boxes(prompt, seed)
    (box,), (under_box,) = drawn[thing], drawn[under]
    tx0, ty0, tx1, ty1 = under_box
    rest = (box[3] - ty0) / (ty1 - ty0)  # where its bottom is, down the thing under it
    assert rests_at[0] <= rest <= rests_at[1], rest
    assert tx0 <= (box[0] + box[2]) / 2 <= tx1  # over it, not beside it
    assert height(box) < height(under_box)


def test_a_child_on_a_swing_stands_on_its_seat_between_the_ropes() -> None:
    drawn = boxes("a child on a swing")
    ((x0, _, x1, y1),), ((sx0, sy0, sx1, sy1),) = drawn["person-standing"], drawn["swing"]
    assert 0.6 <= (y1 - sy0) / (sy1 - sy0) <= 0.75  # the seat, not the ground or the beam
    assert sx0 + 0.25 * (sx1 - sx0) <= x0 and x1 <= sx1 - 0.25 * (sx1 - sx0)


def test_a_sandcastle_is_a_small_thing_on_the_beach() -> None:
    scene = parse_scene("a sandcastle on the beach")
    assert scene.place == "beach" and [obj.kind for obj in scene.objects] == ["sandcastle"]
    drawn = boxes("two children building a sandcastle")
    (castle,) = drawn["sandcastle"]
    assert all(height(castle) < height(child) for child in drawn["child"])
