"""Build the moderation classifier's head from the labelled lines in `moderation_data/`.

The head is small and numpy-only: per-category logistic regression on standardised
sentence embeddings, averaged with a similarity-weighted vote of the nearest training
lines, then squashed through a per-category Platt scale and cut at a per-category
threshold. Scale and thresholds come from out-of-fold scores (5-fold cross-validation
on the training lines alone); the evaluation set in `tests/data/` is never read here.

`build_head(encoder, name)` returns the arrays the runtime needs; `python -m
aiport.backends.local.moderation_train [e5|minilm]` writes them to
`moderation_data/head-<name>.npz`, stamped with a hash of the training file so a stale
head is noticed at load time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiport.protocol.moderations import CATEGORIES

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("moderation_data")
TRAIN_FILE = DATA_DIR / "train.jsonl"


# Chosen by 5-fold cross-validation on the training lines (see the module docstring).
L2 = 0.03
ITERATIONS = 300
NEIGHBOURS = 7
NEIGHBOUR_SHARPNESS = 20.0
FOLDS = 5

Encode = Callable[[list[str]], "np.ndarray"]


def head_file(encoder_name: str) -> Path:
    return DATA_DIR / f"head-{encoder_name}.npz"


def train_fingerprint() -> str:
    """sha256 of the training file; a head built from other lines is stale."""
    return hashlib.sha256(TRAIN_FILE.read_bytes()).hexdigest()


def load_examples() -> tuple[list[str], np.ndarray]:
    """Texts and their `(n, 13)` 0/1 label matrix, in file order."""
    import numpy as np

    texts: list[str] = []
    rows: list[list[float]] = []
    for line in TRAIN_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        labels = set(record["labels"])
        texts.append(record["text"])
        rows.append([1.0 if c in labels else 0.0 for c in CATEGORIES])
    return texts, np.asarray(rows, dtype=np.float32)


def fit_logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest L2 logistic regression by full-batch Adam; positives up-weighted.

    `x` is standardised. Rare categories get a weight of sqrt(negatives/positives),
    capped, so that a dozen examples still move the boundary.
    """
    import numpy as np

    n, d = x.shape
    positives = y.sum(axis=0)
    ratio = np.clip((n - positives) / np.maximum(positives, 1.0), 1.0, 10.0)
    weight = np.where(y > 0, np.sqrt(ratio), 1.0).astype(np.float32)
    w = np.zeros((d, y.shape[1]), dtype=np.float32)
    b = np.zeros(y.shape[1], dtype=np.float32)
    moments = [np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)]
    step, beta1, beta2 = 0.05, 0.9, 0.999
    for t in range(1, ITERATIONS + 1):
        p = _sigmoid(x @ w + b)
        g = (p - y) * weight / n
        grads = (x.T @ g + L2 * w, g.sum(axis=0))
        for param, grad, m, v in ((w, grads[0], *moments[:2]), (b, grads[1], *moments[2:])):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            param -= step * m_hat / (np.sqrt(v_hat) + 1e-8)
    return w, b


def neighbour_vote(queries: np.ndarray, bank: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Label shares among the `NEIGHBOURS` most similar bank rows, softmax-weighted."""
    import numpy as np

    sims = queries @ bank.T
    k = min(NEIGHBOURS, bank.shape[0])
    idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(sims, idx, axis=1)
    weights = np.exp(NEIGHBOUR_SHARPNESS * (top - top.max(axis=1, keepdims=True)))
    weights /= weights.sum(axis=1, keepdims=True)
    result: np.ndarray = np.einsum("nk,nkc->nc", weights, labels[idx])
    return result


def raw_scores(
    emb: np.ndarray,
    bank: np.ndarray,
    labels: np.ndarray,
    model: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Uncalibrated `(n, 13)` scores: mean of the regression and the neighbour vote."""
    mean, scale, w, b = model
    logistic = _sigmoid(((emb - mean) / scale) @ w + b)
    return (logistic + neighbour_vote(emb, bank, labels)) / 2


def fit_model(
    emb: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Standardisation (mean, scale) and regression (w, b) for these embeddings."""
    mean = emb.mean(axis=0)
    scale = emb.std(axis=0) + 1e-6
    w, b = fit_logistic((emb - mean) / scale, y)
    return mean, scale, w, b


def out_of_fold_scores(emb: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Raw scores for every line from a model that never saw it (k-fold)."""
    import numpy as np

    order = np.random.RandomState(0).permutation(len(y))
    scores = np.zeros_like(y)
    for fold in range(FOLDS):
        test = order[fold::FOLDS]
        train = np.setdiff1d(order, test)
        model = fit_model(emb[train], y[train])
        scores[test] = raw_scores(emb[test], emb[train], y[train], model)
    return scores


def fit_platt(score: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """1-D logistic fit `p = sigmoid(a * score + c)` by Newton steps, lightly regularised."""
    import numpy as np

    a, c = 8.0, -4.0
    for _ in range(50):
        p = _sigmoid(a * score + c)
        r = p * (1 - p) + 1e-6
        g = np.array([np.sum((p - truth) * score) + 1e-3 * a, np.sum(p - truth)])
        h = np.array(
            [[np.sum(r * score * score) + 1e-3, np.sum(r * score)], [np.sum(r * score), np.sum(r)]]
        )
        da, dc = np.linalg.solve(h, g)
        a, c = a - da, c - dc
    return float(a), float(c)


def pick_threshold(prob: np.ndarray, truth: np.ndarray) -> float:
    """The cut in [0.5, 0.8] with the best F0.5 on out-of-fold probabilities.

    F0.5 weighs precision twice as much as recall: a gateway that blocks everyday text
    is worse than one that misses a borderline line. Chosen over F1 with a 0.35 floor by
    nested cross-validation on the training lines (benign false positives 6% vs 10%).
    """
    import numpy as np

    best, best_score = 0.5, -1.0
    for cut in np.arange(0.5, 0.801, 0.025):
        flagged = prob >= cut
        tp = float(np.sum(flagged & (truth > 0)))
        fp = float(np.sum(flagged & (truth <= 0)))
        fn = float(np.sum(~flagged & (truth > 0)))
        score = 1.25 * tp / max(1.25 * tp + 0.25 * fn + fp, 1.0)
        if score > best_score + 1e-9:
            best, best_score = float(cut), score
    return best


def build_head(encode: Encode, encoder_name: str) -> dict[str, Any]:
    """Everything the runtime needs, as a dict of numpy arrays and strings."""
    import numpy as np

    texts, y = load_examples()
    emb = encode(texts).astype(np.float32)
    oof = out_of_fold_scores(emb, y)
    platt = np.array([fit_platt(oof[:, j], y[:, j]) for j in range(y.shape[1])], np.float32)
    prob = _sigmoid(oof * platt[:, 0] + platt[:, 1])
    thresholds = np.array([pick_threshold(prob[:, j], y[:, j]) for j in range(y.shape[1])])
    mean, scale, w, b = fit_model(emb, y)
    return {
        "fingerprint": np.array(train_fingerprint()),
        "encoder": np.array(encoder_name),
        "bank": emb.astype(np.float16),
        "labels": y.astype(np.uint8),
        "mean": mean,
        "scale": scale,
        "w": w,
        "b": b,
        "platt": platt,
        "thresholds": thresholds.astype(np.float32),
    }


def _sigmoid(z: np.ndarray) -> np.ndarray:
    import numpy as np

    result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))
    return result


def main(argv: list[str]) -> None:
    import numpy as np

    from aiport.backends.local.moderation import load_encoder

    logging.basicConfig(level=logging.INFO)
    for name in argv or ["e5", "minilm"]:
        head = build_head(load_encoder(name).encode, name)
        np.savez_compressed(head_file(name), **head)
        log.info("wrote %s (thresholds %s)", head_file(name), np.round(head["thresholds"], 3))


if __name__ == "__main__":
    main(sys.argv[1:])
