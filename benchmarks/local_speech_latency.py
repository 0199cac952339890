"""First-audio-byte latency and real-time factor of the embedded speech backend.

    .venv/bin/python benchmarks/local_speech_latency.py [--runs 5] [--format mp3]

Latency: from `speech()` being called to the first chunk of encoded audio being in hand,
for a one-sentence input (OpenAI's own example sentence). Real-time factor: synthesis
and encoding time divided by the duration of the audio made, for a ten-sentence text.
The machine's load average is printed too: other busy processes make both numbers worse.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import time

from aiport.backends.base import Call
from aiport.backends.local.speech import PiperSpeechBackend
from aiport.protocol.audio import SpeechRequest

ONE_SENTENCE = "Today is a wonderful day to build something people love!"
LONG_TEXT = (
    "The old library stood at the end of a narrow street. Its windows were tall and dusty. "
    "Every morning, the librarian unlocked the heavy door and switched on the lamps. "
    "Students came in from the rain with wet coats and open questions. "
    "Some wanted history, others wanted poetry, and a few only wanted somewhere warm. "
    "She knew where every book was kept. She also knew which ones were never returned. "
    "At noon she ate an apple at her desk and read the newspaper. "
    "In the afternoon the reading room grew quiet. "
    "When the clock struck six, she turned off the lamps and locked the door again."
)


def seconds_of(data: bytes, fmt: str) -> float:
    if fmt == "pcm":
        return len(data) / 2 / 24_000
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return sum(f.samples / f.sample_rate for f in container.decode(stream))


async def one_run(
    backend: PiperSpeechBackend, text: str, fmt: str, voice: str
) -> tuple[float, float, float]:
    """(seconds to first chunk, seconds to last chunk, seconds of audio)."""
    body = {"input": text, "voice": voice, "response_format": fmt}
    call = Call.from_body(SpeechRequest, body, backend.model_id, public_model="tts-1")
    started = time.perf_counter()
    result = await backend.speech(call)
    parts, first = [], 0.0
    async for chunk in result.chunks:
        if not parts:
            first = time.perf_counter() - started
        parts.append(chunk)
    total = time.perf_counter() - started
    return first, total, seconds_of(b"".join(parts), fmt)


async def main(runs: int, fmt: str, voice: str, threads: int) -> None:
    backend = PiperSpeechBackend(load_at_start=False, threads=threads)
    started = time.perf_counter()
    await backend.start()
    await one_run(backend, "Warm up.", fmt, voice)
    print(f"load + warm-up: {time.perf_counter() - started:.2f}s")

    firsts, short_rtf = [], []
    for _ in range(runs):
        first, total, audio = await one_run(backend, ONE_SENTENCE, fmt, voice)
        firsts.append(first)
        short_rtf.append(total / audio)
    median_ms = statistics.median(firsts) * 1e3
    print(
        f"one sentence ({fmt}, {voice}): first audio byte median {median_ms:.0f} ms,"
        f" min {min(firsts) * 1e3:.0f} ms; RTF {statistics.median(short_rtf):.3f}"
    )

    long_rtf, long_first = [], []
    for _ in range(max(1, runs // 2)):
        first, total, audio = await one_run(backend, LONG_TEXT, fmt, voice)
        long_rtf.append(total / audio)
        long_first.append(first)
    print(
        f"ten sentences ({audio:.1f}s of audio): RTF median {statistics.median(long_rtf):.3f},"
        f" first audio byte {statistics.median(long_first) * 1e3:.0f} ms"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    await backend.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--format", default="mp3", choices=["mp3", "opus", "aac", "flac", "wav", "pcm"]
    )
    parser.add_argument("--voice", default="alloy")
    parser.add_argument(
        "--threads", type=int, default=0, help="onnxruntime threads (0: its default)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.format, args.voice, args.threads))
