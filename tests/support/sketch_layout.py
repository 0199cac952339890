"""Where the sketch renderer places things, for tests that check a picture's layout."""

from __future__ import annotations

import random

from aiport.backends.local.sketch.layout import Box, layout
from aiport.backends.local.sketch.reader import parse_scene

SIZE = 1024  # the canvas's side, in pixels


def boxes(prompt: str, seed: int = 0) -> dict[str, list[Box]]:
    """Every drawn copy's box, by kind, in one of the prompt's layouts (seed 0: the plain
    one; another seed: a random variation)."""
    scene = parse_scene(prompt)
    out: dict[str, list[Box]] = {}
    for placed in layout(scene, SIZE, SIZE, random.Random(seed), vary=seed > 0):
        out.setdefault(scene.objects[placed.group].kind_of(placed.copy), []).append(placed.box)
    return out


def height(box: Box) -> float:
    return box[3] - box[1]
