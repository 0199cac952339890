"""People and what they wear, drawn as a user expects: an accessory's colour, a child's size."""

from __future__ import annotations

import numpy as np
import pytest

from aiport.backends.local.sketch.art import PATH_ELEMENT, art_set, repainted_paths
from aiport.backends.local.sketch.describe import describe_scene
from aiport.backends.local.sketch.figures import role_figure_parts
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


ROLES_BESIDE = [
    ("a firefighter next to a fire truck", "firefighter", "fire-engine", 3.2),
    ("ein Feuerwehrmann neben einem Feuerwehrauto", "man-firefighter", "fire-engine", 3.2),
    ("a police officer next to a police car", "police-officer", "police-car", 1.5),
    ("a farmer beside a tractor", "farmer", "tractor", 3.2),
    ("eine Pilotin neben einem Bus", "woman-pilot", "bus", 3.2),
]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("prompt", "role", "vehicle", "metres"), ROLES_BESIDE)
def test_a_person_in_a_role_beside_a_vehicle_stands_whole_at_a_persons_height(
    prompt: str, role: str, vehicle: str, metres: float, seed: int
) -> None:
    """The art's firefighters, pilots and farmers are busts: beside a fire engine one was a
    head the size of its wheel."""
    scene = parse_scene(prompt)
    person = next(obj for obj in scene.objects if obj.stands_for == role)
    assert person.kind.endswith("-standing")  # a whole figure, named by its role
    drawn = boxes(prompt, seed)
    (figure,), (car,) = drawn[person.kind], drawn[vehicle]
    assert height(figure) > 2 * (figure[2] - figure[0])
    assert height(figure) / height(car) == pytest.approx(1.75 / metres, rel=0.2)
    assert abs(figure[3] - car[3]) < 0.05 * SIZE  # on the same ground
    assert max(figure[0] - car[2], car[0] - figure[2]) < 0.1 * SIZE  # beside it
    assert role.split("-")[-1] in describe_scene(scene)


def test_a_standing_role_figure_wears_the_roles_upper_body() -> None:
    """What is painted for it: a standing body, the role's bust over its top part."""
    (body, body_box), (bust, bust_box) = role_figure_parts("firefighter", (100, 100, 160, 300))
    assert (body, bust) == ("person-standing", "firefighter") and body_box == (100, 100, 160, 300)
    x0, y0, x1, y1 = bust_box
    assert 100 <= y0 < 100 + 0.1 * 200 and y1 < 100 + 0.5 * 200  # head and chest, not legs
    assert x0 >= 100 and x1 <= 160 and x1 - x0 > 0.8 * 60  # as wide as the figure


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("prompt", "role", "vehicle"),
    [("a farmer on a tractor", "farmer", "tractor"),
     ("ein Bauer auf einem Traktor", "man-farmer", "tractor"),
     ("a firefighter in a fire truck", "firefighter", "fire-engine"),
     ("a police officer in a police car", "police-officer", "police-car"),
     ("a woman driving a car", "woman", "automobile"),  # was a whole woman beside it
     ("ein Mann fährt Auto", "man", "automobile")],
)  # fmt: skip
def test_a_person_in_a_role_on_a_vehicle_sits_in_it(
    prompt: str, role: str, vehicle: str, seed: int
) -> None:
    """Seated, the upper body shows: the bust at a seated person's size, in the vehicle."""
    drawn = boxes(prompt, seed)
    (person,), (car,) = drawn[role], drawn[vehicle]
    assert 0.25 < height(person) / height(car) < 0.5  # was a head a fifth of a wheel
    assert car[0] < person[0] and person[2] < car[2]  # within its length
    assert car[1] < person[3] < car[1] + 0.75 * height(car)  # its seat, not its roof
    assert person[1] < car[1] + 0.2 * height(car)  # head up in the cab or above it


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("prompt", "role"),
    [("a pilot beside a plane", "pilot"), ("ein Pilot neben einem Flugzeug", "pilot"),
     ("a woman pilot next to an airplane", "woman-pilot")],
)  # fmt: skip
def test_a_plane_a_person_stands_beside_is_parked_on_the_ground(
    prompt: str, role: str, seed: int
) -> None:
    """It flew in the sky with the pilot's head beside it (the emoji's plane flies)."""
    scene = parse_scene(prompt)
    plane = next(obj for obj in scene.objects if obj.stands_for == "airplane")
    person = next(obj for obj in scene.objects if obj.stands_for == role)
    drawn = boxes(prompt, seed)
    (parked,), (figure,) = drawn[plane.kind], drawn[person.kind]
    assert parked[2] - parked[0] > height(parked)  # seen from the side, level
    assert abs(figure[3] - parked[3]) < 0.05 * SIZE  # on the same ground
    assert height(figure) / height(parked) == pytest.approx(1.75 / 2.8, rel=0.2)
    assert "airplane" in describe_scene(scene)
    assert parse_scene("a plane in the sky").objects[0].kind == "airplane"  # still flies
