"""Painters for simple shapes and sky objects: circles, stars, hearts, suns, clouds, rainbows

Every painter draws one object into a pixel box with a main colour; with
`Canvas.detail` (quality "hd") it adds highlights, facets and drop shadows.
"""

from __future__ import annotations

import math

from aiport.backends.local.sketch.canvas import (
    INK,
    RAINBOW,
    RGB,
    WHITE,
    Box,
    Canvas,
    Painter,
    darker,
    lighter,
    polygon,
    pts,
    square_in,
    write,
)

# -- shapes ------------------------------------------------------------------------------


def paint_circle(c: Canvas, box: Box, color: RGB) -> None:
    sq = square_in(box)
    c.drop_shadow(sq, oval=True)
    c.draw.ellipse(sq, fill=color, outline=darker(color), width=c.line_width(sq))


def paint_ball(c: Canvas, box: Box, color: RGB) -> None:
    x0, y0, x1, _ = sq = square_in(box)
    c.drop_shadow(sq, oval=True)
    c.draw.ellipse(sq, fill=color, outline=darker(color), width=c.line_width(sq))
    r = (x1 - x0) / 2
    cx, cy, hx, hy = x0 + r, y0 + r, x0 + r * 0.62, y0 + r * 0.6
    steps = 7 if c.detail else 1
    for k in range(1, steps + 1):
        t = k / (steps + 1)
        rad = r * (1 - t) * (0.9 if c.detail else 0.3)
        px, py = cx + (hx - cx) * (t if c.detail else 1), cy + (hy - cy) * (t if c.detail else 1)
        c.draw.ellipse(
            (px - rad, py - rad, px + rad, py + rad), fill=lighter(color, 0.12 + 0.4 * t)
        )


def paint_square(c: Canvas, box: Box, color: RGB) -> None:
    paint_rectangle(c, square_in(box), color)


def paint_rectangle(c: Canvas, box: Box, color: RGB) -> None:
    c.drop_shadow(box)
    c.draw.rectangle(box, fill=color, outline=darker(color), width=c.line_width(box))
    if c.detail:
        x0, y0, x1, y1 = box
        c.draw.rectangle((x0, y0, x1, y0 + (y1 - y0) * 0.12), fill=(*lighter(color, 0.3), 90))


def paint_box(c: Canvas, box: Box, color: RGB) -> None:
    x0, y0, x1, y1 = square_in(box)
    d = (x1 - x0) * 0.28
    c.shadow((x0, y0, x1, y1))
    polygon(c, [(x0, y0 + d), (x0 + d, y0), (x1, y0), (x1 - d, y0 + d)], lighter(color, 0.3))
    polygon(c, [(x1 - d, y0 + d), (x1, y0), (x1, y1 - d), (x1 - d, y1)], darker(color, 0.3))
    polygon(c, [(x0, y0 + d), (x1 - d, y0 + d), (x1 - d, y1), (x0, y1)], color)


def paint_triangle(c: Canvas, box: Box, color: RGB) -> None:
    points = pts(box, 0.5, 0.0, 1.0, 1.0, 0.0, 1.0)
    c.drop_shadow(points)
    polygon(c, points, color)
    if c.detail:
        polygon(c, pts(box, 0.5, 0.0, 1.0, 1.0, 0.5, 1.0), darker(color, 0.15), outline=False)


def star_points(box: Box, tilt: float = 0.0, points: int = 5) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = square_in(box)
    r, cx, cy = (x1 - x0) / 2, (x0 + x1) / 2, (y0 + y1) / 2 + (x1 - x0) * 0.04
    out = []
    for k in range(points * 2):
        rad = r if k % 2 == 0 else r * 0.45
        angle = -math.pi / 2 + tilt + k * math.pi / points
        out.append((cx + rad * math.cos(angle), cy + rad * math.sin(angle)))
    return out


def paint_star(c: Canvas, box: Box, color: RGB) -> None:
    points = star_points(box, c.rng.uniform(-0.15, 0.15))
    c.drop_shadow(points)
    polygon(c, points, color)
    if c.detail:  # a lighter facet on every other arm catches the light
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        for k in range(0, 10, 2):
            facet = [(cx, cy), points[k], points[(k + 1) % 10]]
            c.draw.polygon(facet, fill=(*lighter(color, 0.35), 110))


def paint_heart(c: Canvas, box: Box, color: RGB) -> None:
    x0, y0, x1, y1 = box
    cx, cy, sx, sy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 34, (y1 - y0) / 31
    points = []
    for k in range(72):
        t = 2 * math.pi * k / 72
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        points.append((cx + x * sx, cy - y * sy - sy * 2))
    c.drop_shadow(points)
    polygon(c, points, color)
    if c.detail:
        c.draw.ellipse((cx - 10 * sx, cy - 10 * sy, cx - 5 * sx, cy - 5 * sy), fill=(*WHITE, 120))


def paint_sun(c: Canvas, box: Box, color: RGB) -> None:
    x0, y0, x1, y1 = square_in(box)
    r, cx, cy = (x1 - x0) / 2, (x0 + x1) / 2, (y0 + y1) / 2
    core = r * 0.62
    for k in range(12):
        a = k * math.pi / 6
        base = [
            (cx + core * 0.9 * math.cos(a + s), cy + core * 0.9 * math.sin(a + s))
            for s in (-0.16, 0.16)
        ]
        c.draw.polygon([*base, (cx + r * math.cos(a), cy + r * math.sin(a))], fill=color)
    if c.detail:
        c.draw.ellipse(
            (cx - core * 1.15, cy - core * 1.15, cx + core * 1.15, cy + core * 1.15),
            fill=(*color, 70),
        )
    c.draw.ellipse(
        (cx - core, cy - core, cx + core, cy + core), fill=color, outline=darker(color, 0.1)
    )


def paint_moon(c: Canvas, box: Box, color: RGB) -> None:
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = (round(v) for v in square_in(box))
    w, h = max(2, x1 - x0), max(2, y1 - y0)
    mask = Image.new("L", (w, h), 0)
    pen = ImageDraw.Draw(mask)
    pen.ellipse((0, 0, w - 1, h - 1), fill=255)
    pen.ellipse((w * 0.32, -h * 0.1, w * 1.18, h * 0.9), fill=0)
    c.image.paste(color, (x0, y0, x0 + w, y0 + h), mask)


def paint_cloud(c: Canvas, box: Box, color: RGB) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    puffs = [
        (x0, y0 + h * 0.45, x1, y1),
        (x0 + w * 0.08, y0 + h * 0.2, x0 + w * 0.5, y1 - h * 0.08),
        (x0 + w * 0.3, y0, x0 + w * 0.78, y1 - h * 0.15),
        (x0 + w * 0.55, y0 + h * 0.22, x1 - w * 0.02, y1 - h * 0.05),
    ]
    if c.detail:
        for p in puffs:
            c.draw.ellipse((p[0], p[1] + h * 0.08, p[2], p[3] + h * 0.08), fill=darker(color, 0.12))
    for p in puffs:
        c.draw.ellipse(p, fill=color)


def paint_rainbow(c: Canvas, box: Box, color: RGB) -> None:
    x0, y0, x1, y1 = box
    cx, radius = (x0 + x1) / 2, min((x1 - x0) * 0.42, (y1 - y0) * 0.95)
    band = radius * 0.07
    for k, hue in enumerate(RAINBOW):
        r = radius - k * band
        c.draw.arc(
            (cx - r, y1 - r, cx + r, y1 + r), 180, 360, fill=(*hue, 200), width=max(1, round(band))
        )
    _ = color


def paint_unknown(c: Canvas, box: Box, color: RGB, label: str) -> None:
    """A dashed card with a question mark and the prompt's word: "this was not drawn"."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    card = (x0, y0, x1, y0 + h * 0.74)
    c.rounded(card, w * 0.12, fill=lighter(color, 0.35))
    dash, lw = max(4.0, w * 0.06), c.line_width(box, 0.025)
    for edge in _edges(card):
        _dashed(c, edge, dash, darker(color, 0.4), lw)
    write(c, "?", (x0, y0, x1, y0 + h * 0.74), darker(color, 0.45), max_share=0.8)
    write(c, label, (x0 - w * 0.25, y0 + h * 0.76, x1 + w * 0.25, y1), INK, max_share=1.0)


def _edges(box: Box) -> list[tuple[float, float, float, float]]:
    x0, y0, x1, y1 = box
    return [(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)]


def _dashed(
    c: Canvas, edge: tuple[float, float, float, float], dash: float, color: RGB, width: int
) -> None:
    ax, ay, bx, by = edge
    length = math.hypot(bx - ax, by - ay)
    steps = max(1, int(length // (dash * 2)))
    for k in range(steps):
        t0, t1 = (2 * k) / (2 * steps), (2 * k + 1) / (2 * steps)
        c.draw.line(
            [
                (ax + (bx - ax) * t0, ay + (by - ay) * t0),
                (ax + (bx - ax) * t1, ay + (by - ay) * t1),
            ],
            fill=color,
            width=width,
        )


SHAPE_PAINTERS: dict[str, Painter] = {
    "circle": paint_circle, "ball": paint_ball, "square": paint_square,
    "rectangle": paint_rectangle, "box": paint_box, "triangle": paint_triangle,
    "star": paint_star, "heart": paint_heart, "sun": paint_sun, "moon": paint_moon,
    "cloud": paint_cloud, "rainbow": paint_rainbow,
}  # fmt: skip
