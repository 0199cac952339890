"""Say in plain English what the sketch renderer drew: the image's `revised_prompt`.

The sentence names every object group with its count, colour, size and place, the
setting and the text, and ends by saying which renderer drew it, so that no client
mistakes the picture for a diffusion model's.
"""

from __future__ import annotations

from aiport.backends.local.sketch import nouns
from aiport.backends.local.sketch.art import art_set
from aiport.backends.local.sketch.geometry import geometry, open_water
from aiport.backends.local.sketch.scene import MAX_COUNT, Scene, SceneObject

SIGNATURE = (
    "a composed illustration: aiport's sketch renderer placed Fluent Emoji art and"
    " hand-drawn shapes, it is not a diffusion model's picture"
)

_NUMBERS = [
    "zero",
    "a",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
_SPOTS = {
    ("left", None): "on the left",
    ("right", None): "on the right",
    ("center", None): "in the centre",
    ("center", "middle"): "in the centre",
    (None, "middle"): "in the middle",
    (None, "top"): "at the top",
    (None, "bottom"): "at the bottom",
}
_RELATIONS = {
    "above": "above",
    "on": "on top of",
    "in": "in",
    "below": "below",
    "next_to": "next to",
    "left_of": "to the left of",
    "right_of": "to the right of",
}
_PLACES = {
    "beach": "on a beach by the sea",
    "forest": "in a forest",
    "meadow": "on a green meadow",
    "desert": "in a desert",
    "snow": "in a snowy landscape",
    "space": "in outer space",
    "underwater": "under water",
    "cyberpunk": "in a neon cyberpunk setting",
    "room": "in a room",
    "road": "on a road",
    "river": "by a river",
}
_TIMES = {"night": "at night", "sunset": "at sunset", "day": "on a sunny day"}


def describe_scene(scene: Scene, *, detailed: bool = False) -> str:
    """One English sentence for the picture drawn from `scene`."""
    style = "A detailed, shaded flat illustration" if detailed else "A flat illustration"
    if scene.framing == "portrait":
        style += ", framed as a portrait,"
    if scene.empty:
        return (
            f"{style} of a placeholder card showing the prompt's first words, because no "
            f"drawable objects were recognised in the prompt; {SIGNATURE}."
        )
    inside = _described_with_subject(scene)
    order = [i for i in range(len(scene.objects)) if i not in inside]
    front = [_object_phrase(scene, i, inside) for i in order if not _backdrop(scene, i)]
    back = [_object_phrase(scene, i, inside) for i in order if _backdrop(scene, i)]
    sentence = f"{style} of {_join(front)}" if front else f"{style} of a scene"
    if back:
        sentence += f" in front of {_join(back)}" if front else f" of {_join(back)}"
    setting = _setting_phrase(scene)
    if setting:
        sentence += f" {setting}"
    if scene.texts:
        quoted = _join([f"'{text}'" for text in scene.texts])
        sentence += f", with the text {quoted}"
    return f"{sentence}; {_notes(scene)}{SIGNATURE}."


def _backdrop(scene: Scene, index: int) -> bool:
    return geometry(scene.objects[index]).zone == "backdrop"


def _described_with_subject(scene: Scene) -> set[int]:
    """Targets told inside their subject's phrase ("a cat on top of a red car")."""
    inside: set[int] = set()
    for obj in scene.objects:
        target = obj.target
        if obj.relation is None or target is None or not 0 <= target < len(scene.objects):
            continue
        if target not in inside and scene.objects[target].relation is None:
            inside.add(target)
    return inside


def _object_phrase(scene: Scene, index: int, inside: set[int]) -> str:
    obj = scene.objects[index]
    noun = _noun(obj, scene, plural=obj.count > 1)
    color = obj.color if obj.color and obj.color.split()[-1] not in noun.split() else None
    words = [w for w in (_size_word(obj), color) if w]
    phrase = " ".join([*words, noun])
    phrase = f"{_count_word(obj.count, phrase)} {phrase}"
    if obj.worn_colors:  # "a snowman with a red hat"
        phrase += (
            f" with {_join([_worn_phrase(k, c, obj.count) for k, c in obj.worn_colors.items()])}"
        )
    if obj.kind == "sign" and obj.text:
        phrase += f" reading '{obj.text}'"
    where = _where(scene, obj, inside)
    return f"{phrase} {where}" if where else phrase


def _noun(obj: SceneObject, scene: Scene, *, plural: bool) -> str:
    if obj.kind == "unknown":
        return f"placeholder{'s' if plural else ''} labelled '{obj.label}'"
    if obj.kind == "city":
        noun = "city skyline" + ("s" if plural else "")
        return f"neon cyberpunk {noun}" if scene.place == "cyberpunk" else noun
    if obj.variants:
        drawn = list(dict.fromkeys(obj.kind_of(k) for k in range(obj.count)))
        return f"{nouns.COLLECTIVE_NAMES[obj.variants]} ({_join([thing_name(k) for k in drawn])})"
    name = thing_name(obj.stands_for or obj.kind)
    return plural_of(name) if plural else name


def _worn_phrase(accessory: str, color: str, wearers: int) -> str:
    """ "a red hat" (a top hat or a woman's hat alike), "yellow helmets" for several."""
    name = thing_name(accessory).split()[-1]
    return (
        f"{color} {plural_of(name)}" if wearers > 1 else f"{_count_word(1, color)} {color} {name}"
    )


def thing_name(kind: str) -> str:
    """The English name of a hand-drawn kind or of an art-set picture ("red apple")."""
    art = art_set().get(kind)
    if art is None:
        return kind
    label = nouns.DISPLAY_NAMES.get(kind, art.label)
    return label.replace(": ", " with ") if ": " in label else label


def plural_of(name: str) -> str:
    """English plural of a name: its head word ("women with red hair", "cups of coffee")."""
    head, joiner, rest = name.partition(" with ")
    if not joiner:
        head, joiner, rest = name.partition(" of ")
    *before, last = head.split(" ")
    if last in nouns.PLURALS:
        last = nouns.PLURALS[last]
    elif last.endswith("s"):
        pass  # "grapes", "blueberries": the name is plural already
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith(("x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return " ".join([*before, last]) + joiner + rest


def _size_word(obj: SceneObject) -> str | None:
    return {"large": "big", "small": "small"}.get(obj.size or "")


def _count_word(count: int, following: str) -> str:
    if count == 1:
        return "an" if following[:1] in "aeiou" else "a"
    return _NUMBERS[count] if count < len(_NUMBERS) else str(count)


def _where(scene: Scene, obj: SceneObject, inside: set[int]) -> str:
    target = obj.target
    if obj.relation and target is not None and 0 <= target < len(scene.objects):
        if target in inside and scene.objects.index(obj) != target:
            inside = inside - {target}  # a target is told once, inside its first subject
            return f"{_RELATIONS[obj.relation]} {_object_phrase(scene, target, inside)}"
        other = scene.objects[target]
        return f"{_RELATIONS[obj.relation]} the {_noun(other, scene, plural=other.count > 1)}"
    if obj.hangs:
        return "on the wall"
    if (obj.h, obj.v) in _SPOTS:
        return _SPOTS[(obj.h, obj.v)]
    if obj.h and obj.v:
        return f"in the {obj.v} {obj.h}"
    return ""


def _setting_phrase(scene: Scene) -> str:
    has_city = any(obj.kind == "city" for obj in scene.objects)
    parts = []
    if scene.venue:
        parts.append(f"in a {scene.venue}")
    elif scene.place and not (scene.place == "cyberpunk" and has_city):
        parts.append(_PLACES[scene.place])
    if open_water(scene):
        parts.append("on open water")
    if scene.weather == "rain":
        parts.append("in the rain")
    if scene.time:
        parts.append(_TIMES[scene.time])
    if scene.background:
        parts.append(f"against a {scene.background} background")
    return " ".join(parts)


def _notes(scene: Scene) -> str:
    notes = []
    unknown = sorted({f"'{obj.label}'" for obj in scene.objects if obj.kind == "unknown"})
    if unknown:
        verb = "is" if len(unknown) == 1 else "are"
        drawn = (
            "it is drawn as a labelled placeholder"
            if verb == "is"
            else ("they are drawn as labelled placeholders")
        )
        notes.append(f"{_join(unknown)} {verb} not in the renderer's vocabulary, so {drawn}")
    if any(obj.requested_count > MAX_COUNT for obj in scene.objects):
        notes.append(f"counts above {MAX_COUNT} were drawn as {MAX_COUNT}")
    return "".join(f"{note}; " for note in notes)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
