"""The embedded models through the HTTP API, with the official SDK, as `make serve` runs them:
no OpenAI key, the seed's model names as aliases of the local engines."""

from __future__ import annotations

import base64
import io
import json
import urllib.request
import wave
from typing import Any

import numpy as np
import openai
import pytest

from tests.support.fake_upstream import wait_for
from tests.support.openapi_spec import validate_event
from tests.support.server import AiportProcess, raw_request
from tests.support.speech_quality import word_error_rate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local(local_server: AiportProcess) -> AiportProcess:
    return local_server  # the session's (loading every model takes a while)


@pytest.fixture(scope="module")
def client(local: AiportProcess) -> openai.OpenAI:
    return local.client()


def test_chat_answers_a_trivial_question(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is 2 + 2?"}],
        max_tokens=30,
        temperature=0,
    )
    assert "4" in (reply.choices[0].message.content or "")
    assert reply.model == "gpt-4o"
    assert reply.usage is not None and reply.usage.completion_tokens > 0


def test_chat_streams_token_by_token(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=20,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content) > 2
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_embeddings_rank_related_above_unrelated(client: openai.OpenAI) -> None:
    texts = [
        "Maschinelles Lernen ist ein Teilgebiet der KI",
        "Machine learning is a branch of artificial intelligence.",
        "The recipe needs two eggs and a cup of flour.",
    ]
    result = client.embeddings.create(model="text-embedding-3-small", input=texts)
    vectors = np.array([item.embedding for item in result.data])
    query = client.embeddings.create(
        model="text-embedding-3-small", input="How do computers learn from data?"
    )
    q = np.array(query.data[0].embedding)
    scores = vectors @ q
    assert scores[1] > scores[2]
    assert result.usage.prompt_tokens > 0


def test_speech_round_trips_through_transcription(client: openai.OpenAI) -> None:
    sentence = "The quick brown fox jumps over the lazy dog near the river bank."
    audio = client.audio.speech.create(model="tts-1", voice="alloy", input=sentence)
    mp3 = audio.read()
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF
    transcript = client.audio.transcriptions.create(
        model="whisper-1", file=("speech.mp3", io.BytesIO(mp3), "audio/mpeg")
    )
    assert word_error_rate(sentence, transcript.text) <= 0.25, transcript.text


def test_speech_as_server_sent_events(client: openai.OpenAI, local: AiportProcess) -> None:
    """`stream_format: "sse"` answered raw audio; OpenAI sends `speech.audio.delta` events
    (base64 audio) and `speech.audio.done`. Billed as the audio form is: per character."""
    key = new_key(local, "speech-events")
    sentence = "Hello world, this is a test."
    keyed = local.client(api_key=key["key"])
    with keyed.audio.speech.with_streaming_response.create(
        model="tts-1", voice="nova", input=sentence, response_format="wav", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = response.read().decode()
    events = [json.loads(block.removeprefix("data: ")) for block in body.split("\n\n") if block]
    for event in events:
        validate_event(event, "CreateSpeechResponseStreamEvent")
    *deltas, done = events
    assert deltas and {e["type"] for e in deltas} == {"speech.audio.delta"}
    assert done["type"] == "speech.audio.done"
    wav = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    transcript = client.audio.transcriptions.create(model="whisper-1", file=("hello.wav", wav))
    assert word_error_rate(sentence, transcript.text) <= 0.25, transcript.text
    raw = keyed.audio.speech.create(
        model="tts-1", voice="nova", input=sentence, stream_format="audio"
    )
    assert raw.response.headers["content-type"] == "audio/mpeg"
    assert usage_of(local, key["id"], requests=2)["characters"] == 2 * len(sentence)


def new_key(local: AiportProcess, name: str) -> dict[str, Any]:
    created = raw_request(local.base_url + "/admin/keys", {"name": name})
    assert created.status == 201, created.body
    return dict(created.json())


def usage_of(local: AiportProcess, key_id: str, requests: int) -> dict[str, float]:
    """The key's usage once its `requests` rows are written (summed over its models)."""
    rows: list[dict[str, Any]] = []

    def recorded() -> bool:
        rows[:] = raw_request(local.base_url + f"/admin/usage?key={key_id}").json()["data"]
        return sum(row["requests"] for row in rows) == requests

    assert wait_for(recorded, timeout=20), rows
    return {field: sum(row[field] for row in rows) for field in ("audio_seconds", "characters")}


def test_transcription_text_format_is_plain(client: openai.OpenAI, local: AiportProcess) -> None:
    audio = client.audio.speech.create(
        model="tts-1", voice="nova", input="Hello world.", response_format="wav"
    )
    srt = client.audio.transcriptions.create(
        model="whisper-1",
        file=("hello.wav", io.BytesIO(audio.read()), "audio/wav"),
        response_format="srt",
    )
    assert isinstance(srt, str) and "-->" in srt


def test_a_streamed_transcription_is_a_stream_of_events(
    client: openai.OpenAI, local: AiportProcess
) -> None:
    """gpt-4o-transcribe (whisper here) with `stream: true`: the SDK reads events; a JSON
    answer gave it none, the transcript silently lost. whisper-1 ignores `stream`, as the
    spec says OpenAI's does. Both are billed the same audio."""
    sentence = "Hello world, this is a test."
    wav = client.audio.speech.create(
        model="tts-1", voice="nova", input=sentence, response_format="wav"
    ).read()
    streamed, whole = new_key(local, "transcript-streamed"), new_key(local, "transcript-whole")
    events = list(
        local.client(api_key=streamed["key"]).audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("hello.wav", wav), stream=True
        )
    )
    *deltas, done = events
    assert deltas and all(e.type == "transcript.text.delta" for e in deltas), events
    assert done.type == "transcript.text.done"
    assert "".join(e.delta for e in deltas).strip() == done.text
    assert word_error_rate(sentence, done.text) <= 0.25, done.text
    for event in events:
        validate_event(
            event.model_dump(mode="json", exclude_unset=True),
            "CreateTranscriptionResponseStreamEvent",
        )
    ignored = local.client(api_key=whole["key"]).audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("hello.wav", wav), stream=True
    )
    assert ignored.headers["content-type"].startswith("application/json")
    assert usage_of(local, streamed["id"], 1) == usage_of(local, whole["id"], 1)
    assert usage_of(local, streamed["id"], 1)["audio_seconds"] > 1


PARAGRAPH = (
    "The library opens at nine and closes at six. The train to the coast leaves every "
    "hour. A storm is expected tonight, so the ferry will stay in the harbour."
)
PCM_RATE = 24_000  # the local voice's


def recording(client: openai.OpenAI, text: str, repeats: int) -> bytes:
    """`text` in the local voice, `repeats` times with a second's pause after each (WAV)."""
    pcm = client.audio.speech.create(
        model="tts-1", voice="nova", input=text, response_format="pcm"
    ).read()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(PCM_RATE)
        out.writeframes((pcm + bytes(2 * PCM_RATE)) * repeats)
    return buffer.getvalue()


def transcription_busy(local: AiportProcess) -> int:
    health = raw_request(local.base_url + "/health").json()
    return int(health["backends"]["local-transcription"]["busy"])


def test_a_streamed_transcription_sends_each_window_as_it_is_decoded(
    client: openai.OpenAI, local: AiportProcess
) -> None:
    """`stream: true` sent the whole transcript as one delta once all was decoded; now each
    segment goes out as soon as its 30-second window is. A client that leaves stops the
    rest and is billed the audio up to the end of the last segment it was sent."""
    wav = recording(client, PARAGRAPH, 4)  # over 30 s: two of Whisper's windows
    seconds = (len(wav) - 44) / 2 / PCM_RATE
    key = new_key(local, "transcript-left")
    stream = local.client(api_key=key["key"]).audio.transcriptions.create(
        model="whisper-tiny.en", file=("long.wav", wav), stream=True
    )
    first = next(iter(stream))
    assert first.type == "transcript.text.delta" and "library" in first.delta.lower(), first
    assert transcription_busy(local) == 1  # the next window is being decoded
    stream.close()
    assert wait_for(lambda: transcription_busy(local) == 0, timeout=60)
    billed = usage_of(local, key["id"], 1)["audio_seconds"]
    assert 0 < billed <= 30 < seconds, (billed, seconds)


def test_moderation_flags_harm_and_passes_everyday_text(client: openai.OpenAI) -> None:
    result = client.moderations.create(
        input=[
            "I am going to kill you and your whole family tonight.",
            "How do I kill the background process on Linux?",
            "Ich werde dich umbringen, du Stück Dreck.",
            "Dies ist ein Beispieltext zur Moderation",
        ]
    )
    flagged = [r.flagged for r in result.results]
    assert flagged == [True, False, True, False]
    assert result.results[0].categories.violence
    assert len(result.results[0].category_scores.to_dict()) == 13


def test_image_url_shows_the_requested_colours(client: openai.OpenAI, local: AiportProcess) -> None:
    from PIL import Image

    result = client.images.generate(
        model="dall-e-2",
        prompt="a red circle on the left and a blue square on the right",
        size="512x512",
    )
    url = result.data[0].url
    assert url is not None and url.startswith(local.base_url + "/images/files/")
    assert result.data[0].revised_prompt
    with urllib.request.urlopen(url, timeout=10) as response:
        picture = np.asarray(Image.open(io.BytesIO(response.read())).convert("RGB")).astype(int)
    assert picture.shape == (512, 512, 3)
    red = (picture[..., 0] > 180) & (picture[..., 1] < 90) & (picture[..., 2] < 90)
    blue = (picture[..., 2] > 150) & (picture[..., 0] < 90) & (picture[..., 1] < 120)
    assert red[:, :256].sum() > 10 * max(1, red[:, 256:].sum())
    assert blue[:, 256:].sum() > 10 * max(1, blue[:, :256].sum())


def test_image_b64_has_the_seed_default_size(client: openai.OpenAI) -> None:
    from PIL import Image

    result = client.images.generate(
        prompt="Ein futuristischer Roboter in einer Cyberpunk-Stadt",
        response_format="b64_json",
        quality="hd",
    )
    png = base64.b64decode(result.data[0].b64_json or "")
    assert Image.open(io.BytesIO(png)).size == (1024, 1024)
    assert "robot" in (result.data[0].revised_prompt or "").lower()


def test_models_lists_local_ids_and_aliases(client: openai.OpenAI) -> None:
    models = {m.id: m.owned_by for m in client.models.list()}
    for alias in ("gpt-4o", "dall-e-3", "tts-1", "whisper-1", "text-embedding-3-small"):
        assert models[alias] == "aiport-local"
    assert "smollm2-135m-instruct" in models


def test_health_reports_loaded_models(local: AiportProcess) -> None:
    report = raw_request(local.base_url + "/health").json()  # details: master key
    loaded = {name: b.get("loaded") for name, b in report["backends"].items()}
    assert loaded and all(loaded.values()), loaded
