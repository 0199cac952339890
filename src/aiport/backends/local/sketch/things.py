"""Painters for hand-drawn things: buildings, robots, mountains, sofas, tables, bowls...

Same contract as the shapes in `paint`: draw one object into a pixel box with a main colour
(the body of a robot, the crown of a tree, the cover of a sofa). Parts are
placed with `at` / `pts`, in fractions of the box, so each painter reads as a drawing.
"""

from __future__ import annotations

import math

from aiport.backends.local.sketch.canvas import (
    INK,
    RGB,
    WHITE,
    Box,
    Canvas,
    Painter,
    at,
    darker,
    lighter,
    polygon,
    pts,
    square_in,
    write,
)

WOOD: RGB = (120, 80, 45)
GLASS: RGB = (170, 215, 240)
LIT: RGB = (255, 214, 90)
SKIN: RGB = (236, 196, 160)
DARK_GREY: RGB = (30, 30, 34)
NEON: list[RGB] = [(255, 60, 200), (40, 240, 255), (255, 230, 60), (150, 80, 255)]


def _window(c: Canvas) -> RGB:
    """Window glass by day, lit or dark windows by night, neon in a cyberpunk city."""
    if c.neon:
        return c.rng.choice(NEON) if c.rng.random() < 0.5 else (40, 30, 60)
    if c.night:
        return LIT if c.rng.random() < 0.6 else (45, 50, 75)
    return GLASS


def _part(c: Canvas, box: Box, color: RGB, *, round_: float = 0.0, edge: bool = True) -> None:
    """A filled (rounded) rectangle with a darker outline."""
    width = c.line_width(box, 0.04) if edge else 0
    outline = darker(color) if edge else None
    radius = min(box[2] - box[0], box[3] - box[1]) * round_
    c.rounded(box, radius, fill=color, outline=outline, width=width)


def _oval(c: Canvas, box: Box, color: RGB, edge: bool = True) -> None:
    outline = darker(color, 0.3) if edge else None
    c.draw.ellipse(box, fill=color, outline=outline, width=c.line_width(box, 0.03) if edge else 0)


def paint_building(c: Canvas, box: Box, color: RGB) -> None:
    c.shadow(box)
    _part(c, box, color)
    rows = max(3, round((box[3] - box[1]) / (box[2] - box[0]) * 3))
    for row in range(rows):
        fy = 0.05 + row * 0.9 / rows
        for fx in (0.12, 0.4, 0.68):
            c.draw.rectangle(at(box, fx, fy, fx + 0.18, fy + 0.54 / rows), fill=_window(c))


def paint_tree(c: Canvas, box: Box, color: RGB) -> None:
    c.shadow(box)
    c.draw.rectangle(at(box, 0.41, 0.5, 0.59, 1.0), fill=WOOD)
    puffs = [
        at(box, 0.0, 0.22, 0.62, 0.68),
        at(box, 0.38, 0.22, 1.0, 0.68),
        at(box, 0.14, 0.0, 0.86, 0.52),
    ]
    for p in puffs:
        _oval(c, p, color)
    for p in puffs:  # cover the inner outlines so the crown reads as one mass
        inset = (p[2] - p[0]) * 0.06
        c.draw.ellipse((p[0] + inset, p[1] + inset, p[2] - inset, p[3] - inset), fill=color)
    if c.detail:
        c.draw.ellipse(at(box, 0.25, 0.08, 0.55, 0.28), fill=(*lighter(color, 0.3), 120))


def paint_robot(c: Canvas, box: Box, color: RGB) -> None:
    limb, eye = darker(color, 0.25), (40, 240, 255) if c.neon or c.night else INK
    c.shadow(box)
    c.draw.line(pts(box, 0.5, 0.07, 0.5, 0.0), fill=limb, width=c.line_width(box, 0.03))
    c.draw.ellipse(at(box, 0.45, -0.02, 0.55, 0.05), fill=(255, 70, 70))
    for side in (-1, 1):
        leg, arm = 0.5 + side * 0.16, 0.5 + side * 0.43
        c.draw.rectangle(at(box, leg - 0.08, 0.68, leg + 0.08, 0.97), fill=limb)
        _part(c, at(box, leg - 0.12, 0.95, leg + 0.12, 1.0), darker(color, 0.45), edge=False)
        _part(c, at(box, arm - 0.07, 0.35, arm + 0.07, 0.64), limb, round_=0.4, edge=False)
    _part(c, at(box, 0.14, 0.32, 0.86, 0.7), color, round_=0.12)
    _part(c, at(box, 0.32, 0.4, 0.68, 0.58), darker(color, 0.4), round_=0.1, edge=False)
    for k, light in enumerate(((255, 80, 80), (80, 230, 120), (80, 170, 255))):
        fx = 0.4 + k * 0.1
        c.draw.ellipse(square_in(at(box, fx - 0.04, 0.47, fx + 0.04, 0.51)), fill=light)
    c.draw.rectangle(at(box, 0.43, 0.28, 0.57, 0.33), fill=limb)
    _part(c, at(box, 0.2, 0.06, 0.8, 0.29), color, round_=0.25)
    for fx in (0.37, 0.63):
        c.draw.ellipse(at(box, fx - 0.07, 0.12, fx + 0.07, 0.2), fill=eye)
    c.draw.rectangle(at(box, 0.37, 0.23, 0.63, 0.255), fill=darker(color, 0.5))


def paint_mountain(c: Canvas, box: Box, color: RGB) -> None:
    polygon(c, pts(box, 0.0, 1.0, 0.5, 0.0, 1.0, 1.0), color)
    if c.detail:
        c.draw.polygon(pts(box, 0.5, 0.0, 1.0, 1.0, 0.6, 1.0), fill=(*darker(color, 0.25), 140))
    cap = pts(box, 0.5, 0.0, 0.66, 0.3, 0.56, 0.25, 0.5, 0.33, 0.43, 0.24, 0.34, 0.3)
    c.draw.polygon(cap, fill=(248, 250, 255))


def paint_sign(c: Canvas, box: Box, color: RGB, text: str | None = None) -> None:
    c.shadow(box)
    for fx in (0.22, 0.72):
        c.draw.rectangle(at(box, fx, 0.6, fx + 0.06, 1.0), fill=WOOD)
    board = at(box, 0.0, 0.0, 1.0, 0.68)
    radius = (box[3] - box[1]) * 0.06
    c.rounded(board, radius, fill=color, outline=darker(WOOD), width=c.line_width(box))
    ink = INK if sum(color) > 380 else WHITE
    write(c, text or "", at(box, 0.06, 0.06, 0.94, 0.62), ink)


def paint_city(c: Canvas, box: Box, color: RGB, custom: bool = False) -> None:
    """A skyline across `box`: towers of varied height with lit windows by night."""
    x0, y0, x1, y1 = box
    unit = max(x1 - x0, (y1 - y0) * 1.5)
    x = x0 - c.rng.uniform(0, unit * 0.05)
    while x < x1:
        width = unit * c.rng.uniform(0.06, 0.11)
        tower = (x, y0 + (y1 - y0) * c.rng.uniform(0.0, 0.6), x + width, y1)
        tone = color if custom else _tower_tone(c)
        c.draw.rectangle(
            tower, fill=tone, outline=darker(tone, 0.3), width=c.line_width(tower, 0.03)
        )
        if c.neon:
            roof = [(tower[0], tower[1]), (tower[2], tower[1])]
            c.draw.line(roof, fill=c.rng.choice(NEON), width=max(1, round(width * 0.04)))
        _windows(c, tower, width)
        x += width + unit * c.rng.uniform(0.0, 0.015)


def _tower_tone(c: Canvas) -> RGB:
    if c.neon:
        return c.rng.choice([(28, 16, 48), (36, 22, 60), (22, 14, 40)])
    if c.night:
        return c.rng.choice([(34, 40, 70), (44, 50, 82), (28, 32, 58)])
    return c.rng.choice([(120, 132, 155), (150, 160, 178), (100, 112, 135), (170, 176, 190)])


def _windows(c: Canvas, tower: Box, width: float) -> None:
    x0, y0, x1, y1 = tower
    size = width * 0.16
    y = y0 + size
    while y + size < y1 - size:
        x = x0 + size * 0.8
        while x + size < x1 - size * 0.5:
            c.draw.rectangle((x, y, x + size, y + size * 1.3), fill=_window(c))
            x += size * 1.9
        y += size * 2.2


def paint_sofa(c: Canvas, box: Box, color: RGB) -> None:
    """A sofa seen from the front: back, two seat cushions and arms; its seat is at 50%."""
    c.shadow(box)
    _part(c, at(box, 0.06, 0.0, 0.94, 0.62), darker(color, 0.12), round_=0.25)
    for fx in (0.12, 0.5):
        _part(c, at(box, fx, 0.46, fx + 0.38, 0.7), lighter(color, 0.08), round_=0.3)
    _part(c, at(box, 0.04, 0.62, 0.96, 0.9), color, round_=0.2)
    for fx in (0.0, 0.86):
        _part(c, at(box, fx, 0.32, fx + 0.14, 0.9), darker(color, 0.05), round_=0.45)
    for fx in (0.1, 0.84):
        c.draw.rectangle(at(box, fx, 0.9, fx + 0.06, 1.0), fill=WOOD)


def paint_table(c: Canvas, box: Box, color: RGB) -> None:
    """A table seen from the front: a thick top and four legs; things stand on its top."""
    c.shadow(box)
    for fx in (0.08, 0.24, 0.7, 0.86):
        leg = darker(color, 0.25) if fx in (0.24, 0.7) else darker(color, 0.1)
        c.draw.rectangle(at(box, fx, 0.08, fx + 0.06, 1.0), fill=leg)
    _part(c, at(box, 0.0, 0.0, 1.0, 0.1), color, round_=0.3)
    c.draw.rectangle(at(box, 0.04, 0.1, 0.96, 0.17), fill=darker(color, 0.2))


def paint_bridge(c: Canvas, box: Box, color: RGB) -> None:
    """A stone bridge of three arches over water, seen from the side; its deck is at 10%."""
    c.shadow(box)
    _part(c, at(box, 0.0, 0.1, 1.0, 1.0), color, round_=0.02)
    for k in range(3):
        x0, x1 = 0.06 + k * 0.31, 0.06 + k * 0.31 + 0.26
        arch = at(box, x0, 0.42, x1, 1.0)
        span = arch[2] - arch[0]
        top = (arch[0], arch[1], arch[2], arch[1] + span)
        c.draw.ellipse(top, fill=RIVER)
        c.draw.rectangle((arch[0], arch[1] + span / 2, arch[2], arch[3]), fill=RIVER)
        for fy in (0.82, 0.92):
            c.draw.line(pts(box, x0 + 0.05, fy, x1 - 0.05, fy), fill=lighter(RIVER, 0.35),
                        width=c.line_width(box, 0.01))  # fmt: skip
    c.draw.rectangle(at(box, 0.0, 0.1, 1.0, 0.17), fill=darker(color, 0.25))
    rail = c.line_width(box, 0.012)
    c.draw.line(pts(box, 0.0, 0.02, 1.0, 0.02), fill=darker(color, 0.35), width=rail)
    for k in range(15):
        fx = 0.01 + k * 0.07
        c.draw.line(pts(box, fx, 0.02, fx, 0.1), fill=darker(color, 0.35), width=rail)


def paint_bowl(c: Canvas, box: Box, color: RGB) -> None:
    """A bowl seen from the side: a rim and a round body on a foot, open at the top.

    What is in it is drawn before it, so the body hides its lower part (`kinds.RIMS`).
    """
    c.shadow(box)
    c.draw.rectangle(at(box, 0.36, 0.88, 0.64, 1.0), fill=darker(color, 0.25))
    body = at(box, 0.03, -0.86, 0.97, 0.94)
    c.draw.chord(body, 0, 180, fill=color, outline=darker(color), width=c.line_width(box, 0.03))
    if c.detail:
        c.draw.chord(at(box, 0.12, -0.6, 0.5, 0.7), 60, 150, fill=(*lighter(color, 0.35), 110))
    _part(c, at(box, 0.0, 0.0, 1.0, 0.13), lighter(color, 0.15), round_=0.5)


def paint_fireworks(c: Canvas, box: Box, color: RGB) -> None:
    """One burst of fireworks: sparks flying out from a centre, in two shades."""
    x0, y0, x1, y1 = square_in(box)
    r, cx, cy = (x1 - x0) / 2, (x0 + x1) / 2, (y0 + y1) / 2
    turn, width = c.rng.uniform(0, math.pi), c.line_width(box, 0.025)
    for k in range(16):
        a, shade = turn + k * math.pi / 8, color if k % 2 else lighter(color, 0.45)
        reach = r * (0.95 if k % 2 else 0.75)
        start = (cx + r * 0.22 * math.cos(a), cy + r * 0.22 * math.sin(a))
        end = (cx + reach * math.cos(a), cy + reach * math.sin(a))
        c.draw.line([start, end], fill=shade, width=width)
        dot = width * 1.3
        c.draw.ellipse((end[0] - dot, end[1] - dot, end[0] + dot, end[1] + dot), fill=shade)
    core = r * 0.12
    c.draw.ellipse((cx - core, cy - core, cx + core, cy + core), fill=lighter(color, 0.6))


RIVER: RGB = (70, 150, 215)

THING_PAINTERS: dict[str, Painter] = {
    "building": paint_building, "robot": paint_robot, "mountain": paint_mountain,
    "sofa": paint_sofa, "table": paint_table, "bridge": paint_bridge, "bowl": paint_bowl,
    "fireworks": paint_fireworks,
}  # fmt: skip
