"""The moderation head is rebuilt from the labelled lines, and the shipped heads match them."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from aiport.backends.local import moderation_train as training
from aiport.protocol.moderations import CATEGORIES


def hashed_bag_of_words(texts: list[str]) -> np.ndarray:
    """A stand-in encoder: words hashed into 384 buckets, rows scaled to unit length."""
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, zlib.crc32(word.encode()) % 384] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.mark.parametrize("encoder", ["e5", "minilm"])
def test_shipped_head_was_built_from_the_current_training_lines(encoder: str) -> None:
    with np.load(training.head_file(encoder)) as head:
        assert str(head["fingerprint"]) == training.train_fingerprint()
        assert str(head["encoder"]) == encoder
        assert head["w"].shape == (384, len(CATEGORIES))
        assert head["bank"].shape[0] == head["labels"].shape[0]


def test_build_head_gives_calibrated_scores_and_sane_thresholds() -> None:
    head = training.build_head(hashed_bag_of_words, "test")
    texts, labels = training.load_examples()
    assert head["bank"].shape == (len(texts), 384)
    assert np.all((head["thresholds"] >= 0.5) & (head["thresholds"] <= 0.8))
    model = (head["mean"], head["scale"], head["w"], head["b"])
    raw = training.raw_scores(hashed_bag_of_words(texts[:50]), head["bank"], labels, model)
    assert raw.shape == (50, len(CATEGORIES))
    assert np.all((raw >= 0.0) & (raw <= 1.0))
