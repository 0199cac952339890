"""The sketch renderer's own PNG writer: what two independent decoders read back is exact."""

from __future__ import annotations

import io

import cairocffi
import pytest
from PIL import Image

from aiport.backends.local.sketch.png import encode_png
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.render import RenderJob, render_image


@pytest.mark.parametrize("transparent", [False, True])
def test_pillow_reads_back_every_pixel(transparent: bool) -> None:
    prompt = "three red balls next to a cat under a rainbow"
    job = RenderJob(prompt=prompt, width=173, height=91, transparent=transparent)
    image = render_image(parse_scene(prompt), job)
    back = Image.open(io.BytesIO(encode_png(image)))
    back.load()
    assert (back.mode, back.size) == (image.mode, image.size)
    assert back.tobytes() == image.tobytes()


def test_libpng_reads_it_too() -> None:
    """cairo reads PNG with libpng, which checks every chunk's CRC and the zlib stream."""
    image = Image.new("RGBA", (37, 5), (10, 200, 30, 255))
    image.putpixel((36, 4), (255, 0, 0, 128))
    surface = cairocffi.ImageSurface.create_from_png(io.BytesIO(encode_png(image)))
    assert (surface.get_width(), surface.get_height()) == (37, 5)
    first = bytes(surface.get_data()[:4])
    assert first == bytes((30, 200, 10, 255))  # cairo's premultiplied BGRA, little-endian


def test_other_modes_go_to_pillow() -> None:
    image = Image.new("L", (8, 8), 77)
    back = Image.open(io.BytesIO(encode_png(image)))
    assert back.mode == "L" and back.getpixel((3, 3)) == 77
