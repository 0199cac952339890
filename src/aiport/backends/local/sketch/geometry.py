"""How big each kind of thing is drawn and in which zone of the picture it belongs.

A `Geometry` is a thing's aspect, its height as a fraction of the canvas's shorter side
and its zone: hand-drawn kinds have theirs in `GEOMETRY`; pictures of the art set get
theirs from their CLDR subgroup (`sizes`). The scene around a thing can change it: on a
picture with ground, free things lie on the ground; beside other pictures a ball is
ball-sized (`AMONG_THINGS`) and a person's head or bust about an animal's size, and things
that stand together are drawn in proportion to their real heights (`scene_heights`): a
person a quarter of a house, a cup a small thing beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiport.backends.local.sketch.art import art_set
from aiport.backends.local.sketch.kinds import LANDED, WHOLE_FIGURES
from aiport.backends.local.sketch.people import seated
from aiport.backends.local.sketch.scene import Scene, SceneObject
from aiport.backends.local.sketch.sizes import real_height as art_real_height
from aiport.backends.local.sketch.sizes import size_and_zone


@dataclass(frozen=True, slots=True)
class Geometry:
    aspect: float  # width / height
    height: float  # fraction of the canvas's shorter side
    zone: str  # free | sky | ground | water | backdrop


GEOMETRY: dict[str, Geometry] = {
    "circle": Geometry(1.0, 0.36, "free"),
    "ball": Geometry(1.0, 0.30, "free"),
    "square": Geometry(1.0, 0.34, "free"),
    "rectangle": Geometry(1.6, 0.26, "free"),
    "box": Geometry(1.0, 0.30, "free"),
    "triangle": Geometry(1.1, 0.32, "free"),
    "star": Geometry(1.0, 0.30, "free"),
    "heart": Geometry(1.1, 0.28, "free"),
    "unknown": Geometry(1.0, 0.30, "free"),
    "sun": Geometry(1.0, 0.28, "sky"),
    "moon": Geometry(1.0, 0.22, "sky"),
    "cloud": Geometry(1.9, 0.15, "sky"),
    "fireworks": Geometry(1.0, 0.3, "sky"),
    "building": Geometry(0.45, 0.62, "ground"),
    "robot": Geometry(0.62, 0.52, "ground"),
    "mountain": Geometry(1.6, 0.45, "ground"),
    "sign": Geometry(1.5, 0.36, "ground"),
    "sofa": Geometry(2.0, 0.30, "ground"),
    "table": Geometry(2.2, 0.32, "ground"),
    "bridge": Geometry(2.4, 0.40, "ground"),
    "bowl": Geometry(2.0, 0.2, "free"),
    "city": Geometry(1.0, 1.0, "backdrop"),
    "rainbow": Geometry(1.0, 1.0, "backdrop"),
}
# Metres the hand-drawn kinds stand for (shapes, robots and the backdrop have no size).
REAL_HEIGHT = {"building": 30.0, "sign": 2.5, "sofa": 0.9, "table": 0.75, "bridge": 6.0,
               "bowl": 0.12, "ball": 0.22, "box": 0.4}  # fmt: skip
SEATED = 1.2  # metres of a person seated in a vehicle that show: head, chest, the seat back
SEATED_SHARE = 0.45  # but at most this share of the vehicle's height
LANDED_HEIGHT = 0.3  # a landed helicopter, alone: as a vehicle on the ground
SMALLEST = 0.07  # the least height (of the shorter side) a thing beside bigger ones gets
SUBJECT = 0.4  # the least height the biggest thing on the ground gets: small things fill more
HORIZON = 0.62  # fraction of the height where the ground begins, when there is ground
SIZE_FACTOR = {"large": 1.45, "small": 0.6}
_GROUND_PLACES = {"beach", "forest", "meadow", "desert", "snow", "cyberpunk", "room", "road",
                  "river"}  # fmt: skip


# Hand-drawn kinds that are everyday things: on a picture with ground they lie on it.
LIES_ON_GROUND = frozenset({"bowl"})
# Hand-drawn kinds that are everyday things too: beside pictures of the art set (a dog, a
# child) they take a thing's size and lie on the ground instead of filling the canvas.
AMONG_THINGS = {"ball": Geometry(1.0, 0.1, "ground")}
# People drawn as heads or busts (the art's "person", "role" and "fantasy" subgroups: a
# child, a woman with red hair, a firefighter, Santa Claus): alone they fill a picture;
# beside an animal or a thing they are drawn about its size.
_BUST_GROUPS = frozenset({23, 25, 26})
HEAD_AMONG_THINGS = {"baby": 0.18}
_HEAD = 0.28


def geometry(obj: SceneObject, ground: bool = False, beside: Iterable[str] = ()) -> Geometry:
    """Shape and zone of `obj`; on a picture with ground, unknown things stand on it.

    `beside`: the kinds of the other groups drawn with it (see `AMONG_THINGS`, heads).
    """
    geo = GEOMETRY.get(obj.kind) or _art_geometry(obj.kind)
    if obj.landed:
        geo = Geometry(geo.aspect, LANDED_HEIGHT, "ground")
    others = [art_set()[kind] for kind in beside if kind in art_set()]
    if others and obj.kind in AMONG_THINGS:
        geo = AMONG_THINGS[obj.kind]
    if _is_bust(obj.kind) and any(art.group not in _BUST_GROUPS for art in others):
        geo = Geometry(geo.aspect, HEAD_AMONG_THINGS.get(obj.kind, _HEAD), geo.zone)
    if obj.kind == "mountain" and obj.h is None and obj.v is None:
        return Geometry(geo.aspect, geo.height, "backdrop")
    if geo.zone == "free" and ground and (obj.kind not in GEOMETRY or obj.kind in LIES_ON_GROUND):
        return Geometry(geo.aspect, geo.height, "ground")  # a thing lies on the ground
    if obj.kind == "unknown" and ground:
        return Geometry(geo.aspect, geo.height, "ground")
    return geo


def scene_heights(scene: Scene, ground: bool) -> dict[int, float]:
    """Heights of the groups that stand together, in proportion to their real sizes.

    Alone, each thing is drawn at its own height; together, at the one scale (canvas per
    metre) at which none is drawn taller than alone, so a man beside a house is a quarter
    of its height, not as tall. None is drawn under `SMALLEST`, so a cup stays visible;
    where all are small things (a cake; a cup and a cake) or one thing is alone (a
    rabbit), they are drawn larger, the biggest `SUBJECT` tall: the picture is about them.
    What flies, floats at sea, hangs on a wall or is the backdrop keeps its own height, and
    so does everything in a portrait. Keys are indexes into `scene.objects`.
    """
    if scene.framing == "portrait":
        return {}
    kinds = [obj.kind for obj in scene.objects]
    own: dict[int, tuple[float, float]] = {}
    for i, obj in enumerate(scene.objects):
        geo = geometry(obj, ground, kinds[:i] + kinds[i + 1 :])
        real = _real_height(scene, obj)
        placed_on = obj.relation in ("on", "in")
        if real is not None and not obj.hangs and (placed_on or geo.zone in ("ground", "free")):
            own[i] = (geo.height, real)
    if not own:
        return {}
    heights = {i: height for i, (height, _) in own.items()}
    if len({real for _, real in own.values()}) > 1:
        scale = min(height / real for height, real in own.values())
        heights = {i: min(height, max(SMALLEST, real * scale)) for i, (height, real) in own.items()}
    small = all(_own_zone(scene.objects[i].kind) == "free" for i in own)  # cups, cakes, books
    small = small or len(scene.objects) == 1  # "ein Hase im Gras": the one subject
    heaped = any(obj.relation == "in" for obj in scene.objects)  # a bowl of fruit keeps its size
    zoom = max(1.0, SUBJECT / max(heights.values())) if small and not heaped else 1.0
    return {i: height * zoom for i, height in heights.items()}


def _real_height(scene: Scene, obj: SceneObject) -> float | None:
    """Metres `obj` stands for here: a child drawn whole at a child's height, a person
    seated in a vehicle as tall as what shows of them."""
    if obj.stands_for in WHOLE_FIGURES:
        return WHOLE_FIGURES[obj.stands_for][1]
    if obj.landed:
        return LANDED.get(obj.kind)
    if seated(scene, obj):
        vehicle = real_height(scene.objects[obj.target or 0].kind) or SEATED
        return min(SEATED, SEATED_SHARE * vehicle)  # a car's window shows less than a cab
    return real_height(obj.kind)


def real_height(kind: str) -> float | None:
    """Metres the thing drawn for `kind` stands for, if it has a size among things."""
    if kind in GEOMETRY:
        return REAL_HEIGHT.get(kind)
    art = art_set().get(kind)
    return None if art is None else art_real_height(kind, art.group)


def _own_zone(kind: str) -> str:
    return (GEOMETRY.get(kind) or _art_geometry(kind)).zone


def _is_bust(kind: str) -> bool:
    art = art_set().get(kind)
    return art is not None and art.group in _BUST_GROUPS


def _art_geometry(kind: str) -> Geometry:
    art = art_set().get(kind)
    if art is None:
        return GEOMETRY["unknown"]
    height, zone = size_and_zone(kind, art.group)
    return Geometry(art.aspect, height, zone)


def all_sky(scene: Scene) -> bool:
    """Whether everything drawn flies or hangs in the sky (a plane over the clouds)."""
    return (
        bool(scene.objects)
        and scene.place is None
        and all(geometry(obj).zone == "sky" for obj in scene.objects)
    )


def open_water(scene: Scene) -> bool:
    """Whether the picture is the open sea: a boat or a whale without another setting."""
    return scene.place is None and any(geometry(obj).zone == "water" for obj in scene.objects)


def has_ground(scene: Scene) -> bool:
    """Whether the picture has a horizon with ground (or sea) below it."""
    if scene.framing == "portrait":
        return False
    if not scene.objects and (scene.time or scene.weather):
        return True  # "a sunset", "rain": the sky over open land
    zones = {geometry(obj).zone for obj in scene.objects}
    return bool(zones & {"ground", "water", "backdrop"}) or scene.place in _GROUND_PLACES
