"""The art set: ~1,600 full-colour vector pictures (Fluent Emoji Flat, MIT) and their names.

`art/fluent-emoji-flat.json.gz` (built by `scripts/build-sketch-art.py`) holds, per thing,
its SVG body, the box its visible pixels fill, its CLDR group and its English and German
names and keywords (emojibase-data, MIT); people also in five natural skin tones. `raster`
draws a thing at the size a layout asks, so it stays sharp at 1792×1024, in a skin tone if
asked; `tint` repaints the thing's main colour family to an asked colour by rewriting the
SVG's colours before rasterising. A few things the emoji set lacks (a lighthouse, a glass
of water) are the project's own SVG files in `art/aiport/`, each carrying its names
(`data-en`, `data-de`) and CLDR subgroup (`data-group`) and drawn to fill its view box;
`art/LICENSES.txt` names each file's source and licence. CairoSVG rasterises into a
cairo image surface that Pillow reads without a PNG round trip (here ~5 ms for an 800 px
picture against ~90 ms with resvg-py, which only hands out PNG bytes).
"""

from __future__ import annotations

import colorsys
import gzip
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

RGB = tuple[int, int, int]
ART_FILE = Path(__file__).parent / "art" / "fluent-emoji-flat.json.gz"
OWN_ART = Path(__file__).parent / "art" / "aiport"
_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
PATH_ELEMENT = re.compile(r"<path\b[^>]*?(?:/>|>.*?</path>)", re.S)
_OUTLINE = re.compile(r'\bd="([^"]*)"')
SKIN_TONES = ("light", "medium-light", "medium", "medium-dark", "dark")


@dataclass(frozen=True, slots=True)
class Art:
    """One picture of the set. `box` is its drawn part, in fractions of `view`."""

    name: str
    body: str
    view: tuple[float, float]
    box: tuple[float, float, float, float]
    group: int
    english: tuple[str, ...]  # CLDR name first, then keywords
    german: tuple[str, ...]
    tones: tuple[tuple[str, str], ...] = ()  # (skin tone, SVG body), for people

    @property
    def label(self) -> str:
        """The English CLDR name, e.g. `red apple` or `woman: red hair`."""
        return self.english[0]

    @property
    def aspect(self) -> float:
        """Width / height of the drawn part."""
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * self.view[0] / max(1e-6, (y1 - y0) * self.view[1])

    def svg(self, body: str | None = None) -> str:
        """An SVG document showing only the drawn part (the view box cut to `box`)."""
        x0, y0, x1, y1 = self.box
        w, h = self.view
        view = f"{x0 * w:.3f} {y0 * h:.3f} {(x1 - x0) * w:.3f} {(y1 - y0) * h:.3f}"
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view}" '
            f'preserveAspectRatio="none">{body or self.body}</svg>'
        )


@cache
def art_set() -> dict[str, Art]:
    """Every picture by name (`red-apple`), loaded once (~0.1 s)."""
    data = json.loads(gzip.decompress(ART_FILE.read_bytes()))
    emoji = {
        name: Art(
            name=name,
            body=entry["body"],
            view=tuple(entry["view"]),
            box=tuple(entry["box"]),
            group=entry["group"] if entry["group"] is not None else -1,
            english=tuple(entry["en"]),
            german=tuple(entry["de"]),
            tones=tuple(entry.get("tones", {}).items()),
        )
        for name, entry in data["things"].items()
    }
    return emoji | {path.stem: own_art(path) for path in sorted(OWN_ART.glob("*.svg"))}


def own_art(path: Path) -> Art:
    """One of the project's own SVG files, its names and subgroup in `data-` attributes."""
    from xml.etree import ElementTree

    text = path.read_text()
    root = ElementTree.fromstring(text)
    x, y, width, height = (float(v) for v in root.attrib["viewBox"].split())
    body = text[text.index(">", text.index("<svg")) + 1 : text.rindex("</svg>")].strip()
    return Art(
        name=path.stem,
        body=f'<g transform="translate({-x:g} {-y:g})">{body}</g>',
        view=(width, height),
        box=(0.0, 0.0, 1.0, 1.0),
        group=int(root.attrib["data-group"]),
        english=tuple(root.attrib["data-en"].split("|")),
        german=tuple(root.attrib["data-de"].split("|")),
    )


Parts = tuple[tuple[tuple[int, ...], RGB], ...]  # (indexes of SVG paths, their new colour)


@lru_cache(maxsize=48)
def raster(
    name: str,
    width: int,
    height: int,
    tint: RGB | None = None,
    tone: str | None = None,
    parts: Parts = (),
) -> Image.Image:
    """The picture `name` as an RGBA image of exactly width × height pixels.

    `tone` (one of `SKIN_TONES`) draws a person in that skin tone where the art has it;
    `parts` repaints single parts (a snowman's hat: `worn.WORN_PATHS`).
    """
    from PIL import Image

    art = art_set()[name]
    body = dict(art.tones).get(tone or "", art.body)
    if tint is not None:
        body = tinted_body(art, tint, body)
    for paths, colour in parts:
        body = repainted_paths(art, body, paths, colour)
    width, height = max(1, width), max(1, height)
    surface = _cairo_surface(art.svg(body), width, height)
    return Image.frombuffer(
        "RGBA", (width, height), bytes(surface.get_data()), "raw", "BGRa", surface.get_stride()
    )


def _cairo_surface(svg: str, width: int, height: int) -> Any:
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    surface = PNGSurface(Tree(bytestring=svg.encode()), None, 96, output_width=width,
                         output_height=height).cairo  # fmt: skip
    surface.flush()
    return surface


# -- tinting -------------------------------------------------------------------------------


def tinted_body(art: Art, target: RGB, body: str | None = None) -> str:
    """The SVG body (`art`'s own, or one of its skin tones) with the main colour family
    moved to `target`, shades kept apart."""
    body = body or art.body
    family = main_family(art)
    if not family:
        return body
    base = _hls(family[0])[1]

    def repaint(match: re.Match[str]) -> str:
        colour = match.group().upper()
        return _moved(colour, base, target) if colour in family else match.group()

    return _HEX.sub(repaint, body)


def repainted_paths(art: Art, body: str, paths: tuple[int, ...], target: RGB) -> str:
    """`body` (`art`'s own or a skin tone's) with the parts drawn by `art`'s own paths
    number `paths` moved to `target`: the first part's colour to `target` itself, the
    others' shades kept apart. A skin tone orders its paths differently, so a part is
    found by its outline (`d`), which every tone shares."""
    own = list(PATH_ELEMENT.finditer(art.body))
    outlines = [_outline(own[k].group()) for k in paths if k < len(own)]
    first = _HEX.search(own[paths[0]].group()) if outlines else None
    if first is None:
        return body
    base = _hls(first.group().upper())[1]

    def repaint(match: re.Match[str]) -> str:
        if _outline(match.group()) not in outlines:
            return match.group()
        return _HEX.sub(lambda c: _moved(c.group().upper(), base, target), match.group())

    return PATH_ELEMENT.sub(repaint, body)


def _outline(element: str) -> str:
    found = _OUTLINE.search(element)
    return found.group(1) if found else ""


def _moved(colour: str, base_light: float, target: RGB) -> str:
    """`colour` in `target`'s hue, as much lighter or darker than it as it was than base."""
    goal = colorsys.rgb_to_hls(*(v / 255 for v in target))
    light = _hls(colour)[1]
    new_light = min(0.97, max(0.04, goal[1] + (light - base_light) * 0.8))
    r, g, b = colorsys.hls_to_rgb(goal[0], new_light, goal[2] if goal[2] > 0.05 else 0.0)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


@lru_cache(maxsize=256)
def main_family(art: Art) -> tuple[str, ...]:
    """The colours to repaint: the family (one hue, or the greys) that covers most area.

    Dark outlines never count; a hue weighs a little more than grey, so a person's shirt
    is repainted rather than the trousers, but a white cup rather than its coffee.
    """
    families: dict[float | None, list[str]] = {}
    areas = palette_areas(art)
    for colour in areas:
        hue, light, sat = _hls(colour)
        if light < 0.15:
            continue
        key = (
            None
            if sat < 0.25
            else next((k for k in families if k is not None and _hue_gap(k, hue) < 0.07), hue)
        )
        families.setdefault(key, []).append(colour)
    if not families:
        return ()

    def weight(key: float | None) -> float:
        return sum(areas[c] for c in families[key]) * (1.0 if key is None else 1.3)

    members = families[max(families, key=weight)]
    return tuple(sorted(members, key=lambda c: -areas[c]))


def palette_areas(art: Art, size: int = 48) -> dict[str, int]:
    """Pixels each of the SVG's colours covers in a small rendering (nearest colour wins)."""
    import numpy as np

    palette = sorted({c.upper() for c in _HEX.findall(art.body)})
    if not palette:
        return {}
    pixels = np.asarray(raster(art.name, size, size)).reshape(-1, 4).astype(int)
    opaque = pixels[pixels[:, 3] > 200][:, :3]
    if not len(opaque):
        return {}
    colours = np.array([[int(c[k : k + 2], 16) for k in (1, 3, 5)] for c in palette])
    nearest = ((opaque[:, None, :] - colours[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(palette))
    return {palette[k]: int(n) for k, n in enumerate(counts) if n}


def _hls(colour: str) -> tuple[float, float, float]:
    r, g, b = (int(colour[k : k + 2], 16) / 255 for k in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)


def _hue_gap(a: float, b: float) -> float:
    gap = abs(a - b) % 1.0
    return min(gap, 1.0 - gap)
