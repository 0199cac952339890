"""Where a thing goes against another one: on it, in it, beside it, under it, worn by it.

"a cat on a sofa" sits on its seat, "apples in a bowl" sink behind its rim, "apples in a
tree" hang in its crown, "a child beside a house" stands close to it, "a dog under a tree"
lies at its foot, "a boy with a cap" wears it. `Relative` holds these regions for the
layout's planner, which places every target first (`layout._Planner`).
"""

from __future__ import annotations

from aiport.backends.local.sketch.art import art_set
from aiport.backends.local.sketch.cells import Box, Placement
from aiport.backends.local.sketch.geometry import SIZE_FACTOR, Geometry
from aiport.backends.local.sketch.kinds import (
    BRIMS,
    CROWNS,
    HEADWEAR,
    PLATES,
    RIMS,
    SURFACES,
    VEHICLE_SEAT,
    VEHICLE_SEATS,
)
from aiport.backends.local.sketch.people import seated
from aiport.backends.local.sketch.scene import Scene, SceneObject


class Relative:
    """The regions of things placed against a target already placed (a mixin)."""

    scene: Scene
    width: int
    height: int
    unit: int
    regions: dict[int, Box]
    placed: dict[int, list[Placement]]
    beside: dict[tuple[int, str], float]  # (target, side) → outer edge so far

    def _geo(self, obj: SceneObject) -> Geometry:
        raise NotImplementedError

    def _base_region(self, obj: SceneObject) -> Box:
        raise NotImplementedError

    def _relation_order(self, related: set[int]) -> list[int]:
        order: list[int] = []
        pending = sorted(related)
        while pending:
            ready = [i for i in pending if self.scene.objects[i].target in self.placed or
                     self.scene.objects[i].target in order]  # fmt: skip
            if not ready:  # a cycle: place the rest as if unrelated
                ready = pending[:1]
                self.scene.objects[ready[0]].relation = None
            order.append(ready[0])
            pending.remove(ready[0])
        return order

    def _relation_region(self, i: int) -> Box:
        obj = self.scene.objects[i]
        if obj.relation is None or obj.target not in self.placed:
            return self._base_region(obj)
        boxes = [p.box for p in self.placed[obj.target]]
        tx0, ty0 = min(b[0] for b in boxes) / self.width, min(b[1] for b in boxes) / self.height
        tx1, ty1 = max(b[2] for b in boxes) / self.width, max(b[3] for b in boxes) / self.height
        tall = (
            self._geo(obj).height * SIZE_FACTOR.get(obj.size or "", 1.0) * self.unit / self.height
        )
        pad = 0.08
        wide = self._geo(obj).aspect * tall * self.height / self.width * min(obj.count, 4) * 1.2
        if i in self.regions:  # carved beside the target: stand close to it, not far off
            x0, y0, x1, y1 = self.regions[i]
            wide *= max(1.0, obj.count / 4)
            side = "left" if obj.relation == "left_of" else "right"
            if side == "left":
                edge = self.beside.get((obj.target, side), tx0)
                self.beside[obj.target, side] = start = max(x0, edge - wide)
                return (start, y0, edge, y1)
            edge = self.beside.get((obj.target, side), tx1)
            self.beside[obj.target, side] = end = min(x1, edge + wide)
            return (edge, y0, end, y1)
        if obj.relation in ("next_to", "right_of") and (
            tx1 + wide <= 1 or obj.relation != "next_to"
        ):
            return (tx1, ty1 - tall * 1.1, min(1.0, tx1 + wide), ty1)
        if obj.relation in ("next_to", "left_of"):
            return (max(0.0, tx0 - wide), ty1 - tall * 1.1, tx0, ty1)
        if obj.relation in ("on", "in"):
            return self._on_region(i, (tx0, ty0, tx1, ty1), tall)
        if obj.relation == "below" and self._at_foot(obj):  # "under a tree": at its foot
            cx, half = (tx0 + tx1) / 2, max(wide, (tx1 - tx0) * 0.5) / 2
            return (cx - half, ty1 - tall * 1.1, cx + half, ty1)
        if obj.relation == "below":
            return (tx0 - pad, ty1 + 0.01, tx1 + pad, min(1.0, ty1 + tall * 1.2))
        return (tx0 - pad, max(0.0, ty0 - tall * 1.2), tx1 + pad, ty0 - 0.01)

    def _on_region(self, i: int, target: Box, tall: float) -> Box:
        """On a surface (its seat or top) or in a container; several groups share it."""
        obj = self.scene.objects[i]
        tx0, ty0, tx1, ty1 = target
        sharing = [
            j for j, other in enumerate(self.scene.objects)
            if other.target == obj.target and other.relation in ("on", "in")
        ]  # fmt: skip
        step = (tx1 - tx0) / len(sharing)
        x0 = tx0 + step * sharing.index(i)
        target_kind = self.scene.objects[obj.target or 0].kind
        if target_kind in PLATES:  # seen from above: in the middle of the plate
            cx, cy, half = (tx0 + tx1) / 2, (ty0 + ty1) / 2, (ty1 - ty0) * 0.3
            across = half * self.height / self.width
            return (cx - across, cy - half, cx + across, cy + half)
        if seated(self.scene, obj):
            return self._seat_region(i, target, tall, sharing)
        if obj.relation == "in" and target_kind in CROWNS:  # in a tree: among its leaves
            cx0, cy0, cx1, cy1 = CROWNS[target_kind]
            w, h = tx1 - tx0, ty1 - ty0
            return (tx0 + w * cx0, ty0 + h * cy0, tx0 + w * cx1, ty0 + h * cy1)
        if obj.relation == "in":  # heaped up: the container's rim hides the lower part
            rim = ty0 + (ty1 - ty0) * RIMS.get(target_kind, 0.3)
            return (x0 + step * 0.08, rim - (ty1 - ty0) * 0.75, x0 + step * 0.92, rim)
        seat = ty0 + (ty1 - ty0) * SURFACES.get(target_kind, 0.0) + 0.01
        return (x0, max(0.0, seat - tall * 1.2), x0 + step, seat)

    def _seat_region(self, i: int, target: Box, tall: float, sharing: list[int]) -> Box:
        """In a vehicle: at its driver's window, who comes after them behind it."""
        obj = self.scene.objects[i]
        tx0, ty0, tx1, ty1 = target
        seat_x, seat_y = VEHICLE_SEATS.get(self.scene.objects[obj.target or 0].kind, VEHICLE_SEAT)
        counts = [self.scene.objects[j].count for j in sharing]
        start = tx0 + (tx1 - tx0) * seat_x
        wide = self._geo(obj).aspect * tall * self.height / self.width * 1.25
        wide = min(wide, (tx1 - start) * 2 / (2 * sum(counts) - 1))  # all within its length
        x0 = start - wide / 2 + wide * sum(counts[: sharing.index(i)])
        seat = ty0 + (ty1 - ty0) * seat_y
        return (x0, max(0.0, seat - tall * 1.2), x0 + wide * obj.count, seat)

    def _on_heads(self, i: int) -> list[Placement] | None:
        """ "two men with top hats": a hat on each person's head (None: not headwear on
        a person's picture)."""
        obj = self.scene.objects[i]
        heads = self.placed.get(obj.target or 0) if obj.relation == "on" else None
        brim = _brim(obj.kind, heads[0].kind) if heads else None
        if heads is None or brim is None:
            return None
        geo = self._geo(obj)
        tall = geo.height * self.unit * SIZE_FACTOR.get(obj.size or "", 1.0)
        out = []
        for k, head in enumerate(heads[: obj.count]):
            x0, y0, x1, y1 = head.box
            cx, bottom, half = (x0 + x1) / 2, y0 + (y1 - y0) * brim, geo.aspect * tall / 2
            out.append(Placement(obj.kind, (cx - half, bottom - tall, cx + half, bottom), i, k,
                                 head.layer + 1))  # fmt: skip
        return out

    def _at_foot(self, obj: SceneObject) -> bool:
        """ "a girl under a tree": below what stands on the ground is at its foot, in front."""
        target = self.scene.objects[obj.target or 0]
        return self._geo(target).zone == "ground" and self._geo(obj).zone in ("ground", "water")

    def _on_plate(self, obj: SceneObject) -> bool:
        target = obj.target
        if obj.relation not in ("on", "in") or target is None or target not in self.placed:
            return False
        return self.scene.objects[target].kind in PLATES

    # -- copies ------------------------------------------------------------------------


def _brim(worn: str, wearer: str) -> float | None:
    """Where the brim of headwear `worn` rests on the picture `wearer`, if it is a person."""
    art = art_set().get(wearer)
    return BRIMS.get(art.group) if worn in HEADWEAR and art is not None else None
