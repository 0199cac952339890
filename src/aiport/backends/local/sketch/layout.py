"""Where each object of a `Scene` goes on a canvas: pure geometry, no drawing.

A group with a stated position gets that third of the canvas ("left" → the left column,
"top right" → that corner cell). Groups without one share what is left of their zone
(sky objects the top band, things that stand on the ground the lower part, plain shapes
the whole height). Copies of a group are laid out in a grid of cells inside its region,
sized so they never touch. Relations ("a cat on a car") are placed against their target
once it stands (`relative`). `index` varies the order and jitter, so each image differs.
"""

from __future__ import annotations

import math
import random

from aiport.backends.local.sketch.cells import Box, Placement, grid, overlap, share, subtract
from aiport.backends.local.sketch.geometry import (
    HORIZON,
    SIZE_FACTOR,
    Geometry,
    all_sky,
    geometry,
    has_ground,
    scene_heights,
)
from aiport.backends.local.sketch.kinds import CROWNS, SWIMMERS
from aiport.backends.local.sketch.people import seated
from aiport.backends.local.sketch.relative import Relative
from aiport.backends.local.sketch.scene import Scene, SceneObject

CAPTION_BAND = 0.19  # share of the height a caption banner takes
_COLUMNS = {"left": (0.02, 0.36), "center": (0.33, 0.67), "right": (0.64, 0.98)}
_ROWS = {"top": (0.03, 0.38), "middle": (0.31, 0.69), "bottom": (0.62, 0.97)}


def layout(
    scene: Scene,
    width: int,
    height: int,
    rng: random.Random,
    *,
    vary: bool = False,
    reserve: str | None = None,
) -> list[Placement]:
    """Boxes for every copy of every object, in drawing order (back to front).

    `rng` jitters sizes and spots; `vary` also reorders the groups that share a band.
    `reserve` ("top" or "bottom") keeps a band of the canvas free for a caption; the
    backdrop (skyline, mountains) still stands on the horizon of the whole canvas.
    """
    if reserve is None:
        return _Planner(scene, width, height, rng, shuffle=vary).run()
    band = round(height * CAPTION_BAND)
    full = _Planner(scene, width, height, rng, shuffle=vary).run()
    placed = _Planner(scene, width, height - band, rng, shuffle=vary).run()
    shift = band if reserve == "top" else 0
    moved = [
        Placement(
            p.kind,
            (p.box[0], p.box[1] + shift, p.box[2], p.box[3] + shift),
            p.group,
            p.copy,
            p.layer,
        )
        for p in placed
        if p.layer > 0
    ]
    return [p for p in full if p.layer == 0] + moved


class _Planner(Relative):
    def __init__(
        self, scene: Scene, width: int, height: int, rng: random.Random, *, shuffle: bool
    ) -> None:
        self.scene, self.width, self.height, self.rng = scene, width, height, rng
        self.shuffle = shuffle
        self.ground = has_ground(scene)
        self.sky = all_sky(scene)  # the whole picture is sky
        self.unit = min(width, height)
        self.regions: dict[int, Box] = {}
        self.placed: dict[int, list[Placement]] = {}
        self.beside: dict[tuple[int, str], float] = {}  # (target, side) → outer edge so far
        self.portrait = _portrait_subject(scene)
        heights = scene_heights(scene, self.ground)
        self.heights = {id(scene.objects[i]): height for i, height in heights.items()}

    def run(self) -> list[Placement]:
        objects = self.scene.objects
        related = {i for i, obj in enumerate(objects) if self._relation_ok(i, obj)}
        normal = [i for i in range(len(objects)) if i not in related]
        for i in normal:
            self.regions[i] = self._base_region(objects[i])
        if self.portrait is not None:
            self.regions[self.portrait] = (0.1, 0.14, 0.9, 1.0)
            normal.remove(self.portrait)
            normal.insert(0, self.portrait)
        self._share_columns([i for i in normal if objects[i].h is None and i != self.portrait])
        self._split_shared_cells([i for i in normal if objects[i].h is not None])
        self._carve_for_neighbours(related)
        for i in normal:
            self.placed[i] = self._fill(i, self.regions[i])
        for i in self._relation_order(related):
            worn = self._on_heads(i)
            self.placed[i] = worn if worn is not None else self._fill(i, self._relation_region(i))
        everything = [p for group in self.placed.values() for p in group]
        return sorted(everything, key=lambda p: (p.layer, p.box[3]))

    # -- regions -----------------------------------------------------------------------

    def _geo(self, obj: SceneObject) -> Geometry:
        beside = (other.kind for other in self.scene.objects if other is not obj)
        geo = geometry(obj, self.ground, beside)
        if id(obj) in self.heights:  # in proportion to the things beside it
            geo = Geometry(geo.aspect, self.heights[id(obj)], geo.zone)
        if obj.hangs:
            return Geometry(geo.aspect, geo.height, "wall")
        if obj.kind in SWIMMERS and self.scene.place in ("beach", "river"):
            return Geometry(geo.aspect, geo.height, "water")  # a duck on the pond, not the sand
        return geo

    def _relation_ok(self, i: int, obj: SceneObject) -> bool:
        target = obj.target
        if obj.relation is None or target is None or target == i or obj.h or obj.v:
            return False
        if self._geo(obj).zone == "backdrop":  # a skyline stays on the horizon
            return False
        if not 0 <= target < len(self.scene.objects):
            return False
        return self._geo(self.scene.objects[target]).zone != "backdrop"

    def _zone_rows(self, zone: str) -> tuple[float, float]:
        if zone == "sky":
            return (0.03, HORIZON - 0.04 if self.ground else 0.94 if self.sky else 0.40)
        if zone == "ground":
            return (0.22, 0.95)
        if zone == "water" and self.scene.place == "river":
            return (HORIZON + 0.1, 0.96)
        if zone == "water":
            return (0.30, HORIZON + 0.05)
        if zone == "backdrop":
            return (HORIZON - 0.45, HORIZON + 0.02)
        if zone == "wall":
            return (0.08, HORIZON - 0.08)
        return (0.20, 0.95) if self.ground else (0.06, 0.94)

    def _base_region(self, obj: SceneObject) -> Box:
        zone = self._geo(obj).zone
        y0, y1 = _ROWS[obj.v] if obj.v else self._zone_rows(zone)
        x0, x1 = _COLUMNS[obj.h] if obj.h else (0.02, 0.98)
        if zone == "wall" and not obj.h:
            x0, x1 = (0.04, 0.58)  # the room's window is on the right
        if zone == "water" and not obj.h and self.scene.place == "river":
            x0, x1 = (0.25, 0.75)
        if zone == "backdrop" and not obj.h:
            x0, x1 = 0.0, 1.0
        return (x0, y0, x1, y1)

    def _share_columns(self, free: list[int]) -> None:
        """Spread groups without a stated column over what the stated ones leave."""
        objects = self.scene.objects
        free = [i for i in free if self._geo(objects[i]).zone != "backdrop"]
        bands: dict[tuple[float, float], list[int]] = {}
        for i in free:
            bands.setdefault(self.regions[i][1::2], []).append(i)
        for (y0, y1), members in bands.items():
            if self.shuffle:
                self.rng.shuffle(members)
            taken = [
                self.regions[j][0::2]
                for j, obj in enumerate(objects)
                if obj.h and j in self.regions and overlap((y0, y1), self.regions[j][1::2]) > 0.1
            ]
            width = self.regions[members[0]][0::2]  # the zone's own: a wall's, a river's
            spans = subtract(width, taken)
            if sum(b - a for a, b in spans) < 0.25:
                spans = [width]
            demand = [self._demand(objects[i]) for i in members]
            for i, (x0, x1) in zip(members, share(spans, demand), strict=True):
                self.regions[i] = (x0, y0, x1, y1)

    def _split_shared_cells(self, stated: list[int]) -> None:
        cells: dict[Box, list[int]] = {}
        for i in stated:
            cells.setdefault(self.regions[i], []).append(i)
        for (x0, y0, x1, y1), members in cells.items():
            step = (x1 - x0) / len(members)
            for k, i in enumerate(members):
                self.regions[i] = (x0 + k * step, y0, x0 + (k + 1) * step, y1)

    def _carve_for_neighbours(self, related: set[int]) -> None:
        """Leave room beside a target for what stands next to it."""
        objects = self.scene.objects
        for i in related:
            obj = objects[i]
            target = obj.target
            if obj.relation not in ("next_to", "left_of", "right_of") or target not in self.regions:
                continue
            x0, y0, x1, y1 = self.regions[target]
            share = min(
                0.5, self._demand(obj) / (self._demand(obj) + self._demand(objects[target]))
            )
            cut = (x1 - x0) * share
            if obj.relation == "left_of":
                self.regions[target], self.regions[i] = (
                    (x0 + cut, y0, x1, y1),
                    (x0, y0, x0 + cut, y1),
                )
            else:
                self.regions[target], self.regions[i] = (
                    (x0, y0, x1 - cut, y1),
                    (x1 - cut, y0, x1, y1),
                )

    def _demand(self, obj: SceneObject) -> float:
        """The width a group wants: one row on the ground, a square-ish block elsewhere."""
        geo = self._geo(obj)
        copies = min(obj.count, 6) if geo.zone in ("ground", "water") else math.sqrt(obj.count)
        return geo.aspect * geo.height * SIZE_FACTOR.get(obj.size or "", 1.0) * copies

    def _fill(self, i: int, region: Box) -> list[Placement]:
        obj = self.scene.objects[i]
        geo = self._geo(obj)
        x0, x1 = sorted((max(0.0, region[0]), min(1.0, region[2])))
        y0, y1 = sorted((max(0.0, region[1]), min(1.0, region[3])))
        rx0, ry0, rx1, ry1 = x0 * self.width, y0 * self.height, x1 * self.width, y1 * self.height
        on_top = obj.relation == "on" or seated(self.scene, obj)  # in a car: at its window
        layer: float = {"backdrop": 0, "sky": 1}.get(geo.zone, 2) + on_top
        layer += 0.5 * (obj.relation == "below" and self._at_foot(obj))  # before the trunk
        if obj.relation == "in" and obj.target in self.placed and not seated(self.scene, obj):
            in_front = self.placed[obj.target][0].kind in CROWNS  # apples hang before leaves
            layer = self.placed[obj.target][0].layer + (0.5 if in_front else -0.5)
        if geo.zone == "backdrop":
            return [Placement(obj.kind, (rx0, ry0, rx1, ry1), i, 0, layer)]
        base_h = geo.height * self.unit * SIZE_FACTOR.get(obj.size or "", 1.0)
        if self._on_plate(obj):  # food fills its plate, however small it is drawn alone
            base_h = (ry1 - ry0) * 0.9
        if i == self.portrait:
            base_h, geo = 0.84 * self.height, Geometry(geo.aspect, 0.84, "ground")
        sits = geo.zone in ("ground", "water") or obj.relation in ("on", "in")
        most_rows = (1 if obj.count <= 6 and not self._on_plate(obj) else 2) if sits else obj.count
        if geo.zone == "sky":
            most_rows = 2
        size = (geo.aspect * base_h, base_h)
        gap = 0.8 if obj.relation == "in" else 1.2  # heaped in a bowl, apart elsewhere
        rows, cols, scale = grid(obj.count, rx1 - rx0, ry1 - ry0, size, most_rows, gap)
        cell_w, cell_h = (rx1 - rx0) / cols, (ry1 - ry0) / rows
        out = []
        for k in range(obj.count):
            row, col = divmod(k, cols)
            in_row = min(cols, obj.count - row * cols)
            cx = rx0 + (col + 0.5 + (cols - in_row) / 2) * cell_w
            h = base_h * scale * self.rng.uniform(0.92, 1.0)
            w = geo.aspect * h
            slack_x = min(max(0.0, cell_w - w) * 0.3, self.unit * 0.08)  # near its spot
            slack_y = min(max(0.0, cell_h - h) * 0.3, self.unit * 0.08)
            if i == self.portrait:
                slack_x = slack_y = 0.0
            cx += self.rng.uniform(-slack_x, slack_x)
            if sits:
                bottom = ry0 + (row + 1) * cell_h - self.rng.uniform(0, slack_y * 0.3 + 1)
            else:
                bottom = ry0 + (row + 0.5) * cell_h + h / 2 + self.rng.uniform(-slack_y, slack_y)
            out.append(
                Placement(obj.kind, (cx - w / 2, bottom - h, cx + w / 2, bottom), i, k, layer)
            )
        return out


def _portrait_subject(scene: Scene) -> int | None:
    """The group a portrait shows: the first single thing without a stated place."""
    if scene.framing != "portrait":
        return None
    for i, obj in enumerate(scene.objects):
        if obj.count == 1 and obj.relation is None and obj.kind != "unknown":
            return i
    return None
