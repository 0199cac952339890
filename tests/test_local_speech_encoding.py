"""The speech encoders: every OpenAI format, 24 kHz, readable back, produced incrementally."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

av = pytest.importorskip("av")

from aiport.backends.local.audio_encode import (  # noqa: E402
    FORMATS,
    SAMPLE_RATE,
    PcmResampler,
    StreamEncoder,
    wav_stream_header,
)

# format -> (demuxer name, codec name, first bytes)
EXPECTED = {
    "mp3": ("mp3", "mp3", b"\xff"),
    "opus": ("ogg", "opus", b"OggS"),
    "aac": ("aac", "aac", b"\xff"),
    "flac": ("flac", "flac", b"fLaC"),
    "wav": ("wav", "pcm_s16le", b"RIFF"),
}


def tone(seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def pcm_bytes(samples: np.ndarray) -> bytes:
    return (samples * 32767).astype("<i2").tobytes()


def decode(data: bytes) -> tuple[str, str, int, float]:
    """(demuxer, codec, stream sample rate, decoded seconds)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples, rate = 0, 0
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate
        return container.format.name, stream.codec_context.name, rate, samples / rate


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pcm"])
def test_each_format_decodes_at_24khz_with_its_duration(fmt: str) -> None:
    pcm = pcm_bytes(tone(2.0))
    encoder = StreamEncoder(fmt)
    data = encoder.encode(pcm[: len(pcm) // 2]) + encoder.encode(pcm[len(pcm) // 2 :])
    data += encoder.finish()

    demuxer, codec, rate, seconds = decode(data)
    expected_demuxer, expected_codec, magic = EXPECTED[fmt]
    assert data.startswith(magic)
    assert demuxer == expected_demuxer
    assert codec.startswith(expected_codec)  # ffmpeg's mp3 decoder is `mp3float`
    # Opus always decodes at 48 kHz (RFC 7845); the stream says it was made at 24 kHz.
    assert rate == (48_000 if fmt == "opus" else SAMPLE_RATE)
    assert seconds == pytest.approx(2.0, abs=0.08)


def test_opus_header_records_24khz_input() -> None:
    encoder = StreamEncoder("opus")
    data = encoder.encode(pcm_bytes(tone(0.5))) + encoder.finish()
    head = data[data.index(b"OpusHead") :]
    assert int.from_bytes(head[12:16], "little") == SAMPLE_RATE


def test_mp3_is_bare_mpeg_frames() -> None:
    encoder = StreamEncoder("mp3")
    data = encoder.encode(pcm_bytes(tone(0.5))) + encoder.finish()
    # Frame sync, MPEG-2 (24 kHz), Layer III; no ID3 tag in front.
    assert data[0] == 0xFF and data[1] & 0xFE == 0xF2


def test_aac_is_an_adts_stream() -> None:
    encoder = StreamEncoder("aac")
    data = encoder.encode(pcm_bytes(tone(0.5))) + encoder.finish()
    assert data[0] == 0xFF and data[1] & 0xF6 == 0xF0  # sync word, layer 0
    assert (data[2] >> 2) & 0x0F == 6  # sampling-frequency index 6 = 24 kHz


def test_pcm_is_the_samples_unchanged() -> None:
    pcm = pcm_bytes(tone(0.3))
    encoder = StreamEncoder("pcm")
    assert encoder.encode(pcm) + encoder.finish() == pcm


def test_streamed_wav_has_unknown_sizes_and_reads_to_the_end() -> None:
    pcm = pcm_bytes(tone(1.0))
    encoder = StreamEncoder("wav")
    data = encoder.encode(pcm) + encoder.finish()
    assert data[:44] == wav_stream_header() and len(wav_stream_header()) == 44
    assert data[4:8] == b"\xff\xff\xff\xff" and data[40:44] == b"\xff\xff\xff\xff"
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (
            SAMPLE_RATE,
            1,
            2,
        )
        assert reader.readframes(10**9) == pcm


@pytest.mark.parametrize("fmt", FORMATS)
def test_bytes_come_out_before_the_end(fmt: str) -> None:
    """Half a second in gives encoded audio at once, not only at `finish()`."""
    encoder = StreamEncoder(fmt)
    assert len(encoder.encode(pcm_bytes(tone(0.5)))) > 500
    encoder.finish()


def test_resampler_turns_22050_into_24000_across_calls() -> None:
    source = tone(1.0, rate=22_050)
    resampler = PcmResampler(22_050)
    out = b"".join(resampler.process(part) for part in np.array_split(source, 7))
    out += resampler.flush()
    assert len(out) // 2 == pytest.approx(SAMPLE_RATE, abs=40)
    samples = np.frombuffer(out, dtype="<i2").astype(np.float32)
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(samples)
    assert peak_hz == pytest.approx(220, abs=3)


def test_a_declared_faster_rate_raises_pitch_and_shortens() -> None:
    resampler = PcmResampler(round(22_050 * 1.25))
    out = resampler.process(tone(1.0, rate=22_050)) + resampler.flush()
    samples = np.frombuffer(out, dtype="<i2").astype(np.float32)
    assert len(samples) / SAMPLE_RATE == pytest.approx(0.8, abs=0.01)
    peak_hz = np.argmax(np.abs(np.fft.rfft(samples))) * SAMPLE_RATE / len(samples)
    assert peak_hz == pytest.approx(275, abs=4)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError):
        StreamEncoder("ogg-vorbis")


@pytest.mark.parametrize("tempo", [2.0, 0.3])
def test_tempo_stretches_time_and_keeps_pitch(tempo: float) -> None:
    resampler = PcmResampler(22_050, tempo=tempo)
    source = tone(1.0, rate=22_050)
    out = b"".join(resampler.process(part) for part in np.array_split(source, 4))
    out += resampler.flush()
    samples = np.frombuffer(out, dtype="<i2").astype(np.float32)
    assert len(samples) / SAMPLE_RATE == pytest.approx(1.0 / tempo, rel=0.03)
    peak_hz = np.argmax(np.abs(np.fft.rfft(samples))) * SAMPLE_RATE / len(samples)
    assert peak_hz == pytest.approx(220, abs=4)
