"""A deployment: one place a model group's requests can go, and what is known about it.

`Deployment` is the group's view (weight, priority tier, the name the backend knows the
model by, timeouts); `Health` is what every group naming the same backend and model shares:
its breaker, requests in flight, latency, provider quota, and a `retry-after` it asked for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import quote

from aiport.backends.base import Backend, CallTimeouts
from aiport.routing.breaker import Breaker
from aiport.routing.config import Timeouts
from aiport.routing.policy import Policy
from aiport.routing.quota import ProviderQuota

EWMA_ALPHA = 0.3
MAX_HEADER = 200


@dataclass(slots=True)
class Latency:
    """Exponentially weighted moving average of seconds; None until a first sample."""

    value: float | None = None

    def add(self, seconds: float) -> None:
        if self.value is None:
            self.value = seconds
        else:
            self.value += EWMA_ALPHA * (seconds - self.value)


@dataclass(eq=False, slots=True)
class Health:
    """Shared by every group that names this deployment (`id`)."""

    id: str
    breaker: Breaker
    max_in_flight: int | None = None
    quota: ProviderQuota | None = None
    in_flight: int = 0
    cool_until: float = 0.0  # a retry-after the deployment asked for (Unix time)
    down: str | None = None  # why its backend failed to start
    ejections: int = 0  # trips of its breaker here, ever (for metrics)
    latency: dict[bool, Latency] = field(
        default_factory=lambda: {False: Latency(), True: Latency()}
    )
    groups: list[Group] = field(default_factory=list)
    header: str = ""
    backend: str = ""  # its backend's name
    last_status: int | None = None  # how the last request sent here ended (None: none yet)
    last_at: float = 0.0  # when (Unix time)

    def __post_init__(self) -> None:
        self.header = quote(self.id[:MAX_HEADER], safe="/:@._-+~!$&'()*,;=")

    def at_capacity(self) -> bool:
        return self.max_in_flight is not None and self.in_flight >= self.max_in_flight

    def ready(self, now: float) -> bool:
        """Usable, not asked to wait, with room: what most picks need to know, quickly."""
        return (
            self.down is None
            and (self.breaker.state == "closed" or self.breaker.available())
            and self.cool_until <= now
            and (self.max_in_flight is None or self.in_flight < self.max_in_flight)
        )

    def usable(self) -> bool:
        """Neither down nor ejected (a half-open probe slot counts as usable)."""
        return self.down is None and self.breaker.available()

    def ended(self, status: int) -> None:
        """A request sent here ended with `status` (what aiport knows of it: it never asks
        a deployment anything just to learn whether it answers)."""
        self.last_status, self.last_at = status, time.time()

    def last_request(self) -> dict[str, float] | None:
        if self.last_status is None:
            return None
        ago = max(0.0, time.time() - self.last_at)
        return {
            "status": self.last_status,
            "at": round(self.last_at, 3),
            "seconds_ago": round(ago, 1),
        }

    def report(self) -> dict[str, object]:
        report: dict[str, object] = {
            "id": self.id,
            **self.breaker.report(),
            "last_request": self.last_request(),
            "in_flight": self.in_flight,
            "latency_ms": {
                "answer": _ms(self.latency[False].value),
                "stream_first_chunk": _ms(self.latency[True].value),
            },
        }
        cool = self.cool_until - time.time()
        if cool > 0:
            report["rate_limited_seconds"] = round(cool, 3)
        if self.down is not None:
            report["state"] = "down"
        return report


def with_overrides(base: CallTimeouts, override: Timeouts | None) -> CallTimeouts:
    """`base` with the values `override` sets."""
    if override is None:
        return base
    return CallTimeouts(
        connect=override.connect or base.connect,
        first_byte=override.first_byte or base.first_byte,
        idle=override.idle or base.idle,
        total=override.total or base.total,
        stream_total=override.stream_total or base.stream_total,
    )


def within(timeouts: CallTimeouts, seconds: float) -> CallTimeouts:
    """`timeouts` with no wait for an answer past `seconds` from now (a stream's length,
    once it began, is its own: the deadline bounds attempts, not what they deliver)."""
    seconds = max(0.001, seconds)
    if timeouts.total <= seconds and timeouts.first_byte <= seconds:
        return timeouts
    return CallTimeouts(
        connect=min(timeouts.connect, seconds),
        first_byte=min(timeouts.first_byte, seconds),
        idle=timeouts.idle,
        total=min(timeouts.total, seconds),
        stream_total=timeouts.stream_total,
    )


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 3) if seconds is not None else None


@dataclass(eq=False, slots=True)
class Deployment:
    """A group member. `backend` and `model` make it usable wherever a `Target` is."""

    backend: Backend
    model: str
    health: Health
    timeouts: CallTimeouts
    weight: float = 1.0
    priority: int = 0

    @property
    def id(self) -> str:
        return self.health.id

    @property
    def header(self) -> str:
        """The id as a header value: visible ASCII only (model names come from callers)."""
        return self.health.header


@dataclass(eq=False, slots=True)
class Group:
    """A public model name's deployments (by priority tier) and its routing policy."""

    name: str
    deployments: list[Deployment]
    policy: Policy
    tiers: list[list[Deployment]] = field(init=False)

    def __post_init__(self) -> None:
        tiers: dict[int, list[Deployment]] = {}
        for deployment in self.deployments:
            tiers.setdefault(deployment.priority, []).append(deployment)
        self.tiers = [tiers[p] for p in sorted(tiers)]
        for deployment in self.deployments:
            deployment.health.groups.append(self)
            timeouts = with_overrides(deployment.timeouts, self.policy.timeouts)
            # No one attempt may outlast the request's deadline (so a first attempt, which
            # starts with the whole deadline ahead, needs no clamping at run time).
            deployment.timeouts = within(timeouts, self.policy.deadline)
