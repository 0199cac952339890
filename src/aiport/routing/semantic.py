"""The semantic cache: an earlier answer for a request that says the same in other words.

Only the last user message may differ. Everything else — model, sampling fields, system
prompt, earlier turns — must be identical, so it is hashed into a *context* and only
entries of the same context are compared (a paraphrase in another conversation, or with
another temperature, never matches). Within a context, the last user messages are compared
by the cosine of their embeddings (the embedded MiniLM engine) against the model's
`threshold`; and their numbers must be the same, and their names (capitalised words
that do not open a sentence) the same or one's a part of the other's, in the same order:
"What is 1+1?" and "What is 21+1?", or "Is Python faster than Java?" and "Is Java faster
than Python?", are close in embedding space and different questions. LiteLLM's semantic
cache keys its vector search by the full request hash and so never hits
(BerriAI/litellm#29086); this one is measured on a paraphrase set kept in the repository
(`tests/data/semantic_cache_pairs.jsonl`, `benchmarks/semantic_cache_eval.py`).

The index lives in this process's memory (bounded, oldest out first); the answers it points
to live in the response cache's store, so an entry whose answer expired simply misses.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

log = logging.getLogger(__name__)

Embed = Callable[[str], Awaitable[list[float] | None]]
TOKEN = re.compile(r"[.?!]|\d+(?:[.,]\d+)?|[^\W\d_][\w'-]*")
MAX_TEXT = 2000  # characters embedded; a longer message is not looked up semantically


@dataclass(frozen=True, slots=True)
class Marks:
    """What must agree between two questions for one's answer to serve the other."""

    numbers: tuple[str, ...]  # sorted
    names: tuple[str, ...]  # in order, lower-cased

    @classmethod
    def of(cls, text: str) -> Marks:
        numbers: list[str] = []
        names: list[str] = []
        opening = True
        for token in TOKEN.findall(text):
            if token in ".?!":
                opening = True
                continue
            if token[0].isdigit():
                numbers.append(token.replace(",", "."))
            elif token[0].isupper() and not opening and token != "I":
                names.append(token.lower())
            opening = False
        return cls(tuple(sorted(numbers)), tuple(names))

    def agree(self, other: Marks) -> bool:
        if self.numbers != other.numbers:
            return False
        mine, theirs = set(self.names), set(other.names)
        if not (mine <= theirs or theirs <= mine):
            return False
        common = mine & theirs
        return [n for n in self.names if n in common] == [n for n in other.names if n in common]


@dataclass(slots=True)
class Pending:
    context: str
    vector: Any  # numpy float32, unit length
    marks: Marks


@dataclass(slots=True)
class _Entry:
    key: str
    vector: Any
    marks: Marks
    expires: float


@dataclass(slots=True)
class _Context:
    entries: list[_Entry] = field(default_factory=list)


def split_request(body: dict[str, Any]) -> tuple[bytes, str] | None:
    """The request without its last user message (canonical bytes), and that message's
    text; None when the request does not end with a plain user message."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    text = _text(last.get("content"))
    if not text or len(text) > MAX_TEXT:
        return None
    rest = {k: v for k, v in body.items() if k not in ("messages", "stream_options")}
    rest["history"] = messages[:-1]
    return orjson.dumps(rest, option=orjson.OPT_SORT_KEYS), text


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" for p in content
    ):
        return " ".join(str(p.get("text", "")) for p in content).strip()
    return None


def unit(vector: list[float]) -> Any:
    """The vector as numpy float32 of unit length, so a dot product is the cosine. (numpy
    comes with the embedded engines the semantic cache needs.)"""
    import numpy as np

    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


class SemanticIndex:
    def __init__(
        self, embed: Embed, max_entries: int = 10_000, per_context: int = 256, clock: Any = None
    ) -> None:
        self.embed = embed
        self.max_entries = max_entries
        self.per_context = per_context
        self.clock = clock or time.monotonic
        self.size = 0
        self._contexts: OrderedDict[str, _Context] = OrderedDict()

    async def find(
        self, scope: str, model: str, body: dict[str, Any], threshold: float
    ) -> tuple[str | None, Pending | None]:
        """The cache key of a matching earlier request (or None), and what to index for
        this one once its answer is stored."""
        parts = split_request(body)
        if parts is None:
            return None, None
        rest, text = parts
        context = hashlib.sha256(scope.encode() + b"\0" + model.encode() + b"\0" + rest).hexdigest()
        vector = await self.embed(text)
        if vector is None:
            return None, None
        pending = Pending(context, unit(vector), Marks.of(text))
        return self._best(pending, threshold), pending

    def _best(self, pending: Pending, threshold: float) -> str | None:
        found = self._contexts.get(pending.context)
        if found is None:
            return None
        now = self.clock()
        candidates = [e for e in found.entries if e.expires > now and e.marks.agree(pending.marks)]
        if not candidates:
            return None
        import numpy as np

        similarities = np.stack([e.vector for e in candidates]) @ pending.vector
        best = int(np.argmax(similarities))
        return candidates[best].key if similarities[best] >= threshold else None

    def add(self, pending: Pending, key: str, ttl: float) -> None:
        context = self._contexts.get(pending.context)
        if context is None:
            context = self._contexts[pending.context] = _Context()
        self._contexts.move_to_end(pending.context)
        now = self.clock()
        before = len(context.entries)
        context.entries = [e for e in context.entries if e.expires > now][-self.per_context + 1 :]
        context.entries.append(_Entry(key, pending.vector, pending.marks, now + ttl))
        self.size += len(context.entries) - before
        while self.size > self.max_entries and self._contexts:
            _, evicted = self._contexts.popitem(last=False)
            self.size -= len(evicted.entries)
