"""The rules that need the whole scene, applied once the prompt is read.

A sign carries the prompt's first quoted text; a person in a portrait is drawn as a bust;
a clock on a wall as a wall clock; what goes over a bridge goes on it; a sofa or table
puts the scene in a room; a picture that shows its container with what is in it ("a bowl
of soup", "a glass of milk", "a glass of water") is drawn instead of both; an accessory the
picture of its wearer already shows ("a snowman with a red hat") is not drawn a second
time, but the wearer's own takes its colour; a child beside a house stands there whole,
and so does a firefighter beside a fire engine (or sits in it) and a pilot beside a plane,
which is parked.
"""

from __future__ import annotations

from aiport.backends.local.sketch import kinds
from aiport.backends.local.sketch.geometry import real_height
from aiport.backends.local.sketch.people import (
    is_person,
    is_role,
    seated,
    standing_figure,
)
from aiport.backends.local.sketch.scene import Scene, SceneObject
from aiport.backends.local.sketch.worn import ACCESSORIES, WORN, worn_paths


def finish_scene(scene: Scene, texts: list[str]) -> None:
    """Apply the whole-scene rules to `scene`, read from a prompt with quoted `texts`."""
    scene.texts = texts
    _expand_groups(scene)
    for obj in scene.objects:
        if obj.kind == "sign" and scene.texts:
            obj.text = scene.texts.pop(0)
        if scene.framing == "portrait" and obj.kind in kinds.BUSTS:
            obj.kind = kinds.BUSTS[obj.kind]
        if obj.hangs:
            obj.kind = kinds.WALL_VERSIONS.get(obj.kind, obj.kind)
        target = obj.target if obj.target is not None else len(scene.objects)
        crossed = target < len(scene.objects) and scene.objects[target].kind in kinds.CROSSED
        if obj.relation == "above" and crossed:
            obj.relation = "on"
    _lay_tables(scene)
    if scene.place is None and any(obj.kind in kinds.INDOOR_KINDS for obj in scene.objects):
        scene.place = "room"
    if scene.time is None:
        scene.time = next((kinds.TIME_OF[o.kind] for o in scene.objects
                           if o.kind in kinds.TIME_OF), None)  # fmt: skip
    if scene.place is None:  # "zwei Kinder bauen einen Schneemann": in the snow
        scene.place = next((kinds.SETTING_OF[o.kind] for o in scene.objects
                            if o.kind in kinds.SETTING_OF), None)  # fmt: skip
    _serve_dishes(scene)
    _drop_worn(scene)
    _seat_riders(scene)
    _stand_people(scene)
    _one_hat_each(scene)
    _dress_people(scene)


def _expand_groups(scene: Scene) -> None:
    """ "a family in front of a house": its members, each where the family was."""
    for i, group in enumerate(scene.objects):
        members = kinds.GROUPS.get(group.kind)
        if members is None:
            continue
        (first, count), *rest = members
        groups = group.count  # "two families"
        group.kind, group.count = first, count * groups
        group.requested_count = group.count
        for obj in scene.objects:
            if obj.target is not None and obj.target > i:
                obj.target += len(rest)
        scene.objects[i + 1 : i + 1] = [
            SceneObject(kind, count * groups, relation=group.relation, target=group.target,
                        h=group.h, v=group.v, words=list(group.words))
            for kind, count in rest
        ]  # fmt: skip


def _lay_tables(scene: Scene) -> None:
    """ "a restaurant": a room with a table laid for guests, unless a table was named; the
    town it is in is outside ("a café in Paris")."""
    if scene.venue is None:
        return
    for i in reversed(range(len(scene.objects))):
        if scene.objects[i].kind == "city" and all(o.target != i for o in scene.objects):
            _remove(scene, i, into=i)
    if any(obj.kind == "table" for obj in scene.objects):
        return
    kind, count = kinds.FURNISHINGS[scene.venue]
    table = len(scene.objects)
    scene.objects += [SceneObject("table"), SceneObject(kind, count, relation="on", target=table,
                                                        requested_count=count)]  # fmt: skip


def _dress_people(scene: Scene) -> None:
    """ "a man in a red shirt": a standing person's own clothes take its colour."""
    for i, clothes in enumerate(scene.objects):
        wearer = scene.objects[clothes.target] if clothes.target is not None else None
        if wearer is None or clothes.relation != "on" or clothes.kind not in kinds.TOPS:
            continue
        if any(o.target == i for o in scene.objects):
            continue
        if wearer.kind in kinds.WHOLE_FIGURES:  # "a boy in a blue sweater": all of him
            wearer.stands_for, wearer.kind = wearer.kind, kinds.WHOLE_FIGURES[wearer.kind][0]
        if wearer.kind not in kinds.BUSTS:  # a head or a bust: the clothes beside it
            clothes.relation = clothes.target = None
            continue
        wearer.color = clothes.color or wearer.color
        wearer.words.extend(clothes.words)
        _remove(scene, i, into=clothes.target or 0)
        return _dress_people(scene)  # the indexes moved: look again
    return None


def _one_hat_each(scene: Scene) -> None:
    """ "two men with top hats": a hat on each head, however many hats were said."""
    for obj in scene.objects:
        wearer = scene.objects[obj.target] if obj.target is not None else None
        if (
            wearer
            and obj.relation == "on"
            and obj.kind in kinds.HEADWEAR
            and is_person(wearer.kind)
        ):
            obj.count = obj.requested_count = wearer.count


def _seat_riders(scene: Scene) -> None:
    """ "a boy riding a bicycle": one picture of someone riding it, not a head beside a bike.

    The ridden thing becomes the rider's picture, with the rider's count and words.
    """
    objects = scene.objects
    for i, rider in enumerate(objects):
        at = rider.target
        if rider.relation != "on" or at is None or rider.kind not in kinds.RIDERS:
            continue
        ridden = objects[at]
        if ridden.kind not in kinds.RIDDEN:
            continue
        ridden.kind = kinds.RIDDEN[ridden.kind][kinds.RIDERS[rider.kind]]
        ridden.count, ridden.requested_count = rider.count, rider.requested_count
        ridden.words[:0] = rider.words
        if ridden.relation is None and ridden.h is None and ridden.v is None:
            ridden.h, ridden.v = rider.h, rider.v
        _remove(scene, i, into=at)
        return _seat_riders(scene)  # the indexes moved: look again
    return None


def _stand_people(scene: Scene) -> None:
    """ "a child in front of a house", "a firefighter next to a fire truck": beside a
    grown-up, something taller or a vehicle, a child or a person in a role (heads and
    busts in the art) is a whole standing figure at its height, not a head shrunk to a dot.
    A person on or in a car, bus or tractor sits in it: a bust is what shows of them."""
    if scene.framing == "portrait":
        return
    _park_planes(scene)
    tall = any(
        obj.landed or ((real_height(obj.kind) or 0.0) >= kinds.GROWN_UP and not obj.hangs)
        for obj in scene.objects
    )
    vehicle = any(obj.kind in kinds.CABS for obj in scene.objects)
    for obj in scene.objects:
        if seated(scene, obj):  # "in a police car": in its seat, what shows of them
            obj.kind = kinds.BUSTS.get(obj.kind, obj.kind)
        elif tall and obj.kind in kinds.WHOLE_FIGURES:
            obj.stands_for, obj.kind = obj.kind, kinds.WHOLE_FIGURES[obj.kind][0]
        elif is_role(obj.kind) and (tall or vehicle):
            obj.stands_for, obj.kind = obj.kind, standing_figure(obj.kind)


def _park_planes(scene: Scene) -> None:
    """ "a pilot beside a plane": a plane beside a person (or a person beside it) is parked,
    a helicopter has landed."""
    objects = scene.objects
    for obj in objects:
        other = objects[obj.target] if obj.target is not None else None
        if other is None or obj.relation not in ("next_to", "left_of", "right_of"):
            continue
        for plane, person in ((obj, other), (other, obj)):
            if not is_person(person.kind):
                continue
            if plane.kind in kinds.PARKED:
                plane.stands_for, plane.kind = plane.kind, kinds.PARKED[plane.kind]
            plane.landed = plane.landed or plane.kind in kinds.LANDED


def _serve_dishes(scene: Scene) -> None:
    """ "a bowl of soup": a picture that shows its container too is drawn instead of both."""
    objects = scene.objects
    for i, dish in enumerate(objects):
        held = dish.relation == "in" and dish.target is not None
        container = objects[dish.target] if held and dish.target is not None else None
        served = kinds.SERVED_AS.get(dish.kind, dish.kind)
        if container is None or served not in kinds.SERVED_IN.get(container.kind, ()):
            continue
        container.kind, container.color = served, dish.color or container.color
        container.words.extend(dish.words)
        _remove(scene, i, into=objects.index(container))
        return _serve_dishes(scene)  # the indexes moved: look again


def _drop_worn(scene: Scene) -> None:
    """ "a snowman with a scarf and a hat": what its wearer's picture shows is drawn once.

    The accessory's words, place and relation go to the wearer ("... next to a tree"),
    and its colour to the wearer's own accessory ("a snowman with a red hat").
    """
    objects = scene.objects
    for i, obj in enumerate(objects):
        at = _wearer_of(objects, i)
        if at is None:
            continue
        wearer = objects[at]
        wearer.words.extend(obj.words)
        if obj.color is not None and worn_paths(wearer.kind, obj.kind):
            wearer.worn_colors[obj.kind] = obj.color
        unplaced = wearer.relation is None and wearer.h is None and wearer.v is None
        if obj.target != at and unplaced:
            wearer.relation, wearer.target = obj.relation, obj.target
            wearer.h, wearer.v = obj.h, obj.v
        _remove(scene, i, into=at)
        return _drop_worn(scene)  # the indexes moved: look again
    return None


def _wearer_of(objects: list[SceneObject], i: int) -> int | None:
    """The thing named just before object `i` (or that it is put on) that wears it already."""
    obj = objects[i]
    if any(other.target == i for other in objects):
        return None  # "a snowman next to a hat": a thing of its own
    if obj.relation == "on" and obj.target is not None:
        return obj.target if obj.kind in WORN.get(objects[obj.target].kind, ()) else None
    at = i - 1
    while at >= 0 and objects[at].kind not in WORN and objects[at].kind in ACCESSORIES:
        at -= 1  # "a snowman with a scarf and a hat"
    return at if at >= 0 and obj.kind in WORN.get(objects[at].kind, ()) else None


def _remove(scene: Scene, i: int, into: int) -> None:
    """Drop object `i`, now drawn as part of object `into`: relations to it go to that."""
    del scene.objects[i]
    into = into - 1 if into > i else into
    for obj in scene.objects:
        if obj.target == i:
            obj.target = into
        elif obj.target is not None and obj.target > i:
            obj.target -= 1
