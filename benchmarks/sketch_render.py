"""Time per image of the sketch renderer, and how many of a prompt set's nouns it draws.

    .venv/bin/python benchmarks/sketch_render.py [--rounds 3]

Renders every prompt of `tests/data/sketch_prompts.txt` at 1024×1024 and at 1792×1024
(standard quality, one core: the renderer is single-threaded) and prints the median and
95th-percentile time per image, PNG encoding included. The baseline measured in the same
run is the same prompts rendered at 256×256, so the ratio tells what the size costs on
whatever machine runs it. The first round fills the raster cache the way a running server
has it; the figures are from the later rounds. Then the coverage of `sketch_coverage`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.sketch_coverage import prompts, score

from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.render import RenderJob, render_png

SIZES = ((256, 256), (1024, 1024), (1792, 1024))


def time_size(texts: list[str], width: int, height: int, rounds: int) -> list[float]:
    scenes = [(text, parse_scene(text)) for text in texts]
    times: list[float] = []
    for round_ in range(rounds):
        for text, scene in scenes:
            began = time.perf_counter()
            render_png(scene, RenderJob(prompt=text, width=width, height=height))
            if round_ > 0:
                times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = [text for text, _ in prompts()]
    render_png(parse_scene("a cat"), RenderJob(prompt="a cat", width=64, height=64))  # load
    print(f"{len(texts)} prompts, {args.rounds - 1} timed rounds each")
    baseline = None
    for width, height in SIZES:
        times = sorted(time_size(texts, width, height, args.rounds))
        median, p95 = statistics.median(times), times[int(len(times) * 0.95)]
        baseline = baseline or median
        print(
            f"{width}x{height}: median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
            f" per image ({median / baseline:.1f}x the 256x256 baseline)"
        )
    result = score()
    print(
        f"nouns drawn as real things: {result.share('real'):.1%}"
        f" (as the right thing: {result.share('right'):.1%}) of {len(result.nouns)}"
    )


if __name__ == "__main__":
    main()
