"""Any common audio (or video) container to 16 kHz mono float32, in process with PyAV.

PyAV's wheels carry their own FFmpeg libraries, so no `ffmpeg` binary and no shell are
involved: wav, mp3, ogg/opus, flac, m4a/mp4/aac, webm and anything else FFmpeg can
demux are read from the spooled upload a packet at a time. This is blocking work: call
it from a model's worker thread, never on the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiport.errors import InvalidRequest

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
SUPPORTED = "flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, opus, wav, webm"


def not_audio(filename: str) -> InvalidRequest:
    return InvalidRequest(
        f"The file `{filename}` could not be decoded as audio. Supported formats: {SUPPORTED}.",
        param="file",
    )


def decode_audio(
    path: str | Path, *, filename: str = "file", max_seconds: float | None = None
) -> np.ndarray:
    """Decode the first audio stream of `path` to mono float32 samples at `SAMPLE_RATE`.

    Raises `InvalidRequest(param="file")` when the file is not audio FFmpeg can read
    (no container, no audio stream, no decodable packet) or is longer than `max_seconds`.
    Damaged packets inside an otherwise readable stream are skipped, as FFmpeg does. Audio
    whose packets span more than `max_seconds` is refused before a sample is decoded.
    """
    import av
    import numpy as np

    if max_seconds is not None and (audio_length(path) or 0.0) > max_seconds:
        raise _too_long(filename, max_seconds)
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise not_audio(filename)
            chunks = _decode_stream(container, stream, filename, max_seconds)
    except av.FFmpegError as exc:
        raise not_audio(filename) from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks)


def audio_length(path: str | Path) -> float | None:
    """Seconds of audio `path` holds: the span of its first audio stream's packets; None
    when it has none or is not audio. Not the length its header claims, which a broken or
    crafted file can make 500 hours for one second of sound (and a budget would pay for
    it). Reads packets without decoding them: a few milliseconds a megabyte, blocking."""
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None or stream.time_base is None:
                return None
            start: int | None = None
            end = 0
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                start = packet.pts if start is None else min(start, packet.pts)
                end = max(end, packet.pts + (packet.duration or 0))
            if start is None:
                return None
            held = max(0.0, float((end - start) * stream.time_base))
            if container.duration is not None:  # exact where true (no encoder padding)
                return min(held, max(0.0, container.duration / av.time_base))
            return held
    except av.FFmpegError:
        return None


def _decode_stream(
    container: Any, stream: Any, filename: str, max_seconds: float | None
) -> list[np.ndarray]:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    decoded_any = False
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            continue  # a damaged packet: skip it, keep the rest of the stream
        for frame in frames:
            decoded_any = True
            total += _collect(resampler.resample(frame), chunks)
        if max_seconds is not None and limit is not None and total > limit:
            raise _too_long(filename, max_seconds)  # its packets understated it
    if not decoded_any:
        raise not_audio(filename)
    _collect(resampler.resample(None), chunks)  # what the resampler still holds
    return chunks


def _too_long(filename: str, max_seconds: float) -> InvalidRequest:
    return InvalidRequest(
        f"The audio in `{filename}` is longer than the {max_seconds:g} seconds "
        "this server accepts.",
        param="file",
    )


def _collect(frames: list[Any], chunks: list[np.ndarray]) -> int:
    added = 0
    for frame in frames:
        samples = frame.to_ndarray().reshape(-1)
        chunks.append(samples)
        added += samples.size
    return added
