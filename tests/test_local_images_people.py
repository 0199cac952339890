"""People and what they wear, drawn as a user expects: an accessory's colour, a child's size."""

from __future__ import annotations

import numpy as np
import pytest

from aiport.backends.local.sketch.art import PATH_ELEMENT, art_set, repainted_paths
from aiport.backends.local.sketch.describe import describe_scene
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.render import RenderJob, render_image
from aiport.backends.local.sketch.worn import WORN_PATHS
from tests.support.sketch_layout import SIZE, boxes, height


def red_share(prompt: str) -> float:
    job = RenderJob(prompt=prompt, width=256, height=256)
    rgb = np.asarray(render_image(parse_scene(prompt), job).convert("RGB")).astype(int)
    return float(((rgb[..., 0] > 170) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)).mean())


@pytest.mark.parametrize(
    "prompt", ["a snowman with a red hat", "ein Schneemann mit einem roten Hut"]
)
def test_the_colour_of_a_worn_accessory_paints_the_wearers_own(prompt: str) -> None:
    scene = parse_scene(prompt)
    assert len(scene.objects) == 1  # the hat is the snowman's own, drawn once
    assert "red hat" in describe_scene(scene)
    assert red_share(prompt) > 0.002  # the snowman's hat, dark before
    assert red_share(prompt.replace("red ", "").replace("roten ", "")) == 0


def test_every_skin_tone_of_a_wearer_repaints_the_same_parts() -> None:
    """A skin tone's SVG orders its paths differently: the part is found by its outline."""
    for name, parts in WORN_PATHS.items():
        art = art_set()[name]
        for paths in parts.values():
            for _, body in ((None, art.body), *art.tones):
                repainted = repainted_paths(art, body, paths, (255, 0, 0))
                before, after = PATH_ELEMENT.findall(body), PATH_ELEMENT.findall(repainted)
                changed = sum(a != b for a, b in zip(before, after, strict=True))
                assert changed == len(paths), (name, paths)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("prompt", "named", "big"),
    [("a child beside a house", "a child", "house"),
     ("ein Junge neben einem Haus", "a boy", "house"),
     ("two children in front of a house", "two children", "house"),
     ("a girl next to a tree", "a girl", "deciduous-tree")],
)  # fmt: skip
def test_a_child_beside_a_house_stands_whole_at_a_childs_height(
    prompt: str, named: str, big: str, seed: int
) -> None:
    """The art's children are heads: beside a house a head shrank to a dot."""
    scene = parse_scene(prompt)
    drawn = boxes(prompt, seed)
    (house,) = drawn[big]
    child_kind = next(obj.kind for obj in scene.objects if obj.kind != big)
    for child in drawn[child_kind]:
        assert height(child) > 2 * (child[2] - child[0])  # a whole standing figure
        assert 0.12 < height(child) / height(house) < 0.3  # 1.2 m beside a 7-8 m house or tree
        assert abs(child[3] - house[3]) < 0.05 * SIZE  # on the same ground
        gap = max(child[0] - house[2], house[0] - child[2])
        assert gap < 0.1 * SIZE  # beside it, not across the picture
    assert describe_scene(scene).startswith(f"A flat illustration of {named}")


def test_a_child_beside_an_animal_is_still_a_head() -> None:
    assert [obj.kind for obj in parse_scene("a boy and his cat").objects] == ["boy", "cat"]
