"""A circuit breaker per deployment: closed → open (cooling down) → half-open → closed.

It trips after `consecutive_failures` failures in a row, or when at least `min_requests`
requests in the last `window` seconds failed at `failure_ratio` or more (requests are
counted from a first failure on: a healthy deployment costs no counting). An open breaker
keeps its deployment out of rotation for a cool-down that doubles with each trip in a row
(`cooldown`, `2·cooldown`, … up to `cooldown_max`) and starts again from `cooldown` once the
deployment has stayed healthy for `cooldown_max`. After the cool-down it is half-open: up
to `half_open_probes` requests at a time try it; one success closes it, one failure opens
it again for longer.

Whether a trip may happen at all (never the last healthy deployment of a group) is the
router's decision, not the breaker's: see `table.Router.may_eject`. Times are Unix seconds
so that instances sharing state through Redis agree on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from aiport.routing.config import BreakerConfig

State = Literal["closed", "open", "half_open"]
BUCKETS = 6  # the ratio window, in this many slices


class Breaker:
    def __init__(self, config: BreakerConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.state: State = "closed"
        self.open_until = 0.0
        self.trips = 0
        self.last_trip = 0.0
        self.consecutive = 0
        self.probes = 0
        self._slice = config.window / BUCKETS
        self._buckets: list[list[int]] = [[0, 0] for _ in range(BUCKETS)]  # [failures, total]
        self._bucket_at = [0] * BUCKETS
        self._counting_until = 0.0  # requests are counted until a window after a failure

    # -- routing ---------------------------------------------------------------------

    def available(self) -> bool:
        """May a request go to this deployment now (counting a half-open probe slot)?"""
        if self.state == "closed":
            return True
        if self.state == "open":
            if self.clock() < self.open_until:
                return False
            self.state, self.probes = "half_open", 0
        return self.probes < self.config.half_open_probes

    def started(self) -> None:
        """A request was sent; in half-open state it takes a probe slot."""
        if self.state == "half_open":
            self.probes += 1

    def retry_in(self) -> float:
        """Seconds until this deployment takes requests again (0 when it does now)."""
        if self.state != "open":
            return 0.0
        return max(0.0, self.open_until - self.clock())

    # -- outcomes --------------------------------------------------------------------

    def success(self) -> bool:
        """Record a success; True when it closed the breaker."""
        self.consecutive = 0
        if self._counting_until:
            if self.clock() < self._counting_until:
                self._count(failed=False)
            else:
                self._counting_until = 0.0
        if self.state == "closed":
            return False
        self._close()
        return True

    def failure(self) -> bool:
        """Record a failure; True when the breaker should trip now (see `trip`)."""
        self.consecutive += 1
        self._counting_until = self.clock() + self.config.window
        self._count(failed=True)
        if self.state == "half_open":
            return True
        if self.state == "open":
            return False
        if self.consecutive >= self.config.consecutive_failures:
            return True
        failures, total = self._totals()
        return total >= self.config.min_requests and failures >= self.config.failure_ratio * total

    def neutral(self) -> None:
        """A request that said nothing about health (the client left, a 400): frees its
        probe slot so that the next request can probe."""
        if self.state == "half_open" and self.probes > 0:
            self.probes -= 1

    def trip(self) -> float:
        """Open for the next cool-down; returns its length in seconds."""
        now = self.clock()
        if now - self.last_trip > self.config.cooldown_max + self._cooldown():
            self.trips = 0  # healthy long enough: forget earlier trips
        self.trips += 1
        self.last_trip = now
        seconds = self._cooldown()
        self.open(now + seconds, self.trips)
        return seconds

    def open(self, until: float, trips: int) -> None:
        """Open until `until` (also how another instance's trip arrives)."""
        self.state, self.open_until, self.trips, self.probes = "open", until, trips, 0
        self.last_trip = max(self.last_trip, until - self._cooldown())
        self.consecutive = 0
        self._reset_window()

    def close(self) -> None:
        """Closed (also how another instance's recovery arrives)."""
        if self.state != "closed":
            self._close()

    def _close(self) -> None:
        self.state, self.probes, self.consecutive = "closed", 0, 0
        self._reset_window()

    def _cooldown(self) -> float:
        return min(self.config.cooldown_max, self.config.cooldown * 2 ** max(0, self.trips - 1))

    # -- the ratio window ------------------------------------------------------------

    def _count(self, failed: bool) -> None:
        tick = int(self.clock() / self._slice)
        index = tick % BUCKETS
        if self._bucket_at[index] != tick:
            self._bucket_at[index] = tick
            self._buckets[index] = [0, 0]
        bucket = self._buckets[index]
        bucket[0] += failed
        bucket[1] += 1

    def _totals(self) -> tuple[int, int]:
        tick = int(self.clock() / self._slice)
        failures = total = 0
        for at, (f, t) in zip(self._bucket_at, self._buckets, strict=True):
            if tick - at < BUCKETS:
                failures += f
                total += t
        return failures, total

    def _reset_window(self) -> None:
        self._buckets = [[0, 0] for _ in range(BUCKETS)]
        self._bucket_at = [0] * BUCKETS
        self._counting_until = 0.0  # requests are counted until a window after a failure

    def report(self) -> dict[str, object]:
        return {
            "state": self.state if self.state != "open" or self.retry_in() > 0 else "half_open",
            "retry_in_seconds": round(self.retry_in(), 3),
            "trips": self.trips,
            "consecutive_failures": self.consecutive,
        }
