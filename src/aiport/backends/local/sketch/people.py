"""Who counts as a person, and how a person the prompt names looks: hair, a beard, a role.

"a woman with red hair" draws that woman as the art set's red-haired bust, "a man with a
beard" as its bearded man; the words are told to the last person named. Both answer False
when no such person was named, so the reader can read the word otherwise. People in a
role (a firefighter, a pilot, a farmer) are busts in the art set: `standing_figure` names
the standing body a whole one is drawn with, the role's bust as its upper part.
"""

from __future__ import annotations

from aiport.backends.local.sketch import kinds
from aiport.backends.local.sketch.art import art_set
from aiport.backends.local.sketch.scene import Scene, SceneObject

_CURLY = frozenset({"curly", "lockig", "lockige", "lockigen"})
_PEOPLE_GROUPS = (23, 30)  # the art's people: heads, gestures, roles, activities
_ROLES = 25  # the art's people in a role: firefighter, pilot, farmer, cook, police officer


def is_person(kind: str) -> bool:
    """Whether the art-set picture `kind` shows a person (a child, a farmer, a skier)."""
    art = art_set().get(kind)
    return art is not None and _PEOPLE_GROUPS[0] <= art.group <= _PEOPLE_GROUPS[1]


def is_role(kind: str) -> bool:
    """Whether `kind` is a bust of a person in a role (a firefighter, a woman pilot)."""
    art = art_set().get(kind)
    return art is not None and art.group == _ROLES


def is_passenger(kind: str) -> bool:
    """Whether `kind` may sit in a vehicle: a person, a family, an animal such as a dog."""
    art = art_set().get(kind)
    if is_person(kind) or kind in kinds.GROUPS:
        return True
    return art is not None and art.group in kinds.PASSENGER_GROUPS


def seated(scene: Scene, obj: SceneObject) -> bool:
    """Whether `obj` sits in a vehicle: a person on or in one ("a farmer on a tractor"),
    an animal in one ("a dog in a car"; a cat on a car is on its roof)."""
    if obj.relation not in ("on", "in") or obj.target is None:
        return False
    if not (is_person(obj.kind) or (obj.relation == "in" and is_passenger(obj.kind))):
        return False
    return scene.objects[obj.target].kind in kinds.CABS


def standing_figure(role: str) -> str:
    """The standing body a whole `role` is drawn with: a man's, a woman's or a person's."""
    gender = role.split("-")[0]
    return f"{gender}-standing" if gender in ("man", "woman") else "person-standing"


def style_hair(
    objects: list[SceneObject], color: str | None, adjectives: list[str], original: str
) -> bool:
    """ "with red hair": the last person is drawn with that hair, as a bust."""
    people = [o for o in objects if o.kind in kinds.BUSTS or o.kind in kinds.BUSTS.values()]
    if not people:
        return False
    person = people[-1]
    bust = kinds.BUSTS.get(person.kind, person.kind)
    curly = any(word in _CURLY for word in adjectives)
    style = kinds.HAIR_STYLES.get("curly" if curly else (color or "").rpartition(" ")[2])
    styled = f"{bust}-{style}" if style else bust
    person.kind = styled if styled in art_set() else bust
    person.words.append(original)
    return True


def add_beard(objects: list[SceneObject], original: str) -> bool:
    """ "with a beard": the last person is drawn bearded."""
    people = [o for o in objects if o.kind in kinds.BEARDED]
    if not people:
        return False
    people[-1].kind = kinds.BEARDED[people[-1].kind]
    people[-1].words.append(original)
    return True
