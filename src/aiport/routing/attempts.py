"""One request's attempts: pick a deployment, try it, retry or fall back, all in one deadline.

`AttemptRunner.run(group, attempt, …)` calls `attempt(deployment, group)` until one
succeeds, and returns its result with a `Lease` on the deployment that served:

- an attempt that fails with a retryable class (see `retry.py`) is tried again, on another
  deployment of the group when there is one (at once), else on the same one after a
  jittered backoff or the `retry-after` it asked for (up to `retry_after_max`);
- when the group has nothing left to try, the model's fallbacks for that kind of failure
  (`fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`) get their turn —
  only names the caller may use (`may_use`), each with its own deployments and retries;
- every attempt has its own timeout (first chunk for a stream, whole answer otherwise),
  never past the request's `deadline`.

For a stream, "succeeds" means its first chunk arrived: the caller sends nothing to its
client before that, so nothing is ever retried after a byte reached the client. The lease
stays open while the stream runs and `Lease.finish` reports how it ended.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiport.backends.base import CallTimeouts, upstream_request_id
from aiport.errors import APIError, GatewayTimeout, ModelNotFound, NoHealthyDeployment, Overloaded
from aiport.routing import retry
from aiport.routing.deployment import Deployment, Group, Health, within
from aiport.routing.strategy import STRATEGIES
from aiport.routing.table import Router

log = logging.getLogger(__name__)

T = TypeVar("T")
# (deployment, the group it is in, the timeouts this attempt has): the result
Attempt = Callable[[Deployment, Group, CallTimeouts], Awaitable[T]]
OVERLOAD_RETRY_AFTER = "1"
CLIENT_GONE = 499
RATE_LIMIT_PAUSE = 1.0  # seconds a 429 without retry-after keeps its deployment aside
EMPTY: frozenset[Health] = frozenset()


class EveryDeploymentOut(NoHealthyDeployment):
    """Every deployment of a group is out (ejected, or did not start): no attempt was made.
    `deployment` is the one it would have gone to first, which the request is labelled
    with (usage row, metrics) as if that attempt had failed."""

    def __init__(self, message: str, deployment: Deployment, retry_after: int) -> None:
        super().__init__(message, headers={"retry-after": str(retry_after)})
        self.deployment = deployment


@dataclass(slots=True)
class AttemptRecord:
    """For the access log and the usage row: where an attempt went and how it ended."""

    deployment: str
    status: int
    ms: float
    header: str  # the deployment as a header value
    upstream_id: str | None = None  # the upstream's own id for its answer, if it gave one

    def log_entry(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "deployment": self.deployment,
            "status": self.status,
            "ms": round(self.ms, 1),
        }
        if self.upstream_id is not None:
            entry["upstream_request_id"] = self.upstream_id
        return entry


class Lease:
    """A deployment in use by one request; `finish` once the answer (or stream) is done."""

    __slots__ = ("_runner", "_tokens", "after", "deployment", "done", "group")

    def __init__(
        self, runner: AttemptRunner, group: Group, deployment: Deployment, tokens: int
    ) -> None:
        self._runner = runner
        self._tokens = tokens
        self.group = group
        self.deployment = deployment
        self.done = False
        self.after: Callable[[], None] | None = None  # e.g. give back an in-flight slot

    def finish(self, ok: bool | None) -> None:
        """`ok`: True for a complete answer, False for a failure that is the deployment's
        (a stream it broke off), None when the outcome says nothing (the client left)."""
        if self.done:
            return
        self.done = True
        health = self.deployment.health
        health.in_flight -= 1
        if ok is False:
            self._runner.failed(health)
        if self.after is not None:
            self.after()

    def settle(self, tokens: int) -> None:
        """The real token count, for the deployment's provider tpm."""
        quota = self.deployment.health.quota
        if quota is not None and tokens != self._tokens:
            self._runner.background(asyncio.ensure_future(quota.settle(self._tokens, tokens)))


@dataclass(slots=True)
class Served(Generic[T]):
    result: T
    lease: Lease


class AttemptRunner:
    """See the module docstring. `on_change(health)` hears of every trip and recovery
    (to share breaker state between instances)."""

    def __init__(
        self,
        router: Router,
        on_change: Callable[[Health], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.router = router
        self.on_change = on_change
        self.rng = rng or random.Random()
        self._tasks: set[asyncio.Future[None]] = set()

    async def run(
        self,
        group: Group,
        attempt: Attempt[T],
        *,
        stream: bool = False,
        tokens: int = 0,
        may_use: Callable[[str], bool] = lambda name: True,
        attempts: list[AttemptRecord] | None = None,
    ) -> Served[T]:
        records = attempts if attempts is not None else []
        deadline = time.monotonic() + group.policy.deadline
        try:
            return await self._group(group, attempt, stream, tokens, deadline, records)
        except Exception as exc:
            failure: Exception = exc
        reason = retry.fallback_reason(failure)
        for name in group.policy.fallbacks_for(reason) if reason is not None else ():
            fallback = self._fallback_group(group, name, may_use)
            if fallback is None:
                continue
            if time.monotonic() >= deadline:
                break
            try:
                return await self._group(fallback, attempt, stream, tokens, deadline, records)
            except Exception as exc:
                failure = exc
            if retry.fallback_reason(failure) is None:
                break
        if len(records) > 1 and isinstance(failure, APIError):
            failure.headers["x-should-retry"] = "false"  # we retried: a client need not
        raise failure

    def _fallback_group(
        self, group: Group, name: str, may_use: Callable[[str], bool]
    ) -> Group | None:
        """The fallback's group, unless the caller's key may not use it (a scope is never
        escaped by falling back) or it does not exist."""
        if name == group.name or not may_use(name):
            return None
        try:
            return self.router.resolve(name)
        except ModelNotFound:
            log.warning("fallback `%s` of `%s` is not a model", name, group.name)
            return None

    async def _group(
        self,
        group: Group,
        attempt: Attempt[T],
        stream: bool,
        tokens: int,
        deadline: float,
        records: list[AttemptRecord],
    ) -> Served[T]:
        policy = group.policy
        tried: AbstractSet[Health] = EMPTY  # made a real set at the first failure (rarely needed)
        per_class: dict[str, int] = {}
        retries = 0
        while True:
            deployment = self._choose(group, tried, EMPTY, stream)
            if deployment.health.quota is not None:
                deployment = await self._reserve(group, tried, stream, tokens, deployment)
            health = deployment.health
            timeouts = deployment.timeouts
            if retries:  # the first attempt fits in the deadline by construction
                timeouts = within(timeouts, deadline - time.monotonic())
            health.in_flight += 1
            if health.breaker.state != "closed":
                health.breaker.started()  # a half-open probe
            started = time.perf_counter()
            upstream_request_id.set(None)  # this attempt's, once its upstream answers
            try:
                if deployment.backend.keeps_timeouts:
                    result = await attempt(deployment, group, timeouts)
                else:
                    async with asyncio.timeout(timeouts.first_byte if stream else timeouts.total):
                        result = await attempt(deployment, group, timeouts)
            except asyncio.CancelledError:
                self._record(records, deployment, CLIENT_GONE, started)
                health.in_flight -= 1
                health.breaker.neutral()
                raise
            except Exception as caught:
                failure = _timeout_as_504(caught, deployment)
            else:
                elapsed = self._record(records, deployment, 200, started)
                health.latency[stream].add(elapsed)
                if health.breaker.success() and self.on_change is not None:
                    self.on_change(health)
                lease = Lease(self, group, deployment, tokens)
                if not stream:
                    lease.finish(True)
                return Served(result, lease)
            klass = retry.error_class(failure)
            self._record(records, deployment, retry.as_api_error(failure).status, started)
            health.in_flight -= 1
            if health.quota is not None and tokens:  # the provider spent no tokens on it
                self.background(asyncio.ensure_future(health.quota.settle(tokens, 0)))
            self._judge(health, failure, klass, policy.failure_on)
            tried = {*tried, health}
            used = per_class.get(klass, 0)
            if retries >= policy.num_retries:
                raise failure
            if klass == retry.OVERLOADED:
                wait = 0.0 if self._elsewhere(group, tried) else None  # never the same one
            elif retry.retryable(failure, klass, policy.retry_on, used):
                wait = self._wait(group, health, tried, failure, retries)
            else:
                raise failure
            if wait is None or time.monotonic() + wait >= deadline:
                raise failure
            per_class[klass] = used + 1
            retries += 1
            await retry.sleep(wait)

    # -- choosing ----------------------------------------------------------------------

    async def _reserve(
        self,
        group: Group,
        tried: AbstractSet[Health],
        stream: bool,
        tokens: int,
        chosen: Deployment,
    ) -> Deployment:
        """`chosen`, or another one, whose provider quota (rpm/tpm) takes this request."""
        full: set[Health] = set()
        while True:
            quota = chosen.health.quota
            if quota is None or await quota.reserve(tokens):
                return chosen
            full.add(chosen.health)  # at its provider's rpm/tpm: another one
            chosen = self._choose(group, tried, full, stream)

    def _choose(
        self, group: Group, tried: AbstractSet[Health], full: AbstractSet[Health], stream: bool
    ) -> Deployment:
        """Untried ones first, tier by tier, and those not asked to wait before those
        that were; then one already tried; else, with every deployment ejected, all of
        them (panic mode) for a group of several, or a fast 503 for a group of one."""
        now = time.time()
        choose = STRATEGIES[group.policy.strategy]
        if not tried and not full:  # the common case, kept short
            for tier in group.tiers:
                if len(tier) == 1 and tier[0].health.ready(now):
                    return tier[0]
                ready = [d for d in tier if d.health.ready(now)]
                if ready:
                    return ready[0] if len(ready) == 1 else choose(ready, stream, self.rng)
        for fresh_only, cooled_only in ((True, True), (False, True), (False, False)):
            for tier in group.tiers:
                candidates = [
                    d
                    for d in tier
                    if d.health not in full
                    and not (fresh_only and d.health in tried)
                    and not (cooled_only and d.health.cool_until > now)
                    and d.health.usable()
                    and not d.health.at_capacity()
                ]
                if candidates:
                    return choose(candidates, stream, self.rng)
        return self._panic(group, full, stream)

    def _panic(self, group: Group, full: AbstractSet[Health], stream: bool) -> Deployment:
        alive = [d for d in group.deployments if d.health.down is None]
        room = [d for d in alive if not d.health.at_capacity() and d.health not in full]
        if not room and alive:
            raise Overloaded(
                f"Every deployment of `{group.name}` is at its limit; retry shortly.",
                headers={"retry-after": OVERLOAD_RETRY_AFTER},
            )
        if len(group.deployments) > 1 and room:
            return STRATEGIES[group.policy.strategy](room, stream, self.rng)
        waits = [d.health.breaker.retry_in() for d in group.deployments]
        reasons = {d.health.down for d in group.deployments if d.health.down}
        retry_after = max(1, round(min(waits, default=1))) if not reasons else 60
        why = f": {reasons.pop()}" if reasons else " after repeated failures"
        raise EveryDeploymentOut(
            f"The model `{group.name}` is unavailable{why}; retry in {retry_after} s.",
            group.tiers[0][0],
            retry_after,
        )

    def _wait(
        self, group: Group, health: Health, tried: AbstractSet[Health], exc: Exception, retries: int
    ) -> float | None:
        """Seconds before the next attempt, or None when no wait within the cap helps."""
        policy = group.policy
        asked = retry.retry_after(exc)
        if asked is not None or retry.error_class(exc) == "429":
            pause = asked if asked is not None else RATE_LIMIT_PAUSE
            health.cool_until = max(health.cool_until, time.time() + pause)
        if self._elsewhere(group, tried):
            return 0.0  # another deployment: no reason to wait
        if asked is not None and asked > policy.retry_after_max:
            return None
        jitter = retry.backoff(retries, policy.backoff_base, policy.backoff_max, self.rng)
        return max(jitter, asked or 0.0)

    def _elsewhere(self, group: Group, tried: AbstractSet[Health]) -> bool:
        """Whether a deployment not tried yet (nor asked to wait) could take the request."""
        now = time.time()
        return any(
            d.health not in tried and d.health.cool_until <= now and d.health.usable()
            for d in group.deployments
        )

    # -- outcomes ----------------------------------------------------------------------

    def _judge(
        self, health: Health, exc: Exception, klass: str, failure_on: frozenset[str]
    ) -> None:
        if klass in failure_on and retry.error_code(exc) != "context_length_exceeded":
            self.failed(health)
        else:
            health.breaker.neutral()

    def failed(self, health: Health) -> None:
        if health.breaker.failure() and self.router.may_eject(health):
            seconds = health.breaker.trip()
            health.ejections += 1
            log.warning("deployment %s ejected for %.1f s", health.id, seconds)
            if self.on_change is not None:
                self.on_change(health)

    def _record(
        self, records: list[AttemptRecord], deployment: Deployment, status: int, started: float
    ) -> float:
        """Note an attempt; returns how long it took, in seconds."""
        elapsed = time.perf_counter() - started
        records.append(
            AttemptRecord(
                deployment.id, status, elapsed * 1000, deployment.header, upstream_request_id.get()
            )
        )
        if status != CLIENT_GONE:  # (a client that left says nothing of the deployment)
            deployment.health.ended(status)
        return elapsed

    def background(self, task: asyncio.Future[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _timeout_as_504(exc: Exception, deployment: Deployment) -> Exception:
    if isinstance(exc, TimeoutError) and not isinstance(exc, APIError):
        timeout = GatewayTimeout(f"The deployment `{deployment.id}` did not answer in time.")
        timeout.__cause__ = exc
        return timeout
    return exc
