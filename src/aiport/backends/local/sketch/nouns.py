"""The hand-kept nouns: which hand-drawn kind or art-set picture a word names, and names.

The art set's thousands of CLDR names are read by `lexicon`; these tables come first:
the hand-drawn kinds (`NOUNS`), words whose CLDR reading picks another picture or none
(`ART_WORDS`, `ART_PHRASES`, `GERMAN_WORDS`), collectives drawn as a mix ("fruit"),
materials that are never things ("Holz"), and the English names said for what is drawn.
"""

from __future__ import annotations

from aiport.backends.local.sketch.words import fold

# Hand-drawn kinds: (singular forms, plural forms). A form in both lists counts as singular.
# Everything else is drawn from the art set (`ART_WORDS` below, then the CLDR names).
NOUNS: dict[str, tuple[str, str]] = {
    "circle": ("circle disc disk kreis scheibe", "circles discs disks kreise scheiben"),
    "ball": ("ball sphere orb kugel", "balls spheres orbs kugeln bälle"),
    "sun": ("sun sonne summer sommer sommertag", "suns sonnen"),
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
        " marktplatz dorfplatz stadtplatz london paris berlin rome rom tokyo tokio vienna wien"
        " munich münchen venice venedig",
        "cities städte",
    ),
    "sign": (
        "sign signboard billboard banner poster placard schild plakat tafel",
        "signs billboards banners posters schilder plakate",
    ),
    "rainbow": ("rainbow regenbogen", "rainbows"),
    "sofa": ("sofa couch settee canapé", "sofas couches"),
    "table": (
        "table desk tisch schreibtisch esstisch couchtisch küchentisch nightstand nachttisch"
        " nachtschrank",
        "tables desks tische",
    ),
    "bridge": ("bridge viaduct brücke viadukt", "bridges viaducts brücken"),
    "bowl": ("bowl schale schüssel fishbowl goldfischglas", "bowls schalen schüsseln"),
    "fireworks": (
        "firework feuerwerkskörper sparkler wunderkerze",
        "fireworks feuerwerk feuerwerke sparklers wunderkerzen",
    ),
}
# Art-set pictures that are whole scenes in a tile (a skyline on a purple square): never
# drawn as things; their words draw the hand-drawn kind or setting instead.
SCENE_TILES = frozenset(
    {
        "bridge-at-night", "cityscape", "cityscape-at-dusk", "night-with-stars", "sunrise",
        "sunset", "sunrise-over-mountains", "milky-way", "foggy", "national-park", "desert",
        "sparkler",  # "fireworks" is drawn by hand (`things.paint_fireworks`)
    }
)  # fmt: skip

# Hand-kept words → art names, where the CLDR names pick another picture or none.
ART_WORDS: dict[str, str] = {
    fold(word): name
    for name, text in {
        "house": "house home haus zuhause eigenheim cottage cabin hütte berghütte roof dach",
        "hut": "hut",  # a thatched hut; a cabin or Hütte is a house
        "jack-o-lantern": "pumpkin kürbis",
        "cheese-wedge": "cheese käse",
        "deciduous-tree": "tree baum laubbaum",
        "christmas-tree": "christmas weihnachten xmas",
        "evergreen-tree": "pine fir spruce tanne fichte tannenbaum nadelbaum",
        "palm-tree": "palm palme",
        "automobile": "car auto wagen pkw vehicle fahrzeug",
        "locomotive": "train zug eisenbahn lok",
        "delivery-truck": "truck lorry lkw lastwagen laster",
        "top-hat": "zylinder",
        "billed-cap": "cap baseballcap basecap kappe mütze schirmmütze",
        "military-helmet": "helm",
        "cat": "cat kitten katze kater kätzchen mieze",
        "dog": "dog puppy hund welpe hündchen",
        "person-standing": "person human mensch leute personen driver chauffeur",
        "man-standing": "man mann herr fahrer führer pirate pirat",
        "woman-standing": "woman frau dame lady fahrerin führerin chauffeurin",
        "boy": "boy junge knabe",
        "girl": "girl mädchen",
        "child": "child kid kind",
        "bird": "bird vogel stork storch heron reiher seagull möwe sparrow spatz",
        "fish": "fish fisch goldfish goldfisch",
        "sailboat": "boat boot sailboat segelboot yacht jacht",
        "ship": "ship schiff submarine",
        "balloon": "balloon ballon luftballon heißluftballon",
        "rocket": "rocket rakete spaceship raumschiff ufo",
        "ringed-planet": "planet saturn",
        "hot-beverage": "cup mug tasse becher coffee kaffee tea tee cocoa kakao",
        "basket": "basket korb",
        "steaming-bowl": "soup suppe ramen noodles nudeln nudelsuppe pho",
        "shortcake": "cake kuchen",
        "party-popper": "party feier fest",
        "birthday-cake": "geburtstagsfeier geburtstagsparty kindergeburtstag",
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
        "egg": "ei easter ostern ostereier",
        "door": "doorstep türschwelle",
        "love-letter": "valentine valentines valentinstag valentinskarte",
        "cup-with-straw": "milkshake smoothie",
        "cloud-with-lightning": "lightning blitz blitze",
        "singer": "musician musiker musikerin",
        "person-fencing": "knight ritter",
        "baby": "kinderwagen stroller pram",
        "yarn": "wool",
        "t-shirt": "shirt hemd tshirt sweater pullover hoodie sweatshirt jumper",
        "necktie": "suit anzug",
        "ribbon": "bow",
        "wine-glass": "wine wein",
        "envelope": "letter brief",
        "fire": "campfire lagerfeuer fireplace kamin",
        "potted-plant": "plant pflanze",
        "branch": "branch twig bough ast zweig",
        "airplane": "plane",  # a keyword of the pilot's picture
        "crib": "cradle",
        "health-worker": "doctor nurse ärztin krankenschwester pfleger",
        "white-cane": "stock gehstock spazierstock",  # CLDR keywords ending -ig read as adjectives
    }.items()
    for word in text.split()
}

# Hand-kept names of several words, where the CLDR names have none or another picture.
ART_PHRASES = {"fire truck": "fire-engine", "cruise ship": "ship", "a pair of glasses": "glasses",
               "pair of glasses": "glasses", "reading glasses": "glasses",
               "hot air balloon": "balloon", "hot chocolate": "hot-beverage",
               "heisse schokolade": "hot-beverage", "top hat": "top-hat",
               "top hats": "top-hat", "birthday party": "birthday-cake",
               "valentine card": "love-letter", "valentines card": "love-letter",
               "ball of yarn": "yarn"}  # fmt: skip

# Words whose CLDR keywords name another thing ("long" → a long drum, "lights" → feathers,
# "new" → the Statue of Liberty, "calm" → a lotus):
# no picture, so a noun is drawn as a labelled placeholder and an adjective not at all.
NOT_NAMES = frozenset({"long", "lights", "lichter", "new", "year", "out", "calm", "spell",
                       "double", "market", "markt"})  # fmt: skip

# German words that mean something else in English ("Hut" is a hat, "hut" a Hütte; a
# "Bank" in a picture is a bench more often than a bank).
GERMAN_WORDS = {"hut": "top-hat", "eis": "ice-cream", "see": "water-wave", "bank": "bench"}

# Groups of people drawn as their members (`kinds.GROUPS`): (singular, plural) words.
GROUP_WORDS = {
    "family": ("family familie", "families familien"),
    "couple": ("couple ehepaar liebespaar brautpaar", "couples"),
}

# Collective nouns: a mix of things, one picture per copy ("a bowl of fruit").
_COLLECTIVES: dict[str, tuple[str, ...]] = {
        "fruit fruits obst frucht früchte": (
            "red-apple", "banana", "grapes", "tangerine", "pear", "strawberry",
        ),
        "vegetable vegetables veggies gemüse": (
            "carrot", "broccoli", "tomato", "ear-of-corn", "eggplant", "bell-pepper",
        ),
        "berry berries beere beeren": ("strawberry", "blueberries", "cherries"),
        "flower flowers blume blumen blüte blüten spring frühling": (
            "tulip", "rose", "sunflower", "blossom", "hibiscus",
        ),
        "toy toys spielzeug spielsachen": ("teddy-bear", "kite", "yo-yo"),
        "animal animals tier tiere": ("dog", "cat", "rabbit", "horse", "cow", "pig"),
        "food essen lebensmittel dinner abendessen meal mahlzeit lunch mittagessen": (
            "pizza", "hamburger", "bread", "cheese-wedge",
        ),
        "breakfast frühstück brunch": ("croissant", "cooking", "hot-beverage"),
        "sweets candy candies süßigkeiten": ("candy", "lollipop", "chocolate-bar", "doughnut"),
        "drinks beverages getränke": ("hot-beverage", "cup-with-straw", "tumbler-glass"),
        "furniture möbel": ("chair", "bed", "couch-and-lamp"),
        "leaves laub blätter autumn herbst herbstlaub": (
            "fallen-leaf", "maple-leaf", "leaf-fluttering-in-wind",
        ),
        "traffic verkehr": ("automobile", "taxi", "bus"),
        "cookies kekse plätzchen": ("cookie",),
}  # fmt: skip
COLLECTIVES = {fold(word): names for text, names in _COLLECTIVES.items() for word in text.split()}
COLLECTIVE_NAMES = {names: text.split()[0] for text, names in _COLLECTIVES.items()}
# Materials: the first part of a compound that is not a thing of its own ("Holztisch").
MATERIALS = frozenset(
    {"holz", "glas", "stein", "metall", "plastik", "leder", "papier", "stahl", "eisen", "gold",
     "silber", "kupfer", "marmor", "porzellan", "beton", "kristall", "wolle", "stoff"}
)  # fmt: skip
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
    "delivery-truck": "truck", "snowman-without-snow": "snowman", "womans-hat": "hat",
    "person-biking": "cyclist", "man-biking": "cyclist", "woman-biking": "cyclist",
    "horse-racing": "rider on a horse",
}  # fmt: skip


def _noun_index() -> dict[str, tuple[str, bool]]:
    out: dict[str, tuple[str, bool]] = {}
    for kind, (singular, plural) in NOUNS.items():
        for word in plural.split():
            out[fold(word)] = (kind, True)
        for word in singular.split():
            out[fold(word)] = (kind, False)
    return out


NOUN_INDEX = _noun_index()
