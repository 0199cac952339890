"""How the things of a prompt stand to each other, settled while the reader reads it.

"a cat on a car": the cat waits for its target (`pending`) until the car is named;
"Neben einem Hund sitzt eine Katze": the relation and its target come first and the
subject after (`reversed`); "a dog and a cat on a sofa": every thing of the list goes on
it (`chain_start`). Relations are indexes into the scene's objects (`SceneObject.target`).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiport.backends.local.sketch import kinds
from aiport.backends.local.sketch import words as w
from aiport.backends.local.sketch.art import art_set
from aiport.backends.local.sketch.scene import SceneObject

_BESIDE = ("next_to", "left_of", "right_of")
FRUIT_GROUP = 42  # the art's CLDR subgroup of fruit


@dataclass(slots=True)
class Relations:
    objects: list[SceneObject]  # the scene's, as the reader appends to it
    pending: tuple[str, tuple[int, ...]] | None = None  # subjects waiting for a target
    reversed: tuple[str, int | None] | None = None  # relation and target, subject to come
    chain_start: int | None = None  # "a dog and a cat": where the list began

    def join(self, word: str, segment: int) -> None:
        """A clause ends at `word`; "and" or a comma after a thing continue a list."""
        listing = word in w.JOINERS and self.objects[segment:]
        start = self.chain_start if self.chain_start is not None else segment
        self.chain_start = start if listing else None
        self.pending = None

    def open(self, relation: str, segment: int) -> None:
        """`relation` ("on", "next_to"...) was read in the clause starting at `segment`."""
        last = len(self.objects) - 1
        while last >= 0 and self._held_or_worn(last):
            last = self.objects[last].target or 0  # "a bowl of fruit on a table": the bowl
        if self.objects[segment:] and relation in _BESIDE and self._carries_things(last):
            self.reversed = ("on", last)  # "apples on a table next to a cup"
        elif self.objects[segment:]:
            self.pending = (relation, self._listed_with(last, relation))
        else:
            self.reversed = (relation, None)

    def relate(self, obj: SceneObject) -> None:
        """Complete a pending relation with `obj`, about to be appended."""
        index = len(self.objects)
        if self.pending is not None:
            rel, subjects = self.pending
            for subject in subjects:
                self.objects[subject].relation, self.objects[subject].target = rel, index
                self.objects[subject].h = self.objects[subject].v = None
            self.pending = None
        elif self.reversed is not None:
            rel, target = self.reversed
            if target is None:
                self.reversed = (rel, index)
            else:
                obj.relation, obj.target = rel, target
                self.reversed = None

    def _listed_with(self, last: int, relation: str) -> tuple[int, ...]:
        """ "a dog and a cat on a sofa": every thing of the list goes on it, not the last."""
        start, self.chain_start = self.chain_start, None
        if start is None or relation not in ("on", "in"):
            return (last,)
        targets = {obj.target for obj in self.objects if obj.relation != "in"}  # a sofa
        free = [i for i in range(start, last)
                if self.objects[i].relation is None and i not in targets]  # fmt: skip
        return (*free, last)

    def _held_or_worn(self, index: int) -> bool:
        """In a thing ("a bowl of fruit") or worn ("a girl in a pink dress", "with a cap")."""
        obj = self.objects[index]
        worn = obj.relation == "on" and obj.kind in kinds.HEADWEAR | kinds.TOPS
        return obj.target is not None and (obj.relation == "in" or worn)

    def _carries_things(self, index: int) -> bool:
        """A table (or sofa...) that something was just put on."""
        if self.objects[index].kind not in kinds.SURFACES:
            return False
        return any(o.relation == "on" and o.target == index for o in self.objects)


def content_relation(container: str) -> str:
    """Things go "in" a bowl or basket but "on" a table or plate."""
    return "on" if container in kinds.SURFACES or "plate" in container else "in"


def holds(container: str, content: str | None = None) -> bool:
    """Whether `content` can go in `container`: a bowl holds anything, a tree's crown any
    thing put in it ("a cat in a tree") but fruit only after "with" ("a tree with apples",
    not "a tree with a bench")."""
    if container in kinds.CONTAINERS:
        return True
    if container not in kinds.CROWNS:
        return False
    art = art_set().get(content or "")
    return content is None or (art is not None and art.group == FRUIT_GROUP)
