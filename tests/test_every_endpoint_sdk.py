"""Every endpoint through the proxy with the official SDK, sync and async, on `/v1` and on
the seed's root paths (SDK base_url without `/v1`)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator

import openai
import pytest
import pytest_asyncio

from tests.support.fake_upstream import SPEECH_EVENTS, FakeUpstream
from tests.support.server import MASTER_KEY, AiportProcess, raw_request

MESSAGES = [{"role": "user", "content": "Was ist maschinelles Lernen?"}]
VECTOR = [0.25, -0.5, 1.0]  # what the fake upstream embeds everything as
SPEECH = (b"\xff\xfb" + b"\x00" * 1022) * 8  # what the fake upstream speaks
# A few hundred KB that look like an MP3 (ID3 header), random after that.
AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(300 * 1024)

PREFIXES = pytest.mark.parametrize("v1", [True, False], ids=["v1", "root"])
# The SDK marks translations deprecated; they are still part of the API we serve.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


@pytest.fixture(params=[True, False], ids=["v1", "root"])
def client(request: pytest.FixtureRequest, proxy: AiportProcess) -> Iterator[openai.OpenAI]:
    with proxy.client(v1=request.param) as sdk:
        yield sdk


@pytest_asyncio.fixture(params=[True, False], ids=["v1", "root"], loop_scope="function")
async def aclient(
    request: pytest.FixtureRequest, proxy: AiportProcess
) -> AsyncIterator[openai.AsyncOpenAI]:
    base_url = proxy.base_url + ("/v1" if request.param else "")
    async with openai.AsyncOpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0) as sdk:
        yield sdk


# -- chat ------------------------------------------------------------------------------


def test_chat(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "Hello from the fake upstream."
    assert reply.usage is not None and reply.usage.total_tokens == 17


async def test_chat_async(aclient: openai.AsyncOpenAI) -> None:
    stream = await aclient.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello from the stream."


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": MESSAGES}),
        ("/embeddings", {"model": "text-embedding-3-small", "input": "x"}),
        ("/v1/moderations", {"input": "x"}),
        ("/images/generate", {"prompt": "x"}),
    ],
)
def test_plain_answers_pass_through_byte_for_byte(
    proxy: AiportProcess, path: str, body: dict[str, object]
) -> None:
    response = raw_request(proxy.base_url + path, body)
    assert response.status == 200
    # The fake upstream writes with the stdlib's json.dumps (", " and ": "); a proxy that
    # re-serialised the answer would not keep that spacing.
    assert response.body == json.dumps(response.json()).encode()


# -- embeddings ------------------------------------------------------------------------


def test_embeddings_sdk_default_base64_decodes(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert upstream.last("/embeddings")["body"]["encoding_format"] == "base64"
    assert [item.embedding for item in result.data] == [VECTOR, VECTOR]
    assert [item.index for item in result.data] == [0, 1]
    assert result.usage.prompt_tokens == 5


async def test_embeddings_float_format_async(
    aclient: openai.AsyncOpenAI, upstream: FakeUpstream
) -> None:
    result = await aclient.embeddings.create(
        model="text-embedding-3-small", input="Maschinelles Lernen", encoding_format="float"
    )
    assert upstream.last("/embeddings")["body"]["encoding_format"] == "float"
    assert result.data[0].embedding == VECTOR


# -- images ----------------------------------------------------------------------------


def test_images_generate(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    result = client.images.generate(prompt="Ein Roboter", model="dall-e-3")
    assert result.data is not None and result.data[0].url == "https://example.invalid/img.png"
    sent = upstream.last("/images/generations")["body"]
    assert sent["size"] == "1024x1024" and sent["quality"] == "standard"  # the seed's defaults


async def test_images_generate_async(aclient: openai.AsyncOpenAI) -> None:
    result = await aclient.images.generate(prompt="Ein Roboter", size="1792x1024")
    assert result.data is not None and result.data[0].url


@PREFIXES
def test_images_seed_path_raw(proxy: AiportProcess, upstream: FakeUpstream, v1: bool) -> None:
    url = proxy.base_url + ("/v1" if v1 else "") + "/images/generate"
    response = raw_request(url, {"prompt": "Ein futuristischer Roboter", "quality": "hd"})
    assert response.status == 200, response.body
    assert response.json()["data"][0]["url"] == "https://example.invalid/img.png"
    sent = upstream.last("/images/generations")["body"]
    assert sent["model"] == "dall-e-3" and sent["quality"] == "hd"


# -- speech ----------------------------------------------------------------------------


def test_speech_bytes(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    audio = client.audio.speech.create(model="tts-1", voice="alloy", input="Hallo!")
    assert audio.content == SPEECH
    assert audio.response.headers["content-type"] == "audio/mpeg"
    assert upstream.last("/audio/speech")["body"]["voice"] == "alloy"


def test_speech_events_of_an_upstream_pass_through(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    """`stream_format: "sse"`: the upstream's events reach the client as they are, as
    events (they were labelled audio/mpeg)."""
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Hallo!", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        received = response.read()
    assert received.decode() == SPEECH_EVENTS
    assert upstream.last("/audio/speech")["body"]["stream_format"] == "sse"


def test_speech_streaming_response(client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="tts-1-hd", voice="nova", input="Hallo, ich bin eine KI-generierte Stimme!"
    ) as response:
        assert response.headers["x-request-id"].startswith("req_")
        received = b"".join(response.iter_bytes(1024))
    assert received == SPEECH


async def test_speech_streaming_response_async(aclient: openai.AsyncOpenAI) -> None:
    async with aclient.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Hallo!", response_format="mp3"
    ) as response:
        received = b"".join([piece async for piece in response.iter_bytes()])
    assert received == SPEECH


# -- transcriptions and translations ---------------------------------------------------


def test_transcription_upload_passes_whole(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1", file=("speech.mp3", AUDIO, "audio/mpeg"), language="de"
    )
    assert result.text == "hello world"
    sent = upstream.last("/audio/transcriptions")["body"]
    assert sent["file_size"] == len(AUDIO) and sent["file_name"] == "speech.mp3"
    assert sent["model"] == "whisper-1" and sent["language"] == "de"


def test_transcription_text_format_is_plain_text(client: openai.OpenAI) -> None:
    text = client.audio.transcriptions.create(
        model="whisper-1", file=("speech.mp3", AUDIO), response_format="text"
    )
    assert text == "hello world\n"


async def test_transcription_async(aclient: openai.AsyncOpenAI, upstream: FakeUpstream) -> None:
    result = await aclient.audio.transcriptions.create(
        model="whisper-1", file=("speech.wav", AUDIO)
    )
    assert result.text == "hello world"
    assert upstream.last("/audio/transcriptions")["body"]["file_size"] == len(AUDIO)


def test_translation(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    result = client.audio.translations.create(model="whisper-1", file=("rede.mp3", AUDIO))
    assert result.text == "hello world"
    sent = upstream.last("/audio/translations")["body"]
    assert sent["file_size"] == len(AUDIO) and sent["model"] == "whisper-1"


async def test_translation_text_format_async(aclient: openai.AsyncOpenAI) -> None:
    text = await aclient.audio.translations.create(
        model="whisper-1", file=("rede.mp3", AUDIO), response_format="text"
    )
    assert text == "hello world\n"


# -- moderations -----------------------------------------------------------------------


def test_moderations(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    result = client.moderations.create(input="Dies ist ein Beispieltext zur Moderation")
    assert result.results[0].flagged is False
    scores = result.results[0].category_scores
    assert scores.violence_graphic == 0.001 and scores.self_harm_instructions == 0.001
    # to_dict(), not model_dump(): the SDK's lazily built models dump aliased fields twice.
    assert len(scores.to_dict()) == len(result.results[0].categories.to_dict()) == 13
    assert upstream.last("/moderations")["body"]["input"].startswith("Dies ist")


async def test_moderations_async(aclient: openai.AsyncOpenAI) -> None:
    result = await aclient.moderations.create(
        model="omni-moderation-latest", input=["eins", "zwei"]
    )
    assert result.id == "modr-fake"


# -- models ----------------------------------------------------------------------------


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert {"gpt-4o", "gpt-4o-mini", "my-llama"} <= set(ids)
    assert len(ids) == len(set(ids))
    model = client.models.retrieve("gpt-4o")
    assert model.id == "gpt-4o" and model.object == "model"
    assert client.models.retrieve("my-llama").owned_by == "vllm"


async def test_models_async(aclient: openai.AsyncOpenAI) -> None:
    ids = [model.id async for model in aclient.models.list()]
    assert "gpt-4o" in ids
    assert (await aclient.models.retrieve("gpt-4o-mini")).id == "gpt-4o-mini"


def test_unknown_model_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("no-such-model")
    assert caught.value.code == "model_not_found"
    assert caught.value.response.headers["x-request-id"].startswith("req_")


async def test_unknown_model_is_not_found_async(aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await aclient.models.retrieve("no-such-model")
    assert caught.value.code == "model_not_found"
