"""What the sketch renderer draws: a `Scene` of object groups, read from the prompt.

`reader.parse_scene` fills it in; `layout` places it; `render` paints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_COUNT = 20


@dataclass(slots=True)
class SceneObject:
    """One group of identical things: `count` of `kind`, where and how they are drawn.

    `h` is left/center/right and `v` top/middle/bottom (None: the layout chooses).
    `relation` (above/on/in/below/next_to/left_of/right_of) places it against `target`,
    an index into `Scene.objects`. `hangs`: on a room's wall ("a clock on the wall").
    `label` is the prompt's word for an `unknown` kind.
    `kind` is a hand-drawn kind (`nouns.NOUNS`) or a picture of the art set; `variants`
    (a collective such as "fruit") gives one picture per copy. `words` are the prompt's
    words this group draws. `worn_colors`: accessory kind → colour, for an accessory the
    picture shows already ("a snowman with a red hat": `top-hat` → red). `stands_for`: the
    kind the prompt named where another picture draws it (`kinds.WHOLE_FIGURES`: a child
    beside a house is a standing person at a child's height, named a child). `landed`: a
    thing that flies stands on the ground (`kinds.LANDED`: a helicopter beside a person).
    """

    kind: str
    count: int = 1
    color: str | None = None
    size: str | None = None
    h: str | None = None
    v: str | None = None
    relation: str | None = None
    target: int | None = None
    hangs: bool = False
    label: str | None = None
    text: str | None = None
    requested_count: int = 1
    variants: tuple[str, ...] = ()
    words: list[str] = field(default_factory=list)
    worn_colors: dict[str, str] = field(default_factory=dict)
    stands_for: str | None = None
    landed: bool = False

    def kind_of(self, copy: int) -> str:
        return self.variants[copy % len(self.variants)] if self.variants else self.kind


@dataclass(slots=True)
class Scene:
    objects: list[SceneObject] = field(default_factory=list)
    time: str | None = None
    weather: str | None = None  # "rain": drawn over the whole picture
    place: str | None = None
    background: str | None = None
    texts: list[str] = field(default_factory=list)
    framing: str | None = None  # "portrait": one subject, large, before a studio backdrop
    setting_words: list[str] = field(default_factory=list)  # words drawn as the setting
    venue: str | None = None  # "restaurant": the room is laid for guests (`kinds.FURNISHINGS`)

    @property
    def empty(self) -> bool:
        """Nothing to draw: no thing, no text and no setting ("Sonnenuntergang am Meer" is
        a setting, drawn as such)."""
        setting = (self.place, self.time, self.weather)
        return not self.objects and not self.texts and setting == (None, None, None)
