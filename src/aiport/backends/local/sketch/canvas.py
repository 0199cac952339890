"""What every sketch painter shares: the canvas, colours, box geometry and text.

Painters draw into pixel boxes `(x0, y0, x1, y1)`; `at` and `pts` place parts in
fractions of a box. `Canvas.detail` (quality "hd") asks for shading and soft shadows.
Pillow is imported only inside functions (and for type checking).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiport.backends.local.sketch.words import COLOR_RGB, MULTICOLOR

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
INK: RGB = (28, 28, 38)

DEFAULT_COLORS: dict[str, RGB] = {
    "circle": COLOR_RGB["blue"], "ball": COLOR_RGB["red"], "square": COLOR_RGB["orange"],
    "rectangle": COLOR_RGB["purple"], "box": (196, 140, 80), "triangle": COLOR_RGB["green"],
    "star": COLOR_RGB["yellow"], "heart": (225, 29, 72), "sun": COLOR_RGB["yellow"],
    "moon": (245, 236, 190), "cloud": (252, 252, 255), "building": (120, 135, 160),
    "fireworks": (255, 196, 60),
    "tree": (46, 150, 70), "robot": (150, 162, 178), "mountain": (110, 120, 140),
    "sign": (250, 245, 228), "unknown": (170, 170, 190), "city": (95, 105, 125),
    "sofa": (58, 120, 160), "table": (166, 112, 62), "bridge": (176, 160, 140),
    "bowl": (64, 150, 196),
}  # fmt: skip
RAINBOW: list[RGB] = [COLOR_RGB[c] for c in ("red", "orange", "yellow", "green", "blue", "purple")]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """`a` moved a fraction `t` of the way to `b`."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def darker(color: RGB, t: float = 0.35) -> RGB:
    return mix(color, BLACK, t)


def lighter(color: RGB, t: float = 0.4) -> RGB:
    return mix(color, WHITE, t)


def resolve_color(name: str | None, kind: str, copy: int, muted: bool = False) -> RGB:
    """The RGB for a colour name such as `light blue`, or the kind's own colour."""
    if name is None:
        color = DEFAULT_COLORS.get(kind, DEFAULT_COLORS["unknown"])
    elif name == MULTICOLOR:
        color = RAINBOW[copy % len(RAINBOW)]
    else:
        shade, _, base = name.rpartition(" ")
        color = COLOR_RGB.get(base, DEFAULT_COLORS["unknown"])
        if shade == "light":
            color = lighter(color, 0.45)
        elif shade == "dark":
            color = darker(color, 0.45)
    return mix(color, (150, 150, 150), 0.25) if muted else color


@dataclass(slots=True)
class Canvas:
    """What every painter draws with. `draw` blends RGBA fills onto the image."""

    image: Image.Image
    draw: ImageDraw.ImageDraw
    detail: bool
    rng: random.Random
    night: bool = False
    neon: bool = False

    def rounded(self, box: Box, radius: float, **style: Any) -> None:
        """A rounded rectangle; whole-pixel radius, as Pillow 11 fails on tiny fractional ones."""
        radius = int(min(radius, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2))
        if radius < 1:
            self.draw.rectangle(box, **style)
        else:
            self.draw.rounded_rectangle(box, radius=radius, **style)

    def line_width(self, box: Box, share: float = 0.03) -> int:
        return max(1, round(min(box[2] - box[0], box[3] - box[1]) * share))

    def shadow(self, box: Box) -> None:
        """A soft shadow on the ground under a standing object (hd only)."""
        if self.detail:
            self.draw.ellipse(at(box, 0.05, 0.95, 0.95, 1.06), fill=(0, 0, 0, 60))

    def drop_shadow(self, shape: Box | list[tuple[float, float]], oval: bool = False) -> None:
        """The shape itself, offset down-right in translucent black (hd only)."""
        if not self.detail:
            return
        if isinstance(shape, tuple):
            d = min(shape[2] - shape[0], shape[3] - shape[1]) * 0.05
            moved = (shape[0] + d, shape[1] + d * 1.5, shape[2] + d, shape[3] + d * 1.5)
            draw = self.draw.ellipse if oval else self.draw.rectangle
            draw(moved, fill=(0, 0, 0, 45))
            return
        x0, y0, x1, y1 = _bounds(shape)
        d = min(x1 - x0, y1 - y0) * 0.05
        self.draw.polygon([(x + d, y + d * 1.5) for x, y in shape], fill=(0, 0, 0, 45))


def at(box: Box, fx0: float, fy0: float, fx1: float, fy1: float) -> Box:
    """The part of `box` between fractions (fx0, fy0) and (fx1, fy1) of its size."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    xa, xb = sorted((x0 + w * fx0, x0 + w * fx1))
    ya, yb = sorted((y0 + h * fy0, y0 + h * fy1))
    return (xa, ya, xb, yb)


def pts(box: Box, *fractions: float) -> list[tuple[float, float]]:
    """Points of `box` given as fractions x, y, x, y, ... of its size."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    pairs = zip(fractions[0::2], fractions[1::2], strict=True)
    return [(x0 + w * fx, y0 + h * fy) for fx, fy in pairs]


def square_in(box: Box) -> Box:
    """The largest square centred in `box`."""
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def polygon(c: Canvas, points: list[tuple[float, float]], color: RGB, outline: bool = True) -> None:
    edge = darker(color) if outline else None
    c.draw.polygon(points, fill=color, outline=edge, width=c.line_width(_bounds(points), 0.02))


def _bounds(points: list[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


# -- text --------------------------------------------------------------------------------


SHIPPED_FONT = Path(__file__).parent / "fonts" / "DejaVuSans-Bold.ttf"


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A bold sans-serif at `size` px: the DejaVu copy shipped with aiport (so pictures are
    the same on every machine, umlauts included), else the system's, else Pillow's own."""
    from PIL import ImageFont

    for name in (
        str(SHIPPED_FONT),
        "DejaVuSans-Bold.ttf",
        "LiberationSans-Bold.ttf",
        "Arial Bold.ttf",
        "arialbd.ttf",
    ):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1: scalable, Latin only
    except TypeError:
        return ImageFont.load_default()


def write(c: Canvas, text: str, box: Box, color: RGB, max_share: float = 0.9) -> None:
    """`text` centred in `box`, on up to three lines, as large as fits."""
    x0, y0, x1, y1 = box
    w, h = (x1 - x0) * max_share, (y1 - y0) * max_share
    lines, size = fit_text(text, w, h)
    pen = font(size)
    line_h = size * 1.15
    top = (y0 + y1) / 2 - line_h * len(lines) / 2
    for k, line in enumerate(lines):
        c.draw.text(
            ((x0 + x1) / 2, top + line_h * (k + 0.5)), line, font=pen, fill=color, anchor="mm"
        )


def fit_text(text: str, width: float, height: float) -> tuple[list[str], int]:
    """Lines and font size (px) for `text` in a width×height box: fewest lines that fit."""
    words = text.split() or [text]
    best: tuple[list[str], int] = ([text], 6)
    for count in range(1, min(3, len(words)) + 1):
        lines = _split_words(words, count)
        size = int(min(height / (len(lines) * 1.15), height))
        while size > 6 and max(_length(line, size) for line in lines) > width:
            size = int(size * 0.9)
        if size > best[1] * 1.1:
            best = (lines, size)
    return best


def _length(line: str, size: int) -> float:
    return float(font(size).getlength(line))


def _split_words(words: list[str], count: int) -> list[str]:
    per = math.ceil(len(words) / count)
    return [" ".join(words[k : k + per]) for k in range(0, len(words), per)]


Painter = Callable[[Canvas, Box, RGB], Any]
