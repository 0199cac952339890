"""Time per image of the sketch renderer, and how many of the prompt sets' nouns it draws.

    .venv/bin/python benchmarks/sketch_render.py [--rounds 2] [--every 1] [--against main]

Renders every prompt of `tests/data/sketch_prompts.txt` at 1024×1024 and 1792×1024, in
standard and hd quality, exactly as the server does (`render_png`: read the prompt, lay
it out, paint, write the PNG), and prints per size the median and 95th percentile over
the whole set of
- CPU time (the process's own time: what one core spends, robust to a shared machine)
- wall time (what a caller waits on this machine, now; inflated when others load it).
The process is pinned to one core first (the `sched_setaffinity` call `taskset` makes),
as the renderer is single-threaded. The first round warms up (imports, font, art set) and
is not counted; the raster cache holds the last 48 pictures, so later rounds of 309
prompts render their art afresh, as a server does for new prompts.

Baselines measured in the same run: the PNG writer against Pillow's own (which the
renderer used before) on the same pictures, and 256×256 (what size alone costs).

Coverage (`tests/support/sketch_coverage.py`) is printed for both prompt sets: the first
(`sketch_prompts.txt`) and the everyday one (`sketch_prompts_everyday.txt`). `--against
REV` also scores the renderer of git revision REV (its `src/` exported to a temporary
folder) on the same sets with the same scorer, and times both renderers at 1024×1024 on
every prompt of both sets, in child processes on the same core, taking turns round by
round: the CPU per picture of this tree as a ratio of REV's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.sketch_coverage import EVERYDAY, PROMPTS, prompts, score

from aiport.backends.local.sketch.png import encode_png
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.render import RenderJob, render_image, render_png

ROOT = Path(__file__).resolve().parents[1]
CASES = ((256, 256, False), (1024, 1024, False), (1792, 1024, False), (1024, 1024, True),
         (1792, 1024, True))  # fmt: skip


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def timed(work: Callable[..., object], *args: object) -> tuple[float, float]:
    """(CPU seconds, wall seconds) that `work(*args)` took."""
    cpu, wall = time.process_time(), time.perf_counter()
    work(*args)
    return time.process_time() - cpu, time.perf_counter() - wall


def spread(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:5.0f} ms, p95 {p95 * 1000:5.0f} ms"


def time_case(texts: list[str], job_of: Callable[[str], RenderJob], rounds: int) -> None:
    cpu: list[float] = []
    wall: list[float] = []
    for round_ in range(rounds):
        for text in texts:
            spent = timed(_serve, job_of(text))
            if round_ > 0:
                cpu.append(spent[0])
                wall.append(spent[1])
    print(f"    CPU  {spread(cpu)}   wall {spread(wall)}")
    ours, pillows = [], []
    for text in texts[:: max(1, len(texts) // 40)]:
        image = render_image(parse_scene(text), job_of(text))
        ours.append(timed(encode_png, image)[0])
        pillows.append(timed(_pillow_png, image)[0])
    mine, theirs = statistics.median(ours), statistics.median(pillows)
    print(
        f"    PNG writing alone (CPU, {len(ours)} pictures): {mine * 1000:.0f} ms,"
        f" Pillow's writer {theirs * 1000:.0f} ms ({theirs / mine:.1f}x)"
    )


def _serve(job: RenderJob) -> bytes:
    """What the server does for one picture: read the prompt, draw it, write the PNG."""
    return render_png(parse_scene(job.prompt), job)


def _pillow_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def coverage() -> dict[str, tuple[float, float, int]]:
    """Per prompt set: (share drawn as real things, as the right thing, nouns)."""
    out = {}
    for path in (PROMPTS, EVERYDAY):
        result = score(path)
        out[path.name] = (result.share("real"), result.share("right"), len(result.nouns))
    return out


def child_report(every: int) -> dict[str, Any]:
    """What a child process prints for `--against`: coverage and median CPU at 1024²."""
    pin_to_one_core()
    texts = [text for path in (PROMPTS, EVERYDAY) for text, _ in prompts(path)][::every]
    render_png(parse_scene("a cat"), RenderJob(prompt="a cat", width=64, height=64))
    cpu = [timed(_serve, RenderJob(prompt=t, width=1024, height=1024))[0] for t in texts]
    return {"coverage": coverage(), "cpu": statistics.median(cpu), "pictures": len(texts)}


def against(revision: str, rounds: int, every: int) -> None:
    """Score and time `revision`'s renderer and this tree's, taking turns."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"],
                                 check=True, capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        sources = {revision: Path(folder) / "src", "this tree": ROOT / "src"}
        reports: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
        for _ in range(max(1, rounds)):
            for name, src in sources.items():
                env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(src), str(ROOT)))}
                command = [sys.executable, __file__, "--child", "--every", str(every)]
                done = subprocess.run(command, env=env, check=True, capture_output=True)
                reports[name].append(json.loads(done.stdout))
    print(f"against {revision} (same scorer and prompt sets, {max(1, rounds)} round(s)):")
    for name, runs in reports.items():
        for set_name, (real, right, nouns) in runs[0]["coverage"].items():
            print(f"  {name:>10} {set_name}: real {real:.1%}, right {right:.1%} of {nouns}")
    cpu = {name: statistics.median(run["cpu"] for run in runs) for name, runs in reports.items()}
    print(
        f"  CPU per 1024² picture (median over {reports[revision][0]['pictures']} prompts):"
        f" {revision} {cpu[revision] * 1000:.1f} ms, this tree {cpu['this tree'] * 1000:.1f} ms"
        f" ({cpu['this tree'] / cpu[revision]:.3f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2, help="rounds, the first untimed")
    parser.add_argument("--every", type=int, default=1, help="take every n-th prompt only")
    parser.add_argument("--against", metavar="REV", help="compare with git revision REV")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-sizes", action="store_true", help="time no sizes, only REV")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_report(args.every)))
        return
    if args.against:
        against(args.against, args.rounds, args.every)
    if args.skip_sizes:
        return
    pinned = pin_to_one_core()
    texts = [text for text, _ in prompts()][:: args.every]
    render_png(parse_scene("a cat"), RenderJob(prompt="a cat", width=64, height=64))
    print(f"{len(texts)} prompts, {args.rounds - 1} timed round(s) each, {pinned}")
    for width, height, hd in CASES:
        print(f"  {width}x{height} {'hd' if hd else 'standard'}:")

        def job_of(text: str, w: int = width, h: int = height, d: bool = hd) -> RenderJob:
            return RenderJob(prompt=text, width=w, height=h, detailed=d)

        time_case(texts, job_of, max(2, args.rounds))
    for set_name, (real, right, nouns) in coverage().items():
        print(f"{set_name}: nouns drawn as real things {real:.1%}, as the right thing {right:.1%}"
              f" of {nouns}")  # fmt: skip


if __name__ == "__main__":
    main()
