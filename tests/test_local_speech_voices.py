"""The six seed voices sound measurably different, and `speed` changes the duration."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import numpy as np
import pytest

pytest.importorskip("piper")
pytest.importorskip("av")

from aiport.backends.base import Call
from aiport.backends.local.speech import VOICE_NAMES, VOICES, PiperSpeechBackend
from aiport.protocol.audio import SpeechRequest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

RATE = 24_000
TEXT = (
    "She sells sea shells by the sea shore. Then we all went home. "
    "Nobody knew where the old man had gone. It was a long and lonely winter."
)


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[PiperSpeechBackend]:
    backend = PiperSpeechBackend()
    await backend.start()
    yield backend
    await backend.close()


async def samples(backend: PiperSpeechBackend, voice: str, speed: float = 1.0) -> np.ndarray:
    body = {"input": TEXT, "voice": voice, "response_format": "pcm", "speed": speed}
    result = await backend.speech(
        Call.from_body(SpeechRequest, body, "piper-en-us-joe-medium", public_model="tts-1")
    )
    data = b"".join([chunk async for chunk in result.chunks])
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768


def median_f0(x: np.ndarray, fmin: float = 60.0, fmax: float = 400.0) -> float:
    """Median fundamental frequency of the loud frames, by YIN (de Cheveigné & Kawahara
    2002): the first dip of the cumulative-mean-normalised difference below 0.2. This
    voice's strong second harmonic reads as an octave up in about a fifth of the frames,
    so estimates an octave off the first median are folded back before the final one."""
    size, hop = int(0.04 * RATE), int(0.01 * RATE)
    lag_min, lag_max = int(RATE / fmax), int(RATE / fmin)
    windows = np.lib.stride_tricks.sliding_window_view(x, size + lag_max)[::hop]
    loud = np.sqrt(np.mean(windows[:, :size] ** 2, axis=1)) >= 0.3 * np.sqrt(np.mean(x**2))
    windows = windows[loud]
    # Difference d(τ) = e(0) + e(τ) - 2·r(τ), with r from one FFT per frame.
    n_fft = 1 << int(np.ceil(np.log2(2 * size + lag_max)))
    spectrum = np.conj(np.fft.rfft(windows[:, :size], n_fft)) * np.fft.rfft(windows, n_fft)
    corr = np.fft.irfft(spectrum, n_fft)[:, : lag_max + 1]
    energy = np.concatenate([np.zeros((len(windows), 1)), np.cumsum(windows**2, axis=1)], 1)
    sliding = energy[:, size : size + lag_max + 1] - energy[:, : lag_max + 1]
    diff = np.maximum(sliding[:, :1] + sliding - 2 * corr, 0)
    cmnd = np.ones_like(diff)
    lags = np.arange(1, lag_max + 1)
    cmnd[:, 1:] = diff[:, 1:] * lags / np.maximum(np.cumsum(diff[:, 1:], axis=1), 1e-12)

    estimates = []
    for row in cmnd:
        below = np.nonzero(row[lag_min:] < 0.2)[0]
        if not below.size:
            continue
        lag = lag_min + below[0]
        while lag < lag_max and row[lag + 1] < row[lag]:
            lag += 1
        estimates.append(RATE / lag)
    assert len(estimates) > 30, "too few voiced frames to judge"
    f0 = np.array(estimates)
    first = np.median(f0)
    f0 = np.where(f0 > 1.6 * first, f0 / 2, np.where(f0 < first / 1.6, f0 * 2, f0))
    return float(np.median(f0))


async def test_the_six_voices_differ_in_pitch(backend: PiperSpeechBackend) -> None:
    pitch = {voice: median_f0(await samples(backend, voice)) for voice in VOICE_NAMES}

    for a, b in itertools.combinations(VOICE_NAMES, 2):
        ratio = max(pitch[a], pitch[b]) / min(pitch[a], pitch[b])
        # Presets are 10-13% apart; Piper's random intonation moves a median by a few %.
        assert ratio > 1.04, f"{a} and {b} are too alike: {pitch}"
    # And in the order the presets intend: onyx lowest, shimmer highest.
    assert sorted(VOICE_NAMES, key=pitch.__getitem__) == sorted(
        VOICE_NAMES, key=lambda v: VOICES[v].pitch
    )
    # The unshifted voice (alloy) is the model's own, a man's voice around 100 Hz.
    assert 80 < pitch["alloy"] < 130


async def test_speed_scales_the_duration_and_keeps_the_pitch(
    backend: PiperSpeechBackend,
) -> None:
    normal = await samples(backend, "alloy", speed=1.0)
    double = await samples(backend, "alloy", speed=2.0)
    quadruple = await samples(backend, "alloy", speed=4.0)

    assert len(double) / len(normal) == pytest.approx(1 / 2, rel=0.15)
    assert len(quadruple) / len(normal) == pytest.approx(1 / 4, rel=0.2)
    assert median_f0(double) == pytest.approx(median_f0(normal), rel=0.1)


async def test_slow_speech_is_longer(backend: PiperSpeechBackend) -> None:
    normal = await samples(backend, "echo", speed=1.0)
    slow = await samples(backend, "echo", speed=0.5)
    assert len(slow) / len(normal) == pytest.approx(2.0, rel=0.15)
