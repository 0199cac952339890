"""The arithmetic of a layout: copies fitted into a grid of cells, spans of width shared.

A `Placement` is what a layout makes: one drawn copy's box, in pixels.

`grid` finds how many rows and columns fit a group's copies the largest into its region;
`subtract`, `share` and `unroll` cut the canvas's width (what stated positions leave
free) among the groups that share a band, in proportion to the width each wants. All in
fractions or pixels, no scene: `layout` decides what goes where.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Box = tuple[float, float, float, float]


@dataclass(slots=True)
class Placement:
    """One drawn copy: `group` indexes `Scene.objects`, `box` is in pixels."""

    kind: str
    box: Box
    group: int
    copy: int
    layer: float


def grid(
    count: int,
    width: float,
    height: float,
    size: tuple[float, float],
    most_rows: int,
    gap: float = 1.2,
) -> tuple[int, int, float]:
    """(rows, cols, scale) that fits `count` boxes of `size` into the region the largest."""
    w, h = size
    best = (1, count, 0.0)
    for rows in range(1, min(count, most_rows) + 1):
        cols = math.ceil(count / rows)
        scale = min(1.0, width / (cols * w * gap), height / (rows * h * 1.15))
        if scale > best[2] * 1.05:
            best = (rows, cols, scale)
    return best


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def subtract(
    span: tuple[float, float], taken: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    spans = [span]
    for t0, t1 in taken:
        spans = [
            part
            for a, b in spans
            for part in ((a, min(b, t0)), (max(a, t1), b))
            if part[1] - part[0] > 0.02
        ]
    return spans


def share(spans: list[tuple[float, float]], demand: list[float]) -> list[tuple[float, float]]:
    """Cut the spans, laid end to end, into consecutive pieces proportional to `demand`."""
    total_len = sum(b - a for a, b in spans)
    total_demand = sum(demand) or 1.0
    out, start = [], 0.0
    for d in demand:
        end = start + total_len * d / total_demand
        out.append(unroll(spans, start, end))
        start = end
    return out


def unroll(spans: list[tuple[float, float]], start: float, end: float) -> tuple[float, float]:
    """Map [start, end] of the concatenated spans back to the span holding most of it."""
    best, offset = (spans[0][0], spans[0][0]), 0.0
    for a, b in spans:
        lo, hi = max(start, offset), min(end, offset + b - a)
        if hi - lo > best[1] - best[0]:
            best = (a + lo - offset, a + hi - offset)
        offset += b - a
    return best
