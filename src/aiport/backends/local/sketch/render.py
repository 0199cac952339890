"""Draw a prompt as a flat illustration: the sketch renderer's entry point.

It reads the prompt (English or German) into a scene (`scene.parse_scene`), lays it out
(`layout`) and paints it with Pillow: the objects, colours, counts, positions and quoted
text the prompt names, at the requested size. Each image's `revised_prompt` says plainly
what was drawn and by what. Quality `hd` (or `high`) adds shading and soft shadows and
renders at twice the size before scaling down (antialiasing).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiport.backends.base import GeneratedImage
from aiport.backends.local.sketch.art import SKIN_TONES, Parts, art_set, raster
from aiport.backends.local.sketch.backdrop import (
    background,
    paint_mountain_range,
    paint_setting,
    paint_weather,
)
from aiport.backends.local.sketch.canvas import INK, RGB, Box, Canvas, resolve_color, write
from aiport.backends.local.sketch.describe import describe_scene
from aiport.backends.local.sketch.figures import clothes_color, role_figure_parts
from aiport.backends.local.sketch.layout import CAPTION_BAND, Placement, layout
from aiport.backends.local.sketch.paint import SHAPE_PAINTERS, paint_unknown
from aiport.backends.local.sketch.people import is_role
from aiport.backends.local.sketch.png import encode_png
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.scene import Scene
from aiport.backends.local.sketch.things import THING_PAINTERS, paint_city, paint_sign
from aiport.backends.local.sketch.worn import worn_paths
from aiport.protocol.images import ImageRequest

if TYPE_CHECKING:
    from PIL import Image

_HD = {"hd", "high"}


@dataclass(frozen=True, slots=True)
class RenderJob:
    """Everything one request's pictures depend on."""

    prompt: str
    width: int
    height: int
    count: int = 1
    detailed: bool = False
    muted: bool = False
    transparent: bool = False


def job_from_request(request: ImageRequest) -> RenderJob:
    width, height = request.pixels
    return RenderJob(
        prompt=request.prompt,
        width=width,
        height=height,
        count=request.n,
        detailed=request.quality in _HD,
        muted=request.style == "natural",
        transparent=request.background == "transparent",
    )


def render_set(job: RenderJob) -> list[GeneratedImage]:
    """All of a job's pictures: same scene and description, a different layout each."""
    return list(render_each(job))


def render_each(job: RenderJob) -> Iterator[GeneratedImage]:
    """A job's pictures one by one (a caller may stop between two)."""
    scene = parse_scene(job.prompt)
    revised = describe_scene(scene, detailed=job.detailed)
    for k in range(job.count):
        yield GeneratedImage(png=render_png(scene, job, k), revised_prompt=revised)


def render_png(scene: Scene, job: RenderJob, index: int = 0) -> bytes:
    """PNG bytes of picture number `index` of `job`, exactly `job.width` × `job.height`."""
    return encode_png(render_image(scene, job, index))


def render_image(scene: Scene, job: RenderJob, index: int = 0) -> Image.Image:
    """The Pillow image itself (tests inspect its pixels)."""
    from PIL import ImageDraw

    scale = 2 if job.detailed else 1
    size = (job.width * scale, job.height * scale)
    rng = random.Random(_seed(job.prompt, index))
    image = background(scene, size, job.transparent)
    night = scene.time == "night" or scene.place in ("space", "cyberpunk")
    canvas = Canvas(
        image, ImageDraw.Draw(image, "RGBA"), job.detailed, rng, night, scene.place == "cyberpunk"
    )
    paint_setting(canvas, scene, job.transparent)
    caption = _caption_side(scene)
    for placement in layout(scene, size[0], size[1], rng, vary=index > 0, reserve=caption):
        _paint(canvas, scene, placement, job.muted)
    if not job.transparent:
        paint_weather(canvas, scene)
    if caption is not None:
        _paint_caption(canvas, " · ".join(scene.texts), caption)
    if scene.empty:
        _paint_nothing_found(canvas, job.prompt)
    return image.reduce(scale) if scale > 1 else image


def _seed(prompt: str, index: int) -> int:
    digest = hashlib.sha256(f"{index}\x00{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _paint(canvas: Canvas, scene: Scene, placement: Placement, muted: bool) -> None:
    obj = scene.objects[placement.group]
    kind = obj.kind_of(placement.copy)
    color = resolve_color(obj.color, kind, placement.copy, muted)
    box = placement.box
    if kind == "unknown":
        paint_unknown(canvas, box, color, obj.label or "?")
    elif kind == "sign":
        paint_sign(canvas, box, color, obj.text)
    elif kind == "city":
        paint_city(canvas, box, color, custom=obj.color is not None)
    elif kind == "mountain" and placement.layer == 0:
        paint_mountain_range(canvas, box, color, obj.count)
    elif kind in SHAPE_PAINTERS or kind in THING_PAINTERS:
        painter = SHAPE_PAINTERS.get(kind) or THING_PAINTERS[kind]
        painter(canvas, box, color)
    else:
        tint = color if obj.color and not _named_in(obj.color, kind) else None
        tone = canvas.rng.choice(SKIN_TONES) if art_set()[kind].tones else None
        parts = tuple(
            (paths, resolve_color(name, kind, placement.copy, muted))
            for accessory, name in obj.worn_colors.items()
            if (paths := worn_paths(kind, accessory))
        )
        if obj.stands_for is not None and is_role(obj.stands_for):
            _paint_role_figure(canvas, box, obj.stands_for, tint, tone)
        else:
            paint_art(canvas, box, kind, tint, tone, stands=not obj.hangs, parts=parts)


def _paint_role_figure(
    canvas: Canvas, box: Box, role: str, tint: RGB | None, tone: str | None
) -> None:
    """ "a firefighter next to a fire truck": a standing body in the role's clothes, the
    role's bust (helmet, uniform) over its top."""
    (body, body_box), (bust, bust_box) = role_figure_parts(role, box)
    paint_art(canvas, body_box, body, tint or clothes_color(role), tone)
    paint_art(canvas, bust_box, bust, tint, tone, stands=False)


def _named_in(color: str, kind: str) -> bool:
    """Whether the picture is of that colour already ("green apple", "blue book")."""
    return color.rpartition(" ")[2] in art_set()[kind].label.split()


def paint_art(
    canvas: Canvas,
    box: Box,
    name: str,
    tint: RGB | None = None,
    tone: str | None = None,
    *,
    stands: bool = True,
    parts: Parts = (),
) -> None:
    """The art-set picture `name` as large as fits in `box`, standing on its bottom edge.

    People are drawn in one of the art's five natural skin tones (`tone`), not in the
    emoji's yellow: the renderer draws scenes, not smileys. What `stands` casts a shadow
    in hd; what hangs on a wall does not. `parts` repaints parts of it (`art.raster`).
    """
    aspect = art_set()[name].aspect
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if width / max(height, 1e-6) > aspect:
        width = height * aspect
    else:
        height = width / aspect
    left, top = round((x0 + x1 - width) / 2), round(y1 - height)
    if stands:
        canvas.shadow((left, top, left + width, top + height))
    picture = raster(name, round(width), round(height), tint, tone, parts)
    if canvas.image.mode == "RGBA":
        _composite(canvas.image, picture, left, top)
    else:
        canvas.image.paste(picture, (left, top), picture)


def _composite(image: Image.Image, picture: Image.Image, left: int, top: int) -> None:
    """Alpha-composite `picture` at (left, top), cut to the image (which paste() can't)."""
    crop = (max(0, -left), max(0, -top), picture.width, picture.height)
    if crop[0] >= crop[2] or crop[1] >= crop[3]:
        return
    image.alpha_composite(picture.crop(crop), (max(0, left), max(0, top)))


def _caption_side(scene: Scene) -> str | None:
    """Where free text (not on a sign) goes: the top, unless the prompt put things there."""
    if not scene.texts:
        return None
    top_taken = any(obj.v == "top" for obj in scene.objects)
    bottom_taken = any(obj.v == "bottom" for obj in scene.objects)
    return "bottom" if top_taken and not bottom_taken else "top"


def _paint_caption(canvas: Canvas, text: str, side: str) -> None:
    width, height = canvas.image.size
    band = height * CAPTION_BAND
    y0 = height - band + height * 0.015 if side == "bottom" else height * 0.015
    box = (width * 0.06, y0, width * 0.94, y0 + band - height * 0.03)
    canvas.rounded(box, height * 0.03, fill=(255, 255, 255, 215))
    write(canvas, text, box, INK, max_share=0.86)


def _paint_nothing_found(canvas: Canvas, prompt: str) -> None:
    width, height = canvas.image.size
    words = " ".join(prompt.split()[:4])
    side = min(width, height) * canvas.rng.uniform(0.36, 0.44)
    cx, cy = width / 2 + canvas.rng.uniform(-0.1, 0.1) * width, height / 2
    paint_unknown(
        canvas, (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), (170, 170, 190), words
    )
