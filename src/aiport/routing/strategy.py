"""Choosing one deployment among the usable ones of a priority tier.

- `weighted` (the default): random, in proportion to `weight` — no shared state needed, so
  several instances spread load the same way (LiteLLM's `simple-shuffle`).
- `least_in_flight`: the fewest requests in flight per unit of weight, ties at random.
- `lowest_latency`: the lowest moving average of latency (time to the first chunk for
  streams, to the whole answer otherwise), chosen at random among those within 10% of the
  best, so near-equals share the load (LiteLLM learnt this: `lowest_latency_buffer`).
  Deployments without a sample are tried first, and one request in 20 goes to a random one
  so that a deployment that was slow once gets measured again.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from aiport.routing.config import Strategy
from aiport.routing.deployment import Deployment

LATENCY_BUFFER = 0.10
EXPLORE = 0.05


def weighted(candidates: Sequence[Deployment], stream: bool, rng: random.Random) -> Deployment:
    if len(candidates) == 1:
        return candidates[0]
    total = 0.0
    for deployment in candidates:
        total += deployment.weight
    point = rng.random() * total
    for deployment in candidates:
        point -= deployment.weight
        if point < 0:
            return deployment
    return candidates[-1]


def least_in_flight(
    candidates: Sequence[Deployment], stream: bool, rng: random.Random
) -> Deployment:
    load = {d: d.health.in_flight / d.weight for d in candidates}
    lowest = min(load.values())
    return rng.choice([d for d in candidates if load[d] == lowest])


def lowest_latency(
    candidates: Sequence[Deployment], stream: bool, rng: random.Random
) -> Deployment:
    unmeasured = [d for d in candidates if d.health.latency[stream].value is None]
    if unmeasured:
        return rng.choice(unmeasured)
    if rng.random() < EXPLORE:
        return rng.choice(candidates)
    latencies = {d: d.health.latency[stream].value or 0.0 for d in candidates}
    best = min(latencies.values())
    return rng.choice([d for d in candidates if latencies[d] <= best * (1 + LATENCY_BUFFER)])


STRATEGIES: dict[Strategy, Callable[[Sequence[Deployment], bool, random.Random], Deployment]] = {
    "weighted": weighted,
    "least_in_flight": least_in_flight,
    "lowest_latency": lowest_latency,
}
