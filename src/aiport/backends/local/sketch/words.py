"""The words the sketch renderer understands, in English and German.

Pure data, the function that folds spelling (`fold`) and a word look-up. Each table maps a
canonical English name to the words that mean it; German adjectives get their inflected
forms (`rot` → `rote`, `roter`, `rotes`, `roten`, `rotem`) generated at import. The
thousands of things the art set knows by its CLDR names are in `lexicon`; the tables here
are the hand-kept part: hand-drawn kinds, scene words and where the CLDR names fall short.
"""

from __future__ import annotations

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(word: str) -> str:
    """Lower-case and spell umlauts out, so `Bälle`, `baelle` and `BÄLLE` look alike."""
    return word.lower().translate(_UMLAUTS)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Hand-drawn kinds: (singular forms, plural forms). A form in both lists counts as singular.
# Everything else is drawn from the art set (`ART_WORDS` below, then the CLDR names).
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
    "building": (
        "building skyscraper tower gebäude hochhaus wolkenkratzer turm",
        "buildings skyscrapers towers hochhäuser türme",
    ),
    "robot": ("robot android droid cyborg mech roboter", "robots androids droids cyborgs"),
    "mountain": ("mountain hill peak berg hügel gipfel", "mountains hills berge"),
    "cloud": ("cloud wolke", "clouds wolken"),
    "city": (
        "city town skyline downtown metropolis cityscape plaza stadt großstadt metropole"
        " marktplatz dorfplatz stadtplatz",
        "cities städte",
    ),
    "sign": (
        "sign signboard billboard banner poster placard schild plakat tafel",
        "signs billboards banners posters schilder plakate",
    ),
    "rainbow": ("rainbow regenbogen", "rainbows"),
    "sofa": ("sofa couch settee canapé", "sofas couches"),
    "table": (
        "table desk tisch schreibtisch esstisch couchtisch küchentisch",
        "tables desks tische",
    ),
    "bridge": ("bridge viaduct brücke viadukt", "bridges viaducts brücken"),
    "bowl": ("bowl schale schüssel", "bowls schalen schüsseln"),
}
SHAPES = frozenset({"circle", "ball", "square", "rectangle", "box", "triangle", "star", "heart"})
# "a fountain in a square": after in/on/at, beside things, a square is a town's square.
TOWN_SQUARE_PREPOSITIONS = frozenset({"in", "on", "at", "auf", "am", "im", "an"})
# Art-set pictures that are whole scenes in a tile (a skyline on a purple square): never
# drawn as things; their words draw the hand-drawn kind or setting instead.
SCENE_TILES = frozenset(
    {
        "bridge-at-night", "cityscape", "cityscape-at-dusk", "night-with-stars", "sunrise",
        "sunset", "sunrise-over-mountains", "milky-way", "foggy", "national-park", "desert",
    }
)  # fmt: skip

# Hand-kept words → art names, where the CLDR names pick another picture or none.
ART_WORDS: dict[str, str] = {
    fold(word): name
    for name, text in {
        "house": "house home haus zuhause eigenheim",
        "hut": "cottage cabin hut hütte",
        "deciduous-tree": "tree baum laubbaum",
        "evergreen-tree": "pine fir spruce tanne fichte tannenbaum nadelbaum",
        "palm-tree": "palm palme",
        "automobile": "car auto wagen pkw vehicle fahrzeug",
        "locomotive": "train zug eisenbahn",
        "delivery-truck": "truck lorry lkw lastwagen laster",
        "top-hat": "zylinder",
        "cat": "cat kitten katze kater kätzchen mieze",
        "dog": "dog puppy hund welpe hündchen",
        "person-standing": "person human mensch leute personen",
        "man-standing": "man mann herr",
        "woman-standing": "woman frau dame lady",
        "boy": "boy junge knabe",
        "girl": "girl mädchen",
        "child": "child kid kind",
        "bird": "bird vogel",
        "fish": "fish fisch",
        "sailboat": "boat boot sailboat segelboot yacht jacht",
        "ship": "ship schiff",
        "balloon": "balloon ballon luftballon",
        "rocket": "rocket rakete spaceship raumschiff ufo",
        "ringed-planet": "planet saturn",
        "hot-beverage": "cup mug tasse becher coffee kaffee tea tee",
        "basket": "basket korb",
        "steaming-bowl": "soup suppe",
        "droplet": "wasser",
        "glasses": "brille spectacles eyeglasses",
        "glass-of-milk": "milk milch",
        "fork-and-knife-with-plate": "plate teller",
        "light-bulb": "lamp lampe bulb glühbirne",
        "tumbler-glass": "glass glas",
        "bicycle": "bike bicycle fahrrad rad velo",
        "motorcycle": "motorbike motorrad",
        "volcano": "volcano vulkan",
        "fire-engine": "firetruck löschfahrzeug",
        "police-car": "polizeiauto streifenwagen",
        "houses": "village dorf",
        "badminton": "racket racquet schläger",
        "deer": "deer reh hirsch reindeer rentier",
        "chipmunk": "squirrel eichhörnchen",
        "chestnut": "nut nuss",
        "bread": "loaf laib",
        "egg": "ei",
        "wine-glass": "wine wein",
        "envelope": "letter brief",
        "fire": "campfire lagerfeuer",
        "cloud-with-rain": "rain regen",
        "potted-plant": "plant pflanze",
        "branch": "branch twig bough ast zweig",  # CLDR keywords ending -ig read as adjectives
    }.items()
    for word in text.split()
}

# Hand-kept names of several words, where the CLDR names have none or another picture.
ART_PHRASES = {"fire truck": "fire-engine", "a pair of glasses": "glasses",
               "pair of glasses": "glasses", "reading glasses": "glasses"}  # fmt: skip

# German words that mean something else in English ("Hut" is a hat, "hut" a Hütte).
GERMAN_WORDS = {"hut": "top-hat", "eis": "ice-cream", "see": "water-wave"}

# Collective nouns: a mix of things, one picture per copy ("a bowl of fruit").
_COLLECTIVES: dict[str, tuple[str, ...]] = {
        "fruit fruits obst frucht früchte": (
            "red-apple", "banana", "grapes", "tangerine", "pear", "strawberry",
        ),
        "vegetable vegetables veggies gemüse": (
            "carrot", "broccoli", "tomato", "ear-of-corn", "eggplant", "bell-pepper",
        ),
        "berry berries beere beeren": ("strawberry", "blueberries", "cherries"),
        "flower flowers blume blumen blüte blüten": (
            "tulip", "rose", "sunflower", "blossom", "hibiscus",
        ),
        "toy toys spielzeug spielsachen": ("teddy-bear", "kite", "yo-yo"),
        "animal animals tier tiere": ("dog", "cat", "rabbit", "horse", "cow", "pig"),
        "food essen lebensmittel": ("pizza", "hamburger", "bread", "cheese-wedge"),
        "sweets candy candies süßigkeiten": ("candy", "lollipop", "chocolate-bar", "doughnut"),
        "drinks beverages getränke": ("hot-beverage", "cup-with-straw", "tumbler-glass"),
        "furniture möbel": ("chair", "bed", "couch-and-lamp"),
        "leaves laub blätter": ("fallen-leaf", "maple-leaf", "leaf-fluttering-in-wind"),
        "cookies kekse plätzchen": ("cookie",),
}  # fmt: skip
COLLECTIVES = {fold(word): names for text, names in _COLLECTIVES.items() for word in text.split()}
COLLECTIVE_NAMES = {names: text.split()[0] for text, names in _COLLECTIVES.items()}

# Hair, told with a colour ("a woman with red hair"), picks that picture of the person.
HAIR_WORDS = frozenset({"hair", "haar", "haare", "haaren", "frisur", "locken", "curls"})
HAIR_STYLES = {
    "red": "red-hair", "orange": "red-hair", "yellow": "blonde-hair", "gold": "blonde-hair",
    "white": "white-hair", "grey": "white-hair", "silver": "white-hair", "curly": "curly-hair",
}  # fmt: skip
# "a man with a beard": that person is drawn with one (as a bust), not beside a bearded head.
BEARD_WORDS = frozenset({"beard", "bart", "vollbart"})
BEARDED = {
    **dict.fromkeys(("man-standing", "man", "old-man", "older-man"), "man-beard"),
    **dict.fromkeys(("woman-standing", "woman", "old-woman"), "woman-beard"),
    **dict.fromkeys(("person-standing", "person", "older-person"), "person-beard"),
}
# Standing people drawn as a bust when the prompt asks for a portrait or a hair colour.
BUSTS = {"person-standing": "person", "man-standing": "man", "woman-standing": "woman"}
# Containers and surfaces: "a bowl of fruit", "ein Korb mit Äpfeln" put the things in them.
CONTAINERS = frozenset(
    {
        "bowl",
        "bowl-with-spoon",
        "basket",
        "fork-and-knife-with-plate",
        "table",
        "box",
        "amphora",
        "hot-beverage",
        "tumbler-glass",
        "baby-bottle",
        "bottle-with-popping-cork",
        "bucket",
    }
)
CONTENT_LINKS = frozenset({"of", "with", "mit", "voller", "voll", "full", "filled"})
# "a child with a balloon": a person holds these up, so they float just above them.
HELD_ALOFT = frozenset({"balloon", "kite"})
HOLDING = frozenset({"with", "mit", "holding", "holds", "flying", "flies", "haelt", "halten",
                     "hielt", "laesst"})  # fmt: skip
# "grapes in a bowl", "Äpfel in einem Korb": before a container, "in" puts a thing into it.
INTO = frozenset({"in", "im", "inside", "into", "innerhalb"})
# Where what is in a container sinks to, as a fraction of the container's height (else 0.3).
RIMS = {"bowl": 0.12}
# Pictures that show their container with what is in it: "a bowl of soup", "a glass of
# milk" draw that one picture, as many as the containers asked for.
SERVED_IN = {
    "bowl": frozenset({"bowl-with-spoon", "pot-of-food", "green-salad", "cooked-rice",
                       "steaming-bowl"}),
    "tumbler-glass": frozenset({"glass-of-milk", "glass-of-water", "wine-glass"}),
    "hot-beverage": frozenset({"hot-beverage"}),  # "three cups of coffee"
}  # fmt: skip
# What a content is drawn as where a picture shows it in its container: water is a drop
# alone, but "a glass of water" is a glass with water in it.
SERVED_AS = {"droplet": "glass-of-water", "water-wave": "glass-of-water"}
# Where a thing standing on another one rests, as a fraction of the other's height.
SURFACES = {"table": 0.03, "sofa": 0.5, "bed": 0.42, "chair": 0.44, "box": 0.02, "bridge": 0.1,
            "branch": 0.4, "pillow": 0.25}  # fmt: skip
# What goes over one of these goes on it ("ein Zug fährt über eine Brücke").
CROSSED = frozenset({"bridge"})
# Water birds: where there is water (a beach, a pond, a river), they swim on it.
SWIMMERS = frozenset({"duck", "swan", "goose", "flamingo"})
# Plates seen from above: what lies on one lies in its middle and fills it.
PLATES = frozenset({"fork-and-knife-with-plate"})
# "a clock on the wall": the thing hangs on a room's wall; some are drawn as wall versions.
WALL_PHRASES = ("on the wall", "on a wall", "at the wall", "against the wall", "an der wand",
                "an einer wand", "an die wand", "auf der wand")  # fmt: skip
WALL_VERSIONS = dict.fromkeys(("alarm-clock", "watch", "mantelpiece-clock", "timer-clock"),
                              "ten-oclock")  # fmt: skip
INDOOR_KINDS = frozenset({"sofa", "table", "bed", "chair", "couch-and-lamp"})
# Materials: the first part of a compound that is not a thing of its own ("Holztisch").
MATERIALS = _words(
    "holz glas stein metall plastik leder papier stahl eisen gold silber kupfer marmor"
    " porzellan beton kristall wolle stoff"
)
FRAMINGS = {"portrait": "portrait headshot closeup porträt bildnis nahaufnahme"}

# English display names whose plural is not noun + "s".
PLURALS = {
    "box": "boxes", "glass": "glasses", "city": "cities", "man": "men", "woman": "women",
    "person": "people",
    "child": "children", "mouse": "mice", "fish": "fish", "sheep": "sheep", "deer": "deer",
    "knife": "knives", "leaf": "leaves", "goose": "geese", "tooth": "teeth", "foot": "feet",
}  # fmt: skip
# Names for art-set pictures whose CLDR name says more (or less) than what is seen.
DISPLAY_NAMES = {
    "automobile": "car", "person-standing": "person", "man-standing": "man",
    "woman-standing": "woman", "bowl-with-spoon": "bowl of cereal", "hot-beverage": "cup of coffee",
    "fork-and-knife-with-plate": "plate", "tumbler-glass": "glass", "deciduous-tree": "tree",
    "evergreen-tree": "fir tree", "ringed-planet": "planet", "couch-and-lamp": "couch",
    "light-bulb": "light bulb", "glasses": "pair of glasses", "sailboat": "sailboat",
    "delivery-truck": "truck",
}  # fmt: skip

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
# Settings said in two words: "unter Wasser" is under water, not "below a water".
PLACE_PHRASES = {"unter wasser": "underwater", "under water": "underwater",
                 "under the sea": "underwater", "living room": "room", "on the ice": "snow",
                 "on ice": "snow", "auf dem eis": "snow", "auf eis": "snow",
                 "on the water": "beach", "auf dem wasser": "beach", "am see": "beach",
                 "im see": "beach", "auf dem see": "beach", "an einem see": "beach",
                 "in einem see": "beach", "auf einem see": "beach", "on the floor": "room",
                 "auf dem fussboden": "room"}  # fmt: skip

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
PLACES = {
    "beach": "beach seaside ocean sea coast shore lake pond strand meer ozean küste teich",
    "forest": "forest woods jungle wald dschungel urwald",
    "meadow": "meadow field fields garden park grass lawn countryside farm wiese feld felder"
    " feldern garten rasen landschaft acker bauernhof",
    "desert": "desert dunes wüste",
    "snow": "snow snowy winter wintry schnee verschneit winterlich",
    "space": "space galaxy universe cosmos weltraum weltall galaxie universum kosmos",
    "underwater": "underwater unterwasser unterwasserwelt",
    "cyberpunk": "cyberpunk neon synthwave retrowave",
    "room": "room indoors inside interior livingroom kitchen bedroom office classroom wall wand"
    " zimmer"
    " wohnzimmer küche schlafzimmer büro raum drinnen stube kinderzimmer esszimmer",
    "road": "highway road street motorway freeway autobahn straße landstraße fahrbahn",
    "river": "river stream creek brook fluss bach flussufer",
}
# Setting words that describe a noun rather than being one ("a cyberpunk city").
SETTING_ADJECTIVES = _words(
    "cyberpunk neon synthwave retrowave snowy wintry sunny starry moonlit verschneit winterlich"
    " sonnig nächtlich"
)

BOUNDARIES = _words("and und , ; . ! ? with mit while plus sowie but aber or oder also")
# Boundaries that list things: "a dog and a cat on a sofa" puts both on it.
JOINERS = _words("and und , plus sowie")
# Nouns about the picture itself: they end a noun phrase and are never drawn.
META = _words(
    "picture image illustration drawing painting photo photograph render rendering sketch scene"
    " view style background foreground landscape scenery lot lots bunch group number pair couple"
    " sort type row line text words letters caption title sky bild foto zeichnung gemälde"
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
    tables = (COLOR_INDEX, SHADE_INDEX, SIZE_INDEX, TIME_INDEX, PLACE_INDEX, FRAMING_INDEX,
              COUNT_INDEX, RELATION_INDEX, POSITION_INDEX, HAIR_WORDS, BEARD_WORDS)  # fmt: skip
    return any(word in table for table in tables) or any(
        word in FOLDED_SETS[name]
        for name in ("meta", "stopwords", "fillers", "boundaries", "determiners")
    )
