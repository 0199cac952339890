"""A caller who leaves stops the work of every engine kind and frees its slot: with one
slot and room for one more in the queue, a follow-up request is served right after, and
the abandoned work stopped early (counted at the engine's inner step).

Leaving is what aiohttp does when a client disconnects: the handler's task is cancelled
(streams: the chunk iterator is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aiport.backends.base import Call, Upload
from aiport.backends.local import diffusion, transcription
from aiport.backends.local.chat import LlamaChatBackend
from aiport.backends.local.diffusion import DiffusionBackend
from aiport.backends.local.embeddings import MiniLMEmbeddingsBackend
from aiport.backends.local.images import SceneImageBackend
from aiport.backends.local.moderation import ModerationBackend
from aiport.backends.local.sketch import render
from aiport.backends.local.speech import PiperSpeechBackend
from aiport.backends.local.transcription import TINY_EN, WhisperBackend
from aiport.protocol.audio import SpeechRequest, TranscriptionRequest
from aiport.protocol.chat import ChatCompletionRequest
from aiport.protocol.common import WireModel
from aiport.protocol.embeddings import EmbeddingRequest
from aiport.protocol.images import ImageRequest
from aiport.protocol.moderations import ModerationRequest
from tests.test_local_images_diffusion import fake_engine, write_safetensors

ONE_SLOT = {"concurrency": 1, "queue_size": 1}


def call(
    wire: type[WireModel], body: dict[str, Any], upload: Upload | None = None, model: str = "m"
) -> Call:
    return Call.from_body(wire, body, model, public_model="m", upload=upload, key_id="k")


class Counter:
    """Wraps `owner.name` and counts the calls that reach it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.count = 0
        inner = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return inner(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)


async def leave_when(task: asyncio.Task[Any], started: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not started():
        assert time.monotonic() < deadline, "the work never started"
        assert not task.done(), "the work finished before it could be left"
        await asyncio.sleep(0.005)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = LlamaChatBackend(n_ctx=512, **ONE_SLOT)
    await backend.start()
    try:
        body = {"messages": [{"role": "user", "content": "Tell a long story."}], "model": "m"}
        stream = backend.chat_stream(
            call(ChatCompletionRequest, body | {"max_tokens": 400, "stream": True})
        )
        received = 0
        async for _ in stream:
            received += 1
            if received == 5:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        assert backend.runner.busy == 0  # the generation stopped within a token
        answer = await backend.chat(call(ChatCompletionRequest, body | {"max_tokens": 4}))
        assert answer.usage.completion_tokens <= 4
    finally:
        await backend.close()


async def test_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MiniLMEmbeddingsBackend(**ONE_SLOT)
    await backend.start()
    try:
        encoded = Counter(monkeypatch, backend.model, "encode_counted")
        texts = [f"sentence {i} is about the weather in town" for i in range(2000)]
        big = asyncio.create_task(
            backend.embeddings(call(EmbeddingRequest, {"input": texts, "model": "m"}))
        )
        await leave_when(big, lambda: encoded.count >= 2)
        answer = await backend.embeddings(call(EmbeddingRequest, {"input": "hello", "model": "m"}))
        assert len(answer.data["data"]) == 1
        assert encoded.count < 20  # of about 80 batches
        assert backend.status()["busy"] == 0
    finally:
        await backend.close()


async def test_moderation(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = ModerationBackend(**ONE_SLOT)
    await backend.start()
    try:
        judged = Counter(monkeypatch, backend.model, "classify")
        texts = [f"Line {i}: the weather is nice today and we go for a walk." for i in range(800)]
        big = asyncio.create_task(
            backend.moderate(call(ModerationRequest, {"input": texts, "model": "m"}))
        )
        await leave_when(big, lambda: judged.count >= 1)
        answer = await backend.moderate(call(ModerationRequest, {"input": "hello", "model": "m"}))
        assert len(answer.data["results"]) == 1
        assert judged.count < 10  # of 50 batches
        assert backend.status()["busy"] == 0
    finally:
        await backend.close()


async def test_images(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = SceneImageBackend(**ONE_SLOT)
    await backend.start()
    try:
        drawn = Counter(monkeypatch, render, "render_png")
        body = {"prompt": "a city at night with five cars", "n": 10, "model": "m"}
        big = asyncio.create_task(
            backend.images(call(ImageRequest, body | {"size": "1792x1024", "quality": "hd"}))
        )
        await leave_when(big, lambda: drawn.count >= 1)
        answer = await backend.images(call(ImageRequest, body | {"n": 1, "size": "256x256"}))
        assert len(answer.images) == 1
        assert drawn.count <= 3  # of 10 pictures, plus the follow-up's
    finally:
        await backend.close()


async def test_speech(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = PiperSpeechBackend(**ONE_SLOT)
    await backend.start()
    try:
        rendered = Counter(monkeypatch, backend.model, "phoneme_ids_to_audio")
        text = " ".join(f"This is sentence number {i} of a long text." for i in range(40))
        body = {"voice": "alloy", "response_format": "pcm", "model": "m"}
        audio = await backend.speech(call(SpeechRequest, body | {"input": text}))
        await audio.chunks.aclose()  # type: ignore[attr-defined]
        answer = await backend.speech(call(SpeechRequest, body | {"input": "Hello."}))
        assert [chunk async for chunk in answer.chunks]
        assert rendered.count < 10  # of 40 sentences, plus the follow-up's
    finally:
        await backend.close()


PARAGRAPH = (
    "The library opens at nine and closes at six. The train to the coast leaves every "
    "hour. A storm is expected tonight, so the ferry will stay in the harbour."
)


def spoken(path: Path, voice: Any, text: str, repeats: int = 1) -> Path:
    """`text` spoken `repeats` times with a pause after each: a recording of that length."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        voice.synthesize_wav(text, out)
    buffer.seek(0)
    with wave.open(buffer, "rb") as speech:
        rate, frames = speech.getframerate(), speech.readframes(speech.getnframes())
    pause = np.zeros(rate, dtype=np.int16).tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((frames + pause) * repeats)
    return path


async def test_transcription(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    speech = PiperSpeechBackend()
    backend = WhisperBackend(model_id=TINY_EN, beam_size=1, **ONE_SLOT)
    await asyncio.gather(speech.start(), backend.start())
    try:
        long_wav = spoken(tmp_path / "long.wav", speech.model, PARAGRAPH, 8)  # ~100 s
        short_wav = spoken(tmp_path / "short.wav", speech.model, "The library opens at nine.")
        segments = Counter(monkeypatch, transcription, "_segment")

        def upload(path: Path) -> Upload:
            return Upload(path, path.name, "audio/wav", path.stat().st_size)

        # One temperature: no fallback re-decoding, so each window costs the same.
        body = {"model": TINY_EN, "temperature": 0.2}
        big = asyncio.create_task(
            backend.transcribe(call(TranscriptionRequest, body, upload(long_wav), TINY_EN))
        )
        await leave_when(big, lambda: segments.count >= 1)
        answer = await backend.transcribe(
            call(TranscriptionRequest, body, upload(short_wav), TINY_EN)
        )
        assert "library" in answer.data["text"].lower()  # type: ignore[union-attr]
        assert segments.count < 16  # of about 24, the first 30-second window decoded
    finally:
        await asyncio.gather(speech.close(), backend.close())


def endless_engine(conn: Any, init: dict[str, Any]) -> None:
    """A diffusion engine that never finishes a picture."""
    conn.send(("ready", None))
    conn.recv()
    time.sleep(3600)


async def test_diffusion(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(diffusion, "engine_installed", lambda: True)
    monkeypatch.setattr(diffusion, "_serve_engine", endless_engine)
    model = write_safetensors(tmp_path / "model.safetensors")
    backend = DiffusionBackend(model_path=str(model), concurrency=1, queue_size=1)
    await backend.start()
    try:
        stuck = backend.model
        assert stuck is not None
        big = asyncio.create_task(
            backend.images(call(ImageRequest, {"prompt": "a fox", "model": "m"}))
        )
        await leave_when(big, lambda: backend.runner.busy == 1)
        await asyncio.sleep(0.2)  # it is generating now
        monkeypatch.setattr(diffusion, "_serve_engine", fake_engine)
        answer = await backend.images(call(ImageRequest, {"prompt": "a fox", "model": "m"}))
        assert len(answer.images) == 1
        assert not stuck.alive  # the abandoned generation was stopped, not left running
    finally:
        await backend.close()
