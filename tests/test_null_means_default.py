"""`null` for an optional field means its default, as at OpenAI: the SDKs send an option
passed as None as null (`encoding_format=None`, `model=None`), and aiport answered 400."""

from __future__ import annotations

from typing import Any

import pytest

from aiport.api.bodies import validate
from aiport.protocol.audio import SpeechRequest, TranscriptionRequest
from aiport.protocol.chat import ChatCompletionRequest
from aiport.protocol.common import WireModel
from aiport.protocol.completions import CompletionRequest
from aiport.protocol.embeddings import EmbeddingRequest
from aiport.protocol.images import ImageRequest
from aiport.protocol.messages import MessagesRequest
from aiport.protocol.moderations import ModerationRequest
from aiport.protocol.responses import ResponseRequest
from tests.support.server import AiportProcess

HI = [{"role": "user", "content": "Hi"}]
MINIMAL: list[tuple[type[WireModel], dict[str, Any]]] = [
    (ChatCompletionRequest, {"model": "gpt-4o", "messages": HI}),
    (CompletionRequest, {"model": "gpt-3.5-turbo-instruct", "prompt": "Hi"}),
    (EmbeddingRequest, {"model": "text-embedding-3-small", "input": "Hi"}),
    (ModerationRequest, {"input": "Hi"}),
    (ImageRequest, {"prompt": "a cat"}),
    (SpeechRequest, {"input": "Hi", "voice": "alloy"}),
    (ResponseRequest, {"model": "gpt-4o", "input": "Hi"}),
    (MessagesRequest, {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": HI}),
]


@pytest.mark.parametrize(("model", "body"), MINIMAL, ids=lambda v: getattr(v, "__name__", ""))
def test_null_for_every_optional_field_is_its_default(
    model: type[WireModel], body: dict[str, Any]
) -> None:
    optional = [n for n, f in model.model_fields.items() if not f.is_required()]
    plain = validate(model, body)
    nulls = validate(model, body | dict.fromkeys(optional))
    for name in optional:  # the default, or None where the field may be None
        assert getattr(nulls, name) in (None, getattr(plain, name)), name


def test_null_form_fields_are_not_sent_by_the_sdk() -> None:
    # Form fields are text: the SDK leaves None out of a multipart body; a required one
    # stays required.
    assert validate(TranscriptionRequest, {}, strict=False).model == "whisper-1"


def test_the_sdk_may_pass_none_to_the_embedded_models(local_server: AiportProcess) -> None:
    client = local_server.client()
    chat = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Hi", "name": None}],  # type: ignore[typeddict-item]
        max_tokens=2,
    )
    assert chat.choices[0].message.content
    embedding = client.embeddings.create(
        model="text-embedding-3-small",
        input="Hi",
        encoding_format=None,  # type: ignore[arg-type]
    )
    assert len(embedding.data[0].embedding) == 384
    assert client.moderations.create(input="Hi", model=None).results  # type: ignore[arg-type]
    speech = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input="Hi",
        response_format=None,  # type: ignore[arg-type]
        speed=None,  # type: ignore[arg-type]
    )
    assert speech.content
