"""Turn an English or German prompt into a `Scene` the sketch renderer can draw.

`parse_scene(prompt)` finds the drawable things (`lexicon.lookup`: hand-drawn kinds and
the art set's thousands of names) with their counts, colours, sizes and positions ("three
red balls on the left", "oben rechts eine gelbe Sonne"), simple relations between them
("a cat on a car", "links vom Haus", "a bowl of fruit"), the setting ("at night", "am
Strand", "in einer Cyberpunk-Stadt", "on a sofa" → a room), a portrait framing and quoted
text to write. A noun phrase whose noun is not known becomes an object of kind `unknown`
carrying the prompt's word as `label`, so the renderer can draw a labelled placeholder and
say so. It is a small rule-based reader, not a language model.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from aiport.backends.local.sketch import kinds, lexicon, nouns
from aiport.backends.local.sketch import words as w
from aiport.backends.local.sketch.builder import SceneBuilder
from aiport.backends.local.sketch.finish import finish_scene
from aiport.backends.local.sketch.people import add_beard, is_passenger, is_person, style_hair
from aiport.backends.local.sketch.phrase import color_name
from aiport.backends.local.sketch.relations import content_relation, holds
from aiport.backends.local.sketch.scene import Scene
from aiport.backends.local.sketch.spans import phrase_at, position_at
from aiport.backends.local.sketch.texts import extract_texts

_TOKEN = re.compile(r"[^\W_]+|[,;.!?]")


def parse_scene(prompt: str) -> Scene:
    """Read `prompt` (English or German) into a `Scene`; never raises on odd input."""
    text, texts = extract_texts(prompt)
    found = [(w.fold(t), t) for t in _TOKEN.findall(text)]
    tokens = [(f, t) for f, t in found if len(f) > 1 or f.isdigit() or f in "a,;.!?"]
    scene = Reader(tokens, _looks_german(tokens)).read()
    finish_scene(scene, texts)
    return scene


def _looks_german(tokens: list[tuple[str, str]]) -> bool:
    german = sum(t in w.FOLDED_SETS["german"] for t, _ in tokens)
    english = sum(t in w.FOLDED_SETS["english"] for t, _ in tokens)
    return german > english


class Reader(SceneBuilder):
    """A left-to-right reader of tokens: what each word means for the scene being built."""

    def __init__(self, tokens: list[tuple[str, str]], german: bool) -> None:
        self.capitalised = any(o[:1].isupper() for _, o in tokens[1:])
        super().__init__(german_nouns=german and self.capitalised)
        self.tokens = tokens
        self.german = german
        self.position = 0  # the token being read
        self.skip = 0  # tokens after it that its reading used up

    def read(self) -> Scene:
        i = 0
        while i < len(self.tokens):
            i = self._step(i)
        self._end_phrase()
        return self.scene

    def _step(self, i: int) -> int:
        phrase = phrase_at(self.tokens, i)
        if phrase is not None:
            kind, value, end = phrase
            if kind == "count":
                self._count(int(value))
            elif kind == "relation":
                self._relation(str(value))
            elif kind in ("place", "time"):
                self._end_phrase()
                if kind == "place":
                    self.scene.place = str(value)
                elif self.scene.time in (None, "day"):
                    self.scene.time = str(value)
                self.scene.setting_words.append(" ".join(o for _, o in self.tokens[i:end]))
            elif kind == "thing":
                thing = lexicon.lookup_phrase(str(value))
                if thing is not None:
                    self._add_thing(thing, " ".join(o for _, o in self.tokens[i:end]))
            elif kind == "wall":
                self._hang(" ".join(o for _, o in self.tokens[i:end]))
            else:
                self._position(None, "top", self._trailing(end))
            return end
        position = position_at(self.tokens, i)
        if position is not None:
            h, v, end = position
            if end < len(self.tokens) and self.tokens[end][0] in w.RELATION_LINKS:
                if self.objects[self.segment :]:
                    self._position(h, v, self._trailing(end))  # stands if no object follows
                self._relation(_RELATION_OF.get(h or v or "", "next_to"))
                return end + 1
            self._position(h, v, self._trailing(end))
            return end
        self.position, self.skip = i, 0
        self._word(*self.tokens[i])
        return i + 1 + self.skip

    def _trailing(self, end: int) -> bool:
        """The clause ends at token `end`."""
        return end >= len(self.tokens) or self.tokens[end][0] in w.FOLDED_SETS["boundaries"]

    def _word(self, word: str, original: str) -> None:
        sets = w.FOLDED_SETS
        if word in w.CONTENT_LINKS and self._opens_container():
            return
        if word in w.INTO and (self._container_follows() or self._passenger_then(kinds.CABS)):
            self._relation("in")
            return
        wears = word in w.HOLDING or word in w.WEARING or word in w.INTO
        if wears and self._person_then(kinds.HEADWEAR | kinds.TOPS):
            self._end_phrase()  # "a boy with a cap": on his head; "a man in a red shirt"
            self.relations.reversed = ("on", len(self.objects) - 1)
            return
        if word in w.HOLDING and self._person_then(kinds.HELD_ALOFT):
            self._end_phrase()  # "a child with a balloon": it floats just above the person
            self.relations.reversed = ("above", len(self.objects) - 1)
            return
        if word in w.DRIVING and self._person_then(kinds.CABS):
            self._relation("in")  # "a woman driving a car": she sits in it
            return
        if word in w.RIDING and self._person_then(kinds.RIDDEN, past=w.RIDE_LINKS):
            self._relation("on")  # "ein Junge fährt Fahrrad": the boy is on the bicycle
            self.skip = int(self.tokens[self.position + 1][0] in w.RIDE_LINKS)  # "mit dem Rad"
            return
        if word in sets["boundaries"]:
            self._end_phrase()
            self.relations.join(word, self.segment)
            self.segment = len(self.objects)
        elif word.isdigit():
            self._count(int(word))
        elif word in w.COUNT_INDEX and not (self.german and word == "an"):
            self._count(w.COUNT_INDEX[word])
        elif word in sets["determiners"]:
            self._start_phrase()
        elif word in w.RELATION_INDEX:
            self._relation(w.RELATION_INDEX[word])
        elif not self._describe(word, original):
            self._noun_or_other(word, original)

    def _describe(self, word: str, original: str) -> bool:
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
            self.scene.setting_words.append(original)
        return True

    def _noun_or_other(self, word: str, original: str) -> None:
        if any(word in table for table in _SETTINGS):
            self._setting(word)
            self.scene.setting_words.append(original)
            self._drop_phrase()
        elif self._styles_person(word, original):
            self._drop_phrase()
        elif word in w.FOLDED_SETS["meta"]:
            if word in w.FOLDED_SETS["background"] and self.phrase.color:
                self.scene.background = color_name(self.phrase)
            self._drop_phrase()
        elif word in w.FOLDED_SETS["stopwords"] or word in w.FOLDED_SETS["fillers"]:
            self._end_phrase()
        elif self._verb_at(self.position) and self.objects[self.segment :]:
            self._end_phrase()  # "a girl building a sandcastle": no building
        elif (thing := self._lookup(word, original)) is not None:
            self._noun(thing, original)
        elif not self._compound(word, original) and self.phrase.started:
            self.phrase.words.append((word, original))
            if len(self.phrase.words) > 4:
                self._end_phrase()

    def _lookup(self, word: str, original: str) -> lexicon.Thing | None:
        if len(word) < 3 and word not in nouns.ART_WORDS:
            return None
        thing = lexicon.lookup(word, color_name(self.phrase), self.german)
        if thing is None or thing.strong or self._may_be_noun(original):
            return thing
        return None

    def _may_be_noun(self, original: str) -> bool:
        """A keyword match counts in German only when capitalised (German nouns are)."""
        return not (self.german and self.capitalised) or original[:1].isupper()

    def _noun(self, thing: lexicon.Thing, original: str) -> None:
        """A noun: drawn, unless it only qualifies the noun after it ("fruit bowl")."""
        if thing.kind == "square" and self._town_square():
            thing = lexicon.Thing("city")
        following = self.next_thing(weak=self.german and thing.kind in kinds.CONTAINERS)
        if following is not None and thing.kind in kinds.CONTAINERS:  # "eine Tasse Kaffee"
            self._add_thing(thing, original)
            if following.kind != thing.kind:
                self.relations.reversed = (content_relation(thing.kind), len(self.objects) - 1)
            else:  # "Tasse Kaffee": the cup is the coffee
                self.objects[-1].words.append(self.tokens[self.position + 1][1])
                self.skip = 1
        elif following is not None and holds(following.kind, thing.kind):  # "an apple tree"
            self._add_thing(following, self.tokens[self.position + 1][1])
            self.relations.reversed = (content_relation(following.kind), len(self.objects) - 1)
            self._add_thing(_crop(thing, following.kind), original)
            self.skip = 1
        elif following is None or (not thing.strong and self._verb_follows()):
            self._add_thing(thing, original)
        elif following.kind == thing.kind and thing.strong:  # "ein Laib Brot": one bread
            self._add_thing(following, original)
            self.objects[-1].words.append(self.tokens[self.position + 1][1])
            self.skip = 1
        elif following.kind in kinds.GROUPS and not is_person(thing.kind):  # a penguin family
            if (several := self._add_thing(thing, original)) is not None:
                several.count = several.requested_count = 3
                several.words.append(self.tokens[self.position + 1][1])
            self.skip = 1
        elif thing.kind in kinds.CABS and self.tokens[self.position + 1][0] in w.DRIVERS:
            self._add_driver(thing, original, following, self.tokens[self.position + 1][1])
            self.skip = 1
        # else: a modifier of the noun that follows ("apple tree", "a happy family"): that
        # noun is drawn

    def _add_driver(
        self, vehicle: lexicon.Thing, vehicle_word: str, driver: lexicon.Thing, driver_word: str
    ) -> None:
        """ "a taxi driver", "ein Busfahrer": a person, sitting in their vehicle."""
        cab = self._add_thing(vehicle, vehicle_word)
        self.relations.reversed = ("in", len(self.objects) - 1)
        person = self._add_thing(driver, driver_word)
        if cab is not None and person is not None:  # one in each
            person.count = person.requested_count = cab.count

    def _verb_at(self, at: int) -> bool:
        """ "building a sandcastle": an -ing word before an article is a verb, not a noun."""
        after = self.tokens[at + 1][0] if at + 1 < len(self.tokens) else ""
        verb_like = self.tokens[at][0].endswith("ing")
        return verb_like and (after in w.FOLDED_SETS["determiners"] or after in w.COUNT_INDEX)

    def _verb_follows(self) -> bool:
        """ "a chef cooking": the next word is a verb (that names a picture too)."""
        return self.tokens[self.position + 1][0].endswith("ing")

    def _town_square(self) -> bool:
        """ "a fountain in a square": a square after in/on/at, beside a thing, is a place."""
        before = [t for t, _ in self.tokens[max(0, self.position - 3) : self.position]]
        while before and (
            before[-1] in w.FOLDED_SETS["determiners"] or before[-1] in w.COUNT_INDEX
        ):
            before.pop()
        if not before or before[-1] not in w.TOWN_SQUARE_PREPOSITIONS:
            return False
        return any(obj.kind not in kinds.SHAPES for obj in self.objects[self.segment :])

    def next_thing(self, weak: bool = False) -> lexicon.Thing | None:
        """The thing the next word names; `weak`: a keyword match counts too."""
        at = self.position + 1
        if at >= len(self.tokens) or w.reserved(self.tokens[at][0]) or self._verb_at(at):
            return None
        thing = self._lookup(*self.tokens[at])
        return thing if thing is not None and (thing.strong or weak) else None

    def _opens_container(self) -> bool:
        """ "a bowl of", "ein Korb mit": what follows goes into the thing just named."""
        if not self.objects or self.position == 0 or self.phrase.words:
            return False
        last = self.objects[-1]
        named_last = self.tokens[self.position - 1][1] in " ".join(last.words).split()
        ahead = self._noun_ahead() if last.kind in kinds.CROWNS else None
        if not holds(last.kind, ahead.kind if ahead else None) or not named_last:
            return False
        self._end_phrase()
        self.relations.reversed = (content_relation(last.kind), len(self.objects) - 1)
        return True

    def _styles_person(self, word: str, original: str) -> bool:
        """Hair or a beard of the last person named ("a man with red hair / a beard")."""
        if word in w.HAIR_WORDS:
            adjectives = [t for t, _ in self.phrase.words]
            return style_hair(self.objects, self.phrase.color, adjectives, original)
        return word in w.BEARD_WORDS and add_beard(self.objects, original)

    def _compound(self, word: str, original: str) -> bool:
        """German compounds: `Obstschale` → bowl of fruit, `hellblaue` → hell + blaue."""
        for cut in range(3, len(word) - 2):
            known_head, tail = w.known_modifier(word[:cut]), word[cut:]
            if tail in w.PLACE_INDEX and len(tail) >= 4 and self.german:  # Klassenzimmer
                self._setting(tail)
                self.scene.setting_words.append(original)
                return True
            known_tail = tail in w.COLOR_INDEX or tail in w.TIME_INDEX or tail in w.PLACE_INDEX
            if known_head and (known_tail or lexicon.lookup(tail) is not None):
                self._word(known_head, known_head)
                self._word(tail, tail.capitalize())
                return True
        german_noun = self.german and self._may_be_noun(original)
        split = lexicon.split_compound(word) if german_noun else None
        if split is None:
            return False
        modifier, thing = split
        content = lexicon.lookup(modifier) if modifier else None
        if content is not None and content.kind in kinds.CABS and word.endswith(_DRIVING):
            self._add_driver(content, original, thing, original)
            return True
        self._add_thing(thing, original)
        if content is not None and content.kind != thing.kind:
            self.relations.reversed = (content_relation(thing.kind), len(self.objects) - 1)
            if not holds(thing.kind, content.kind):
                self.relations.reversed = ("next_to", len(self.objects) - 1)
            self._add_thing(_crop(content, thing.kind), original)
        return True

    def _person_then(self, things: Collection[str], past: Collection[str] = ()) -> bool:
        """A person was just named and one of `things` comes next ("a boy riding a bike"),
        maybe after a word of `past` ("fährt mit dem Fahrrad")."""
        person = self.objects[-1].kind if self.objects[self.segment :] else ""
        following = self._noun_ahead(past) if is_person(person) else None
        return following is not None and following.kind in things

    def _passenger_then(self, vehicles: Collection[str]) -> bool:
        """A person or an animal was just named and a vehicle comes next ("a dog in a car")."""
        passenger = self.objects[-1].kind if self.objects[self.segment :] else ""
        following = self._noun_ahead() if is_passenger(passenger) else None
        return following is not None and following.kind in vehicles

    def _container_follows(self) -> bool:
        """ "in a bowl", "in einem großen Korb": a container is the next noun."""
        thing = self._noun_ahead()  # also "a cat in a tree": in its crown
        return thing is not None and thing.kind != "table" and holds(thing.kind)

    def _noun_ahead(self, past: Collection[str] = ()) -> lexicon.Thing | None:
        """The thing named next, past articles, counts, colours, sizes and `past`."""
        sets = w.FOLDED_SETS
        for at in range(self.position + 1, min(self.position + 4, len(self.tokens))):
            word, original = self.tokens[at]
            if any(word in table for table in (sets["determiners"], w.COUNT_INDEX,
                                                 w.COLOR_INDEX, w.SIZE_INDEX, past)):  # fmt: skip
                continue
            phrase = phrase_at(self.tokens, at)  # "a police car"
            if phrase is not None and phrase[0] == "thing":
                return lexicon.lookup_phrase(str(phrase[1]))
            return self._lookup(word, original)
        return None


_SETTINGS = (w.TIME_INDEX, w.WEATHER_INDEX, w.PLACE_INDEX, w.VENUE_INDEX, w.FRAMING_INDEX)
_DRIVING = tuple(w.DRIVERS)
_RELATION_OF = {"left": "left_of", "right": "right_of", "top": "above", "bottom": "below"}


def _crop(thing: lexicon.Thing, tree: str) -> lexicon.Thing:
    """ "ein Apfelbaum": a tree bears several apples."""
    return lexicon.Thing(thing.kind, True, thing.variants) if tree in kinds.CROWNS else thing
