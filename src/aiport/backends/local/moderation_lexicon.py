"""The moderation lexicon: strong phrases that set a score floor, idioms that damp one.

`moderation_data/lexicon.json` holds case-insensitive regexes (English and German):

- `benign`: idioms and technical or educational uses ("kill the process", "to die for",
  "Prozess beenden", "sex education"). Their spans are blanked before anything else is
  matched, and the model's score on the listed categories is multiplied by `damp`.
- `signals`: phrases that are unambiguous on their own ("kill myself", "ich bring dich
  um", slurs, "build a pipe bomb"); each match lifts its categories to at least its score.
  A match with a negation among the three words before it does not count.
- `combos`: patterns that must all match within one sentence (a minor and a sexual term).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEXICON_FILE = Path(__file__).with_name("moderation_data") / "lexicon.json"

_SENTENCE_END = re.compile(r"[.!?\n]+")
_WORD = re.compile(r"[\w']+")


@dataclass(slots=True)
class LexiconHits:
    """What the lexicon saw in one text: score floors and categories to damp."""

    floors: dict[str, float] = field(default_factory=dict)
    damped: set[str] = field(default_factory=set)

    def lift(self, categories: dict[str, float]) -> None:
        for category, score in categories.items():
            self.floors[category] = max(self.floors.get(category, 0.0), score)


@dataclass(slots=True)
class _Rule:
    categories: dict[str, float]
    patterns: list[re.Pattern[str]]


class Lexicon:
    """Compiled rules of `lexicon.json`; `scan` is pure and thread-safe."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.damp = float(spec.get("damp", 0.5))
        self._negation = re.compile(spec["negation"], re.IGNORECASE)
        self._benign = [
            (set(rule["damp"]), _compile_all(rule["patterns"])) for rule in spec["benign"]
        ]
        self._signals = [
            _Rule(dict(rule["categories"]), _compile_all(rule["patterns"]))
            for rule in spec["signals"]
        ]
        self._combos = [
            _Rule(dict(rule["categories"]), _compile_all(rule["all"])) for rule in spec["combos"]
        ]

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def scan(self, text: str) -> LexiconHits:
        hits = LexiconHits()
        masked = self._mask_benign(text, hits)
        for rule in self._signals:
            if any(self._affirmed(masked, m) for p in rule.patterns for m in p.finditer(masked)):
                hits.lift(rule.categories)
        sentences = _SENTENCE_END.split(masked)
        for rule in self._combos:
            if any(all(p.search(s) for p in rule.patterns) for s in sentences):
                hits.lift(rule.categories)
        return hits

    def _mask_benign(self, text: str, hits: LexiconHits) -> str:
        """The text with benign spans blanked (same length, so offsets still agree)."""
        chars = list(text)
        for damped, patterns in self._benign:
            for pattern in patterns:
                for match in pattern.finditer(text):
                    hits.damped.update(damped)
                    chars[match.start() : match.end()] = " " * (match.end() - match.start())
        return "".join(chars)

    def _affirmed(self, text: str, match: re.Match[str]) -> bool:
        """False when one of the three words before the match is a negation."""
        before = _WORD.findall(text[max(0, match.start() - 60) : match.start()])[-3:]
        return not any(self._negation.fullmatch(word) for word in before)


def _compile_all(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]
