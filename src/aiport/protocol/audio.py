"""POST /audio/speech, /audio/transcriptions and /audio/translations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiport.protocol.common import WireModel

DEFAULT_SPEECH_MODEL = "tts-1"  # the seed's default
DEFAULT_TRANSCRIPTION_MODEL = "whisper-1"  # the seed's default
MAX_SPEECH_INPUT = 4096

SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
TranscriptFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]

CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


class SpeechRequest(WireModel):
    model: str = Field(default=DEFAULT_SPEECH_MODEL, min_length=1)
    input: str = Field(min_length=1, max_length=MAX_SPEECH_INPUT)
    voice: str | dict[str, str] = Field(min_length=1)
    instructions: str | None = None
    response_format: SpeechFormat = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] | None = None


class TranslationRequest(WireModel):
    model: str = Field(default=DEFAULT_TRANSCRIPTION_MODEL, min_length=1)
    prompt: str | None = None
    response_format: TranscriptFormat = "json"
    temperature: float = Field(default=0.0, ge=0, le=1)


class TranscriptionRequest(TranslationRequest):
    language: str | None = Field(default=None, min_length=2, max_length=16)
    timestamp_granularities: list[Literal["word", "segment"]] | None = Field(
        default=None, alias="timestamp_granularities[]"
    )
    include: list[str] | None = Field(default=None, alias="include[]")
    stream: bool | None = None
    chunking_strategy: str | None = None

    @property
    def streams_events(self) -> bool:
        """`stream: true` asks for transcript events — but of whisper-1, where OpenAI
        ignores it (the spec says so)."""
        return bool(self.stream) and self.model != "whisper-1"
