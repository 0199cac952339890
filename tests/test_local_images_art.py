"""The project's own pictures (`sketch/art/aiport/`): found by their names, drawn, licensed."""

from __future__ import annotations

import numpy as np
import pytest

from aiport.backends.local.sketch.art import ART_FILE, OWN_ART, art_set, raster
from aiport.backends.local.sketch.describe import describe_scene
from aiport.backends.local.sketch.reader import parse_scene

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
     ("a crown on a pillow", "crown", "pillow"), ("ein Panda frisst Bambus", "panda", "bamboo")],
)  # fmt: skip
def test_the_new_things_take_part_in_scenes(prompt: str, thing: str, surface: str) -> None:
    scene = parse_scene(prompt)
    assert {obj.kind for obj in scene.objects} == {thing, surface}
