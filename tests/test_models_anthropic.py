"""GET /v1/models and /v1/models/{id} in Anthropic's shape for Anthropic's clients (the
`anthropic` SDK and Claude Code send `anthropic-version`), checked with the SDK's own
types; OpenAI's clients keep OpenAI's answer."""

from __future__ import annotations

import anthropic
import openai
import pytest
from anthropic.types import ModelInfo

from tests.support.server import MASTER_KEY, AiportProcess, raw_request

VERSION = {"anthropic-version": "2023-06-01"}


@pytest.fixture(scope="module")
def client(proxy: AiportProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.base_url, api_key=MASTER_KEY, max_retries=0)


@pytest.fixture(scope="module")
def openai_ids(proxy: AiportProcess) -> list[str]:
    answer = raw_request(proxy.base_url + "/v1/models", method="GET")
    assert answer.status == 200
    return [model["id"] for model in answer.json()["data"]]


def test_the_list_is_anthropics_for_the_anthropic_sdk(
    proxy: AiportProcess, client: anthropic.Anthropic, openai_ids: list[str]
) -> None:
    page = client.models.list()
    answer = raw_request(proxy.base_url + "/v1/models", method="GET", headers=VERSION)
    body = answer.json()
    assert set(body) == {"data", "has_more", "first_id", "last_id"}
    assert [model["id"] for model in body["data"]] == openai_ids  # the same models, in order
    assert (body["has_more"], body["first_id"], body["last_id"]) == (
        False,
        openai_ids[0],
        openai_ids[-1],
    )
    for model in body["data"]:
        info = ModelInfo.model_validate(model, strict=False)  # the SDK's type, validated
        assert info.type == "model" and info.display_name == model["id"]
        assert model["created_at"].endswith("Z") and "T" in model["created_at"]  # RFC 3339
    assert [model.id for model in page.data] == openai_ids[:20]  # Anthropic's default limit


def test_the_sdk_pages_through_it(client: anthropic.Anthropic, openai_ids: list[str]) -> None:
    """`limit`, `after_id` (the SDK's auto-pagination) and `before_id`."""
    assert len(openai_ids) >= 4
    assert [model.id for model in client.models.list(limit=2)] == openai_ids
    first = client.models.list(limit=2)
    assert [m.id for m in first.data] == openai_ids[:2] and first.has_more is True
    before = client.models.list(limit=2, before_id=openai_ids[3])
    assert [m.id for m in before.data] == openai_ids[1:3] and before.has_more is True
    assert [m.id for m in client.models.list(before_id=openai_ids[0]).data] == []


def test_retrieve_answers_the_model_or_anthropics_404(
    client: anthropic.Anthropic, openai_ids: list[str]
) -> None:
    model = client.models.retrieve(openai_ids[0])
    assert (model.id, model.type, model.display_name) == (openai_ids[0], "model", openai_ids[0])
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.models.retrieve("no-such-model")
    assert missing.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": missing.value.body["error"]["message"]},  # type: ignore[index]
        "request_id": missing.value.request_id,
    }
    assert missing.value.request_id and missing.value.request_id.startswith("req_")


def test_a_bad_limit_is_refused_in_anthropics_words(proxy: AiportProcess) -> None:
    answer = raw_request(proxy.base_url + "/v1/models?limit=0", method="GET", headers=VERSION)
    assert answer.status == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert answer.json()["request_id"] == answer.headers["request-id"]


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/anything"])
def test_an_early_error_carries_request_id_too(proxy: AiportProcess, path: str) -> None:
    """A wrong key is refused before the handler runs: still Anthropic's answer, with the
    `request-id` header its SDK reads (`AuthenticationError.request_id`)."""
    client = anthropic.Anthropic(base_url=proxy.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as refused:
        client.get(path, cast_to=ModelInfo)
    assert refused.value.request_id and refused.value.request_id.startswith("req_")
    assert refused.value.body["request_id"] == refused.value.request_id  # type: ignore[index]
    answer = raw_request(proxy.base_url + path, method="GET", key="sk-wrong")
    assert "request-id" not in answer.headers  # OpenAI's clients: x-request-id only


def test_openai_clients_keep_openais_answer(proxy: AiportProcess, openai_ids: list[str]) -> None:
    oai = openai.OpenAI(base_url=proxy.base_url + "/v1", api_key=MASTER_KEY, max_retries=0)
    listed = oai.models.list()
    assert [m.id for m in listed.data] == openai_ids
    assert all(m.object == "model" and isinstance(m.created, int) for m in listed.data)
    answer = raw_request(proxy.base_url + "/v1/models", method="GET")
    assert set(answer.json()) == {"object", "data"} and "request-id" not in answer.headers
    with pytest.raises(openai.NotFoundError) as missing:
        oai.models.retrieve("no-such-model")
    assert missing.value.body["code"] == "model_not_found"  # type: ignore[index]
