"""Words of everyday prompts drawn as the closest thing, or not at all (each seen misdrawn).

From `tests/data/sketch_prompts_everyday.txt`: "Easter" was an arrow (east), "a calm lake"
a lotus, "New Year's Eve" the Statue of Liberty, "a slice of watermelon" a pizza beside
it, "a stack of pancakes" a placeholder, "a penguin family" a human family, "a couple" and
"Sturm" nothing, "under the stars" three big stars, "ein Mann fährt mit dem Fahrrad" a man
beside a bicycle, "a café in Paris" a skyline inside the café, "a man in a red shirt" a man
beside a shirt.
"""

from __future__ import annotations

import pytest

from aiport.backends.local.sketch.reader import parse_scene


def drawn(prompt: str) -> list[tuple[str, int]]:
    return [(obj.kind, obj.count) for obj in parse_scene(prompt).objects]


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [("an Easter bunny", [("egg", 1), ("rabbit", 1)]),
     ("ein Osterhase mit bunten Eiern", [("rabbit", 1), ("egg", 3)]),
     ("a sailboat on a calm lake", [("sailboat", 1)]),
     ("fireworks over the city on New Year's Eve", [("fireworks", 3), ("city", 1)]),
     ("a slice of watermelon", [("watermelon", 1)]), ("a stack of pancakes", [("pancakes", 1)]),
     ("a red double-decker bus in London", [("bus", 1), ("city", 1)]),
     ("a cat looking out of a window", [("cat", 1), ("window", 1)]),
     ("a dancer on a stage", [("woman-dancing", 1)]),
     ("a bowl of ramen", [("steaming-bowl", 1)]),
     ("a snowman with a carrot nose and a red scarf", [("snowman", 1)])],
)  # fmt: skip
def test_words_that_name_no_thing_draw_none(prompt: str, kinds: list[tuple[str, int]]) -> None:
    assert drawn(prompt) == kinds


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [("spring flowers", "tulip"), ("autumn leaves", "fallen-leaf"), ("a beach in summer", "sun"),
     ("Herbstlaub", "fallen-leaf"), ("a musician", "singer"), ("a goldfish", "fish"),
     ("ein Storch", "bird"), ("a book on a nightstand", "table"),
     ("heavy traffic", "automobile"), ("Christmas", "christmas-tree")],
)  # fmt: skip
def test_unknown_nouns_draw_the_closest_thing(prompt: str, kind: str) -> None:
    assert kind in {obj.kind_of(k) for obj in parse_scene(prompt).objects for k in range(3)}


def test_an_animal_family_is_several_of_that_animal_and_a_couple_two_people() -> None:
    assert drawn("a penguin family on the ice") == [("penguin", 3)]
    assert drawn("a couple walking on the beach") == [("man-standing", 1), ("woman-standing", 1)]


@pytest.mark.parametrize(
    ("prompt", "weather", "time"),
    [("a lighthouse in a storm", "rain", None), ("ein Gewitter über dem Meer", "rain", None),
     ("a tent under the stars", None, "night"), ("ein Zelt unter den Sternen", None, "night")],
)  # fmt: skip
def test_storms_and_stars_are_the_setting(
    prompt: str, weather: str | None, time: str | None
) -> None:
    scene = parse_scene(prompt)
    assert (scene.weather, scene.time) == (weather, time)
    assert all(obj.kind not in ("star", "unknown") for obj in scene.objects)


def test_riding_with_a_bicycle_in_german_is_riding_it() -> None:
    assert drawn("ein Mann fährt mit dem Fahrrad durch den Wald") == [("man-biking", 1)]


def test_a_cafe_in_a_town_is_drawn_inside_without_the_skyline() -> None:
    scene = parse_scene("a woman reading a book in a cafe in Paris")
    assert scene.venue == "cafe" and "city" not in [obj.kind for obj in scene.objects]


@pytest.mark.parametrize(
    ("prompt", "kind", "color"),
    [("a man in a red shirt", "man-standing", "red"),
     ("eine Frau im gelben Kleid", "woman-standing", "yellow"),
     ("a boy in a blue sweater", "man-standing", "blue"),
     ("two women wearing red dresses", "woman-standing", "red")],
)  # fmt: skip
def test_a_standing_person_wears_the_clothes_in_their_colour(
    prompt: str, kind: str, color: str
) -> None:
    """They were drawn as a shirt or a dress beside the person (a sweater was a droplet)."""
    (person,) = parse_scene(prompt).objects
    assert (person.kind, person.color) == (kind, color)


def test_a_dressed_person_is_who_stands_beside_the_house() -> None:
    girl, house = parse_scene("a girl in a pink dress next to a house").objects
    assert (girl.stands_for, girl.color, girl.relation, house.kind) == (
        "girl", "pink", "next_to", "house",
    )  # fmt: skip
