"""People with their vehicles, and places that are no thing (each a misdrawing seen once).

"a taxi driver" was a taxi alone, "Restaurant" a cook, a man sitting in a car a bust over
the middle of the car, a girl sitting in a bus a tiny figure on its roof, and a helicopter
beside a person flew at the height of their head.
"""

from __future__ import annotations

import pytest

from aiport.backends.local.sketch.describe import describe_scene
from aiport.backends.local.sketch.geometry import geometry
from aiport.backends.local.sketch.kinds import CABS, VEHICLE_SEATS
from aiport.backends.local.sketch.people import is_person, seated
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.scene import Scene, SceneObject
from tests.support.sketch_layout import SIZE, boxes, height


def _seated(scene: Scene) -> tuple[SceneObject, SceneObject]:
    """(who sits, the vehicle), failing when nobody sits in one."""
    sitting = [obj for obj in scene.objects if seated(scene, obj)]
    assert sitting, scene.objects
    return sitting[0], scene.objects[sitting[0].target or 0]


@pytest.mark.parametrize(
    ("prompt", "vehicle"),
    [("a taxi driver", "taxi"), ("a bus driver", "bus"), ("ein Taxifahrer", "taxi"),
     ("eine Busfahrerin", "bus"), ("a truck driver in the city", "delivery-truck"),
     ("ein Lokführer", "locomotive")],
)  # fmt: skip
def test_a_driver_is_a_person_in_their_vehicle(prompt: str, vehicle: str) -> None:
    scene = parse_scene(prompt)
    person, drawn = _seated(scene)
    assert drawn.kind == vehicle and is_person(person.kind)
    said = " ".join(person.words).lower()
    assert "driver" in said or "fahrer" in said or "führer" in said


@pytest.mark.parametrize(
    "prompt", ["Restaurant", "a restaurant", "ein gemütliches Restaurant", "a cafe",
               "a man eating in a restaurant"],
)  # fmt: skip
def test_a_restaurant_is_a_room_with_a_laid_table(prompt: str) -> None:
    scene = parse_scene(prompt)
    kinds = [obj.kind for obj in scene.objects]
    assert scene.place == "room" and "table" in kinds and "man-cook" not in kinds
    table = kinds.index("table")
    assert any(obj.relation == "on" and obj.target == table for obj in scene.objects)
    assert "restaurant" in describe_scene(scene) or "cafe" in describe_scene(scene)


SITTING = [
    "a man sitting in a car",
    "ein Mann sitzt in seinem Auto",
    "a girl sitting in the bus",
    "a boy sitting in a bus next to a tree",
    "a dog sitting in a car",
    "a woman sitting in a train",
    "a man in a taxi",
]


@pytest.mark.parametrize("prompt", SITTING)
def test_who_sits_in_a_vehicle_is_seated_in_it(prompt: str) -> None:
    person, vehicle = _seated(parse_scene(prompt))
    assert vehicle.kind in CABS and not person.kind.endswith("-standing")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("prompt", SITTING)
def test_who_sits_in_a_vehicle_shows_in_its_cab_window(prompt: str, seed: int) -> None:
    """The driver's window, not the middle of the vehicle nor its roof."""
    person, vehicle = _seated(parse_scene(prompt))
    drawn = boxes(prompt, seed)
    (sitter, *_), (cab,) = drawn[person.kind], drawn[vehicle.kind]
    seat_x, seat_y = VEHICLE_SEATS[vehicle.kind]
    window_x = cab[0] + seat_x * (cab[2] - cab[0])
    assert abs((sitter[0] + sitter[2]) / 2 - window_x) < 0.12 * (cab[2] - cab[0])
    assert abs(sitter[3] - (cab[1] + seat_y * height(cab))) < 0.1 * height(cab)
    assert 0.2 < height(sitter) / height(cab) < 0.6


@pytest.mark.parametrize(
    "prompt",
    ["a helicopter beside a person", "a pilot next to a helicopter",
     "ein Hubschrauber neben einem Mann"],
)  # fmt: skip
def test_a_helicopter_beside_a_person_stands_on_the_ground(prompt: str) -> None:
    scene = parse_scene(prompt)
    helicopter = next(obj for obj in scene.objects if obj.kind == "helicopter")
    assert geometry(helicopter).zone == "ground"
    person = next(obj for obj in scene.objects if obj is not helicopter)
    drawn = boxes(prompt)
    (landed,), (figure,) = drawn["helicopter"], drawn[person.kind]
    assert abs(figure[3] - landed[3]) < 0.05 * SIZE  # on the same ground
    assert 1.2 < height(landed) / height(figure) < 2.8  # a helicopter, not a toy
    assert geometry(parse_scene("a helicopter in the sky").objects[0]).zone == "sky"
