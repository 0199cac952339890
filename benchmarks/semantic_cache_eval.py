"""How often the semantic cache finds a paraphrase, and how often it answers a different
question, on the pair set kept in `tests/data/semantic_cache_pairs.jsonl`.

Each pair is a first question (cached) and a second one (looked up): `same` pairs are
paraphrases that should hit, the others are near misses (another city, number, tense,
direction) that must not. Embeddings come from the embedded MiniLM engine, as in the server.

    .venv/bin/python benchmarks/semantic_cache_eval.py [--thresholds 0.85,0.9,0.95]

Prints, per threshold, the hit rate on paraphrases and the false-hit rate on near misses,
with aiport's guard (numbers and names must agree) and without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from aiport.backends.local.embeddings import MiniLMEmbeddingsBackend
from aiport.routing.cache import embedder
from aiport.routing.semantic import Marks, SemanticIndex

NO_MARKS = Marks((), ())
PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "semantic_cache_pairs.jsonl"


def load_pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]


def body(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], "temperature": 0}


async def rates(
    pairs: list[dict[str, Any]], threshold: float, embed: Any, guard: bool
) -> tuple[float, float]:
    """(hit rate on paraphrases, false-hit rate on near misses)."""
    hits = {True: 0, False: 0}
    for pair in pairs:
        index = SemanticIndex(embed)
        _, pending = await index.find("k", "m", body(pair["a"]), threshold)
        assert pending is not None
        if not guard:
            pending.marks = NO_MARKS
        index.add(pending, "first", ttl=60)
        _, probe = await index.find("k", "m", body(pair["b"]), threshold)
        assert probe is not None
        if not guard:
            probe.marks = NO_MARKS
        hits[pair["same"]] += index._best(probe, threshold) == "first"
    same = sum(1 for p in pairs if p["same"])
    return hits[True] / same, hits[False] / (len(pairs) - same)


async def evaluate(thresholds: list[float]) -> list[tuple[float, float, float, float, float]]:
    engine = MiniLMEmbeddingsBackend()
    await engine.start()
    embed = embedder(engine)
    cached: dict[str, Any] = {}

    async def memo(text: str) -> Any:
        if text not in cached:
            cached[text] = await embed(text)
        return cached[text]

    pairs = load_pairs()
    rows = []
    for threshold in thresholds:
        guarded = await rates(pairs, threshold, memo, guard=True)
        bare = await rates(pairs, threshold, memo, guard=False)
        rows.append((threshold, *guarded, *bare))
    await engine.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", default="0.80,0.85,0.88,0.90,0.92,0.95")
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    pairs = load_pairs()
    same = sum(1 for p in pairs if p["same"])
    print(f"{len(pairs)} pairs: {same} paraphrases, {len(pairs) - same} near misses")
    print(f"{'threshold':>9} {'hit rate':>9} {'false hits':>10}   without the guard")
    for threshold, hit, false, bare_hit, bare_false in asyncio.run(evaluate(thresholds)):
        print(
            f"{threshold:9.2f} {hit:9.1%} {false:10.1%}   "
            f"hit {bare_hit:.1%}, false {bare_false:.1%}"
        )


if __name__ == "__main__":
    main()
