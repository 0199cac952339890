"""Legacy completions and image edits passed through to the fake upstream, and the Messages
API's usage rows and mid-stream failures."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

from tests.support.fake_upstream import FakeUpstream, wait_for
from tests.support.server import MASTER_KEY, AiportProcess, raw_request


@pytest.fixture(scope="module")
def client(proxy: AiportProcess) -> openai.OpenAI:
    return proxy.client()


def test_completions_pass_through(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    whole = client.completions.create(
        model="gpt-3.5-turbo-instruct",
        prompt="Hello",
        max_tokens=5,
        extra_body={"top_k": 3},  # not in the spec, not for this provider: dropped
    )
    assert whole.choices[0].text == " world." and whole.usage is not None
    sent = upstream.last("/completions")["body"]
    assert sent == {"model": "gpt-3.5-turbo-instruct", "prompt": "Hello", "max_tokens": 5}
    chunks = list(
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hello", stream=True)
    )
    assert "".join(c.choices[0].text for c in chunks) == " world."
    assert all(c.usage is None for c in chunks)  # asked for metering, not shown unasked
    assert upstream.last("/completions")["body"]["stream_options"] == {"include_usage": True}
    with_usage = list(
        client.completions.create(
            model="gpt-3.5-turbo-instruct",
            prompt="Hello",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert with_usage[-1].choices == [] and with_usage[-1].usage is not None


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # variations
def test_image_edits_and_variations_pass_through_byte_for_byte(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    edited = client.images.edit(
        model="gpt-image-1", image=("a.png", picture, "image/png"), prompt="add a hat"
    )
    assert edited.data and edited.data[0].b64_json == "aGVsbG8="
    sent = upstream.last("/images/edits")
    assert picture in sent["body"] and b"add a hat" in sent["body"]
    assert sent["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert sent["headers"]["Authorization"] != f"Bearer {MASTER_KEY}"
    client.images.create_variation(model="dall-e-2", image=("a.png", picture, "image/png"), n=2)
    assert picture in upstream.last("/images/variations")["body"]
    with pytest.raises(openai.BadRequestError) as bad:
        client.images.create_variation(image=("a.png", picture, "image/png"), n=11)
    assert bad.value.param == "n"  # type: ignore[attr-defined]


def test_messages_are_metered_and_fail_in_anthropics_shape(proxy: AiportProcess) -> None:
    key = raw_request(proxy.base_url + "/admin/keys", {"name": "messages-usage"}).json()
    claude = anthropic.Anthropic(base_url=proxy.base_url, api_key=key["key"], max_retries=0)
    with claude.messages.stream(
        model="claude-native", max_tokens=20, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        stream.until_done()

    def recorded() -> bool:
        usage = raw_request(proxy.base_url + f"/admin/usage?key={key['id']}", key=MASTER_KEY)
        rows = usage.json()["data"]
        return bool(rows) and rows[0]["requests"] == 1 and rows[0]["total_tokens"] == 13

    assert wait_for(recorded, timeout=10)  # input from message_start, output from the delta
    body = {"model": "vllm-break", "max_tokens": 20, "stream": True}
    body["messages"] = [{"role": "user", "content": "Hi"}]
    broken = raw_request(proxy.base_url + "/v1/messages", body)
    assert broken.status == 200
    last = broken.body.decode().strip().split("\n\n")[-1]
    assert last.startswith("event: error\ndata: ")
    error = json.loads(last.split("data: ", 1)[1])
    assert error["type"] == "error" and error["error"]["type"] == "api_error"


# A translated answer names its model as a passed-through one does: the name the upstream
# that served gave it (OpenAI names the snapshot that served, not the alias asked for).
TRANSLATIONS = [
    ("messages over chat", "vllm-chat", "fake-chat"),
    ("responses over chat", "vllm-chat", "fake-chat"),
    ("chat over messages", "claude-native", "claude-sonnet-4-5"),
]


@pytest.mark.parametrize(("api", "model", "served"), TRANSLATIONS, ids=[t[0] for t in TRANSLATIONS])
def test_a_translated_answer_names_the_model_that_served(
    proxy: AiportProcess, client: openai.OpenAI, api: str, model: str, served: str
) -> None:
    hello: Any = [{"role": "user", "content": "Hi"}]
    if api == "messages over chat":
        claude = anthropic.Anthropic(base_url=proxy.base_url, api_key=MASTER_KEY, max_retries=0)
        whole = claude.messages.create(model=model, max_tokens=20, messages=hello)
        with claude.messages.stream(model=model, max_tokens=20, messages=hello) as stream:
            streamed = stream.get_final_message()
        assert (whole.model, streamed.model) == (served, served)
    elif api == "responses over chat":
        response = client.responses.create(model=model, input="Hi")
        events = list(client.responses.create(model=model, input="Hi", stream=True))
        names = {e.response.model for e in events if hasattr(e, "response")}
        assert (response.model, names) == (served, {served})
    else:
        completion = client.chat.completions.create(model=model, messages=hello)
        chunks = list(client.chat.completions.create(model=model, messages=hello, stream=True))
        assert (completion.model, {c.model for c in chunks}) == (served, {served})
