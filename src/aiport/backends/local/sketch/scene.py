"""Turn an English or German prompt into a `Scene` the sketch renderer can draw.

`parse_scene(prompt)` finds the drawable things (`words.NOUNS`) with their counts,
colours, sizes and positions ("three red balls on the left", "oben rechts eine gelbe
Sonne"), simple relations between them ("a cat on a car", "links vom Haus"), the setting
("at night", "am Strand", "in einer Cyberpunk-Stadt") and quoted text to write. A noun
phrase whose noun is not in the vocabulary becomes an object of kind `unknown` carrying the
prompt's word as `label`, so the renderer can draw a labelled placeholder and say so.
It is a small rule-based reader, not a language model: pure Python, no imports beyond the
standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aiport.backends.local.sketch import words as w

MAX_COUNT = 20
MAX_OBJECTS = 12
MAX_TEXT = 80

_QUOTED = re.compile(
    r'"([^"]+)"|“([^”]+)”|„([^“”"]+)[“”"]|«([^»]+)»|»([^«]+)«|‚([^‘’]+)[‘’]|‘([^’]+)’'
    r"|(?<!\w)'([^']+)'(?!\w)"
)
_UNQUOTED = re.compile(
    r"\b(?:saying|that says|which says|reading|that reads|with the (?:text|words)|labell?ed"
    r"|titled|captioned|mit der aufschrift|mit dem text|mit den worten|beschriftet mit)"
    r"\s*:?\s+(?!\s*QTEXT)([^,.;!?]+)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W_]+|[,;.!?]")
_NOT_HEAD_SUFFIXES = ("ing", "ed", "ly", "ous", "ful", "ive", "ic", "ical", "ish", "less")


@dataclass(slots=True)
class SceneObject:
    """One group of identical things: `count` of `kind`, where and how they are drawn.

    `h` is left/center/right and `v` top/middle/bottom (None: the layout chooses).
    `relation` (above/on/below/next_to/left_of/right_of) places it against `target`,
    an index into `Scene.objects`. `label` is the prompt's word for an `unknown` kind.
    """

    kind: str
    count: int = 1
    color: str | None = None
    size: str | None = None
    h: str | None = None
    v: str | None = None
    relation: str | None = None
    target: int | None = None
    label: str | None = None
    text: str | None = None
    requested_count: int = 1


@dataclass(slots=True)
class Scene:
    objects: list[SceneObject] = field(default_factory=list)
    time: str | None = None
    place: str | None = None
    background: str | None = None
    texts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Phrase:
    """A noun phrase being read: what has been said about the noun still to come."""

    started: bool = False
    count: int | None = None
    color: str | None = None
    shade: str | None = None
    size: str | None = None
    words: list[tuple[str, str]] = field(default_factory=list)


def parse_scene(prompt: str) -> Scene:
    """Read `prompt` (English or German) into a `Scene`; never raises on odd input."""
    text, texts = _extract_texts(prompt)
    found = [(w.fold(t), t) for t in _TOKEN.findall(text)]
    tokens = [(f, t) for f, t in found if len(f) > 1 or f.isdigit() or f in "a,;.!?"]
    scene = _Reader(tokens, _looks_german(tokens)).read()
    scene.texts = texts
    for obj in scene.objects:
        if obj.kind == "sign" and scene.texts:
            obj.text = scene.texts.pop(0)
    return scene


def _extract_texts(prompt: str) -> tuple[str, list[str]]:
    """Pull out the text to write; leave a `QTEXT` marker where it stood."""
    texts: list[str] = []

    def keep(match: re.Match[str]) -> str:
        found = next(g for g in match.groups() if g is not None).strip()
        if found and len(texts) < 3:
            texts.append(found if len(found) <= MAX_TEXT else found[: MAX_TEXT - 1] + "…")
        return " QTEXT "

    prompt = _QUOTED.sub(keep, prompt)

    def keep_unquoted(match: re.Match[str]) -> str:
        captured = match.group(1)
        first = re.split(r"\s+(?:and|und|on|in|at|auf|im|am|with|mit)\s+", captured, maxsplit=1)
        kept = first[0].split()[:5]
        if kept and len(texts) < 3:
            texts.append(" ".join(kept))
        return " QTEXT " + " ".join(captured.split()[len(kept) :])

    return _UNQUOTED.sub(keep_unquoted, prompt), texts


def _looks_german(tokens: list[tuple[str, str]]) -> bool:
    german = sum(t in w.FOLDED_SETS["german"] for t, _ in tokens)
    english = sum(t in w.FOLDED_SETS["english"] for t, _ in tokens)
    return german > english


class _Reader:
    """A left-to-right reader with a pending noun phrase, position and relation."""

    def __init__(self, tokens: list[tuple[str, str]], german: bool) -> None:
        self.tokens = tokens
        self.german = german
        self.scene = Scene()
        self.phrase = _Phrase()
        self.segment = 0  # index of the first object in the current clause
        self.pending_position: tuple[str | None, str | None] | None = None
        self.pending_relation: tuple[str, int] | None = None
        # "Neben einem Hund sitzt eine Katze": relation first, then target, then subject.
        self.reversed_relation: tuple[str, int | None] | None = None
        self.capitalised = any(o[:1].isupper() for _, o in tokens[1:])

    @property
    def objects(self) -> list[SceneObject]:
        return self.scene.objects

    def read(self) -> Scene:
        i = 0
        while i < len(self.tokens):
            i = self._step(i)
        self._end_phrase()
        return self.scene

    def _step(self, i: int) -> int:
        phrase = self._multiword(i)
        if phrase is not None:
            kind, value, end = phrase
            if kind == "count":
                self._count(int(value))
            elif kind == "relation":
                self._relation(str(value))
            else:
                self._position(None, "top", end)
            return end
        position = self._position_at(i)
        if position is not None:
            h, v, end = position
            if end < len(self.tokens) and self.tokens[end][0] in w.RELATION_LINKS:
                if self.objects[self.segment :]:
                    self._position(h, v, end)  # stands if no object follows
                self._relation(_RELATION_OF.get(h or v or "", "next_to"))
                return end + 1
            self._position(h, v, end)
            return end
        self._word(*self.tokens[i])
        return i + 1

    def _multiword(self, i: int) -> tuple[str, int | str, int] | None:
        for size in (4, 3, 2):
            words = " ".join(t for t, _ in self.tokens[i : i + size])
            if words in w.COUNT_INDEX:
                return "count", w.COUNT_INDEX[words], i + size
            if words in w.RELATION_INDEX and " " in words:
                return "relation", w.RELATION_INDEX[words], i + size
            if words in _SKY_PHRASES:
                return "sky", 0, i + size
        return None

    def _position_at(self, i: int) -> tuple[str | None, str | None, int] | None:
        """A run like "in the top right corner" / "oben rechts" starting at token `i`."""
        h = v = None
        j, found = i, False
        while j < len(self.tokens) and j - i < 8:
            word = self.tokens[j][0]
            if word in w.POSITION_INDEX:
                dh, dv = w.POSITION_INDEX[word]
                h, v, found = dh or h, dv or v, True
            elif word not in w.FOLDED_SETS["fillers"] or (found and word == "of"):
                break
            j += 1
        if not found:
            return None
        while j > i and self.tokens[j - 1][0] not in w.POSITION_INDEX:
            j -= 1  # give trailing fillers ("the", "of") back to the next reading
        if h == "center" and v not in (None, "middle"):
            h = None  # "top middle" means the top, centred: keep h free for the layout
        return h, v, j

    def _word(self, word: str, original: str) -> None:
        sets = w.FOLDED_SETS
        if word in sets["boundaries"]:
            self._end_phrase()
            self.segment = len(self.objects)
            self.pending_relation = None
        elif word.isdigit():
            self._count(int(word))
        elif word in w.COUNT_INDEX and not (self.german and word == "an"):
            self._count(w.COUNT_INDEX[word])
        elif word in sets["determiners"]:
            self._start_phrase()
        elif word in w.RELATION_INDEX:
            self._relation(w.RELATION_INDEX[word])
        elif not self._describe(word):
            self._noun_or_other(word, original)

    def _describe(self, word: str) -> bool:
        """Adjectives of the coming noun; True when `word` was one."""
        known = (w.COLOR_INDEX, w.SHADE_INDEX, w.SIZE_INDEX, w.FOLDED_SETS["setting_adjectives"])
        if not any(word in table for table in known):
            return False
        self._start_phrase()
        phrase = self.phrase
        if word in w.COLOR_INDEX:
            phrase.color = w.COLOR_INDEX[word]
        elif word in w.SHADE_INDEX:
            phrase.shade = w.SHADE_INDEX[word]
        elif word in w.SIZE_INDEX:
            phrase.size = w.SIZE_INDEX[word]
        else:
            self._setting(word)
        return True

    def _noun_or_other(self, word: str, original: str) -> None:
        noun = w.lookup_noun(word)
        if noun is not None:
            self._add(noun[0], noun[1])
        elif word in w.TIME_INDEX or word in w.PLACE_INDEX:
            self._setting(word)
            self._drop_phrase()
        elif word in w.FOLDED_SETS["meta"]:
            if word in w.FOLDED_SETS["background"] and self.phrase.color:
                self.scene.background = _color_name(self.phrase)
            self._drop_phrase()
        elif word in w.FOLDED_SETS["stopwords"] or word in w.FOLDED_SETS["fillers"]:
            self._end_phrase()
        elif not self._compound(word) and self.phrase.started:
            self.phrase.words.append((word, original))
            if len(self.phrase.words) > 4:
                self._end_phrase()

    def _compound(self, word: str) -> bool:
        """German compounds: `Cyberpunkstadt` → cyberpunk + Stadt, `hellblaue` → hell + blaue."""
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            known_head = w.known_modifier(head)
            tail_noun = w.lookup_noun(tail)
            tail_word = tail in w.COLOR_INDEX or tail in w.TIME_INDEX or tail in w.PLACE_INDEX
            if (tail_noun or tail_word) and (known_head or len(tail) >= 4):
                if known_head:
                    self._word(known_head, known_head)
                self._word(tail, tail)
                return True
        return False

    def _start_phrase(self) -> None:
        if self.phrase.words:
            self._end_phrase()
        self.phrase.started = True

    def _count(self, count: int) -> None:
        if self.phrase.words or self.phrase.count is not None:
            self._end_phrase()
        self._start_phrase()
        self.phrase.count = count

    def _drop_phrase(self) -> None:
        self.phrase = _Phrase()
        self.pending_relation = None

    def _end_phrase(self) -> None:
        """Close the phrase: a phrase without a known noun names an unknown thing."""
        head = self._head(self.phrase.words)
        if head is not None:
            self._add("unknown", plural=False, label=head)
        self.phrase = _Phrase()

    def _head(self, words: list[tuple[str, str]]) -> str | None:
        for word, original in reversed(words):
            if len(word) < 3 or not word.isalpha() or word in w.FOLDED_SETS["meta"]:
                continue
            if self.german and self.capitalised:
                if original[:1].isupper():
                    return original
            elif not word.endswith(_NOT_HEAD_SUFFIXES):
                return original.lower()
        return None

    def _add(self, kind: str, plural: bool, label: str | None = None) -> None:
        if len(self.objects) >= MAX_OBJECTS:
            self.phrase = _Phrase()
            return
        phrase = self.phrase
        requested = phrase.count if phrase.count is not None else (3 if plural else 1)
        obj = SceneObject(
            kind=kind,
            count=max(1, min(requested, MAX_COUNT)),
            requested_count=requested,
            color=_color_name(phrase),
            size=phrase.size,
            label=label,
        )
        if self.pending_position is not None:
            obj.h, obj.v = self.pending_position
            self.pending_position = None
        self._relate(obj)
        self.objects.append(obj)
        self.phrase = _Phrase()

    def _relate(self, obj: SceneObject) -> None:
        """Complete a pending relation with `obj`, about to be appended."""
        index = len(self.objects)
        if self.pending_relation is not None:
            rel, subject = self.pending_relation
            self.objects[subject].relation, self.objects[subject].target = rel, index
            self.objects[subject].h = self.objects[subject].v = None
            self.pending_relation = None
        elif self.reversed_relation is not None:
            rel, target = self.reversed_relation
            if target is None:
                self.reversed_relation = (rel, index)
            else:
                obj.relation, obj.target = rel, target
                self.reversed_relation = None

    def _position(self, h: str | None, v: str | None, end: int) -> None:
        self._end_phrase()
        self.pending_relation = None
        in_clause = self.objects[self.segment :]
        trailing = end >= len(self.tokens) or self.tokens[end][0] in w.FOLDED_SETS["boundaries"]
        subject = (
            in_clause[-1]
            if in_clause
            else (self.objects[-1] if trailing and self.objects else None)
        )
        if subject is not None and subject.h is None and subject.v is None:
            subject.h, subject.v = h, v
        else:
            self.pending_position = (h, v)

    def _relation(self, relation: str) -> None:
        self._end_phrase()
        if self.objects[self.segment :]:
            self.pending_relation = (relation, len(self.objects) - 1)
        else:
            self.reversed_relation = (relation, None)

    def _setting(self, word: str) -> None:
        scene = self.scene
        if word in w.TIME_INDEX and scene.time in (None, "day"):
            scene.time = w.TIME_INDEX[word]
        if word in w.PLACE_INDEX and scene.place in (None, "meadow"):
            scene.place = w.PLACE_INDEX[word]


_RELATION_OF = {"left": "left_of", "right": "right_of", "top": "above", "bottom": "below"}
_SKY_PHRASES = {w.fold(p) for p in w.SKY_PHRASES}


def _color_name(phrase: _Phrase) -> str | None:
    if phrase.color is None:
        return None
    if phrase.shade and phrase.color != w.MULTICOLOR:
        return f"{phrase.shade} {phrase.color}"
    return phrase.color
