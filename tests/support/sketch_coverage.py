"""Score the sketch renderer on a prompt set of `tests/data/`: are the nouns drawn right?

`PROMPTS` (`sketch_prompts.txt`) is the first set, `EVERYDAY` (`sketch_prompts_everyday.txt`)
the second, written later from what people type. Each bracketed noun counts once. It is
*drawn as a real thing* when the scene draws it as a picture or hand-drawn kind (not a
placeholder) or as the setting or framing; it is *drawn right* when, moreover, what was
drawn answers to the English word given after `=` (or to the bracketed word itself): a
picture's English name or CLDR keywords, a hand-drawn kind's name, the setting's name, or
what the picture shows already (a snowman's hat, a birthday cake's candles: `worn.WORN`),
and every check given after `;` holds of it: its count, colour, position or relation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from aiport.backends.local.sketch.art import art_set
from aiport.backends.local.sketch.describe import thing_name
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.scene import Scene, SceneObject
from aiport.backends.local.sketch.words import fold
from aiport.backends.local.sketch.worn import WORN

PROMPTS = Path(__file__).resolve().parents[1] / "data" / "sketch_prompts.txt"
EVERYDAY = PROMPTS.with_name("sketch_prompts_everyday.txt")
_NOUN = re.compile(r"\[([^\]=;]+)(?:=([^\];]+))?(?:;([^\]]+))?\]")
# A check after `;` → what the drawn group must show: its h or v, or its relation.
_SPOTS = {"left": ("left", "left_of"), "right": ("right", "right_of"), "top": ("top", "above"),
          "bottom": ("bottom", "below"), "on": ("on",), "in": ("in",), "under": ("below",),
          "above": ("above",), "beside": ("next_to", "left_of", "right_of")}  # fmt: skip


@dataclass(slots=True)
class Noun:
    prompt: str
    word: str
    expected: list[str]
    checks: list[str] = field(default_factory=list)
    real: bool = False
    right: bool = False


@dataclass(slots=True)
class Score:
    nouns: list[Noun] = field(default_factory=list)

    def share(self, attribute: str) -> float:
        return sum(getattr(n, attribute) for n in self.nouns) / max(1, len(self.nouns))


def prompts(path: Path = PROMPTS) -> list[tuple[str, list[Noun]]]:
    """(prompt as a user types it, its nouns: as written, expected things and checks)."""
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text = _NOUN.sub(lambda m: m[1], line)
        nouns = [Noun(text, m[1], (m[2] or m[1]).split("+"), (m[3] or "").split(";") if m[3]
                      else []) for m in _NOUN.finditer(line)]  # fmt: skip
        out.append((text, nouns))
    return out


def score(path: Path = PROMPTS) -> Score:
    result = Score()
    for prompt, nouns in prompts(path):
        scene = parse_scene(prompt)
        for noun in nouns:
            names = _drawn_for(scene, noun.word)
            noun.real = bool(names)
            noun.right = all(any(_answers(e, n) for n in names) for e in noun.expected)
            noun.right = noun.right and all(_holds(scene, noun.word, c) for c in noun.checks)
            result.nouns.append(noun)
    return result


def _holds(scene: Scene, word: str, check: str) -> bool:
    """Whether a group drawn for `word` shows `check`: a count, colour, spot or relation."""
    for obj in _groups_for(scene, word):
        if check.isdigit():
            ok = obj.count == int(check)
        elif check in _SPOTS:
            ok = bool({obj.h, obj.v, obj.relation} & set(_SPOTS[check]))
        else:
            ok = obj.color == check or check in obj.worn_colors.values()
        if ok:
            return True
    return False


def _groups_for(scene: Scene, word: str) -> list[SceneObject]:
    word = word.split()[-1]
    return [obj for obj in scene.objects if any(word in said for said in obj.words)]


def _drawn_for(scene: Scene, word: str) -> list[str]:
    """Every English name of what the scene drew for the prompt's `word`.

    For a noun of several words ("pirate ship") its last word counts.
    """
    names: list[str] = []
    word = word.split()[-1] if not any(word in s for s in scene.setting_words) else word
    if any(word in setting or setting in word for setting in scene.setting_words):
        venue = getattr(scene, "venue", None)  # an older renderer's scene has none (--against)
        names += [n for n in (scene.place, venue, scene.framing, scene.time, scene.weather) if n]
    for obj in scene.objects:
        if obj.kind == "unknown" or not any(word in said for said in obj.words):
            continue
        for kind in {obj.kind, *obj.variants, *filter(None, [obj.stands_for])}:
            names.append(thing_name(kind))
            art = art_set().get(kind)
            if art is not None:
                names += [*art.english, kind.replace("-", " ")]
            names += [thing_name(shown) for shown in WORN.get(kind, ())]
    return names


def _answers(expected: str, name: str) -> bool:
    wanted, words = fold(expected).replace("-", " "), fold(name).replace(":", " ").replace("-", " ")
    padded = f" {words} "
    return any(f" {form} " in padded for form in (wanted, wanted + "s", wanted + "es"))
