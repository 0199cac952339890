"""`weights: q4_0`: the shipped Q4_1 chat model rewritten once as Q4_0, then served."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, quants

from aiport.backends.base import Call
from aiport.backends.local.chat import LlamaChatBackend, smollm2_gguf_path
from aiport.backends.local.requantize import as_q4_0
from aiport.protocol.chat import ChatCompletionRequest

pytestmark = pytest.mark.slow
Q4_0, Q4_1 = GGMLQuantizationType.Q4_0, GGMLQuantizationType.Q4_1


async def test_q4_0_weights_are_written_once_and_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    backend = LlamaChatBackend(weights="q4_0")
    await backend.start()
    try:
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
        result = await backend.chat(Call.from_body(ChatCompletionRequest, body, backend.model_id))
        assert result.usage.completion_tokens > 0
    finally:
        await backend.close()

    (written,) = (tmp_path / "aiport" / "gguf").iterdir()
    shipped, rewritten = GGUFReader(smollm2_gguf_path()), GGUFReader(written)
    assert set(rewritten.fields) == set(shipped.fields)  # the tokenizer, template, ... kept
    before = {tensor.name: tensor for tensor in shipped.tensors}
    assert Counter(t.tensor_type for t in rewritten.tensors) == Counter(
        Q4_0 if t.tensor_type == Q4_1 else t.tensor_type for t in shipped.tensors
    )
    for tensor in rewritten.tensors[:12]:
        original = before[tensor.name]
        assert tensor.shape.tolist() == original.shape.tolist()
        if tensor.tensor_type == Q4_0:  # the same weights, up to Q4_0's coarser rounding
            old = quants.dequantize(original.data, Q4_1)
            new = quants.dequantize(tensor.data, Q4_0)
            assert np.abs(new - old).mean() < 0.2 * np.abs(old).mean()

    made = written.stat().st_mtime_ns
    assert as_q4_0(smollm2_gguf_path()) == written  # cached: not written again
    assert written.stat().st_mtime_ns == made
    assert as_q4_0(written, tmp_path / "again") == written  # no Q4_1 left: served as it is
