"""The sketch renderer's prompt reader: objects, colours, counts, places and text, EN and DE."""

from __future__ import annotations

import pytest

from aiport.backends.local.sketch.describe import SIGNATURE, describe_scene
from aiport.backends.local.sketch.nouns import NOUNS
from aiport.backends.local.sketch.paint import SHAPE_PAINTERS
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.scene import MAX_COUNT, Scene, SceneObject
from aiport.backends.local.sketch.things import THING_PAINTERS


def kinds(scene: Scene) -> list[str]:
    return [obj.kind for obj in scene.objects]


def only(scene: Scene, kind: str) -> SceneObject:
    found = [obj for obj in scene.objects if obj.kind == kind]
    assert len(found) == 1, f"expected one {kind} in {scene.objects}"
    return found[0]


def test_seed_prompt_is_a_robot_in_a_cyberpunk_city() -> None:
    scene = parse_scene("Ein futuristischer Roboter in einer Cyberpunk-Stadt")
    assert kinds(scene) == ["robot", "city"]
    assert scene.place == "cyberpunk"
    assert "unknown" not in kinds(scene)


@pytest.mark.parametrize(
    "prompt",
    [
        "three red balls on the left and a yellow sun top right",
        "3 red balls on the left side, and a yellow sun in the top right corner",
        "drei rote Bälle links und oben rechts eine gelbe Sonne",
        "Links drei rote Kugeln, rechts oben eine gelbe Sonne.",
    ],
)
def test_counts_colours_and_positions(prompt: str) -> None:
    scene = parse_scene(prompt)
    assert kinds(scene) == ["ball", "sun"]
    balls, sun = scene.objects
    assert (balls.count, balls.color, balls.h, balls.v) == (3, "red", "left", None)
    assert (sun.count, sun.color, sun.h, sun.v) == (1, "yellow", "right", "top")


@pytest.mark.parametrize(
    ("prompt", "kind", "count", "color"),
    [
        ("two blue cars", "automobile", 2, "blue"),
        ("zwei blaue Autos", "automobile", 2, "blue"),
        ("fünf grüne Sterne", "star", 5, "green"),
        ("five green stars", "star", 5, "green"),
        ("a light blue house", "house", 1, "light blue"),
        ("ein hellblaues Haus", "house", 1, "light blue"),
        ("ein dunkelrotes Herz", "heart", 1, "dark red"),
        ("stars", "star", 3, None),  # a bare plural is a few
        ("ein paar weiße Wolken", "cloud", 3, "white"),
        ("a couple of pink flowers", "tulip", 2, "pink"),
        ("vor den Häusern", "house", 3, None),  # dative plural
        ("bunte Luftballons", "balloon", 3, "multicolored"),
        ("ein Feuerwehrauto", "fire-engine", 1, None),  # a CLDR name of its own
        ("ein Spielzeugauto", "automobile", 1, None),  # a compound ending in a known noun
    ],
)
def test_one_group(prompt: str, kind: str, count: int, color: str | None) -> None:
    obj = only(parse_scene(prompt), kind)
    assert (obj.count, obj.color) == (count, color)


def test_sizes() -> None:
    scene = parse_scene(
        "a big red circle and a tiny blue square; ein riesiger Baum, eine kleine Katze"
    )
    assert [(o.kind, o.size) for o in scene.objects] == [
        ("circle", "large"),
        ("square", "small"),
        ("deciduous-tree", "large"),
        ("cat", "small"),
    ]


def test_counts_are_capped() -> None:
    obj = only(parse_scene("1000 tiny stars"), "star")
    assert obj.count == MAX_COUNT and obj.requested_count == 1000
    assert f"counts above {MAX_COUNT}" in describe_scene(parse_scene("1000 tiny stars"))


@pytest.mark.parametrize(
    ("prompt", "where"),
    [
        ("a ball in the middle", ("center", "middle")),
        ("a ball at the bottom", (None, "bottom")),
        ("a ball in the lower left corner", ("left", "bottom")),
        ("ein Ball unten rechts", ("right", "bottom")),
        ("ein Ball in der Mitte", ("center", "middle")),
        ("a bird in the sky", (None, "top")),
        ("ein Vogel am Himmel", (None, "top")),
        ("a red ball, on the left, and a blue box", ("left", None)),
    ],
)
def test_positions(prompt: str, where: tuple[str | None, str | None]) -> None:
    obj = parse_scene(prompt).objects[0]
    assert (obj.h, obj.v) == where


@pytest.mark.parametrize(
    ("prompt", "subject", "relation", "target"),
    [
        ("a cat on a car", "cat", "on", "automobile"),
        ("a bird above the house", "bird", "above", "house"),
        ("a ball under a table", "ball", "below", "table"),
        ("a dog next to a tree", "dog", "next_to", "deciduous-tree"),
        ("a ball to the left of a box", "ball", "left_of", "box"),
        ("eine Katze neben einem Hund", "cat", "next_to", "dog"),
        ("Neben einem Hund sitzt eine Katze", "cat", "next_to", "dog"),
        ("Links vom Haus steht ein Baum", "deciduous-tree", "left_of", "house"),
    ],
)
def test_relations(prompt: str, subject: str, relation: str, target: str) -> None:
    scene = parse_scene(prompt)
    obj = only(scene, subject)
    assert obj.relation == relation
    assert obj.target is not None and scene.objects[obj.target].kind == target


@pytest.mark.parametrize(
    ("prompt", "time", "place"),
    [
        ("a house at night", "night", None),
        ("ein Haus bei Nacht", "night", None),
        ("a boat at sunset on the beach", "sunset", "beach"),
        ("ein Boot bei Sonnenuntergang am Strand", "sunset", "beach"),
        ("a cat in the forest", None, "forest"),
        ("eine Katze im Wald", None, "forest"),
        ("a rocket in outer space", None, "space"),
        ("neon city", None, "cyberpunk"),
        ("ein Schneemann im Schnee", None, "snow"),
    ],
)
def test_settings(prompt: str, time: str | None, place: str | None) -> None:
    scene = parse_scene(prompt)
    assert (scene.time, scene.place) == (time, place)


def test_background_colour() -> None:
    assert parse_scene("a white star on a black background").background == "black"
    assert parse_scene("ein weißer Stern auf schwarzem Hintergrund").background == "black"


@pytest.mark.parametrize(
    ("prompt", "texts"),
    [
        ("a red ball with the text 'Hello'", ["Hello"]),
        ('a poster that says "Grand Opening" and a car', []),  # goes on the sign
        ("Ein Ball mit dem Text „Hallo Welt“", ["Hallo Welt"]),
        ("a cat's toy and the words 'good night'", ["good night"]),
        ("ein Schild mit der Aufschrift Willkommen zu Hause und ein Baum", []),
    ],
)
def test_free_text(prompt: str, texts: list[str]) -> None:
    assert parse_scene(prompt).texts == texts


def test_text_goes_on_a_sign() -> None:
    scene = parse_scene("ein Schild mit der Aufschrift Willkommen zu Hause und ein Baum")
    assert only(scene, "sign").text == "Willkommen zu Hause"
    assert "deciduous-tree" in kinds(scene)
    scene = parse_scene('a sign saying "Hello" on the left')
    sign = only(scene, "sign")
    assert (sign.text, sign.h) == ("Hello", "left")


def test_unknown_things_become_labelled_placeholders() -> None:
    scene = parse_scene("a purple flibbet next to a big house")
    flibbet = scene.objects[0]
    assert (flibbet.kind, flibbet.label, flibbet.color) == ("unknown", "flibbet", "purple")
    german = parse_scene("Ein Wolpertinger und zwei Gnurzel im Wald")
    assert [(o.label, o.count) for o in german.objects] == [("Wolpertinger", 1), ("Gnurzel", 2)]


@pytest.mark.parametrize(
    "prompt",
    [
        "a picture of a cat",
        "a futuristic robot",
        "ein futuristischer Roboter",
        "a cute fluffy dog sitting on the grass",
        "an illustration in the style of a children's book with a tree",
    ],
)
def test_adjectives_and_meta_words_are_not_objects(prompt: str) -> None:
    assert "unknown" not in kinds(parse_scene(prompt)), parse_scene(prompt).objects


@pytest.mark.parametrize("prompt", ["", "   ", "!!!", "'", "a", "😀 🚀", "1 2 3", "x" * 5000])
def test_odd_input_never_raises(prompt: str) -> None:
    scene = parse_scene(prompt)
    assert describe_scene(scene).endswith(f"{SIGNATURE}.")


def test_every_noun_has_a_painter() -> None:
    painters = {**SHAPE_PAINTERS, **THING_PAINTERS}
    special = {"city", "sign", "unknown"}
    assert set(NOUNS) - special <= set(painters)


def test_description_is_honest_english() -> None:
    text = describe_scene(
        parse_scene("drei rote Bälle links und oben rechts eine gelbe Sonne, 'Hallo'")
    )
    assert text.startswith("A flat illustration of three red balls on the left and a yellow sun")
    assert "with the text 'Hallo'" in text and text.endswith(f"{SIGNATURE}.")
    text = describe_scene(parse_scene("a cat on a red car"), detailed=True)
    assert text.startswith("A detailed, shaded flat illustration of a cat on top of a red car")
    assert "'flibbet' is not in the renderer's vocabulary" in describe_scene(
        parse_scene("a flibbet")
    )
