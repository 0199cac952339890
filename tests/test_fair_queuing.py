"""Several keys waiting for one engine are served in turn; requests that arrive together
share one model call (micro-batching), still in turn by key."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aiport.backends.local.batcher import MicroBatcher
from aiport.backends.local.runner import Emitter, FairSlots, ModelRunner
from aiport.errors import Overloaded


async def test_a_second_key_goes_before_the_rest_of_a_flood() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")  # busy
    order: list[str] = []

    async def one(key: str, index: int) -> None:
        await slots.acquire(key)
        order.append(f"{key}{index}")
        slots.release()

    flood = [asyncio.create_task(one("a", i)) for i in range(5)]
    await asyncio.sleep(0)
    late = asyncio.create_task(one("b", 0))
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*flood, late)
    assert order == ["b0", "a0", "a1", "a2", "a3", "a4"]  # a holds the slot: b is next


async def test_two_flooding_keys_take_turns() -> None:
    slots = FairSlots(1)
    await slots.acquire("x")
    order: list[str] = []

    async def one(key: str) -> None:
        await slots.acquire(key)
        order.append(key)
        slots.release()

    tasks = [asyncio.create_task(one(key)) for key in "aaaabbbb"]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*tasks)
    assert order == list("abababab")


async def test_a_waiter_that_leaves_gives_up_its_place() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")
    leaving = asyncio.create_task(slots.acquire("a"))
    staying = asyncio.create_task(slots.acquire("b"))
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    assert slots.waiting == 1
    slots.release()
    await staying  # served, not lost to the cancelled waiter


async def test_the_runner_serves_keys_in_turn() -> None:
    runner = ModelRunner("m", concurrency=1, queue_size=16)
    gate = threading.Event()
    order: list[str] = []
    first = asyncio.create_task(runner.run(gate.wait, key="a"))
    await asyncio.sleep(0.01)
    tasks = [asyncio.create_task(runner.run(order.append, f"a{i}", key="a")) for i in range(4)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(runner.run(order.append, "b", key="b")))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *tasks)
    assert order == ["b", "a0", "a1", "a2", "a3"]
    runner.close()


async def test_a_waiting_key_goes_between_the_turns_of_a_long_call() -> None:
    """A chat request's `n` choices are turns: another key is served after the first."""
    runner = ModelRunner("m", concurrency=1, queue_size=4)
    b_waits = threading.Event()
    order: list[str] = []

    def part(emitter: Emitter, name: str) -> None:
        emitter.emit(name)
        if name == "a0":
            b_waits.wait(10)  # the first turn ends only once b waits for the slot

    async def let_b_wait() -> None:
        other = asyncio.create_task(runner.run(order.append, "b", key="b"))
        while not runner._slots.waiting:
            await asyncio.sleep(0.001)
        b_waits.set()
        await other

    b: asyncio.Task[None] | None = None
    async for name in runner.stream_turns(part, [("a0",), ("a1",), ("a2",)], key="a"):
        order.append(name)
        b = b or asyncio.create_task(let_b_wait())
    assert b is not None
    await b
    assert order == ["a0", "b", "a1", "a2"]
    assert runner.busy == 0
    runner.close()


async def test_a_call_left_between_its_turns_frees_its_place() -> None:
    runner = ModelRunner("m", concurrency=1, queue_size=4)
    first_part_may_end, b_runs, gate = threading.Event(), threading.Event(), threading.Event()
    got: list[str] = []

    def b_work() -> bool:
        b_runs.set()
        return gate.wait(10)

    def part(emitter: Emitter, name: str) -> None:
        emitter.emit(name)
        first_part_may_end.wait(10)

    async def consume() -> None:
        async for name in runner.stream_turns(part, [("a0",), ("a1",)], key="a"):
            got.append(name)

    async def until(condition: Callable[[], bool]) -> None:
        while not condition():
            await asyncio.sleep(0.001)

    leaving = asyncio.create_task(consume())
    await until(lambda: got == ["a0"])
    other = asyncio.create_task(runner.run(b_work, key="b"))
    await until(lambda: runner._slots.waiting == 1)  # b waits for a's first part
    first_part_may_end.set()
    await until(lambda: b_runs.is_set() and runner._slots.waiting == 1)  # a waits its turn
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert runner.busy == 1  # only b
    gate.set()
    assert await other
    assert await runner.run(len, "free", key="c") == 4  # the slot is free again
    assert got == ["a0"] and runner.busy == 0
    runner.close()


def doubled(items: list[int]) -> list[int]:
    return [2 * item for item in items]


async def test_jobs_that_arrive_together_share_one_call() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(
        ModelRunner("m"), doubled, max_items=16, max_weight=16, weight=lambda _: 1
    )
    results = await asyncio.gather(*(batcher.submit([i]) for i in range(16)))
    assert results == [[2 * i] for i in range(16)]
    assert batcher.batches <= 2  # the first may leave alone, before the rest arrived


async def test_a_flooding_key_holds_another_key_up_by_one_batch_at_most() -> None:
    calls: list[list[int]] = []

    def record(items: list[int]) -> list[int]:
        calls.append(items)
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(
        ModelRunner("m", queue_size=64), record, max_items=4, max_weight=100, weight=lambda _: 1
    )
    flood = [asyncio.create_task(batcher.submit([i], key="a")) for i in range(40)]
    await asyncio.sleep(0)
    late = asyncio.create_task(batcher.submit([1000], key="b"))
    await asyncio.gather(*flood, late)
    batch_of_b = next(i for i, items in enumerate(calls) if 1000 in items)
    assert batch_of_b <= 1, calls


async def test_a_full_batcher_refuses_at_once_and_a_left_job_is_dropped() -> None:
    gate = threading.Event()
    seen: list[int] = []

    def slow(items: list[int]) -> list[int]:
        gate.wait()
        seen.extend(items)
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(
        ModelRunner("m", queue_size=1), slow, max_items=1, max_weight=1, weight=lambda _: 1
    )
    running = asyncio.create_task(batcher.submit([1]))
    await asyncio.sleep(0.05)  # in the model now
    waiting = asyncio.create_task(batcher.submit([2]))
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await batcher.submit([3])
    waiting.cancel()
    await asyncio.sleep(0)
    follow_up = asyncio.create_task(batcher.submit([4]))  # its place is free again
    gate.set()
    assert await running == [1] and await follow_up == [4]
    assert seen == [1, 4]  # the job whose caller left never reached the model
    assert batcher.busy == 0


def steps(emitter: Emitter, name: str, done: list[int], others_wait: threading.Event) -> None:
    """A call of four steps that asks `give_way` after each; the first step lasts until
    the other calls wait."""
    while done[0] < 4:
        done[0] += 1
        emitter.emit(f"{name}{done[0]}")
        others_wait.wait(10)
        if emitter.give_way():
            return


async def take_turns(runner: ModelRunner, calls: list[tuple[str, str]]) -> list[str]:
    """Runs `(name, key)` calls of `steps`, the first alone until it made a step, and
    returns the steps in the order they were made."""
    others_wait = threading.Event()
    order: list[str] = []

    def resumed(name: str) -> Iterator[tuple[Any, ...]]:
        done = [0]
        while done[0] < 4:  # a turn that gave way is followed by the one that resumes
            yield (name, done, others_wait)

    async def call(name: str, key: str) -> None:
        async for item in runner.stream_turns(steps, resumed(name), key=key):
            order.append(item)

    first = asyncio.create_task(call(*calls[0]))
    while not order:
        await asyncio.sleep(0.001)
    others = [asyncio.create_task(call(*other)) for other in calls[1:]]
    while runner._slots.waiting < len(others):
        await asyncio.sleep(0.001)
    others_wait.set()
    await asyncio.gather(first, *others)
    assert runner.busy == 0
    runner.close()
    return order


async def test_a_long_turn_gives_way_to_another_keys_call_and_resumes_after_it() -> None:
    order = await take_turns(ModelRunner("m", concurrency=1), [("a", "a"), ("b", "b")])
    assert order[:2] == ["a1", "b1"]  # b is served after one turn of a
    assert sorted(order) == ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]


async def test_a_turn_never_gives_way_to_its_own_keys_calls() -> None:
    """Alone on the engine a key's calls run as before: one after another, whole."""
    order = await take_turns(ModelRunner("m", concurrency=1), [("a", "a"), ("A", "a")])
    assert order == ["a1", "a2", "a3", "a4", "A1", "A2", "A3", "A4"]


async def test_one_waiting_call_makes_one_running_turn_give_way() -> None:
    slots = FairSlots(2)
    await slots.acquire("a")
    await slots.acquire("a")
    assert not slots.give_way("a")  # nobody waits
    waiter = asyncio.create_task(slots.acquire("b"))
    await asyncio.sleep(0)
    assert not slots.give_way("b")  # its own call
    assert slots.give_way("a")  # one of a's turns ends for b …
    assert not slots.give_way("a")  # … and only one
    slots.release(gave_way=True)
    await waiter
    assert not slots.give_way("a") and not slots.give_way("b")


async def test_steps_give_way_to_another_key_between_two_and_go_on_after() -> None:
    """`stream_steps` (speech's sentences, transcription's windows, pictures): one
    iterator over several turns; another key's call goes between two steps."""
    runner = ModelRunner("m", concurrency=1)
    b_waits = threading.Event()
    order: list[str] = []

    def steps(name: str) -> Iterator[str | None]:
        yield f"{name}1"
        b_waits.wait(10)
        yield None  # a step that made nothing to hand over
        yield f"{name}2"

    async def call(key: str, make: Callable[..., Iterator[Any]], *args: Any) -> None:
        async for item in runner.stream_steps(make, *args, key=key):
            order.append(item)

    a = asyncio.create_task(call("a", steps, "a"))
    while not order:
        await asyncio.sleep(0.001)
    b = asyncio.create_task(call("b", iter, ["b1"]))
    while not runner._slots.waiting:
        await asyncio.sleep(0.001)
    b_waits.set()
    await asyncio.gather(a, b)
    assert order == ["a1", "b1", "a2"]
    assert runner.busy == 0
    runner.close()


async def test_a_full_engine_refuses_the_busiest_keys_newest_waiting_call_not_a_new_key() -> None:
    """One key filled running plus waiting: another key's call is not locked out; the
    busiest key's newest waiting call is refused in its place (503, as a full queue)."""
    runner = ModelRunner("m", concurrency=1, queue_size=2)
    gate = threading.Event()
    running = asyncio.create_task(runner.run(gate.wait, key="a"))
    await asyncio.sleep(0.01)
    older, newest = (asyncio.create_task(runner.run(str, i, key="a")) for i in range(2))
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):  # a's own next call: refused at once, as before
        await runner.run(str, "more", key="a")
    other = asyncio.create_task(runner.run(str, "b", key="b"))
    with pytest.raises(Overloaded) as pushed_out:
        await newest
    assert pushed_out.value.headers["retry-after"] == "1"
    with pytest.raises(Overloaded):  # a holds 2 calls, b 1: b's next is refused now
        await runner.run(str, "b again", key="b")
    gate.set()
    assert await asyncio.gather(running, older, other) == [True, "0", "b"]
    assert runner.busy == 0
    runner.close()


async def test_a_calls_later_turn_is_never_pushed_out() -> None:
    slots = FairSlots(1)
    await slots.acquire("a")
    later = asyncio.create_task(slots.acquire("a", later_turn=True))
    await asyncio.sleep(0)
    assert not slots.push_out("a", Overloaded("busy"))
    slots.release()
    await later


async def test_a_full_batcher_refuses_the_busiest_keys_newest_job_not_a_new_key() -> None:
    gate = threading.Event()

    def held(items: list[int]) -> list[int]:
        gate.wait(10)
        return items

    batcher: MicroBatcher[int, int] = MicroBatcher(
        ModelRunner("m", queue_size=2), held, max_items=1, max_weight=1, weight=lambda _: 1
    )
    running = asyncio.create_task(batcher.submit([0], key="a"))
    await asyncio.sleep(0.05)  # in the model now
    older, newest = (asyncio.create_task(batcher.submit([i], key="a")) for i in (1, 2))
    await asyncio.sleep(0)
    other = asyncio.create_task(batcher.submit([3], key="b"))
    with pytest.raises(Overloaded):
        await newest
    gate.set()
    assert await asyncio.gather(running, older, other) == [[0], [1], [3]]
    assert batcher.busy == 0
