"""The embedded MiniLM places related texts closer together than unrelated ones."""

from __future__ import annotations

import numpy as np
import pytest

from aiport.backends.local.minilm import MiniLM

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return MiniLM()


def test_vectors_are_unit_length_float32(minilm: MiniLM) -> None:
    vectors = minilm.encode(["one", "two words", "a somewhat longer sentence than the others"])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("query", "related", "unrelated"),
    [
        ("A man is playing a guitar.", "Someone plays an instrument.", "Stocks fell sharply."),
        ("How do I reset my password?", "I forgot my login credentials.", "Bake for 20 minutes."),
        ("The cat sleeps on the sofa.", "A kitten naps on the couch.", "Rust compiles to LLVM."),
    ],
)
def test_related_text_ranks_above_unrelated(
    minilm: MiniLM, query: str, related: str, unrelated: str
) -> None:
    q, r, u = minilm.encode([query, related, unrelated])
    assert float(q @ r) > 0.5
    assert float(q @ r) > float(q @ u) + 0.3


def test_padding_in_a_batch_does_not_change_a_vector(minilm: MiniLM) -> None:
    short = "Short text."
    alone = minilm.encode([short])[0]
    batched = minilm.encode([short, "a much longer neighbour " * 20])[0]
    assert float(alone @ batched) > 0.999


def test_token_counts_exclude_special_tokens_and_ignore_truncation(minilm: MiniLM) -> None:
    assert minilm.count_tokens(["hello world", "hello " * 600]) == [2, 600]
    _, counts = minilm.encode_counted(["hello world", "hello " * 600])
    assert counts == [2, 600]


def test_long_input_is_truncated_not_refused(minilm: MiniLM) -> None:
    head = "The quarterly report shows revenue growth in every region. " * 30
    long_vector, short_vector = minilm.encode([head + "unrelated tail " * 500, head])
    assert float(long_vector @ short_vector) > 0.95
