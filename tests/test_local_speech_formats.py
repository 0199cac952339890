"""Speech from the embedded Piper voice in every response format, and request checks."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import numpy as np
import pytest

pytest.importorskip("piper")
av = pytest.importorskip("av")

from aiport.backends.base import Call  # noqa: E402
from aiport.backends.local.speech import VOICE_NAMES, PiperSpeechBackend  # noqa: E402
from aiport.errors import InvalidRequest  # noqa: E402
from aiport.protocol.audio import SpeechRequest  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

TEXT = "Hello there. This is a short test of the speech endpoint."
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[PiperSpeechBackend]:
    backend = PiperSpeechBackend()
    await backend.start()
    yield backend
    await backend.close()


def call(**body: object) -> Call:
    return Call.from_body(SpeechRequest, body, "piper-en-us-joe-medium", public_model="tts-1")


async def speak(backend: PiperSpeechBackend, **body: object) -> tuple[str, bytes]:
    result = await backend.speech(call(**body))
    return result.content_type, b"".join([chunk async for chunk in result.chunks])


def decoded_seconds(data: bytes) -> tuple[int, float]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples, rate = 0, 0
        for frame in container.decode(stream):
            samples, rate = samples + frame.samples, frame.sample_rate
        return stream.codec_context.sample_rate, samples / rate


@pytest.fixture(scope="module")
async def pcm_seconds(backend: PiperSpeechBackend) -> float:
    content_type, data = await speak(backend, input=TEXT, voice="alloy", response_format="pcm")
    assert content_type == "audio/pcm"
    assert len(data) % 2 == 0
    return len(data) / 2 / 24_000


async def test_pcm_is_24khz_s16le_of_plausible_length(pcm_seconds: float) -> None:
    # Eleven words at a natural pace: two to six seconds.
    assert 2.0 < pcm_seconds < 6.0


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
async def test_format_decodes_at_24khz(
    backend: PiperSpeechBackend, pcm_seconds: float, fmt: str
) -> None:
    content_type, data = await speak(backend, input=TEXT, voice="alloy", response_format=fmt)
    assert content_type == CONTENT_TYPES[fmt]
    rate, seconds = decoded_seconds(data)
    # Opus decoders always run at 48 kHz; its header records the 24 kHz input.
    assert rate == (48_000 if fmt == "opus" else 24_000)
    # Each request is synthesised afresh (Piper's noise is random): durations vary a bit.
    assert seconds == pytest.approx(pcm_seconds, rel=0.2)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
async def test_text_with_nothing_to_say_is_a_short_silence(
    backend: PiperSpeechBackend, fmt: str
) -> None:
    """Only punctuation or white space: a playable file of a little silence, not 0 bytes
    (an empty mp3 is no audio file at all)."""
    _, data = await speak(backend, input=" ... ", voice="alloy", response_format=fmt)
    if fmt == "pcm":
        assert len(data) >= 2400 and not data.strip(b"\x00")
    else:
        assert decoded_seconds(data)[1] > 0.05


async def test_nul_bytes_are_read_as_spaces(backend: PiperSpeechBackend) -> None:
    _, data = await speak(backend, input="Hi\x00there", voice="alloy", response_format="pcm")
    assert len(data) / 2 / 24_000 > 0.3


async def test_default_format_is_mp3(backend: PiperSpeechBackend) -> None:
    content_type, data = await speak(backend, input="Hi.", voice="echo")
    assert content_type == "audio/mpeg"
    assert data[0] == 0xFF


async def test_audio_is_not_silent_and_not_clipped(backend: PiperSpeechBackend) -> None:
    _, data = await speak(backend, input=TEXT, voice="nova", response_format="pcm")
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768
    assert 0.03 < float(np.sqrt(np.mean(samples**2))) < 0.5
    assert float(np.max(np.abs(samples))) < 0.99


async def test_usage_counts_input_characters(backend: PiperSpeechBackend) -> None:
    result = await backend.speech(call(input=TEXT, voice="alloy", response_format="pcm"))
    assert result.usage.characters == len(TEXT)
    [chunk async for chunk in result.chunks]


async def test_voice_may_be_an_object_naming_a_seed_voice(backend: PiperSpeechBackend) -> None:
    content_type, data = await speak(backend, input="Hi.", voice={"id": "shimmer"})
    assert content_type == "audio/mpeg" and len(data) > 1000


async def test_openai_docs_example_voice_and_instructions(backend: PiperSpeechBackend) -> None:
    """OpenAI's own speech example: gpt-4o-mini-tts, `coral`, with `instructions`."""
    content_type, data = await speak(
        backend, input="Hi.", voice="coral", instructions="Speak in a cheerful tone."
    )
    assert content_type == "audio/mpeg" and len(data) > 1000


@pytest.mark.parametrize("voice", ["bob", "Alloy2", {"id": "bob"}, {"name": "alloy"}])
async def test_unknown_voice_is_a_400_listing_the_six(
    backend: PiperSpeechBackend, voice: object
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await backend.speech(call(input="Hi.", voice=voice))
    assert caught.value.param == "voice"
    assert all(name in caught.value.message for name in VOICE_NAMES)
    assert backend.runner.busy == 0


async def test_model_card_and_status(backend: PiperSpeechBackend) -> None:
    [card] = backend.models()
    assert (card.id, card.owned_by, card.capabilities) == (
        "piper-en-us-joe-medium",
        "aiport-local",
        ("speech",),
    )
    assert backend.status() == {"model": "piper-en-us-joe-medium", "loaded": True, "busy": 0}
