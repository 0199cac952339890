"""Speech streams while it is synthesised, and stops when its consumer goes away."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("piper")
pytest.importorskip("av")

from aiport.backends.base import BinaryBody, Call
from aiport.backends.local.speech import PiperSpeechBackend
from aiport.errors import Overloaded
from aiport.protocol.audio import SpeechRequest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

SENTENCES = [
    "Late that evening, the lighthouse keeper climbed the stairs.",
    "Rain had fallen since the morning.",
    "Far below, the boats rocked in the harbour.",
    "He lit the lamp and wound the clock.",
    "A gull cried once and then was silent.",
    "By midnight the wind had turned to the north.",
]
LONG_TEXT = " ".join(SENTENCES * 2)  # twelve sentences, about forty seconds of speech


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[PiperSpeechBackend]:
    backend = PiperSpeechBackend()
    await backend.start()
    yield backend
    await backend.close()


@pytest.fixture
def pieces_rendered(backend: PiperSpeechBackend, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pieces the engine synthesises (one entry per call)."""
    voice = backend.model
    real = voice.phoneme_ids_to_audio
    calls: list[int] = []

    def counting(ids: list[int], *args: Any, **kwargs: Any) -> Any:
        calls.append(len(ids))
        return real(ids, *args, **kwargs)

    monkeypatch.setattr(voice, "phoneme_ids_to_audio", counting)
    return calls


async def speak(backend: PiperSpeechBackend, text: str, fmt: str = "mp3") -> BinaryBody:
    return await backend.speech(
        Call.from_body(
            SpeechRequest,
            {"input": text, "voice": "fable", "response_format": fmt},
            "piper-en-us-joe-medium",
            public_model="tts-1",
        )
    )


async def test_first_audio_arrives_long_before_synthesis_ends(
    backend: PiperSpeechBackend, pieces_rendered: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Synthesis waits before its second piece until the first audio has reached us: a
    # backend that sent nothing before the end would keep it waiting (here, for a minute).
    first_heard = threading.Event()
    voice = backend.model
    counting = voice.phoneme_ids_to_audio

    def held_after_the_first(ids: list[int], *args: Any, **kwargs: Any) -> Any:
        if pieces_rendered:
            first_heard.wait(timeout=60)
        return counting(ids, *args, **kwargs)

    monkeypatch.setattr(voice, "phoneme_ids_to_audio", held_after_the_first)
    result = await speak(backend, LONG_TEXT)
    arrivals = []  # pieces synthesised when each chunk arrived
    async for chunk in result.chunks:
        assert chunk
        arrivals.append(len(pieces_rendered))
        first_heard.set()

    # Twelve sentences, the first split at its comma: thirteen pieces, a chunk each.
    assert len(pieces_rendered) == len(SENTENCES) * 2 + 1
    assert len(arrivals) >= len(SENTENCES) * 2
    assert arrivals[0] == 1, arrivals  # the first piece's audio, before the second began


async def test_closing_the_stream_stops_synthesis_and_frees_the_model(
    backend: PiperSpeechBackend, pieces_rendered: list[int]
) -> None:
    result = await speak(backend, LONG_TEXT, fmt="opus")
    assert backend.runner.busy == 1
    await anext(result.chunks)
    await result.chunks.aclose()  # type: ignore[attr-defined]

    assert backend.runner.busy == 0
    # The worker stops before the next sentence: a piece or two at most was in flight.
    assert len(pieces_rendered) <= 3
    rendered = len(pieces_rendered)
    await asyncio.sleep(0.3)
    assert len(pieces_rendered) == rendered


async def test_cancelling_the_consumer_stops_synthesis(
    backend: PiperSpeechBackend, pieces_rendered: list[int]
) -> None:
    result = await speak(backend, LONG_TEXT, fmt="pcm")
    got_first = asyncio.Event()

    async def consume() -> None:
        async for _ in result.chunks:
            got_first.set()

    task = asyncio.create_task(consume())
    await got_first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert backend.runner.busy == 0
    assert len(pieces_rendered) <= 3


async def test_a_full_queue_is_refused_before_any_audio_is_sent() -> None:
    backend = PiperSpeechBackend(queue_size=0, load_at_start=False)
    await backend.start()
    assert backend.status()["loaded"] is False
    try:
        busy = await speak(backend, LONG_TEXT)  # loads lazily, then holds the only slot
        with pytest.raises(Overloaded):
            await speak(backend, "Hello.")
        await busy.chunks.aclose()  # type: ignore[attr-defined]

        after = await speak(backend, "Hello.")
        assert [chunk async for chunk in after.chunks]
        assert backend.runner.busy == 0
    finally:
        await backend.close()
