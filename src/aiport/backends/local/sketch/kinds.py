"""What kinds of things do with each other: hold, carry, float, hang, wear, are shown as.

Pure data about drawable kinds (hand-drawn kinds and art-set names), read by the reader
while it reads and by the layout while it places: containers and the surfaces things
stand on, what a person holds up, what swims, what hangs on a wall, which picture shows
a person with a beard or a hair colour, which shows a dish with its container.
"""

from __future__ import annotations

# The hand-drawn plain shapes ("a red circle in a square" is two shapes, not a town).
SHAPES = frozenset({"circle", "ball", "square", "rectangle", "box", "triangle", "star", "heart"})
# "a woman with red hair": the colour (or curls) picks that picture of the person.
HAIR_STYLES = {
    "red": "red-hair", "orange": "red-hair", "yellow": "blonde-hair", "gold": "blonde-hair",
    "white": "white-hair", "grey": "white-hair", "silver": "white-hair", "curly": "curly-hair",
}  # fmt: skip
# "a man with a beard": that person is drawn with one (as a bust), not beside a bearded head.
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
        "crib",
    }
)
# "a child with a balloon": a person holds these up, so they float just above them.
HELD_ALOFT = frozenset(
    {"balloon", "kite", "umbrella", "closed-umbrella", "umbrella-with-rain-drops"}
)
# Trees: what is in one ("apples", "a cat in a tree") is in its crown, drawn in front of it
# (the crown's box in fractions of the tree's: x0, y0, x1, y1).
CROWNS = {"deciduous-tree": (0.12, 0.06, 0.88, 0.5), "palm-tree": (0.2, 0.02, 0.8, 0.34),
          "evergreen-tree": (0.25, 0.2, 0.75, 0.75)}  # fmt: skip
# Where what is in a container sinks to, as a fraction of the container's height (else 0.3).
RIMS = {"bowl": 0.12, "amphora": 0.1, "crib": 0.55}
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
            "branch": 0.4, "pillow": 0.25, "cliff": 0.04, "bench": 0.5,
            "swing": 0.68}  # fmt: skip
# Vehicles one sits in: a person on or in one sits in its seat (the bust is what shows),
# a person in a role beside one stands whole (`finish._stand_people`).
CABS = frozenset({
    "locomotive", "train", "high-speed-train", "bullet-train", "tram", "bus", "oncoming-bus",
    "trolleybus", "minibus", "ambulance", "fire-engine", "police-car", "oncoming-police-car",
    "taxi", "oncoming-taxi", "automobile", "oncoming-automobile", "sport-utility-vehicle",
    "pickup-truck", "delivery-truck", "articulated-lorry", "tractor", "racing-car",
    "auto-rickshaw",
})  # fmt: skip
# A plane a person stands beside is parked: the emoji's plane flies, so it is drawn as a
# plane seen from the side, standing on its wheels ("a pilot beside a plane").
PARKED = {"airplane": "parked-airplane", "small-airplane": "parked-airplane"}
# Where who sits in a vehicle shows: the middle of its driver's window across the
# vehicle's length and the window's lower edge down its height (the art's vehicles face
# left; a passenger sits behind the driver). Others: the middle, half-way down.
VEHICLE_SEATS = {
    "ambulance": (0.16, 0.42), "articulated-lorry": (0.22, 0.5), "auto-rickshaw": (0.42, 0.6),
    "automobile": (0.35, 0.45), "bullet-train": (0.32, 0.33), "bus": (0.13, 0.45),
    "delivery-truck": (0.14, 0.45), "fire-engine": (0.2, 0.45), "high-speed-train": (0.33, 0.32),
    "locomotive": (0.73, 0.36), "minibus": (0.17, 0.35), "oncoming-automobile": (0.35, 0.4),
    "oncoming-bus": (0.35, 0.42), "oncoming-police-car": (0.35, 0.5),
    "oncoming-taxi": (0.35, 0.42), "pickup-truck": (0.3, 0.42), "police-car": (0.4, 0.45),
    "racing-car": (0.6, 0.4), "sport-utility-vehicle": (0.3, 0.42), "taxi": (0.38, 0.45),
    "tractor": (0.62, 0.47), "train": (0.5, 0.4), "tram": (0.5, 0.45), "trolleybus": (0.15, 0.5),
}  # fmt: skip
VEHICLE_SEAT = (0.5, 0.5)
# Who may sit in a vehicle besides people: the art's mammals ("a dog in a car").
PASSENGER_GROUPS = frozenset({34})
# A helicopter a person stands beside has landed: the picture stands on its skids, this
# many metres tall.
LANDED = {"helicopter": 3.8}
# What goes over one of these goes on it ("ein Zug fährt über eine Brücke").
CROSSED = frozenset({"bridge"})
# Water birds: where there is water (a beach, a pond, a river), they swim on it.
SWIMMERS = frozenset({"duck", "swan", "goose", "flamingo"})
# Plates seen from above: what lies on one lies in its middle and fills it.
PLATES = frozenset({"fork-and-knife-with-plate"})
# What hangs on a wall is drawn as its wall version (a wristwatch as a clock's face).
WALL_VERSIONS = dict.fromkeys(("alarm-clock", "watch", "mantelpiece-clock", "timer-clock"),
                              "ten-oclock")  # fmt: skip
# Furniture: where it stands, the scene is a room.
INDOOR_KINDS = frozenset({"sofa", "table", "bed", "chair", "couch-and-lamp"})
# Children are heads in the art set (it has no standing child): beside a standing grown-up
# or something taller (a house, a tree, a bus) a head would shrink to a dot, so a child stands
# there as a whole person at a child's height in metres ("a child in front of a house").
WHOLE_FIGURES = {"child": ("person-standing", 1.2), "boy": ("man-standing", 1.2),
                 "girl": ("woman-standing", 1.2)}  # fmt: skip
GROWN_UP = 1.75  # metres: what is as tall stands a child up
# "a boy riding a bicycle": what a person rides → the picture of someone riding it, for a
# person, a man and a woman (`RIDERS`: children ride as a person, the art has no child).
RIDDEN = {"bicycle": ("person-biking", "man-biking", "woman-biking"),
          "horse": ("horse-racing", "horse-racing", "horse-racing")}  # fmt: skip
RIDERS = {
    **dict.fromkeys(("person-standing", "person", "child", "boy", "girl"), 0),
    **dict.fromkeys(("man-standing", "man"), 1),
    **dict.fromkeys(("woman-standing", "woman"), 2),
}
# "a family": the art set has no picture of one, so its members are drawn (per family).
GROUPS = {
    "family": (("man-standing", 1), ("woman-standing", 1), ("child", 2)),
    "couple": (("man-standing", 1), ("woman-standing", 1)),
}
# A room laid for guests (`Scene.venue`): a table and what stands on it, where the prompt
# puts no table there itself ("Restaurant": not a cook).
FURNISHINGS = {"restaurant": ("fork-and-knife-with-plate", 2), "cafe": ("hot-beverage", 2)}
# Things that bring their setting when the prompt names none ("a snowman": in the snow).
TIME_OF = {"fireworks": "night"}  # "fireworks over the city": at night
SETTING_OF = {
    **dict.fromkeys(("snowman", "snowman-without-snow", "skier", "snowboarder", "sled"), "snow"),
    **dict.fromkeys(("camel", "two-hump-camel", "cactus"), "desert"),
}
# "a boy with a red cap", "a man wearing a hat": headwear sits on the person's head. The
# brim rests at this fraction of the person picture's height, by its CLDR subgroup
# (23: heads, 27: standing people); other pictures keep what they hold beside them.
HEADWEAR = frozenset({"top-hat", "womans-hat", "billed-cap", "military-helmet",
                      "rescue-workers-helmet", "graduation-cap", "crown"})  # fmt: skip
BRIMS = {23: 0.3, 27: 0.045}
# "a man in a red shirt", "eine Frau im gelben Kleid": what a standing person wears on their
# body is their own clothes, drawn in its colour (`finish._dress_people`), not beside them.
TOPS = frozenset({"t-shirt", "running-shirt", "dress", "coat", "womans-clothes", "necktie",
                  "kimono", "sari", "lab-coat", "safety-vest"})  # fmt: skip
