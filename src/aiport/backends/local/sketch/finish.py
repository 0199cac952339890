"""The rules that need the whole scene, applied once the prompt is read.

A sign carries the prompt's first quoted text; a person in a portrait is drawn as a bust;
a clock on a wall as a wall clock; what goes over a bridge goes on it; a sofa or table
puts the scene in a room; a picture that shows its container with what is in it ("a bowl
of soup", "a glass of milk") is drawn instead of both.
"""

from __future__ import annotations

from aiport.backends.local.sketch import words as w
from aiport.backends.local.sketch.scene import Scene


def finish_scene(scene: Scene, texts: list[str]) -> None:
    """Apply the whole-scene rules to `scene`, read from a prompt with quoted `texts`."""
    scene.texts = texts
    for obj in scene.objects:
        if obj.kind == "sign" and scene.texts:
            obj.text = scene.texts.pop(0)
        if scene.framing == "portrait" and obj.kind in w.BUSTS:
            obj.kind = w.BUSTS[obj.kind]
        if obj.hangs:
            obj.kind = w.WALL_VERSIONS.get(obj.kind, obj.kind)
        target = obj.target if obj.target is not None else len(scene.objects)
        crossed = target < len(scene.objects) and scene.objects[target].kind in w.CROSSED
        if obj.relation == "above" and crossed:
            obj.relation = "on"
    if scene.place is None and any(obj.kind in w.INDOOR_KINDS for obj in scene.objects):
        scene.place = "room"
    _serve_dishes(scene)


def _serve_dishes(scene: Scene) -> None:
    """ "a bowl of soup": a picture that shows its container too is drawn instead of both."""
    objects = scene.objects
    for i, dish in enumerate(objects):
        held = dish.relation == "in" and dish.target is not None
        container = objects[dish.target] if held and dish.target is not None else None
        if container is None or dish.kind not in w.SERVED_IN.get(container.kind, ()):
            continue
        container.kind, container.color = dish.kind, dish.color or container.color
        container.words.extend(dish.words)
        del objects[i]
        for obj in objects:
            if obj.target is not None and obj.target > i:
                obj.target -= 1
        return _serve_dishes(scene)  # the indexes moved: look again
