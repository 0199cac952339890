"""The sketch renderer draws what the prompt asks: colours, shapes, counts and places in pixels."""

from __future__ import annotations

import io
from collections import deque

import numpy as np
import pytest
from PIL import Image

from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.render import RenderJob, render_image, render_set
from aiport.protocol.images import ALL_SIZES


def pixels(prompt: str, size: int = 512, *, detailed: bool = False, index: int = 0) -> np.ndarray:
    job = RenderJob(prompt=prompt, width=size, height=size, detailed=detailed)
    return np.asarray(render_image(parse_scene(prompt), job, index).convert("RGB")).astype(int)


def mask(rgb: np.ndarray, colour: str) -> np.ndarray:
    """Pixels whose hue is clearly `colour` (outlines and highlights included)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if colour == "red":
        return (r > 90) & (r > 2 * g) & (r > 2 * b)
    if colour == "blue":
        return (b > 120) & (b > 1.8 * r) & (b > 1.5 * g)
    if colour == "green":
        return (g > 90) & (g > 1.5 * r) & (g > 1.5 * b)
    if colour == "yellow":
        return (r > 180) & (g > 150) & (b < 90)
    raise ValueError(colour)


def components(found: np.ndarray, smallest: int = 30) -> int:
    """Connected regions (4-neighbour flood fill) of at least `smallest` pixels."""
    seen = np.zeros_like(found, dtype=bool)
    height, width = found.shape
    count = 0
    for y, x in zip(*np.nonzero(found), strict=True):
        if seen[y, x]:
            continue
        size, queue = 0, deque([(y, x)])
        seen[y, x] = True
        while queue:
            cy, cx = queue.popleft()
            size += 1
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < height and 0 <= nx < width and found[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    queue.append((ny, nx))
        count += size >= smallest
    return count


@pytest.mark.parametrize("detailed", [False, True])
@pytest.mark.parametrize(
    "prompt",
    [
        "a red circle on the left and a blue square on the right",
        "ein roter Kreis links und ein blaues Quadrat rechts",
    ],
)
def test_colours_land_on_the_asked_side(prompt: str, detailed: bool) -> None:
    rgb = pixels(prompt, detailed=detailed)
    half = rgb.shape[1] // 2
    red, blue = mask(rgb, "red"), mask(rgb, "blue")
    assert red[:, :half].sum() > 20 * max(1, red[:, half:].sum())
    assert blue[:, half:].sum() > 20 * max(1, blue[:, :half].sum())
    assert red.sum() > 0.05 * red.size and blue.sum() > 0.05 * blue.size  # big, not specks


@pytest.mark.parametrize(
    ("prompt", "colour", "count"),
    [
        ("three green stars", "green", 3),
        ("drei grüne Sterne", "green", 3),
        ("five red balls", "red", 5),
        ("2 blue squares", "blue", 2),
        ("seven yellow hearts", "yellow", 7),
    ],
)
def test_counts_are_separate_shapes(prompt: str, colour: str, count: int) -> None:
    for index in range(3):  # every layout variant keeps them apart
        assert components(mask(pixels(prompt, 256, index=index), colour), 20) == count


def test_top_right_is_top_right() -> None:
    rgb = pixels("a yellow sun in the top right corner")
    ys, xs = np.nonzero(mask(rgb, "yellow"))
    assert ys.mean() < rgb.shape[0] / 2 and xs.mean() > rgb.shape[1] / 2


def test_above_and_below() -> None:
    rgb = pixels("a red ball above a blue box")
    red_y = np.nonzero(mask(rgb, "red"))[0].mean()
    blue_y = np.nonzero(mask(rgb, "blue"))[0].mean()
    assert red_y < blue_y


@pytest.mark.parametrize("size", ALL_SIZES)
@pytest.mark.parametrize("detailed", [False, True])
def test_every_size_is_exact(size: str, detailed: bool) -> None:
    width, height = (int(v) for v in size.split("x"))
    job = RenderJob(
        prompt="a house, a tree and 'Hi'", width=width, height=height, detailed=detailed
    )
    (image,) = render_set(job)
    with Image.open(io.BytesIO(image.png)) as decoded:
        assert decoded.format == "PNG"
        assert decoded.size == (width, height)


def test_n_images_differ_but_repeat_deterministically() -> None:
    job = RenderJob(prompt="three cats and a dog in a garden", width=256, height=256, count=3)
    first, again = render_set(job), render_set(job)
    assert len({image.png for image in first}) == 3
    assert [image.png for image in first] == [image.png for image in again]
    assert len({image.revised_prompt for image in first}) == 1


def test_seed_prompt_draws_a_robot_in_a_city() -> None:
    prompt = "Ein futuristischer Roboter in einer Cyberpunk-Stadt"
    (image,) = render_set(RenderJob(prompt=prompt, width=512, height=512))
    text = image.revised_prompt or ""
    assert "robot" in text and "city" in text and "not a diffusion model" in text
    rgb = pixels(prompt)
    neon = (rgb[..., 0] > 200) & (rgb[..., 1] < 120) & (rgb[..., 2] > 150)
    steel = (
        (abs(rgb[..., 0] - 150) < 12)
        & (abs(rgb[..., 1] - 162) < 12)
        & (abs(rgb[..., 2] - 178) < 12)
    )
    assert neon.sum() > 100  # lit windows and grid of the neon city
    assert steel.sum() > 0.03 * steel.size  # the robot's body


def test_text_is_written() -> None:
    with_text = pixels("a blue square and the text 'HELLO WORLD'")
    without = pixels("a blue square")
    dark = (with_text.sum(axis=2) < 150).sum()
    assert dark > 500 and dark > 10 * max(1, (without.sum(axis=2) < 150).sum())


def test_unknown_object_is_a_labelled_placeholder() -> None:
    (image,) = render_set(RenderJob(prompt="a flibbet", width=256, height=256))
    assert "placeholder labelled 'flibbet'" in (image.revised_prompt or "")
    rgb = pixels("a flibbet", 256)
    assert (rgb.sum(axis=2) < 150).sum() > 100  # the question mark and the label


def test_transparent_background_keeps_only_the_shapes() -> None:
    job = RenderJob(prompt="a red ball", width=256, height=256, transparent=True)
    alpha = np.asarray(render_image(parse_scene(job.prompt), job))[..., 3]
    assert alpha[0, 0] == 0 and alpha.max() == 255


def test_nothing_recognised_still_answers() -> None:
    (image,) = render_set(RenderJob(prompt="???", width=256, height=256))
    assert "no drawable objects were recognised" in (image.revised_prompt or "")
