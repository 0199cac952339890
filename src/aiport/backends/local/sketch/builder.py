"""The scene a reader is building: its open noun phrase, and what waits for the next thing.

The reader (`reader.py`) decides what each word means; a `SceneBuilder` turns that into
the scene: a phrase is started, counted, closed into a thing (or an `unknown` one with the
phrase's head word as label), and a position, a hanging "on the wall" or a relation read
before its thing is given to the thing when it comes. It knows nothing of tokens.
"""

from __future__ import annotations

from aiport.backends.local.sketch import lexicon
from aiport.backends.local.sketch import words as w
from aiport.backends.local.sketch.phrase import Phrase, color_name, head_word
from aiport.backends.local.sketch.relations import Relations
from aiport.backends.local.sketch.scene import MAX_COUNT, Scene, SceneObject

MAX_OBJECTS = 12


class SceneBuilder:
    """The scene being built, with the pending noun phrase, position and relation."""

    def __init__(self, german_nouns: bool) -> None:
        self.german_nouns = german_nouns  # a German prompt that capitalises its nouns
        self.scene = Scene()
        self.phrase = Phrase()
        self.segment = 0  # index of the first object in the current clause
        self.pending_position: tuple[str | None, str | None] | None = None
        self.pending_hang = False
        self.relations = Relations(self.scene.objects)

    @property
    def objects(self) -> list[SceneObject]:
        return self.scene.objects

    def _add_thing(self, thing: lexicon.Thing, original: str) -> SceneObject | None:
        obj = self._add(thing.kind, thing.plural)
        if obj is not None:
            obj.variants = thing.variants
            obj.words.append(original)
        return obj

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
        self.phrase = Phrase()
        self.relations.pending = None

    def _end_phrase(self) -> None:
        """Close the phrase: a phrase without a known noun names an unknown thing."""
        head = head_word(self.phrase.words, german_nouns=self.german_nouns)
        if head is not None:
            self._add("unknown", plural=False, label=head)
        self.phrase = Phrase()

    def _add(self, kind: str, plural: bool, label: str | None = None) -> SceneObject | None:
        if len(self.objects) >= MAX_OBJECTS:
            self.phrase = Phrase()
            return None
        phrase = self.phrase
        requested = phrase.count if phrase.count is not None else (3 if plural else 1)
        obj = SceneObject(
            kind=kind,
            count=max(1, min(requested, MAX_COUNT)),
            requested_count=requested,
            color=color_name(phrase),
            size=phrase.size,
            label=label,
        )
        if self.pending_position is not None:
            obj.h, obj.v = self.pending_position
            self.pending_position = None
        obj.hangs, self.pending_hang = self.pending_hang, False
        self.relations.relate(obj)
        self.objects.append(obj)
        self.phrase = Phrase()
        return obj

    def _position(self, h: str | None, v: str | None, trailing: bool) -> None:
        """A position ("on the left") for the clause's thing, or the next one; `trailing`:
        it ends the clause, so it may belong to the previous clause's thing."""
        self._end_phrase()
        self.relations.pending = None
        in_clause = self.objects[self.segment :]
        subject = (
            in_clause[-1]
            if in_clause
            else (self.objects[-1] if trailing and self.objects else None)
        )
        if subject is not None and subject.h is None and subject.v is None:
            subject.h, subject.v = h, v
        else:
            self.pending_position = (h, v)

    def _hang(self, words: str) -> None:
        """ "on the wall": the clause's thing (or the next one) hangs on a room's wall."""
        self._end_phrase()
        self.relations.pending = None
        self.scene.setting_words.append(words)
        if self.scene.place in (None, "meadow"):
            self.scene.place = "room"
        in_clause = self.objects[self.segment :]
        if in_clause:
            in_clause[-1].hangs = True
        else:
            self.pending_hang = True

    def _relation(self, relation: str) -> None:
        self._end_phrase()
        self.relations.open(relation, self.segment)

    def _setting(self, word: str) -> None:
        scene = self.scene
        if word in w.FRAMING_INDEX:
            scene.framing = w.FRAMING_INDEX[word]
        scene.weather = w.WEATHER_INDEX.get(word, scene.weather)
        if word in w.TIME_INDEX and scene.time in (None, "day"):
            scene.time = w.TIME_INDEX[word]
        if word in w.PLACE_INDEX and scene.place in (None, "meadow"):
            scene.place = w.PLACE_INDEX[word]
        if word in w.VENUE_INDEX and scene.place in (None, "meadow", "room"):
            scene.place, scene.venue = "room", w.VENUE_INDEX[word]
