"""The words around the nouns, in English and German: colours, counts, places, relations.

Pure data, the function that folds spelling (`fold`) and word look-ups. Each table maps a
canonical English name to the words that mean it; German adjectives get their inflected
forms (`rot` → `rote`, `roter`, `rotes`, `roten`, `rotem`) generated at import. The nouns
are elsewhere: the hand-kept ones in `nouns`, the art set's thousands of CLDR names in
`lexicon`; what kinds of things do with each other (hold, carry, wear) in `kinds`.
"""

from __future__ import annotations

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(word: str) -> str:
    """Lower-case and spell umlauts out, so `Bälle`, `baelle` and `BÄLLE` look alike."""
    return word.lower().translate(_UMLAUTS)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# "a fountain in a square": after in/on/at, beside things, a square is a town's square.
TOWN_SQUARE_PREPOSITIONS = frozenset({"in", "on", "at", "auf", "am", "im", "an"})

# Hair, told with a colour ("a woman with red hair"), picks that picture of the person.
HAIR_WORDS = frozenset({"hair", "haar", "haare", "haaren", "frisur", "locken", "curls"})
# "a man with a beard": that person is drawn with one (as a bust), not beside a bearded head.
BEARD_WORDS = frozenset({"beard", "bart", "vollbart"})
# "a bowl of fruit", "ein Korb mit Äpfeln": after a container these put things in it.
CONTENT_LINKS = frozenset({"of", "with", "mit", "voller", "voll", "full", "filled"})
# "a child with a balloon", "a boy flying a kite": a person holds up what follows.
HOLDING = frozenset({"with", "mit", "holding", "holds", "flying", "flies", "haelt", "halten",
                     "hielt", "laesst"})  # fmt: skip
# "a man wearing a hat", "ein Mädchen trägt eine Mütze": the person wears what follows.
WEARING = frozenset({"wearing", "wears", "wear", "traegt", "tragen", "tragend"})
# "a boy riding a bicycle", "ein Mädchen reitet ein Pferd": the person rides what follows.
RIDING = frozenset({"riding", "rides", "ride", "cycling", "faehrt", "fahren", "reitet", "reiten"})
# "ein Mann fährt mit dem Fahrrad": these words between riding and what is ridden.
RIDE_LINKS = frozenset({"mit", "with"})
# Times said in a few words: "a tent under the stars" is at night.
TIME_PHRASES = {"under the stars": "night", "beneath the stars": "night",
                "under the night sky": "night", "unter den sternen": "night",
                "unter dem sternenhimmel": "night"}  # fmt: skip
# "a woman driving a car": the person sits in it (`kinds.CABS`).
DRIVING = frozenset({"driving", "drives", "faehrt", "fahren", "steuert", "lenkt"})
# "a taxi driver", "ein Busfahrer": after a vehicle, the person who sits in it.
DRIVERS = frozenset(
    {
        "driver",
        "drivers",
        "fahrer",
        "fahrerin",
        "fahrerinnen",
        "chauffeur",
        "chauffeurin",
        "fuehrer",
        "fuehrerin",
    }
)
# "grapes in a bowl", "Äpfel in einem Korb": before a container, "in" puts a thing into it.
INTO = frozenset({"in", "im", "inside", "into", "innerhalb"})
# "a clock on the wall": the thing hangs on a room's wall.
WALL_PHRASES = ("on the wall", "on a wall", "at the wall", "against the wall", "an der wand",
                "an einer wand", "an die wand", "auf der wand")  # fmt: skip
# "a portrait of a woman": one subject, large, before a studio backdrop.
FRAMINGS = {"portrait": "portrait headshot closeup porträt bildnis nahaufnahme"}


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
    "wooden": (166, 112, 62),
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
    "wooden": "wooden hölzern",
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


_POSSESSIVES = " ".join(
    owner + end for owner in ("mein", "dein", "sein", "ihr", "unser") for end in ("", "e", "em",
                                                                              "en", "er", "es")
)  # fmt: skip
DETERMINERS = _words(
    "the this that these those my your his her its our their der die das den dem des diese dieser"
    f" dieses diesen diesem {_POSSESSIVES}"
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
# Settings said in two words: "unter Wasser" is under water, not "below a water".
PLACE_PHRASES = {"unter wasser": "underwater", "under water": "underwater",
                 "under the sea": "underwater", "living room": "room", "on the ice": "snow",
                 "on ice": "snow", "auf dem eis": "snow", "auf eis": "snow",
                 "on the water": "beach", "auf dem wasser": "beach", "am see": "beach",
                 "im see": "beach", "auf dem see": "beach", "an einem see": "beach",
                 "in einem see": "beach", "auf einem see": "beach", "on the floor": "room",
                 "auf dem fussboden": "room", "on the moon": "space",
                 "auf dem mond": "space", "in the water": "beach", "in water": "beach",
                 "im wasser": "beach", "lily pad": "beach"}  # fmt: skip

RELATIONS: dict[str, str] = {
    "above": "above", "over": "above", "über": "above", "oberhalb": "above",
    "on": "on", "atop": "on", "on top of": "on", "auf": "on", "upon": "on", "crossing": "on",
    "across": "on", "überquert": "on", "überqueren": "on",
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
# Weather drawn over the whole picture: "a red car in the rain", "im Regen".
WEATHERS = {
    "rain": "rain raining rainy regen regnet regnerisch verregnet regnerischen storm"
    " stormy thunderstorm sturm stürmisch gewitter unwetter"
}
PLACES = {
    "beach": "beach seaside ocean sea coast shore lake pond strand meer ozean küste teich"
    " seerosenblatt sand sandy",
    "forest": "forest woods jungle wald dschungel urwald",
    "meadow": "meadow field fields garden park grass lawn countryside farm wiese feld felder"
    " feldern garten rasen landschaft acker bauernhof zoo pasture weide koppel gras",
    "desert": "desert dunes wüste savanna savannah savanne steppe",
    "snow": "snow snowy winter wintry schnee verschneit winterlich iceberg eisberg glacier"
    " gletscher",
    "space": "space galaxy universe cosmos weltraum weltall galaxie universum kosmos",
    "underwater": "underwater unterwasser unterwasserwelt aquarium",
    "cyberpunk": "cyberpunk neon synthwave retrowave",
    "room": "room indoors inside interior livingroom kitchen bedroom office classroom wall wand"
    " zimmer"
    " wohnzimmer küche schlafzimmer büro raum drinnen stube kinderzimmer esszimmer"
    " windowsill fensterbrett fensterbank",  # the room's window
    "road": "highway road street motorway freeway autobahn straße landstraße fahrbahn",
    "river": "river stream creek brook fluss bach flussufer",
}
# Places that are rooms laid for guests (`kinds.FURNISHINGS`): "a restaurant", "im Café".
VENUES = {
    "restaurant": "restaurant restaurants bistro diner pizzeria canteen cafeteria gaststätte"
    " gasthaus wirtshaus kneipe pub mensa kantine speisesaal",
    "cafe": "cafe café cafes cafés coffeeshop kaffeehaus",
}
# Setting words that describe a noun rather than being one ("a cyberpunk city").
SETTING_ADJECTIVES = _words(
    "cyberpunk neon synthwave retrowave snowy wintry sunny starry moonlit verschneit winterlich"
    " sonnig nächtlich"
)

BOUNDARIES = _words("and und , ; . ! ? with mit while plus sowie but aber or oder also")
# Boundaries that list things: "a dog and a cat on a sofa" puts both on it.
JOINERS = _words("and und , plus sowie")
# Nouns about the picture itself, and where on a thing something is that is not drawn apart
# ("a dancer on a stage", "a parrot on his shoulder"): they end a noun phrase, never drawn.
META = _words(
    "picture image illustration drawing painting photo photograph render rendering sketch scene"
    " view style background foreground landscape scenery lot lots bunch group number pair"
    " stack pile heap slice piece stapel stück"
    " sort type row line text words letters caption title sky bild foto zeichnung gemälde"
    " szene ansicht stil hintergrund vordergrund gruppe menge haufen reihe schrift aufschrift"
    " worte wörter titel himmel qtext cartoon comic watercolor watercolour aquarell anime"
    " realistic photorealistic karikatur stage bühne shoulder schulter"
)
BACKGROUND_WORDS = _words("background hintergrund sky himmel")
STOPWORDS = _words(
    "is are was were be been being there here it its that which who whose what where when very"
    " so too of in at to for from by as into onto than then just only has have had do does"
    " saying says said reading reads labelled labeled titled captioned called named sits stands"
    " flies runs lies holds looks wears plays jumps swims walks floats hangs shines"
    " ist sind war waren es gibt hier dort da das welche welcher welches wo wenn sehr zu zum zur"
    " für aus im am an sagt steht heißt genannt beschriftet"
    " cute lovely pretty beautiful süß niedlich hübsch schön hands hände together zusammen"
    " leash leine"
)
GERMAN_HINTS = _words(
    "ein eine einer einen einem eines der die das den dem des und mit auf im am ist sind von"
    " zwei drei vier fünf links rechts oben unten neben über unter vor hinter einige viele"
)
ENGLISH_HINTS = _words("a an the and with on in of is are two three left right above below")

_GERMAN_ENDINGS = ("", "e", "er", "es", "en", "em")


def _forms(words: str) -> set[str]:
    """Every word with the German adjective endings added (harmless for English words)."""
    return {fold(w) + end for w in words.split() for end in _GERMAN_ENDINGS}


def _index(table: dict[str, str], inflect: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, words in table.items():
        for form in _forms(words) if inflect else {fold(w) for w in words.split()}:
            out.setdefault(form, name)
    return out


COLOR_INDEX = _index(COLORS, inflect=True)
SHADE_INDEX = _index(SHADES, inflect=True)
SIZE_INDEX = _index(SIZES, inflect=True)
TIME_INDEX = _index(TIMES, inflect=False)
WEATHER_INDEX = _index(WEATHERS, inflect=False)
PLACE_INDEX = _index(PLACES, inflect=False)
VENUE_INDEX = _index(VENUES, inflect=False)
FRAMING_INDEX = _index(FRAMINGS, inflect=False)
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


def known_modifier(head: str) -> str | None:
    """The colour, size or setting word `head` starts with (`hell`, `cyberpunk`, `riesen`)."""
    for candidate in (head, head[:-1], head[:-2]):
        if candidate in COLOR_INDEX or candidate in SHADE_INDEX or candidate in SIZE_INDEX:
            return candidate
        if candidate in TIME_INDEX or candidate in PLACE_INDEX:
            return candidate
    return None


def reserved(word: str) -> bool:
    """Whether a folded word has a meaning of its own here, so it never names a thing."""
    tables = (COLOR_INDEX, SHADE_INDEX, SIZE_INDEX, TIME_INDEX, WEATHER_INDEX, PLACE_INDEX,
              VENUE_INDEX, FRAMING_INDEX, COUNT_INDEX, RELATION_INDEX, POSITION_INDEX, HAIR_WORDS,
              BEARD_WORDS)  # fmt: skip
    return any(word in table for table in tables) or any(
        word in FOLDED_SETS[name]
        for name in ("meta", "stopwords", "fillers", "boundaries", "determiners")
    )
