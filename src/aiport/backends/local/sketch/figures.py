"""A person in a role drawn whole: a standing body, the role's bust as its upper part.

The art set shows firefighters, pilots, farmers and cooks only as busts (head and chest).
Beside a fire engine or a house such a person stands whole (`finish._stand_people`), so
the figure is put together from two pictures of the set: the standing man's, woman's or
person's body, its shirt repainted in the colour of the role's clothes, and over its top
the role's bust, as wide as the figure, so helmet, cap or uniform show where they belong.
"""

from __future__ import annotations

from functools import cache

from aiport.backends.local.sketch.art import art_set, raster
from aiport.backends.local.sketch.canvas import RGB, Box
from aiport.backends.local.sketch.people import standing_figure

_HEM = 0.3  # the bottom of a bust (this share of its height) shows the clothes it wears


def role_figure_parts(role: str, box: Box) -> list[tuple[str, Box]]:
    """(picture, box) to paint in order for a whole `role` standing in `box`: the body as
    `paint_art` fits it there, the bust over its top, as wide as the body (so its head is
    the body's head's size)."""
    body = standing_figure(role)
    x0, y0, x1, y1 = box
    aspect = art_set()[body].aspect
    width = min(x1 - x0, (y1 - y0) * aspect)
    top, left = y1 - width / aspect, (x0 + x1 - width) / 2
    bust = (left, top, left + width, top + width / art_set()[role].aspect)
    return [(body, box), (role, bust)]


@cache
def clothes_color(role: str) -> RGB:
    """The colour the role's bust wears most along its bottom: the body's shirt takes it."""
    import numpy as np

    size = 24
    pixels = np.asarray(raster(role, size, size))[round(size * (1 - _HEM)) :].reshape(-1, 4)
    opaque = pixels[pixels[:, 3] > 200][:, :3]
    if not len(opaque):
        return (128, 128, 128)
    colors, counts = np.unique(opaque, axis=0, return_counts=True)
    r, g, b = (int(v) for v in colors[counts.argmax()])
    return (r, g, b)
