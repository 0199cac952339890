"""The newest model names, Anthropic's Messages API, legacy completions and image edits on
the embedded models (local mode, no provider), with the official SDKs."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from PIL import Image

from tests.support.openapi_spec import validate_event
from tests.support.server import MASTER_KEY, AiportProcess, assert_openai_error, raw_request

pytestmark = pytest.mark.slow

CHAT_NAMES = (
    "gpt-5.4",
    "gpt-5-mini",
    "gpt-4.1-2025-04-14",
    "gpt-4o-2024-11-20",
    "o1",
    "o3-mini",
    "o4-mini",
    "chatgpt-4o-latest",
    "gpt-3.5-turbo-0125",
)


@pytest.fixture(scope="module")
def client(local_server: AiportProcess) -> openai.OpenAI:
    return local_server.client()


@pytest.fixture(scope="module")
def claude(local_server: AiportProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=local_server.base_url, api_key=MASTER_KEY, max_retries=0)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (200, 30, 30, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("model", CHAT_NAMES)
def test_newest_chat_names_answer(client: openai.OpenAI, model: str) -> None:
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=2
    )
    assert reply.model == model and reply.choices[0].message.content is not None


def test_newest_names_of_the_other_kinds_answer(client: openai.OpenAI) -> None:
    image = client.images.generate(model="gpt-image-2", prompt="a red ball", size="1024x1024")
    assert image.data and (image.data[0].b64_json or image.data[0].url)
    speech = client.audio.speech.create(
        model="gpt-4o-mini-tts-2025-03-20", voice="alloy", input="Hi."
    )
    audio = speech.read()
    assert len(audio) > 1000
    text = client.audio.transcriptions.create(
        model="gpt-4o-transcribe-diarize", file=("hi.mp3", audio, "audio/mpeg")
    )
    assert isinstance(text.text, str)
    vectors = client.embeddings.create(model="text-embedding-3-large-2026", input="x")
    assert len(vectors.data[0].embedding) > 0
    verdict = client.moderations.create(model="omni-moderation-2026-01-01", input="Hello")
    assert verdict.results[0].flagged is False


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/embeddings", "gpt-5.4"),
        ("/v1/chat/completions", "gpt-image-2"),
        ("/v1/chat/completions", "claude-sonnet-5"),
        ("/v1/images/generations", "text-embedding-3-large-2026"),
    ],
)
def test_a_family_answers_only_on_its_own_endpoint(
    local_server: AiportProcess, path: str, model: str
) -> None:
    body: dict[str, Any] = {
        "model": model,
        "input": "x",
        "prompt": "x",
        "messages": [{"role": "user", "content": "x"}],
    }
    error = assert_openai_error(raw_request(local_server.base_url + path, body), 404, "model")
    assert error["code"] == "model_not_found"
    listed = {m.id for m in local_server.client().models.list()}
    assert "gpt-5.4" not in listed and "gpt-4o" in listed  # only the explicit aliases


def test_claude_names_on_the_messages_api(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="claude-sonnet-5",
        max_tokens=8,
        system="Answer briefly.",
        messages=[{"role": "user", "content": "Say hi."}],
    )
    assert message.content[0].type == "text" and message.model == "claude-sonnet-5"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    with claude.messages.stream(
        model="claude-haiku-5", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.content[0].text  # type: ignore[union-attr]
    assert final.stop_reason in ("end_turn", "max_tokens") and final.usage.output_tokens > 0
    counted = claude.messages.count_tokens(
        model="claude-opus-5", messages=[{"role": "user", "content": "Hello there"}]
    )
    assert counted.input_tokens > 0


def test_an_embedded_engine_refuses_an_unknown_field_inside_messages(
    claude: anthropic.Anthropic,
) -> None:
    """aiport answers in Anthropic's place here: a field the SDK does not define would be
    dropped unseen, so it is a 400 naming it (before any model work), as Anthropic's."""
    messages: Any = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}],
        }
    ]
    messages[0]["content"][0]["cache_control"]["scope"] = "global"
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(model="claude-sonnet-5", max_tokens=8, messages=messages)
    error: Any = refused.value.body
    assert error["error"] == {
        "type": "invalid_request_error",
        "message": "messages.0.content.0.text.cache_control.ephemeral.scope: "
        "Extra inputs are not permitted",
    }


def _deep_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    for _ in range(levels - 1):
        schema = {"type": "object", "properties": {"inner": schema}}
    return schema


@pytest.mark.parametrize("stream", [False, True])
def test_a_chat_path_400_names_the_messages_field(
    claude: anthropic.Anthropic, stream: bool
) -> None:
    """The embedded engine's limit on a tool's schema is met on the chat path (`tools[0].
    function.parameters` there): the caller is told of its own `tools.1.input_schema`,
    worded as Anthropic words a 400."""
    from aiport.backends.local.chat_limits import MAX_OBJECT_DEPTH

    tools: Any = [
        {"type": "web_search_20250305", "name": "web_search"},  # no chat tool
        {"name": "f", "input_schema": _deep_schema(MAX_OBJECT_DEPTH + 1)},
    ]
    ask: Any = {"model": "claude-sonnet-5", "max_tokens": 8, "tools": tools, "stream": stream}
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(messages=[{"role": "user", "content": "Hi"}], **ask)
    error: Any = refused.value.body
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith("tools.1.input_schema: Invalid schema: ")
    assert "function" not in error["error"]["message"]


def test_local_messages_name_the_stop_sequence_and_count_the_prompt_at_the_start(
    claude: anthropic.Anthropic,
) -> None:
    ask: Any = {
        "model": "claude-sonnet-5",
        "max_tokens": 30,
        "extra_body": {"temperature": 0},  # not a parameter of this SDK any more
        "messages": [{"role": "user", "content": "Count from 1 to 10 separated by commas."}],
        "stop_sequences": [","],
    }
    message = claude.messages.create(**ask)
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == ","
    with claude.messages.stream(**ask) as stream:
        events = list(stream)
    start = events[0]
    [delta] = [event for event in events if event.type == "message_delta"]
    assert start.type == "message_start" and delta.usage.input_tokens is not None
    counted = delta.usage.input_tokens + (delta.usage.cache_read_input_tokens or 0)
    assert start.message.usage.input_tokens == counted > 0  # llama.cpp's count, before the end
    assert delta.delta.stop_reason == "stop_sequence" and delta.delta.stop_sequence == ","


def test_legacy_completions(client: openai.OpenAI) -> None:
    whole = client.completions.create(
        model="gpt-3.5-turbo-instruct",
        prompt="The capital of France is",
        max_tokens=4,
        temperature=0,
        logprobs=2,
    )
    choice = whole.choices[0]
    assert whole.object == "text_completion" and choice.text
    assert choice.logprobs is not None and len(choice.logprobs.tokens or []) > 0
    assert "".join(choice.logprobs.tokens or []) == choice.text
    assert whole.usage is not None and whole.usage.completion_tokens > 0
    echoed = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Once upon", max_tokens=3, echo=True, n=2
    )
    assert [c.index for c in echoed.choices] == [0, 1]
    assert all(c.text.startswith("Once upon") for c in echoed.choices)
    chunks = list(
        client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="1, 2, 3,", max_tokens=4, stream=True
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices)
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt="def f(", suffix="x")
    assert refused.value.param == "suffix"  # type: ignore[attr-defined]


def test_legacy_max_tokens_0_generates_nothing(client: openai.OpenAI) -> None:
    """`max_tokens: 0` gave one token; as at OpenAI it generates none: the prompt is read
    (and counted), `echo` gives it back alone, and the choice ends at its `length`."""
    ask: Any = {"model": "gpt-3.5-turbo-instruct", "prompt": "One, two,", "max_tokens": 0}
    plain = client.completions.create(**ask)
    assert (plain.choices[0].text, plain.choices[0].finish_reason) == ("", "length")
    assert plain.usage is not None and plain.usage.completion_tokens == 0
    assert plain.usage.prompt_tokens > 0
    echoed = client.completions.create(**ask, echo=True, n=2)
    assert [choice.text for choice in echoed.choices] == ["One, two,"] * 2
    chunks = list(
        client.completions.create(
            **ask, echo=True, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "One, two,"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 0


def _mean_logprob(choice: Any) -> float:
    values = choice.logprobs.token_logprobs
    return sum(values) / len(values) if values else float("-inf")


def test_legacy_best_of_returns_the_likeliest_candidates_and_bills_them_all(
    client: openai.OpenAI,
) -> None:
    """`best_of` was ignored: now `best_of` candidates are generated for each prompt and
    the `n` with the highest mean logprob per token come back, the likeliest first; the
    usage counts every candidate's tokens. It cannot be streamed (OpenAI's rule)."""
    ask: Any = {"model": "gpt-3.5-turbo-instruct", "prompt": "My favourite colour is"}
    ask |= {"max_tokens": 4, "temperature": 1.5, "seed": 7, "logprobs": 0}
    best = client.completions.create(**ask, best_of=4, n=2)
    assert [choice.index for choice in best.choices] == [0, 1]
    returned = sum(len(choice.logprobs.tokens) for choice in best.choices)  # type: ignore[union-attr, arg-type]
    assert best.usage is not None and best.usage.completion_tokens > returned
    assert _mean_logprob(best.choices[0]) >= _mean_logprob(best.choices[1])
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(**ask, best_of=2, stream=True)
    assert refused.value.param == "best_of"  # type: ignore[attr-defined]


def test_a_gpt_image_picture_comes_as_base64_as_at_openai(client: openai.OpenAI) -> None:
    """GPT Image models always answer with `b64_json` (OpenAI's guide decodes it); here
    they answered with a `url`, so that code failed on `None`. DALL·E keeps `url`."""
    drawn = client.images.generate(model="gpt-image-1", prompt="a red ball", size="1024x1024")
    [picture] = drawn.data or []
    assert picture.url is None and picture.b64_json
    assert Image.open(io.BytesIO(base64.b64decode(picture.b64_json))).size == (1024, 1024)
    dalle = client.images.generate(model="dall-e-2", prompt="a red ball", size="256x256")
    assert dalle.data and dalle.data[0].url and dalle.data[0].b64_json is None


def test_a_picture_whose_options_are_null_takes_their_defaults(client: openai.OpenAI) -> None:
    """OpenAI's spec lets `n`, `size`, `quality` and `response_format` be null (the SDK
    sends null for an option passed as None, as wrappers do); each was a 400 here."""
    drawn = client.images.generate(
        model="dall-e-2", prompt="a red ball", n=None, size=None, quality=None, response_format=None
    )
    assert len(drawn.data or []) == 1 and (drawn.data or [])[0].url


def test_legacy_logprobs_0_give_each_tokens_own_logprob(client: openai.OpenAI) -> None:
    """`logprobs: 0` asks for the chosen tokens' logprobs without alternatives; llama.cpp
    was asked for none, so the tokens and their logprobs came back empty."""
    whole = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="One, two,", max_tokens=3, logprobs=0
    )
    logprobs = whole.choices[0].logprobs
    assert logprobs is not None and whole.usage is not None
    assert len(logprobs.tokens or []) == whole.usage.completion_tokens > 0
    assert "".join(logprobs.tokens or []) == whole.choices[0].text
    assert all(isinstance(value, float) for value in logprobs.token_logprobs or [])
    assert logprobs.top_logprobs == [{}] * whole.usage.completion_tokens
    chunks = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="One, two,", max_tokens=3, logprobs=0, stream=True
    )
    streamed = [c.choices[0].logprobs for c in chunks if c.choices and c.choices[0].text]
    assert streamed and all(lp is not None and lp.top_logprobs == [{}] for lp in streamed)


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # variations
def test_a_picture_asked_for_as_a_stream_comes_as_its_completed_event(
    client: openai.OpenAI,
) -> None:
    """`stream: true` was ignored: a JSON answer, in which the SDK found no event at all."""
    events = list(
        client.images.generate(
            model="gpt-image-1", prompt="a red ball", n=2, size="1024x1024", stream=True
        )
    )
    assert [e.type for e in events] == ["image_generation.completed"] * 2
    for event in events:
        validate_event(event.model_dump(), "ImageGenStreamEvent")
        assert Image.open(io.BytesIO(base64.b64decode(event.b64_json))).size == (1024, 1024)
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(model="dall-e-3", prompt="a red ball", stream=True)
    assert refused.value.param == "stream"  # type: ignore[attr-defined]


def test_image_edits_are_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as edit:
        client.images.edit(model="gpt-image-1", image=("a.png", png()), prompt="add a hat")
    message = str(edit.value)
    assert "local-images" in message and "stable-diffusion.cpp" in message
    with pytest.raises(openai.BadRequestError) as variation:
        client.images.create_variation(model="dall-e-2", image=("a.png", png()))
    assert "variations" in str(variation.value)
    with pytest.raises(openai.BadRequestError) as streamed:
        client.images.edit(
            model="gpt-image-1", image=("a.png", png()), prompt="add a hat", stream=True
        )
    assert "local-images" in str(streamed.value)


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
CITY = WEATHER["function"]["parameters"]  # type: ignore[index]


def test_tool_calls_from_the_local_model_in_every_protocol(
    client: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    chunks = list(
        client.chat.completions.create(
            model="gpt-5.4",
            messages=ask,
            tools=[WEATHER],
            tool_choice="required",  # type: ignore[list-item]
            max_tokens=40,
            temperature=0,
            stream=True,
        )
    )
    calls = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
    assert calls and calls[0].function and calls[0].function.name == "get_weather"
    jsonschema.validate(json.loads(calls[0].function.arguments or ""), CITY)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    function = {"type": "function", **WEATHER["function"]}  # type: ignore[dict-item]
    response = client.responses.create(
        model="gpt-4.1",
        input="Weather in Paris?",
        tools=[function],
        tool_choice="required",
        max_output_tokens=40,
        temperature=0,
    )
    [item] = response.output
    assert item.type == "function_call" and item.name == "get_weather"
    jsonschema.validate(json.loads(item.arguments), CITY)

    tool = {"name": "get_weather", "description": "The weather.", "input_schema": CITY}
    message = claude.messages.create(
        model="claude-sonnet-5",
        max_tokens=40,
        messages=ask,
        tools=[tool],  # type: ignore[list-item]
        tool_choice={"type": "any"},
    )
    [use] = message.content
    assert use.type == "tool_use" and use.name == "get_weather"
    jsonschema.validate(use.input, CITY)
    assert message.stop_reason == "tool_use"

    # With tool_choice auto the model may answer in text or call: either is well formed.
    free = client.chat.completions.create(
        model="o3",
        messages=ask,
        tools=[WEATHER],
        max_tokens=40,
        temperature=0,  # type: ignore[list-item]
    )
    answer = free.choices[0]
    if answer.finish_reason == "tool_calls":
        [call] = answer.message.tool_calls or []
        jsonschema.validate(json.loads(call.function.arguments), CITY)  # type: ignore[union-attr]
    else:
        assert answer.message.content and not answer.message.tool_calls
