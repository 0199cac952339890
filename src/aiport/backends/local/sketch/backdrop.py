"""The picture behind the objects: sky, ground or sea, and the setting's decorations.

Without a setting or anything that stands on the ground, the background is a plain light
gradient, so that the objects' colours stay what the prompt asked for.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import TYPE_CHECKING

from aiport.backends.local.sketch.canvas import RGB, Canvas, darker, lighter, mix, resolve_color
from aiport.backends.local.sketch.geometry import HORIZON, all_sky, has_ground, open_water
from aiport.backends.local.sketch.scene import Scene
from aiport.backends.local.sketch.things import paint_mountain, paint_tree

if TYPE_CHECKING:
    from PIL import Image

Stops = list[tuple[float, RGB]]
LAMP: RGB = (255, 236, 170)

_SKIES: dict[str, Stops] = {
    "plain": [(0.0, (247, 248, 251)), (1.0, (226, 231, 240))],
    "day": [(0.0, (92, 160, 230)), (1.0, (196, 226, 250))],
    "night": [(0.0, (8, 12, 35)), (1.0, (38, 48, 96))],
    "sunset": [(0.0, (54, 38, 110)), (0.55, (236, 110, 120)), (1.0, (252, 180, 90))],
    "cyberpunk": [(0.0, (12, 4, 30)), (0.6, (70, 16, 90)), (1.0, (190, 40, 140))],
    "space": [(0.0, (2, 2, 10)), (1.0, (22, 12, 45))],
    "underwater": [(0.0, (40, 140, 200)), (1.0, (8, 40, 90))],
    "room": [(0.0, (238, 226, 208)), (1.0, (224, 206, 182))],
    "rain": [(0.0, (104, 114, 132)), (1.0, (176, 184, 196))],
    "portrait": [(0.0, (64, 78, 104)), (0.6, (120, 132, 158)), (1.0, (150, 160, 182))],
}
_GROUNDS: dict[str, tuple[RGB, RGB]] = {
    "grass": ((110, 185, 85), (66, 138, 58)),
    "forest": ((70, 140, 60), (40, 100, 45)),
    "sand": ((238, 214, 160), (222, 188, 128)),
    "snow": ((240, 244, 250), (212, 222, 238)),
    "street": ((96, 100, 110), (62, 64, 72)),
    "neon": ((30, 10, 45), (12, 4, 22)),
    "seabed": ((200, 180, 130), (160, 140, 95)),
    "floor": ((178, 126, 82), (140, 94, 58)),
    "road": ((78, 80, 88), (52, 54, 60)),
}
_SEA: tuple[RGB, RGB] = ((38, 110, 190), (70, 160, 220))


def gradient(size: tuple[int, int], stops: Stops) -> Image.Image:
    """A vertical gradient through `stops` ((position 0..1, colour) pairs).

    One column is interpolated to the full height, then repeated across the width
    (nearest-neighbour), which costs a tenth of scaling a short strip up both ways.
    """
    from PIL import Image

    strip = Image.new("RGB", (1, 256))
    strip.putdata(_strip(tuple(stops)))
    column = strip.resize((1, max(1, size[1])), Image.Resampling.BILINEAR)
    return column.resize(size, Image.Resampling.NEAREST)


@lru_cache(maxsize=64)
def _strip(stops: tuple[tuple[float, RGB], ...]) -> list[RGB]:
    return [_at(list(stops), k / 255) for k in range(256)]


def _at(stops: Stops, t: float) -> RGB:
    for (p0, c0), (p1, c1) in itertools.pairwise(stops):
        if t <= p1:
            return mix(c0, c1, (t - p0) / ((p1 - p0) or 1))
    return stops[-1][1]


def sky_name(scene: Scene) -> str:
    if scene.framing == "portrait":
        return "portrait"
    if scene.place in ("space", "underwater", "cyberpunk", "room"):
        return scene.place
    if scene.time in ("night", "sunset"):
        return scene.time
    if scene.weather == "rain":
        return "rain"
    return "day" if has_ground(scene) or scene.time or scene.place or all_sky(scene) else "plain"


def background(scene: Scene, size: tuple[int, int], transparent: bool) -> Image.Image:
    """A new image holding the sky (or a plain or transparent ground) for `scene`."""
    from PIL import Image

    if transparent:
        return Image.new("RGBA", size, (0, 0, 0, 0))
    if scene.background:
        base = resolve_color(scene.background, "unknown", 0)
        return gradient(size, [(0.0, lighter(base, 0.15)), (1.0, base)])
    return gradient(size, _SKIES[sky_name(scene)])


def paint_setting(c: Canvas, scene: Scene, transparent: bool) -> None:
    """Ground, sea and the setting's decorations, drawn before any object."""
    width, height = c.image.size
    if transparent:
        return
    if scene.framing == "portrait":
        _spotlight(c, width, height)
        return
    clear = scene.place != "room" and scene.weather is None
    if (scene.time == "night" or scene.place == "space") and clear:
        _stars(c, width, height)
    if not has_ground(scene) or scene.place == "space":
        return
    top = round(height * HORIZON)
    kinds = {obj.kind for obj in scene.objects}
    sea = scene.place == "beach" or open_water(scene)
    sea_top = round(height * (HORIZON - 0.1))
    if scene.time == "sunset" and scene.place != "room" and not kinds & _SUNS:
        _setting_sun(c, width / 2, sea_top if sea else top)
    dim = {"night": 0.55, "sunset": 0.25}.get(scene.time or "", 0.2 if scene.weather else 0.0)
    if sea:
        # a beach has a strip of sea behind the sand; a boat alone gets open water
        top = top + height // 20 if scene.place == "beach" else height
        water: Stops = [(0.0, darker(_SEA[0], dim)), (1.0, darker(_SEA[1], dim))]
        c.image.paste(gradient((width, top - sea_top), water), (0, sea_top))
    if top < height:
        low, high = _GROUNDS[_ground_name(scene, kinds)]
        band = gradient((width, height - top), [(0, darker(low, dim)), (1, darker(high, dim))])
        c.image.paste(band, (0, top))
    if scene.place == "cyberpunk":
        _neon_grid(c, width, height, top)
    if scene.place == "forest":
        _forest_edge(c, width, height, top)
    if scene.place == "road":
        _road(c, width, height, top, night=scene.time == "night")
    if scene.place == "room":
        _room(c, width, height, top, night=scene.time in ("night", "sunset"))
    if scene.place == "river":
        _river(c, width, height, top)


_SUNS = frozenset({"sun", "sun-with-face"})  # a sun the prompt named: no second one
SETTING_SUN: RGB = (255, 196, 84)


def _setting_sun(c: Canvas, cx: float, horizon: float) -> None:
    """The sun sinking behind the horizon at sunset (the ground or sea, drawn after it,
    hides its lower half), in a soft glow."""
    width, height = c.image.size
    radius = min(width, height) * 0.11
    for grow, alpha in ((1.9, 40), (1.45, 70)):
        r = radius * grow
        c.draw.ellipse((cx - r, horizon - r, cx + r, horizon + r), fill=(*SETTING_SUN, alpha))
    c.draw.ellipse((cx - radius, horizon - radius, cx + radius, horizon + radius), fill=SETTING_SUN)


def paint_weather(c: Canvas, scene: Scene) -> None:
    """Rain over everything, drawn after the objects: thin slanted streaks."""
    if scene.weather != "rain" or scene.place in ("room", "underwater", "space"):
        return
    width, height = c.image.size
    length, slant = height * 0.045, height * 0.012
    pen = max(1, round(min(width, height) / 420))
    for _ in range(width * height // 5200):
        x, y = c.rng.uniform(-slant, width), c.rng.uniform(-length, height)
        c.draw.line([(x + slant, y), (x, y + length)], fill=(222, 232, 246, 150), width=pen)


def _ground_name(scene: Scene, kinds: set[str]) -> str:
    by_place = {"beach": "sand", "desert": "sand", "snow": "snow", "cyberpunk": "neon",
                "forest": "forest", "underwater": "seabed", "room": "floor",
                "road": "road"}  # fmt: skip
    if scene.place in by_place:
        return by_place[scene.place]
    return "street" if "city" in kinds and scene.place is None else "grass"


def _stars(c: Canvas, width: int, height: int) -> None:
    count = width * height // (9000 if c.detail else 6000)
    dot = max(1, round(min(width, height) / 500))
    for _ in range(count):
        x, y = c.rng.uniform(0, width), c.rng.uniform(0, height * HORIZON)
        size = dot * c.rng.choice((1, 1, 1, 2))
        c.draw.ellipse((x, y, x + size, y + size), fill=(255, 255, 230, c.rng.randint(120, 255)))


def _neon_grid(c: Canvas, width: int, height: int, top: int) -> None:
    glow, lw = (255, 60, 200, 160), max(1, height // 400)
    y, step = float(top), height * 0.015
    while y < height:
        c.draw.line([(0, y), (width, y)], fill=glow, width=lw)
        step *= 1.35
        y += step
    for k in range(-12, 13):
        c.draw.line(
            [(width / 2 + k * width * 0.04, top), (width / 2 + k * width * 0.25, height)],
            fill=(40, 240, 255, 120),
            width=lw,
        )


def _forest_edge(c: Canvas, width: int, height: int, top: int) -> None:
    tree_h = height * 0.22
    x = -tree_h * 0.3
    while x < width:
        tone = mix((40, 100, 50), (150, 190, 150), c.rng.uniform(0.25, 0.45))
        paint_tree(c, (x, top - tree_h * c.rng.uniform(0.7, 1.0), x + tree_h * 0.6, top + 2), tone)
        x += tree_h * c.rng.uniform(0.35, 0.55)


def _road(c: Canvas, width: int, height: int, top: int, night: bool) -> None:
    """A verge of grass, the road's edge lines, a dashed centre line; street lights at night."""
    verge = round((height - top) * 0.12)
    c.draw.rectangle((0, top, width, top + verge), fill=darker((96, 160, 80), 0.55 if night else 0))
    line = max(2, height // 160)
    for y in (top + verge + line, height - line * 2):
        c.draw.rectangle((0, y, width, y + line), fill=(235, 235, 225))
    middle, dash = (top + verge + height) / 2, width / 14
    for k in range(15):
        x = k * dash - dash * 0.25
        c.draw.rectangle(
            (x, middle - line / 2, x + dash / 2, middle + line / 2), fill=(250, 204, 21)
        )
    if night:
        for k in range(4):
            x = width * (0.12 + 0.26 * k)
            pole = (x - line / 2, top - height * 0.3, x + line / 2, top + verge)
            c.draw.rectangle(pole, fill=(40, 44, 56))
            r = height * 0.05
            c.draw.ellipse((x - r, pole[1] - r, x + r, pole[1] + r), fill=(255, 230, 140, 70))
            c.draw.ellipse((x - r / 4, pole[1] - r / 4, x + r / 4, pole[1] + r / 4), fill=LAMP)


def _river(c: Canvas, width: int, height: int, top: int) -> None:
    """A river flowing from the horizon towards the viewer, widening as it comes."""
    bank = [(width * 0.46, top), (width * 0.54, top), (width * 0.9, height), (width * 0.1, height)]
    c.draw.polygon(bank, fill=_SEA[0])
    line = max(1, height // 260)
    for k in range(10):
        t = (k + c.rng.uniform(0.2, 0.8)) / 10  # 0 at the horizon, 1 at the bottom
        y, half = top + (height - top) * t, width * (0.04 + 0.36 * t)
        x = width / 2 + c.rng.uniform(-0.6, 0.3) * half
        c.draw.line([(x, y), (x + half * 0.3, y)], fill=(255, 255, 255, 110), width=line)


def _room(c: Canvas, width: int, height: int, top: int, night: bool) -> None:
    """Floor boards, a skirting board and a window on the wall."""
    line = max(1, height // 300)
    step = (height - top) / 6
    for k in range(1, 6):
        y = top + k * step
        c.draw.line([(0, y), (width, y)], fill=(120, 80, 48), width=line)
    c.draw.rectangle((0, top - height * 0.02, width, top), fill=(250, 246, 238))
    frame = (width * 0.62, height * 0.1, width * 0.86, height * 0.42)
    c.draw.rectangle(frame, fill=(30, 40, 80) if night else (170, 215, 240))
    x0, y0, x1, y1 = frame
    bar = max(2, height // 120)
    c.draw.rectangle(frame, outline=(250, 246, 238), width=bar * 2)
    c.draw.rectangle(
        ((x0 + x1) / 2 - bar / 2, y0, (x0 + x1) / 2 + bar / 2, y1), fill=(250, 246, 238)
    )
    c.draw.rectangle(
        (x0, (y0 + y1) / 2 - bar / 2, x1, (y0 + y1) / 2 + bar / 2), fill=(250, 246, 238)
    )


def _spotlight(c: Canvas, width: int, height: int) -> None:
    """The studio light behind a portrait's subject."""
    for k in range(6):
        r = min(width, height) * (0.5 - k * 0.06)
        c.draw.ellipse(
            (width / 2 - r, height * 0.45 - r, width / 2 + r, height * 0.45 + r),
            fill=(255, 250, 240, 14),
        )


def paint_mountain_range(
    c: Canvas, box: tuple[float, float, float, float], color: RGB, peaks: int
) -> None:
    """`peaks` mountains side by side along the horizon, behind everything else."""
    x0, y0, x1, y1 = box
    step = (x1 - x0) / peaks
    for k in range(peaks):
        h = (y1 - y0) * c.rng.uniform(0.55, 1.0)
        cx = x0 + step * (k + 0.5) + c.rng.uniform(-step, step) * 0.2
        paint_mountain(
            c,
            (cx - step * 0.9, y1 - h, cx + step * 0.9, y1),
            mix(color, (160, 170, 190), c.rng.uniform(0, 0.3)),
        )
