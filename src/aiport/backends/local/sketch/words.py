"""The words the sketch renderer understands, in English and German.

Pure data, the function that folds spelling (`fold`) and two word look-ups. Each table
maps a canonical English name to the words that mean it; German adjectives get their
inflected forms (`rot` → `rote`, `roter`, `rotes`, `roten`, `rotem`) generated at import.
"""

from __future__ import annotations

# kind: (singular forms, plural forms). A form in both lists counts as singular.
NOUNS: dict[str, tuple[str, str]] = {
    "circle": ("circle disc disk kreis scheibe", "circles discs disks kreise scheiben"),
    "ball": ("ball sphere orb kugel", "balls spheres orbs kugeln bälle"),
    "sun": ("sun sonne", "suns sonnen"),
    "moon": ("moon mond halbmond", "moons monde"),
    "square": ("square quadrat", "squares quadrate"),
    "rectangle": ("rectangle rechteck", "rectangles rechtecke"),
    "box": ("box cube crate kiste würfel schachtel", "boxes cubes crates kisten schachteln"),
    "triangle": ("triangle pyramid dreieck pyramide", "triangles pyramids dreiecke pyramiden"),
    "star": ("star stern", "stars sterne"),
    "heart": ("heart herz", "hearts herzen"),
    "house": ("house home cottage cabin haus hütte villa", "houses homes cottages häuser hütten"),
    "building": (
        "building skyscraper tower gebäude hochhaus wolkenkratzer turm",
        "buildings skyscrapers towers hochhäuser türme",
    ),
    "tree": ("tree palm pine baum palme tanne", "trees palms pines bäume palmen tannen"),
    "car": ("car taxi truck bus vehicle auto wagen fahrzeug", "cars taxis trucks buses autos"),
    "robot": ("robot android droid cyborg mech roboter", "robots androids droids cyborgs"),
    "cat": ("cat kitten katze kater kätzchen", "cats kittens katzen"),
    "dog": ("dog puppy hund welpe", "dogs puppies hunde welpen"),
    "person": (
        "person man woman boy girl child kid human mensch mann frau junge mädchen",
        "persons people men women boys girls children kids humans menschen männer frauen"
        " kinder leute personen",
    ),
    "flower": (
        "flower rose tulip sunflower blume tulpe sonnenblume",
        "flowers roses tulips sunflowers blumen rosen tulpen sonnenblumen",
    ),
    "mountain": ("mountain hill peak volcano berg hügel gipfel vulkan", "mountains hills berge"),
    "cloud": ("cloud wolke", "clouds wolken"),
    "city": ("city town skyline downtown metropolis stadt großstadt metropole", "cities städte"),
    "boat": ("boat ship sailboat yacht boot schiff segelboot", "boats ships boote schiffe"),
    "sign": (
        "sign signboard billboard banner poster placard schild plakat tafel",
        "signs billboards banners posters schilder plakate",
    ),
    "bird": ("bird seagull gull vogel möwe", "birds seagulls gulls vögel möwen"),
    "fish": ("fish goldfish fisch", "fishes fische"),
    "rainbow": ("rainbow regenbogen", "rainbows"),
    "rocket": ("rocket spaceship spacecraft ufo rakete raumschiff", "rockets spaceships raketen"),
    "balloon": ("balloon ballon luftballon", "balloons ballons luftballons"),
    "planet": ("planet saturn jupiter", "planets planeten"),
}

# English display names whose plural is not noun + "s".
PLURALS = {"box": "boxes", "person": "people", "city": "cities", "fish": "fish"}

COLOR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 38, 38),
    "green": (34, 160, 60),
    "blue": (37, 99, 235),
    "yellow": (250, 204, 21),
    "orange": (249, 115, 22),
    "purple": (147, 51, 234),
    "pink": (236, 72, 153),
    "brown": (133, 77, 40),
    "black": (30, 30, 34),
    "white": (250, 250, 250),
    "grey": (140, 140, 148),
    "gold": (212, 175, 55),
    "silver": (192, 192, 204),
    "cyan": (6, 182, 212),
    "magenta": (217, 70, 239),
    "navy": (30, 41, 110),
    "beige": (225, 205, 165),
}
MULTICOLOR = "multicolored"

COLORS: dict[str, str] = {
    "red": "red crimson scarlet rot",
    "green": "green grün",
    "blue": "blue blau",
    "yellow": "yellow gelb",
    "orange": "orange orangen orangene orangener orangenes",
    "purple": "purple violet lilac lila violett purpur",
    "pink": "pink rosa",
    "brown": "brown braun",
    "black": "black schwarz",
    "white": "white weiß",
    "grey": "grey gray grau",
    "gold": "gold golden goldfarben",
    "silver": "silver silvery metallic silbern silber",
    "cyan": "cyan turquoise teal aqua türkis",
    "magenta": "magenta fuchsia",
    "navy": "navy marineblau",
    "beige": "beige tan",
    MULTICOLOR: "colorful colourful multicolored multicoloured bunt farbig",
}
SHADES = {"light": "light pale pastel hell", "dark": "dark deep dunkel dunkl"}
SIZES = {
    "large": "big large huge giant enormous massive tall groß riesig riesen",
    "small": "small little tiny mini klein winzig",
}

COUNTS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "single": 1, "ein": 1, "eine": 1, "einen": 1, "einem": 1,
    "einer": 1, "eines": 1, "two": 2, "zwei": 2, "both": 2, "beide": 2, "three": 3, "drei": 3,
    "four": 4, "vier": 4, "five": 5, "fünf": 5, "six": 6, "sechs": 6, "seven": 7, "sieben": 7,
    "eight": 8, "acht": 8, "nine": 9, "neun": 9, "ten": 10, "zehn": 10, "eleven": 11,
    "twelve": 12, "zwölf": 12, "several": 4, "some": 3, "few": 3, "many": 6, "numerous": 6,
    "einige": 3, "mehrere": 4, "viele": 6, "zahlreiche": 6, "paar": 3, "dozen": 12,
    "a couple of": 2, "a pair of": 2, "a few": 3, "a lot of": 6, "lots of": 6, "ein paar": 3,
}  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DETERMINERS = _words(
    "the this that these those my your his her its our their der die das den dem des diese dieser"
    " dieses diesen diesem mein meine dein deine sein seine ihr ihre"
)

# Position words: (horizontal, vertical) contribution.
POSITIONS: dict[str, tuple[str | None, str | None]] = {
    **dict.fromkeys(_words("left lefthand links linken linke linker linkes"), ("left", None)),
    **dict.fromkeys(
        _words("right righthand rechts rechten rechte rechter rechtes"), ("right", None)
    ),
    **dict.fromkeys(_words("top upper oben oberen obere oberer oberes"), (None, "top")),
    **dict.fromkeys(_words("bottom lower unten unteren untere unterer unteres"), (None, "bottom")),
    **dict.fromkeys(
        _words("center centre middle central mitte mittig mittleren zentrum zentral"),
        ("center", "middle"),
    ),
}
POSITION_FILLERS = _words(
    "the on at in to of side corner hand half part edge der die dem den auf an am im seite ecke"
    " hälfte teil rand bildes image picture"
)
SKY_PHRASES = ("in the sky", "up in the sky", "am himmel", "im himmel", "in den himmel")

RELATIONS: dict[str, str] = {
    "above": "above", "over": "above", "über": "above", "oberhalb": "above",
    "on": "on", "atop": "on", "on top of": "on", "auf": "on", "upon": "on",
    "below": "below", "under": "below", "underneath": "below", "beneath": "below",
    "unter": "below", "unterhalb": "below",
    "next to": "next_to", "beside": "next_to", "besides": "next_to", "near": "next_to",
    "by": "next_to", "alongside": "next_to", "neben": "next_to", "bei": "next_to",
    "in front of": "next_to", "behind": "next_to", "vor": "next_to", "hinter": "next_to",
}  # fmt: skip
# "left of X", "links von X": a position followed by one of these is a relation.
RELATION_LINKS = _words("of von vom neben")

TIMES = {
    "night": "night nighttime midnight starry moonlit nacht nachts mitternacht nächtlich"
    " sternenhimmel nachthimmel",
    "sunset": "sunset sunrise dusk dawn twilight evening sonnenuntergang sonnenaufgang dämmerung"
    " abend abends abendrot",
    "day": "day daytime sunny noon tag tagsüber sonnig mittag",
}
PLACES = {
    "beach": "beach seaside ocean sea coast shore lake strand meer ozean küste",
    "forest": "forest woods jungle wald dschungel urwald",
    "meadow": "meadow field garden park grass lawn countryside wiese feld garten rasen landschaft",
    "desert": "desert dunes wüste",
    "snow": "snow snowy winter wintry schnee verschneit winterlich",
    "space": "space galaxy universe cosmos weltraum weltall galaxie universum kosmos",
    "underwater": "underwater unterwasser",
    "cyberpunk": "cyberpunk neon synthwave retrowave",
}
# Setting words that describe a noun rather than being one ("a cyberpunk city").
SETTING_ADJECTIVES = _words(
    "cyberpunk neon synthwave retrowave snowy wintry sunny starry moonlit verschneit winterlich"
    " sonnig nächtlich"
)

BOUNDARIES = _words("and und , ; . ! ? with mit while plus sowie but aber or oder also")
# Nouns about the picture itself: they end a noun phrase and are never drawn.
META = _words(
    "picture image illustration drawing painting photo photograph render rendering sketch scene"
    " view style background foreground landscape scenery lot lots bunch group number pair couple"
    " kind sort type row line text words letters caption title sky bild foto zeichnung gemälde"
    " szene ansicht stil hintergrund vordergrund gruppe menge haufen reihe schrift aufschrift"
    " worte wörter titel himmel qtext"
)
BACKGROUND_WORDS = _words("background hintergrund sky himmel")
STOPWORDS = _words(
    "is are was were be been being there here it its that which who whose what where when very"
    " so too of in at to for from by as into onto than then just only has have had do does"
    " saying says said reading reads labelled labeled titled captioned called named sits stands"
    " flies runs lies holds looks wears plays jumps swims walks floats hangs shines"
    " ist sind war waren es gibt hier dort da das welche welcher welches wo wenn sehr zu zum zur"
    " für aus im am an sagt steht heißt genannt beschriftet"
)
GERMAN_HINTS = _words(
    "ein eine einer einen einem eines der die das den dem des und mit auf im am ist sind von"
    " zwei drei vier fünf links rechts oben unten neben über unter vor hinter einige viele"
)
ENGLISH_HINTS = _words("a an the and with on in of is are two three left right above below")

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_GERMAN_ENDINGS = ("", "e", "er", "es", "en", "em")


def fold(word: str) -> str:
    """Lower-case and spell umlauts out, so `Bälle`, `baelle` and `BÄLLE` look alike."""
    return word.lower().translate(_UMLAUTS)


def _forms(words: str) -> set[str]:
    """Every word with the German adjective endings added (harmless for English words)."""
    return {fold(w) + end for w in words.split() for end in _GERMAN_ENDINGS}


def _index(table: dict[str, str], inflect: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, words in table.items():
        for form in _forms(words) if inflect else {fold(w) for w in words.split()}:
            out.setdefault(form, name)
    return out


def _noun_index() -> dict[str, tuple[str, bool]]:
    out: dict[str, tuple[str, bool]] = {}
    for kind, (singular, plural) in NOUNS.items():
        for word in plural.split():
            out[fold(word)] = (kind, True)
        for word in singular.split():
            out[fold(word)] = (kind, False)
    return out


NOUN_INDEX = _noun_index()
COLOR_INDEX = _index(COLORS, inflect=True)
SHADE_INDEX = _index(SHADES, inflect=True)
SIZE_INDEX = _index(SIZES, inflect=True)
TIME_INDEX = _index(TIMES, inflect=False)
PLACE_INDEX = _index(PLACES, inflect=False)
COUNT_INDEX = {fold(k): v for k, v in COUNTS.items()}
RELATION_INDEX = {fold(k): v for k, v in RELATIONS.items()}
POSITION_INDEX = {fold(k): v for k, v in POSITIONS.items()}
FOLDED_SETS = {
    name: {fold(w) for w in words}
    for name, words in {
        "determiners": DETERMINERS,
        "fillers": POSITION_FILLERS,
        "setting_adjectives": SETTING_ADJECTIVES,
        "boundaries": BOUNDARIES,
        "meta": META,
        "background": BACKGROUND_WORDS,
        "stopwords": STOPWORDS,
        "german": GERMAN_HINTS,
        "english": ENGLISH_HINTS,
    }.items()
}


def lookup_noun(word: str) -> tuple[str, bool] | None:
    """(kind, plural) for a noun, also through German case endings (`Häusern`, `Baumes`)."""
    if word in NOUN_INDEX:
        return NOUN_INDEX[word]
    for ending in ("n", "en", "s", "es", "e"):
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 3 and stem in NOUN_INDEX:
            kind, plural = NOUN_INDEX[stem]
            return kind, plural or ending in ("n", "en", "s")
    return None


def known_modifier(head: str) -> str | None:
    """The colour, size or setting word `head` starts with (`hell`, `cyberpunk`, `riesen`)."""
    for candidate in (head, head[:-1], head[:-2]):
        if candidate in COLOR_INDEX or candidate in SHADE_INDEX or candidate in SIZE_INDEX:
            return candidate
        if candidate in TIME_INDEX or candidate in PLACE_INDEX:
            return candidate
    return None
