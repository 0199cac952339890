"""Runs of several prompt words that the reader takes as one: phrases and positions.

`phrase_at` finds a multi-word count ("a couple of"), relation ("next to", "links von"),
place ("living room"), "in the sky", "on the wall" or a multi-word thing ("teddy bear");
`position_at` a run such as "in the top right corner" or "oben rechts". Both read folded
tokens (`words.fold`) from an index and say where the run ends.
"""

from __future__ import annotations

from aiport.backends.local.sketch import lexicon, nouns
from aiport.backends.local.sketch import words as w

Tokens = list[tuple[str, str]]  # (folded, as written)

_SKY_PHRASES = {w.fold(p) for p in w.SKY_PHRASES}


def phrase_at(tokens: Tokens, i: int) -> tuple[str, int | str, int] | None:
    """(what, value, end) of a multi-word phrase starting at token `i`, longest first.

    `what` is count, relation, sky, wall, place, time or thing.
    """
    for size in (4, 3, 2):
        if i + size > len(tokens):
            continue  # the prompt's last words: a shorter run is read below
        words = " ".join(t for t, _ in tokens[i : i + size])
        if words in nouns.ART_PHRASES:  # "a pair of glasses" before the count "a pair of"
            return "thing", words, i + size
        if words in w.COUNT_INDEX:
            return "count", w.COUNT_INDEX[words], i + size
        if words in w.RELATION_INDEX and " " in words:
            return "relation", w.RELATION_INDEX[words], i + size
        if words in _SKY_PHRASES:
            return "sky", 0, i + size
        if words in w.WALL_PHRASES:
            return "wall", 0, i + size
        if words in w.PLACE_PHRASES:
            return "place", w.PLACE_PHRASES[words], i + size
        if words in w.TIME_PHRASES:
            return "time", w.TIME_PHRASES[words], i + size
    for size in (3, 2):
        if i + size > len(tokens):
            continue
        words = " ".join(t for t, _ in tokens[i : i + size])
        if lexicon.lookup_phrase(words) is not None:
            return "thing", words, i + size
    return None


def position_at(tokens: Tokens, i: int) -> tuple[str | None, str | None, int] | None:
    """(h, v, end) of a run like "in the top right corner" / "oben rechts" at token `i`."""
    h = v = None
    j, found = i, False
    while j < len(tokens) and j - i < 8:
        word = tokens[j][0]
        if word in w.POSITION_INDEX:
            dh, dv = w.POSITION_INDEX[word]
            h, v, found = dh or h, dv or v, True
        elif word not in w.FOLDED_SETS["fillers"] or (found and word == "of"):
            break
        j += 1
    if not found:
        return None
    while j > i and tokens[j - 1][0] not in w.POSITION_INDEX:
        j -= 1  # give trailing fillers ("the", "of") back to the next reading
    if h == "center" and v not in (None, "middle"):
        h = None  # "top middle" means the top, centred: keep h free for the layout
    return h, v, j
