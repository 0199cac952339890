"""How big a picture of the art set is drawn and where it goes, from its CLDR subgroup.

A house is drawn taller than a cat and a cat taller than an apple; birds and planes fly,
boats float, animals and vehicles stand on the ground, small things go where they fit.
Heights are fractions of the canvas's shorter side, for a thing drawn alone; `SIZE_OF`
corrects single things whose group says too little ("elephant" is a mammal like "mouse").
`real_height` is how tall the thing shown is in the world, in metres (`REAL_OF` corrects
single things): beside each other, things are drawn in proportion to it (`geometry`).
None for what has no size among things: faces, symbols, landscapes, weather, what flies.
"""

from __future__ import annotations

# subgroup numbers of emojibase's `meta/groups.json` → (height, zone)
_BY_GROUP: dict[int, tuple[float, str]] = {
    **dict.fromkeys(range(16), (0.26, "free")),  # faces, hearts, emotions
    **dict.fromkeys(range(16, 23), (0.18, "free")),  # hands, body parts
    **dict.fromkeys(range(23, 32), (0.48, "ground")),  # people
    34: (0.24, "ground"),  # mammals
    35: (0.12, "sky"),  # birds
    36: (0.12, "ground"),  # amphibians
    37: (0.16, "ground"),  # reptiles
    38: (0.18, "free"),  # marine animals
    39: (0.08, "free"),  # bugs
    40: (0.22, "ground"),  # flowers
    41: (0.30, "ground"),  # trees and other plants
    **dict.fromkeys(range(42, 47), (0.15, "free")),  # food
    47: (0.17, "free"),  # drinks
    48: (0.24, "free"),  # dishware
    49: (0.30, "free"),  # globes and maps
    50: (0.42, "ground"),  # mountains, islands, camping
    51: (0.46, "ground"),  # buildings
    52: (0.46, "ground"),  # churches, mosques, temples
    53: (0.38, "ground"),  # fountains, tents, bridges
    54: (0.22, "ground"),  # cars, buses, bicycles
    55: (0.30, "water"),  # boats
    56: (0.18, "sky"),  # planes, helicopters, rockets
    57: (0.22, "ground"),  # luggage
    58: (0.18, "free"),  # clocks
    59: (0.20, "sky"),  # weather, sun, moon, stars
    **dict.fromkeys(range(60, 65), (0.18, "free")),  # events, awards, sport, games, arts
    **dict.fromkeys(range(65, 83), (0.18, "free")),  # clothing and objects
    **dict.fromkeys(range(83, 100), (0.24, "free")),  # symbols and flags
}
_DEFAULT = (0.2, "free")

SIZE_OF: dict[str, tuple[float, str]] = {
    **dict.fromkeys(("elephant", "mammoth", "giraffe", "horse", "cow", "ox", "water-buffalo",
                     "camel", "two-hump-camel", "bison", "rhinoceros", "hippopotamus", "moose",
                     "polar-bear", "bear", "deer", "llama", "zebra"), (0.36, "ground")),
    **dict.fromkeys(("mouse", "rat", "hamster", "chipmunk", "hedgehog", "rabbit", "snail",
                     "turtle", "frog", "lizard"), (0.12, "ground")),
    **dict.fromkeys(("chicken", "rooster", "penguin", "turkey", "duck", "swan", "flamingo",
                     "peacock", "dodo", "baby-chick", "hatching-chick", "goose"),
                    (0.18, "ground")),
    **dict.fromkeys(("whale", "spouting-whale", "shark", "dolphin"), (0.26, "water")),
    **dict.fromkeys(("butterfly", "bee", "honeybee", "fly", "mosquito"), (0.08, "sky")),
    **dict.fromkeys(("deciduous-tree", "evergreen-tree", "palm-tree", "christmas-tree"),
                    (0.50, "ground")),
    **dict.fromkeys(("potted-plant", "cactus", "herb", "seedling"), (0.22, "ground")),
    **dict.fromkeys(("bus", "trolleybus", "train", "locomotive", "tram", "fire-engine",
                     "delivery-truck", "articulated-lorry", "tractor"), (0.28, "ground")),
    **dict.fromkeys(("bicycle", "motor-scooter", "kick-scooter", "skateboard",
                     "motorcycle"), (0.2, "ground")),
    **dict.fromkeys(("couch-and-lamp", "bed", "door", "toilet", "bathtub", "chair"),
                    (0.34, "ground")),
    **dict.fromkeys(("sun", "full-moon", "crescent-moon", "cloud", "rainbow", "comet",
                     "ringed-planet", "star", "glowing-star", "balloon", "kite"),
                    (0.2, "sky")),
    **dict.fromkeys(("snowman", "snowman-without-snow"), (0.4, "ground")),
    **dict.fromkeys(("bowl-with-spoon", "basket", "fork-and-knife-with-plate", "amphora"),
                    (0.42, "free")),
    **dict.fromkeys(("steaming-bowl", "pot-of-food", "green-salad", "cooked-rice"),
                    (0.3, "free")),  # a dish drawn as its bowl ("a bowl of soup")
    **dict.fromkeys(("lighthouse", "windmill"), (0.56, "ground")),
    "volcano": (0.45, "ground"),
    "tent": (0.34, "ground"),
    "waterfall": (0.5, "ground"),
    "bamboo": (0.5, "ground"),
    "branch": (0.26, "free"),
    "pillow": (0.22, "free"),
    "fire": (0.22, "ground"),  # a campfire burns on the ground, it is no weather
    "sandcastle": (0.26, "ground"),
    "swing": (0.46, "ground"),
    "crib": (0.3, "ground"),
    "cliff": (0.6, "ground"),
    "bench": (0.26, "ground"),
    "parked-airplane": (0.3, "ground"),
}  # fmt: skip

# metres the picture of a subgroup shows; busts (heads and shoulders) stand for a person
_REAL_BY_GROUP: dict[int, float] = {
    **dict.fromkeys((23, 24, 25, 26), 0.4),
    27: 1.75,
    28: 1.75,  # busts; whole people
    34: 0.6,
    35: 0.3,
    36: 0.1,
    37: 0.3,
    38: 0.5,
    39: 0.02,
    40: 0.4,
    41: 0.4,
    **dict.fromkeys(range(42, 47), 0.1),
    47: 0.14,
    48: 0.1,  # food, drinks, dishware
    51: 10.0,
    52: 15.0,
    53: 3.0,
    54: 1.5,
    57: 0.6,
    58: 0.2,  # buildings ... luggage, clocks
    **dict.fromkeys(range(60, 65), 0.3),
    **dict.fromkeys(range(65, 81), 0.25),
    81: 0.8,
    82: 0.3,
}
REAL_OF: dict[str, float] = {
    **dict.fromkeys(("elephant", "mammoth", "giraffe"), 3.5),
    **dict.fromkeys(("horse", "cow", "ox", "water-buffalo", "camel", "two-hump-camel", "bison",
                     "rhinoceros", "hippopotamus", "moose", "polar-bear", "bear", "deer", "llama",
                     "zebra"), 1.7),
    **dict.fromkeys(("mouse", "rat", "hamster", "chipmunk", "hedgehog", "rabbit", "snail",
                     "turtle", "frog", "lizard", "baby-chick", "hatching-chick",
                     "front-facing-baby-chick"), 0.15),
    **dict.fromkeys(("cat", "chicken", "rooster", "duck", "dodo"), 0.3),
    **dict.fromkeys(("penguin", "turkey", "swan", "goose", "peacock", "flamingo"), 0.8),
    **dict.fromkeys(("t-rex", "sauropod", "dragon"), 5.0),
    **dict.fromkeys(("deciduous-tree", "evergreen-tree", "palm-tree"), 8.0),
    **dict.fromkeys(("christmas-tree", "snowman", "snowman-without-snow"), 1.8),
    **dict.fromkeys(("potted-plant", "cactus"), 0.5),
    **dict.fromkeys(("bus", "trolleybus", "train", "locomotive", "tram", "fire-engine",
                     "delivery-truck", "articulated-lorry", "tractor"), 3.2),
    **dict.fromkeys(("bicycle", "motor-scooter", "kick-scooter", "motorcycle"), 1.1),
    **dict.fromkeys(("couch-and-lamp", "door"), 2.0),
    **dict.fromkeys(("house", "houses", "hut"), 7.0),
    **dict.fromkeys(("basket", "amphora"), 0.4),
    "skateboard": 0.15, "bed": 0.7, "chair": 0.9, "toilet": 0.8, "bathtub": 0.6, "tent": 2.2,
    "fork-and-knife-with-plate": 0.3, "lighthouse": 25.0, "windmill": 15.0, "bamboo": 2.5,
    "branch": 0.6, "pillow": 0.4, "fire": 0.6, "sandcastle": 0.35, "swing": 2.2, "crib": 1.0,
    "cliff": 30.0, "bench": 0.9, "ambulance": 2.7, "parked-airplane": 2.8,
}  # fmt: skip


def size_and_zone(name: str, group: int) -> tuple[float, str]:
    """(height, zone) of the art-set picture `name` whose CLDR subgroup is `group`."""
    return SIZE_OF.get(name) or _BY_GROUP.get(group, _DEFAULT)


def real_height(name: str, group: int) -> float | None:
    """Metres the art-set picture `name` (of CLDR subgroup `group`) shows, if it has any."""
    return REAL_OF.get(name) or _REAL_BY_GROUP.get(group)
