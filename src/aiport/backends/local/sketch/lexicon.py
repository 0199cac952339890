"""Words → things: which picture of the art set (or which hand-drawn kind) a noun names.

The index is built once from the art set's CLDR names and keywords in English and German
(`art.art_set`): a thing's own name ranks first ("cat"), then the head of a longer name
("red apple" → apple, "police car" → car), then its keywords ("automobile" for "car").
Faces, hand gestures and symbols rank below things. The hand-kept tables of `nouns`
(`ART_WORDS`, `COLLECTIVES` and the hand-drawn `NOUNS`) come before the annotations.
`lookup` also reads plurals and case endings ("apples", "cherries", "Äpfel", "Häusern")
and, with `split_compound`, German compounds ("Obstschale" → fruit + bowl).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from aiport.backends.local.sketch import nouns
from aiport.backends.local.sketch import words as w
from aiport.backends.local.sketch.art import Art, art_set

# CLDR subgroups that are not things one draws in a scene: ranked after everything else.
_FACES = set(range(16)) | set(range(16, 23))  # smileys, emotions, hands, body parts
_SYMBOLS = set(range(83, 100))  # signs, arrows, zodiac, keycaps, flags
_ENGLISH_IRREGULAR = {
    "men": "man", "women": "woman", "children": "child", "people": "person", "mice": "mouse",
    "geese": "goose", "feet": "foot", "teeth": "tooth", "knives": "knife", "leaves": "leaf",
    "wolves": "wolf", "loaves": "loaf", "shelves": "shelf", "calves": "calf", "oxen": "ox",
    "dice": "die", "cacti": "cactus", "fungi": "mushroom", "sheep": "sheep", "deer": "deer",
    "eier": "ei", "eiern": "ei",  # German, too short a stem for the endings below
}  # fmt: skip
_GERMAN_ENDINGS = ("nen", "ern", "en", "er", "es", "n", "e", "s")
_LINKS = ("", "s", "n", "en", "e", "es", "er")  # Fugen: Geburtstag-s-kuchen, Blume-n-vase
_KEYWORD = 4  # ranks from here on come from keywords only
_NOT_NOUN_ENDINGS = ("ing", "ed", "ly", "ous", "ful", "ive", "ish", "less", "end", "ig", "lich")


@dataclass(frozen=True, slots=True)
class Thing:
    """What a noun names: a drawable `kind` (art name or hand-drawn kind), maybe a mix."""

    kind: str
    plural: bool = False
    variants: tuple[str, ...] = ()  # a collective ("fruit"): copies cycle through these
    strong: bool = True  # False: found only among another thing's keywords


def lookup(word: str, color: str | None = None, german: bool = False) -> Thing | None:
    """The thing a folded noun (any number or case) names; `color` picks a coloured variant.

    The hand-kept tables answer first, for every reading of the word, then the CLDR names.
    """
    if word in nouns.NOT_NAMES:
        return None
    readings = lemmas(word)
    if german and word in nouns.GERMAN_WORDS:
        return Thing(nouns.GERMAN_WORDS[word])
    for lemma, plural in readings:
        thing = _hand_kept(lemma, plural, color)
        if thing is not None:
            return thing
    ranked = [(index()[lemma][0], k) for k, (lemma, _) in enumerate(readings) if lemma in index()]
    for _, k in sorted(ranked):  # "Kerzen": the name "Kerze" beats the keyword "kerzen"
        thing = _annotated(*readings[k], color)
        if thing is not None:
            return thing
    return None


def lookup_phrase(words: str) -> Thing | None:
    """A multi-word name such as `teddy bear`, `fire engine` or `living room` (folded)."""
    if words in nouns.ART_WORDS:
        return Thing(nouns.ART_WORDS[words])
    if words in nouns.ART_PHRASES:
        return Thing(nouns.ART_PHRASES[words])
    if any(w.reserved(word) for word in words.split()):
        return None  # "snowman in the snow" is read word by word: the snow is a setting
    rank, names = index().get(words, (0, ()))
    return Thing(names[0]) if names and " " in words and rank < _KEYWORD else None


def lemmas(word: str) -> list[tuple[str, bool]]:
    """(lemma, plural) candidates for a folded word, the word itself first."""
    out = [(word, False)]
    if word in _ENGLISH_IRREGULAR:
        out.append((_ENGLISH_IRREGULAR[word], True))
    for ending, replacements in (("ies", ("y",)), ("ves", ("f", "fe")), ("es", ("",)),
                                 ("s", ("",))):  # fmt: skip
        if word.endswith(ending) and len(word) > len(ending) + 2:
            out.extend((word[: -len(ending)] + r, True) for r in replacements)
    for ending in ("", *_GERMAN_ENDINGS):
        stem = word[: -len(ending)] if ending else word
        if not word.endswith(ending) or len(stem) < 3:
            continue
        if ending:
            out.append((stem, True))
        plain = _without_umlaut(stem)
        if plain != stem:
            out.append((plain, True))  # Äpfel → Apfel, Bäume → Baum, Häuser → Haus
    return out


def split_compound(word: str) -> tuple[str | None, Thing] | None:
    """A German compound read from its end: (modifier noun or None, head thing).

    "Obstschale" → ("obst", bowl), "Holztisch" → (None, table) as `holz` is a material,
    "Feuerwehrauto" is a name of its own and never gets here.
    """
    for cut in range(3, len(word) - 2):
        head, tail = word[:cut], word[cut:]
        thing = lookup(tail)
        if thing is None or len(tail) < 3:
            continue
        for link in _LINKS:
            stem = head[: -len(link)] if link and head.endswith(link) else head
            if link and not head.endswith(link):
                continue
            if stem in nouns.MATERIALS or w.known_modifier(stem):
                return None, thing
            if len(stem) >= 3 and lookup(stem) is not None:
                return stem, thing
        if len(tail) >= 4:
            return None, thing
    return None


def _hand_kept(lemma: str, plural: bool, color: str | None) -> Thing | None:
    for group, (singular, plurals) in nouns.GROUP_WORDS.items():
        if lemma in singular.split() or lemma in plurals.split():
            return Thing(group, plural or lemma in plurals.split())
    if lemma in nouns.COLLECTIVES:
        return Thing(nouns.COLLECTIVES[lemma][0], True, nouns.COLLECTIVES[lemma])
    if lemma in nouns.NOUN_INDEX:
        kind, is_plural = nouns.NOUN_INDEX[lemma]
        return Thing(kind, plural or is_plural)
    if lemma in nouns.ART_WORDS:
        return Thing(_coloured(nouns.ART_WORDS[lemma], lemma, color), plural)
    return None


def _annotated(lemma: str, plural: bool, color: str | None) -> Thing | None:
    rank, names = index().get(lemma, (0, ()))
    if not names:
        return None
    weak = rank >= _KEYWORD
    verb_like = rank > 0 and len(lemma) > 5 and lemma.endswith(("ing", "ed"))  # "standing"
    if (weak or verb_like) and lemma.endswith(_NOT_NOUN_ENDINGS):
        return None  # "running", "sweetly": a keyword, but not a noun
    return Thing(_coloured(names[0], lemma, color), plural, strong=not weak)


def _coloured(name: str, lemma: str, color: str | None) -> str:
    """`green apple` for "a green apple": a variant whose own name carries the colour."""
    if color is None:
        return name
    base = color.rpartition(" ")[2]
    for other in index().get(lemma, (0, ()))[1][:8]:
        if base in art_set()[other].label.split():
            return other
    return name


def _without_umlaut(stem: str) -> str:
    """The stem with its last umlaut undone, in folded spelling (aepfel → apfel)."""
    for folded, plain in (("aeu", "au"), ("ae", "a"), ("oe", "o"), ("ue", "u")):
        at = stem.rfind(folded)
        if at > 0 or (at == 0 and folded != "ue"):
            return stem[:at] + plain + stem[at + len(folded) :]
    return stem


@cache
def index() -> dict[str, tuple[int, tuple[str, ...]]]:
    """Folded word or name → (best rank, art names best first)."""
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    for order, art in enumerate(art_set().values()):
        if art.name in nouns.SCENE_TILES:
            continue
        penalty = 6 if art.group in _FACES or art.group in _SYMBOLS else 0
        for key, rank in _keys(art):
            ranked.setdefault(key, []).append((rank + penalty, order, art.name))
    return {
        key: (min(found)[0], tuple(name for *_, name in sorted(found)))
        for key, found in ranked.items()
    }


def _keys(art: Art) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for names in (art.english, art.german):
        if not names:
            continue
        label = w.fold(names[0])
        out.append((label, 0))
        main = label.split(":")[0]
        for joiner in (" with ", " mit ", " and ", " und ", " ohne ", " without "):
            main = main.split(joiner)[0]
        words = main.split()
        if words:
            out.append((words[-1], 1 + len(words)))
        single = len(label.split()) == 1
        out.extend((w.fold(tag), _KEYWORD if single else _KEYWORD + 2) for tag in names[1:])
    return out
