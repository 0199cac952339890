"""A user points a model name of their own at a GGUF file in aiport.yaml: a second chat
engine, beside (or instead of) the built-in one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aiport.backends.local.chat import smollm2_gguf_path
from tests.support.server import AiportProcess, raw_request

pytestmark = pytest.mark.slow

OFF = {"enabled": False}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AiportProcess]:
    config = {
        "local": {
            "engines": {
                "embeddings": OFF,
                "speech": OFF,
                "transcription": OFF,
                "moderation": OFF,
                "images": OFF,
                "mine": {
                    "backend": "aiport.backends.local.chat:LlamaChatBackend",
                    "gguf_path": str(smollm2_gguf_path()),
                    "model_id": "my-gguf",
                },
            },
            "aliases": {"house-model": "my-gguf"},
        }
    }
    process = AiportProcess(tmp_path_factory.mktemp("gguf"), config=config).start(timeout=120)
    yield process
    process.stop()


def test_the_configured_gguf_answers_under_its_names(server: AiportProcess) -> None:
    client = server.client()
    for model in ("my-gguf", "house-model"):
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=5
        )
        assert reply.choices[0].message.content
    listed = {m.id: m.owned_by for m in client.models.list()}
    assert listed["my-gguf"] == "aiport-local" and listed["house-model"] == "aiport-local"
    assert "smollm2-135m-instruct" in listed  # the built-in engine is still there


def test_each_engine_reports_under_its_own_name(server: AiportProcess) -> None:
    backends = raw_request(server.base_url + "/health").json()["backends"]  # master key
    assert backends["local-mine"]["loaded"] and backends["local-chat"]["loaded"]
