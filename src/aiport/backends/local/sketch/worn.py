"""What a picture already wears (or shows), and which of its SVG paths draw it.

"a snowman with a hat" draws the snowman's own hat, not a second one beside it, and "a
birthday cake with candles" the cake's own candles, "a pizza with mushrooms" the pizza's
toppings (`WORN`, applied by `finish`); "a snowman with a red hat" repaints that hat red:
`WORN_PATHS` names, per picture, the paths (by their order in the art's own SVG body; a skin tone's
body is matched by outline) that draw its headwear, scarf or crown, the first one the
accessory's main colour. Pictures not listed keep their accessory's own colour.
"""

from __future__ import annotations

_HEADWEAR = frozenset({"top-hat", "womans-hat", "billed-cap", "military-helmet",
                       "rescue-workers-helmet"})  # fmt: skip
WORN: dict[str, frozenset[str]] = {
    **dict.fromkeys(("snowman", "snowman-without-snow"),
                    _HEADWEAR | {"scarf", "carrot", "pig-nose"}),  # its carrot nose
    **dict.fromkeys(
        (f"{who}{role}" for who in ("", "man-", "woman-") for role in
         ("firefighter", "police-officer", "guard", "construction-worker", "astronaut",
          "detective")),
        _HEADWEAR,
    ),
    **dict.fromkeys(("santa-claus", "mrs-claus", "mx-claus", "person-mage", "man-mage",
                     "woman-mage", "cowboy-hat-face"), _HEADWEAR),
    **dict.fromkeys(("prince", "princess"), frozenset({"crown"})),
    "birthday-cake": frozenset({"candle"}),
    "christmas-tree": frozenset({"star", "glowing-star"}),
    "shortcake": frozenset({"strawberry"}),
    "pizza": frozenset({"mushroom", "cheese-wedge", "tomato", "hot-pepper", "bell-pepper"}),
}  # fmt: skip
ACCESSORIES = frozenset().union(*WORN.values())

# picture → part ("head", "scarf", "crown") → indexes of the SVG paths that draw it
_SNOWMAN: dict[str, tuple[int, ...]] = {"head": (5, 6), "scarf": (4, 3)}
_FIRST: dict[str, tuple[int, ...]] = {"head": (0,)}
WORN_PATHS: dict[str, dict[str, tuple[int, ...]]] = {
    "snowman": _SNOWMAN, "snowman-without-snow": _SNOWMAN,
    "firefighter": {"head": (15, 0)}, "man-firefighter": {"head": (15, 0)},
    "woman-firefighter": {"head": (14, 0)},
    "police-officer": {"head": (14,)}, "man-police-officer": {"head": (9,)},
    "woman-police-officer": {"head": (13,)},
    "guard": {"head": (13,)}, "man-guard": {"head": (12,)}, "woman-guard": {"head": (15,)},
    "construction-worker": {"head": (13,)}, "man-construction-worker": {"head": (13,)},
    "woman-construction-worker": {"head": (15,)},
    "detective": {"head": (21,)}, "man-detective": {"head": (20,)},
    "woman-detective": {"head": (22,)},
    "santa-claus": {"head": (0,)}, "mx-claus": {"head": (11,)}, "mrs-claus": {"head": (1,)},
    **dict.fromkeys(("person-mage", "man-mage", "woman-mage", "cowboy-hat-face"), _FIRST),
    "prince": {"crown": (16,)}, "princess": {"crown": (18,)},
}  # fmt: skip


def part_of(accessory: str) -> str:
    """The part of its wearer an accessory is: `head` (any headwear), `scarf`, `crown`."""
    return accessory if accessory in ("scarf", "crown") else "head"


def worn_paths(wearer: str, accessory: str) -> tuple[int, ...]:
    """The paths of the picture `wearer` that draw `accessory` (none: not known)."""
    return WORN_PATHS.get(wearer, {}).get(part_of(accessory), ())
