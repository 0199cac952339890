"""Incremental audio encoding for `/audio/speech`: 24 kHz mono PCM in, OpenAI's formats out.

OpenAI answers speech at 24 kHz mono; so does every format here. `PcmResampler` brings an
engine's float samples at any rate to 24 kHz signed 16-bit, keeping its filter state across
calls so that sentence joins do not click. `StreamEncoder` turns that PCM into the bytes
of one response format and hands back whatever the codec and muxer have produced so far,
so a response can be sent while the rest is still being synthesised:

| format | content type | bytes                                                         |
| ------ | ------------ | ------------------------------------------------------------- |
| mp3    | audio/mpeg   | MPEG-2 Layer III frames (LAME), no ID3 tag, no Xing header     |
| opus   | audio/ogg    | Ogg pages carrying Opus (libopus), ~100 ms per page            |
| aac    | audio/aac    | ADTS stream, AAC-LC                                            |
| flac   | audio/flac   | native FLAC; STREAMINFO's sample count and MD5 are 0 (unknown) |
| wav    | audio/wav    | 44-byte RIFF header with sizes 0xFFFFFFFF ("unknown"), s16le   |
| pcm    | audio/pcm    | raw s16le, no header                                           |

A streamed WAV cannot know its length when its header is sent, so the RIFF and data sizes
say 0xFFFFFFFF, the usual convention for streamed WAV; ffmpeg and Python's `wave` read such a
file to its end (tested). The alternative, holding the whole answer back to write exact
sizes, would defeat streaming. PyAV (`av`) is imported only when an encoder or resampler
is made.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from typing import Any

SAMPLE_RATE = 24_000
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")

# format -> (libavformat muxer, encoder, bit rate or 0 for lossless, muxer options)
_CODECS: dict[str, tuple[str, str, int, dict[str, str]]] = {
    "mp3": ("mp3", "libmp3lame", 64_000, {"id3v2_version": "0", "write_xing": "0"}),
    # Short Ogg pages: the muxer otherwise holds a second of audio back.
    "opus": ("ogg", "libopus", 32_000, {"page_duration": "100000"}),
    "aac": ("adts", "aac", 64_000, {}),
    "flac": ("flac", "flac", 0, {}),
}


def wav_stream_header(sample_rate: int = SAMPLE_RATE, channels: int = 1) -> bytes:
    """A canonical 44-byte WAV header for s16le audio of unknown length."""
    unknown = 0xFFFFFFFF
    block_align = channels * 2
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVEfmt "
        + struct.pack(
            "<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block_align, block_align, 16
        )
        + b"data"
        + struct.pack("<I", unknown)
    )


class _Sink:
    """A write-only file for PyAV. Having no `seek` makes libavformat treat the output as
    a stream: no muxer goes back to patch a header, which could not reach the client."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class StreamEncoder:
    """Encode 24 kHz mono s16le PCM into `fmt`, a piece at a time.

    `encode(pcm)` returns the bytes ready so far (possibly none: codecs keep a frame or
    two back); `finish()` returns the rest and must be called once at the end. Not
    thread-safe: one encoder per response, used from one thread.
    """

    def __init__(self, fmt: str, *, sample_rate: int = SAMPLE_RATE) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown audio format {fmt!r}")
        self.format = fmt
        self.sample_rate = sample_rate
        self._pending_header = wav_stream_header(sample_rate) if fmt == "wav" else b""
        self._container: Any = None
        if fmt in _CODECS:
            self._open_container(*_CODECS[fmt])
        self._samples = 0

    def _open_container(
        self, muxer: str, codec: str, bit_rate: int, options: dict[str, str]
    ) -> None:
        import av

        self._sink = _Sink()
        self._container = av.open(self._sink, "w", format=muxer, options=options)
        stream = self._container.add_stream(codec, rate=self.sample_rate)
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        self._stream = stream

    def encode(self, pcm: bytes) -> bytes:
        """Add s16le mono samples; return the encoded bytes that are ready."""
        if self._container is None:
            out, self._pending_header = self._pending_header + pcm, b""
            return out
        if not pcm:
            return b""
        import av
        import numpy as np

        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._samples
        self._samples += samples.shape[1]
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        return self._sink.take()

    def finish(self) -> bytes:
        """Flush the codec and close the container; return the last bytes."""
        if self._container is None:
            out, self._pending_header = self._pending_header, b""
            return out
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None
        return self._sink.take()

    def close(self) -> None:
        """Drop the encoder without flushing (the response was abandoned)."""
        if self._container is not None:
            try:
                self._container.close()
            finally:
                self._container = None


class PcmResampler:
    """Float samples at `in_rate` → s16le mono bytes at `out_rate`, stateful across calls.

    `in_rate` may be deliberately "wrong": declaring 22050 Hz audio as 24255 Hz plays it
    10% faster and higher once resampled, which is how a single-speaker voice is shifted
    in pitch and formants. `tempo` ≠ 1 also time-stretches without changing pitch
    (ffmpeg's WSOLA `atempo`); it holds back about one pushed block of audio.
    """

    _BLOCK = 2048  # samples per frame pushed: bounds what the tempo filter holds back

    def __init__(self, in_rate: int, out_rate: int = SAMPLE_RATE, *, tempo: float = 1.0) -> None:
        import av.filter

        self.in_rate = in_rate
        self.tempo = tempo
        graph = av.filter.Graph()
        nodes = [
            graph.add_abuffer(
                format="flt", sample_rate=in_rate, layout="mono", time_base=Fraction(1, in_rate)
            )
        ]
        nodes += [graph.add("atempo", f"{factor:.6f}") for factor in _tempo_steps(tempo)]
        nodes.append(graph.add("aresample", str(out_rate)))
        nodes.append(graph.add("aformat", "sample_fmts=s16:channel_layouts=mono"))
        nodes.append(graph.add("abuffersink"))
        graph.link_nodes(*nodes).configure()
        self._graph = graph
        self._pts = 0

    def process(self, samples: Any) -> bytes:
        """Resample a 1-D float32 array in [-1, 1]; return what is ready."""
        import av
        import numpy as np

        data = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        out = []
        for start in range(0, len(data), self._BLOCK):
            block = data[start : start + self._BLOCK].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
            frame.sample_rate = self.in_rate
            frame.pts = self._pts
            self._pts += block.shape[1]
            self._graph.push(frame)
            out.append(self._pull())
        return b"".join(out)

    def flush(self) -> bytes:
        """The samples still inside the filters."""
        self._graph.push(None)
        return self._pull()

    def _pull(self) -> bytes:
        import av

        out: list[bytes] = []
        while True:
            try:
                frame = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return b"".join(out)
            assert isinstance(frame, av.AudioFrame)
            out.append(bytes(frame.planes[0])[: frame.samples * 2])


def _tempo_steps(tempo: float) -> list[float]:
    """`atempo` factors whose product is `tempo`; one filter takes 0.5 to 100."""
    if abs(tempo - 1.0) < 1e-3:
        return []
    steps = []
    while tempo < 0.5:
        steps.append(0.5)
        tempo /= 0.5
    return [*steps, tempo]
