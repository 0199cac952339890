"""Serving discipline for blocking inference: bounded admission, off the loop, cancellable."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from aiport.backends.local.runner import Emitter, ModelRunner
from aiport.errors import Overloaded


async def test_a_full_queue_is_refused_at_once_with_retry_after() -> None:
    runner = ModelRunner("m", concurrency=1, queue_size=1)
    release = threading.Event()
    running = [asyncio.create_task(runner.run(release.wait)) for _ in range(2)]
    await asyncio.sleep(0.05)
    # At once: the slot and the queue stay taken until `release`, so a call that waited for
    # room would never return (the deadline only turns that hang into a failure).
    with pytest.raises(Overloaded) as refused:
        await asyncio.wait_for(runner.run(release.wait), timeout=30)
    assert refused.value.status == 503 and refused.value.code == "server_is_overloaded"
    assert refused.value.headers["retry-after"] == "1"
    release.set()
    await asyncio.gather(*running)
    assert runner.busy == 0
    runner.close()


async def test_work_runs_off_the_event_loop() -> None:
    runner = ModelRunner("m")
    loop_thread = threading.get_ident()
    assert await runner.run(threading.get_ident) != loop_thread
    runner.close()


async def test_leaving_a_stream_early_stops_the_worker() -> None:
    runner = ModelRunner("m")
    produced: list[int] = []

    def work(emitter: Emitter) -> None:
        for i in range(1000):
            if emitter.cancelled():
                return
            produced.append(i)
            emitter.emit(i)
            time.sleep(0.005)

    stream = runner.stream(work)
    async for item in stream:
        if item == 3:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    assert len(produced) < 20
    assert runner.busy == 0
    runner.close()


async def test_a_worker_error_reaches_the_consumer() -> None:
    runner = ModelRunner("m")

    def work(emitter: Emitter) -> None:
        emitter.emit("first")
        raise ValueError("engine failed")

    received = []
    with pytest.raises(ValueError, match="engine failed"):
        async for item in runner.stream(work):
            received.append(item)
    assert received == ["first"] and runner.busy == 0
    runner.close()
