"""Score the sketch renderer on `tests/data/sketch_prompts.txt`: are the nouns drawn?

Each bracketed noun counts once. It is *drawn as a real thing* when the scene draws it as
a picture or hand-drawn kind (not a placeholder) or as the setting or framing; it is
*drawn right* when, moreover, what was drawn answers to the English word given after `=`
(or to the bracketed word itself): a picture's English name or CLDR keywords, a
hand-drawn kind's name, the setting's name, or what the picture shows already (a
snowman's hat, a birthday cake's candles: `worn.WORN`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from aiport.backends.local.sketch.art import art_set
from aiport.backends.local.sketch.describe import thing_name
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.scene import Scene
from aiport.backends.local.sketch.words import fold
from aiport.backends.local.sketch.worn import WORN

PROMPTS = Path(__file__).resolve().parents[1] / "data" / "sketch_prompts.txt"
_NOUN = re.compile(r"\[([^\]=]+)(?:=([^\]]+))?\]")


@dataclass(slots=True)
class Noun:
    prompt: str
    word: str
    expected: list[str]
    real: bool = False
    right: bool = False


@dataclass(slots=True)
class Score:
    nouns: list[Noun] = field(default_factory=list)

    def share(self, attribute: str) -> float:
        return sum(getattr(n, attribute) for n in self.nouns) / max(1, len(self.nouns))


def prompts() -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(prompt as a user types it, [(noun as written, [expected English things])])."""
    out = []
    for line in PROMPTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        nouns = [(m[1], (m[2] or m[1]).split("+")) for m in _NOUN.finditer(line)]
        out.append((_NOUN.sub(lambda m: m[1], line), nouns))
    return out


def score() -> Score:
    result = Score()
    for prompt, nouns in prompts():
        scene = parse_scene(prompt)
        for word, expected in nouns:
            noun = Noun(prompt, word, expected)
            names = _drawn_for(scene, word)
            noun.real = bool(names)
            noun.right = all(any(_answers(e, n) for n in names) for e in expected)
            result.nouns.append(noun)
    return result


def _drawn_for(scene: Scene, word: str) -> list[str]:
    """Every English name of what the scene drew for the prompt's `word`.

    For a noun of several words ("pirate ship") its last word counts.
    """
    names: list[str] = []
    word = word.split()[-1] if not any(word in s for s in scene.setting_words) else word
    if any(word in setting or setting in word for setting in scene.setting_words):
        names += [n for n in (scene.place, scene.framing, scene.time, scene.weather) if n]
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
    wanted, words = fold(expected), fold(name).replace(":", " ").replace("-", " ")
    padded = f" {words} "
    return any(f" {form} " in padded for form in (wanted, wanted + "s", wanted + "es"))
