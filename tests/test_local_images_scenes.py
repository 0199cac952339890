"""Everyday scenes look as a user expects: sizes beside each other, where things stand.

Each test checks a property of the layout (boxes in pixels, for several random layouts) or
of the pixels, for a weak spot seen on the README's contact sheet.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from aiport.backends.local.sketch import kinds, lexicon, nouns
from aiport.backends.local.sketch import words as w
from aiport.backends.local.sketch.art import art_set, raster
from aiport.backends.local.sketch.describe import describe_scene
from aiport.backends.local.sketch.geometry import HORIZON
from aiport.backends.local.sketch.layout import Box, layout
from aiport.backends.local.sketch.reader import parse_scene
from aiport.backends.local.sketch.render import RenderJob, render_image
from tests.support.sketch_layout import SIZE, boxes, height


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "prompt", ["a dog playing with a ball in the park", "ein Hund spielt mit einem Ball im Park"]
)
def test_a_ball_beside_a_dog_is_ball_sized_and_lies_on_the_ground(prompt: str, seed: int) -> None:
    drawn = boxes(prompt, seed)
    (dog,), (ball,) = drawn["dog"], drawn["ball"]
    assert height(ball) < 0.6 * height(dog)
    assert ball[3] > HORIZON * SIZE  # on the meadow, not floating in the sky


def test_balls_alone_keep_the_size_of_shapes() -> None:
    for ball in boxes("three red balls on the left", 0)["ball"]:
        assert height(ball) > 0.2 * SIZE


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("prompt", "train"),
    [("a train crossing a bridge", "locomotive"), ("ein Zug fährt über eine Brücke", "locomotive")],
)
def test_a_train_crosses_a_bridge_on_its_deck(prompt: str, train: str, seed: int) -> None:
    drawn = boxes(prompt, seed)
    (bridge,), (engine,) = drawn["bridge"], drawn[train]
    deck = bridge[1] + height(bridge) * kinds.SURFACES["bridge"]
    assert abs(engine[3] - deck) < 0.03 * SIZE  # its wheels are on the deck
    assert bridge[0] <= engine[0] and engine[2] <= bridge[2]
    assert height(engine) < height(bridge)


def test_scene_tiles_are_never_drawn_as_things() -> None:
    """Pictures that are a whole scene on a square (a bridge at night) stand for settings."""
    for name in nouns.SCENE_TILES:
        for word in art_set()[name].english[:1]:
            for token in word.split():
                thing = lexicon.lookup(w.fold(token))
                assert thing is None or thing.kind not in nouns.SCENE_TILES, (name, token)
    bridge = parse_scene("a bridge over a river")
    assert [o.kind for o in bridge.objects] == ["bridge"] and bridge.place == "river"


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "prompt", ["a clock on the wall", "eine Uhr an der Wand", "An der Wand hängt eine Uhr"]
)
def test_a_clock_on_the_wall_hangs_on_the_wall(prompt: str, seed: int) -> None:
    scene = parse_scene(prompt)
    (clock,) = scene.objects
    assert scene.place == "room" and clock.hangs
    assert "clock" in art_set()[clock.kind].label  # a clock's face, not a wristwatch
    ((box,),) = boxes(prompt, seed).values()
    assert box[3] < (HORIZON - 0.04) * SIZE  # above the skirting board, not on the floor
    assert box[2] < 0.62 * SIZE  # beside the room's window, not over it
    assert "clock on the wall" in describe_scene(scene).replace("o’clock", "clock")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("prompt", "food"),
    [("sushi on a plate", "sushi"), ("Sushi auf einem Teller", "sushi"),
     ("a watermelon on a plate", "watermelon"), ("a plate of spaghetti", "spaghetti")],
)  # fmt: skip
def test_food_on_a_plate_lies_in_its_middle_and_fills_it(prompt: str, food: str, seed: int) -> None:
    drawn = boxes(prompt, seed)
    (plate,), (dish,) = drawn["fork-and-knife-with-plate"], drawn[food]
    centre = ((dish[0] + dish[2]) / 2, (dish[1] + dish[3]) / 2)
    assert plate[0] + (plate[2] - plate[0]) / 3 < centre[0] < plate[2] - (plate[2] - plate[0]) / 3
    assert plate[1] + height(plate) / 3 < centre[1] < plate[3] - height(plate) / 3
    assert height(dish) > 0.35 * height(plate)  # it was a tenth when it sat on the rim


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("a fountain in a square", {"fountain", "city"}),
        ("ein Brunnen auf dem Marktplatz", {"fountain", "city"}),
        ("a red circle in a square", {"circle", "square"}),
        ("a blue square", {"square"}),
    ],
)
def test_a_square_is_a_towns_square_beside_things_and_a_shape_beside_shapes(
    prompt: str, kinds: set[str]
) -> None:
    assert {obj.kind for obj in parse_scene(prompt).objects} == kinds


def test_people_are_drawn_in_natural_skin_tones_not_emoji_yellow() -> None:
    yellow = np.array([255, 200, 61])  # Fluent Emoji's default skin (#FFC83D)
    for prompt in ("a portrait of a woman with red hair", "three men in a park"):
        job = RenderJob(prompt=prompt, width=256, height=256)
        rgb = np.asarray(render_image(parse_scene(prompt), job).convert("RGB")).astype(int)
        emoji_skin = (np.abs(rgb - yellow).sum(axis=2) < 30).mean()
        assert emoji_skin < 0.002, prompt
    tones = {raster("woman-red-hair", 32, 32, tone=tone).tobytes() for tone in (None, "dark")}
    assert len(tones) == 2


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("ein alter Mann mit Bart", ["man-beard"]),
        ("an old man with a beard and a cane", ["man-beard", "white-cane"]),
        ("a beard", ["person-beard"]),
    ],
)
def test_a_man_with_a_beard_is_one_bearded_man(prompt: str, kinds: list[str]) -> None:
    assert [obj.kind for obj in parse_scene(prompt).objects] == kinds


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "prompt",
    ["a bowl of fruit", "eine Obstschale", "grapes in a bowl", "Trauben in einer Schüssel",
     "three eggs in a blue bowl"],
)  # fmt: skip
def test_what_is_in_a_bowl_lies_in_it_behind_its_rim(prompt: str, seed: int) -> None:
    """The bowl is drawn by hand, open at the top, not the emoji's bowl with a spoon."""
    scene = parse_scene(prompt)
    bowl = next(i for i, obj in enumerate(scene.objects) if obj.kind == "bowl")
    inside = [i for i, obj in enumerate(scene.objects) if obj.relation == "in"]
    assert inside and all(scene.objects[i].target == bowl for i in inside)
    placed = layout(scene, SIZE, SIZE, random.Random(seed), vary=seed > 0)
    (rim,) = [p for p in placed if p.group == bowl]
    contents = [p for p in placed if p.group in inside]
    for thing in contents:
        assert rim.box[0] <= thing.box[0] and thing.box[2] <= rim.box[2]
        assert rim.box[1] < thing.box[3] < rim.box[1] + 0.3 * height(rim.box)  # sunk in it
        assert placed.index(thing) < placed.index(rim)  # drawn first: the bowl hides its foot


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("a bowl of soup", ["steaming-bowl"]),
        ("eine Schüssel Suppe", ["steaming-bowl"]),
        ("a bowl of cereal", ["bowl-with-spoon"]),
        ("a bowl of rice", ["cooked-rice"]),
        ("a cat in a box", ["cat", "box"]),
        ("ein Glas Wasser", ["glass-of-water"]),  # not a person swimming in it
    ],
)
def test_a_dish_that_is_a_bowl_is_drawn_once(prompt: str, kinds: list[str]) -> None:
    scene = parse_scene(prompt)
    assert [obj.kind for obj in scene.objects] == kinds
    assert all(obj.relation in (None, "in") for obj in scene.objects)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("prompt", "head", "beside"),
    [("a kangaroo with a baby", "baby", "kangaroo"), ("a boy and his cat", "boy", "cat"),
     ("ein Mädchen mit einem Hund", "girl", "dog"),
     ("a farmer with a cow", "farmer", "cow")],
)  # fmt: skip
def test_a_persons_head_beside_an_animal_is_about_its_size(
    prompt: str, head: str, beside: str, seed: int
) -> None:
    drawn = boxes(prompt, seed)
    (face,), (animal,) = drawn[head], drawn[beside]
    assert height(face) < 1.5 * height(animal)  # it was twice the kangaroo
    alone = boxes(f"a {head}", seed)[head][0]
    assert height(face) < 0.7 * height(alone)  # alone, a head still fills the picture


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("prompt", "person", "held"),
    [("a child with a balloon", "child", "balloon"),
     ("ein Kind mit einem roten Luftballon", "child", "balloon"),
     ("a boy flying a kite on the beach", "boy", "kite")],
)  # fmt: skip
def test_a_balloon_or_kite_a_person_holds_floats_just_above_them(
    prompt: str, person: str, held: str, seed: int
) -> None:
    drawn = boxes(prompt, seed)
    (who,), (thing,) = drawn[person], drawn[held]
    assert thing[3] <= who[1] + 0.02 * SIZE and who[1] - thing[3] < 0.1 * SIZE
    assert thing[0] < who[2] and who[0] < thing[2]  # over the person, not across the sky


@pytest.mark.parametrize(
    ("prompt", "kinds", "place"),
    [
        ("ein Mann mit einem Hut", ["man-standing", "top-hat"], None),  # last word: a hat
        ("a penguin on the ice", ["penguin"], "snow"),  # not on an ice cube
        ("ein Pinguin auf dem Eis", ["penguin"], "snow"),  # nor on an ice cream
        ("a boat on the water", ["sailboat"], "beach"),  # not on a water drop
        ("ein Boot auf dem Wasser", ["sailboat"], "beach"),
        ("a firefighter next to a fire truck", ["firefighter", "fire-engine"], None),
        ("a pair of glasses", ["glasses"], None),
        ("two glasses of milk", ["glass-of-milk"], None),  # not a cow in a glass
        ("three cups of coffee", ["hot-beverage"], None),
    ],
)
def test_words_that_drew_the_wrong_thing(prompt: str, kinds: list[str], place: str | None) -> None:
    scene = parse_scene(prompt)
    named = [obj.stands_for or obj.kind for obj in scene.objects]  # a whole firefighter
    assert named == kinds and scene.place == place


@pytest.mark.parametrize(
    ("prompt", "count"),
    [("a glass of water", 1), ("ein Glas Wasser", 1), ("two glasses of water", 2),
     ("zwei Gläser Wasser", 2), ("ein Wasserglas", 1)],
)  # fmt: skip
def test_a_glass_of_water_is_a_glass_with_water_in_it(prompt: str, count: int) -> None:
    (glass,) = parse_scene(prompt).objects  # was a whisky tumbler and a drop beside it
    assert (glass.kind, glass.count) == ("glass-of-water", count)
    assert "of water" in describe_scene(parse_scene(prompt))


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("a snowman with a hat", ["snowman"]),  # the snowman's own hat, not a second one
        ("ein Schneemann mit Hut", ["snowman-without-snow"]),
        ("ein Schneemann mit Schal und Hut", ["snowman-without-snow"]),
        ("a hat on a snowman", ["snowman"]),
        ("Santa Claus with a hat", ["santa-claus"]),
        ("a firefighter with a helmet", ["firefighter"]),
        ("a man with a hat", ["man-standing", "womans-hat"]),  # his picture has none
        ("a snowman next to a hat", ["snowman", "womans-hat"]),  # a hat of its own
        ("a snowman and a cat with a hat", ["snowman", "cat", "womans-hat"]),
    ],
)
def test_an_accessory_its_wearer_already_wears_is_drawn_once(prompt: str, kinds: list[str]) -> None:
    scene = parse_scene(prompt)
    assert [obj.kind for obj in scene.objects] == kinds


def test_a_worn_accessorys_place_goes_to_its_wearer() -> None:
    snowman, tree = parse_scene("a snowman with a scarf and a hat next to a tree").objects
    assert (snowman.kind, snowman.relation, snowman.target, tree.kind) == (
        "snowman",
        "next_to",
        1,
        "deciduous-tree",
    )


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize(
    ("prompt", "small", "big", "most"),
    [
        ("a man next to a house", "man-standing", "house", 0.35),  # was as tall as the house
        ("ein Mann neben einem Haus", "man-standing", "house", 0.35),
        ("a woman standing by a tree", "woman-standing", "deciduous-tree", 0.35),
        ("a snowman next to a house", "snowman", "house", 0.4),
        ("a cup next to a man", "hot-beverage", "man-standing", 0.2),
        ("eine Tasse neben einem Auto", "hot-beverage", "automobile", 0.4),
        ("a cat on a car", "cat", "automobile", 0.5),
        ("a car in front of a house", "automobile", "house", 0.5),
    ],
)
def test_things_side_by_side_are_drawn_in_proportion(
    prompt: str, small: str, big: str, most: float, seed: int
) -> None:
    drawn = boxes(prompt, seed)
    (little,), (large,) = drawn[small], drawn[big]
    assert height(little) < most * height(large)
    assert height(little) > 0.05 * SIZE  # still seen


@pytest.mark.parametrize("seed", range(2))
def test_a_person_beside_a_car_is_a_little_taller_than_it(seed: int) -> None:
    drawn = boxes("a man next to a car", seed)
    (man,), (car,) = drawn["man-standing"], drawn["automobile"]
    assert 0.7 * height(man) < height(car) < height(man)


@pytest.mark.parametrize(("prompt", "least"), [("a man", 0.4), ("a house", 0.4), ("a cup", 0.15)])
def test_a_thing_alone_keeps_its_size(prompt: str, least: float) -> None:
    ((box,),) = boxes(prompt, 0).values()
    assert height(box) > least * SIZE


def test_plural_names_with_of_are_said_right() -> None:
    assert "two glasses of milk" in describe_scene(parse_scene("two glasses of milk"))
    assert "three cups of coffee" in describe_scene(parse_scene("three cups of coffee"))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("prompt", "bird"),
    [("a yellow duck swimming in a pond", "duck"), ("a duck on the water", "duck"),
     ("zwei Schwäne am See", "swan"), ("a duck on a river", "duck")],
)  # fmt: skip
def test_water_birds_swim_on_the_water_not_on_the_sand(prompt: str, bird: str, seed: int) -> None:
    scene = parse_scene(prompt)
    assert scene.place in ("beach", "river") and [o.kind for o in scene.objects] == [bird]
    for box in boxes(prompt, seed)[bird]:
        if scene.place == "beach":  # the sea is a band behind the sand, up to the horizon
            assert abs(box[3] - HORIZON * SIZE) < 0.08 * SIZE
        else:  # the river runs down the middle of the meadow
            assert box[3] > HORIZON * SIZE and box[0] > 0.2 * SIZE and box[2] < 0.8 * SIZE


@pytest.mark.parametrize(
    ("prompt", "listed", "under"),
    [
        ("a dog and a cat on a sofa", ["dog", "cat"], "sofa"),
        ("ein Hund und eine Katze auf dem Sofa", ["dog", "cat"], "sofa"),
        ("a cup of coffee and a croissant on a table", ["hot-beverage", "croissant"], "table"),
        ("an apple, a banana and a pear in a bowl", ["red-apple", "banana", "pear"], "bowl"),
    ],
)
def test_every_thing_of_a_list_goes_on_or_in_what_follows(
    prompt: str, listed: list[str], under: str
) -> None:
    scene = parse_scene(prompt)
    kinds = [obj.kind for obj in scene.objects]
    assert kinds == [*listed, under]
    assert all(obj.target == len(listed) for obj in scene.objects[:-1])
    surface = boxes(prompt, 0)[under][0]
    for kind in listed:
        (box,) = boxes(prompt, 0)[kind]
        assert surface[0] <= box[0] and box[2] <= surface[2]  # on it, not beside it


def test_a_list_stops_at_things_already_placed() -> None:
    cat, sofa, dog = parse_scene("a cat on a sofa, a dog on the floor").objects
    assert (cat.relation, cat.target, sofa.relation, dog.kind) == ("on", 1, None, "dog")
    tree, house, _ = parse_scene("a tree and a house under the sun").objects
    assert tree.relation is None and house.relation == "below"  # only on and in are shared


def test_a_thing_on_the_wall_casts_no_floor_shadow_in_hd(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiport.backends.local.sketch.canvas import Canvas

    shadows: list[Box] = []
    monkeypatch.setattr(Canvas, "shadow", lambda self, box: shadows.append(box))
    for prompt, cast in (("a clock on the wall", 0), ("a clock on a table", 2)):
        shadows.clear()
        job = RenderJob(prompt=prompt, width=256, height=256, detailed=True)
        render_image(parse_scene(prompt), job)
        assert len(shadows) == cast, prompt  # the table and the clock on it cast theirs
