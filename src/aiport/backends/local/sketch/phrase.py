"""A noun phrase being read: what was said about the noun still to come, and its head.

The reader keeps one `Phrase` open while it reads "three light blue ..." and closes it at
the noun. `color_name` says its colour ("light blue"); `head_word` finds the noun of a
phrase whose noun is not known, to draw it as a labelled placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiport.backends.local.sketch import words as w

_NOT_HEAD_SUFFIXES = ("ing", "ed", "ly", "ous", "ful", "ive", "ic", "ical", "ish", "less")


@dataclass(slots=True)
class Phrase:
    """A noun phrase being read: what has been said about the noun still to come."""

    started: bool = False
    count: int | None = None
    color: str | None = None
    shade: str | None = None
    size: str | None = None
    words: list[tuple[str, str]] = field(default_factory=list)


def color_name(phrase: Phrase) -> str | None:
    """The phrase's colour with its shade ("light blue"), if it named one."""
    if phrase.color is None:
        return None
    if phrase.shade and phrase.color != w.MULTICOLOR:
        return f"{phrase.shade} {phrase.color}"
    return phrase.color


def head_word(words: list[tuple[str, str]], *, german_nouns: bool) -> str | None:
    """The noun of a phrase of unknown (folded, as written) words: its last capitalised
    word in a German prompt that capitalises nouns, else its last word that is no verb
    form or adjective ("a glowing wumpus" → "wumpus")."""
    for word, original in reversed(words):
        if len(word) < 3 or not word.isalpha() or word in w.FOLDED_SETS["meta"]:
            continue
        if german_nouns:
            if original[:1].isupper():
                return original
        elif not word.endswith(_NOT_HEAD_SUFFIXES):
            return original.lower()
    return None
