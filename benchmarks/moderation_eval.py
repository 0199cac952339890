"""Quality and speed of the embedded moderation model on the held-out evaluation set.

    .venv/bin/python benchmarks/moderation_eval.py [--encoder e5|minilm] [--errors]

Reads `tests/data/moderation_eval.jsonl` (written separately from the training lines and
never used to build or tune the classifier) and prints precision / recall / F1 for
"flagged at all" and per category group (a group counts as predicted when any of its
categories is flagged), per language, the false-positive rate on benign text (everyday
and hard negatives apart), and texts per second. `--errors` lists every miss.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiport.backends.local.moderation import ModerationClassifier, load_encoder
from aiport.backends.local.moderation_lexicon import Lexicon

EVAL_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "moderation_eval.jsonl"
GROUPS = ("harassment", "hate", "illicit", "self-harm", "sexual", "violence")


def groups_of(categories: list[str]) -> set[str]:
    return {c.split("/")[0] for c in categories}


def prf(pairs: list[tuple[bool, bool]]) -> tuple[float, float, float, int]:
    """Precision, recall, F1 and positives of (truth, predicted) pairs."""
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp + fn


def line(name: str, pairs: list[tuple[bool, bool]]) -> str:
    p, r, f, n = prf(pairs)
    return f"{name:<22} P={p:.3f}  R={r:.3f}  F1={f:.3f}  (positives {n}, lines {len(pairs)})"


def report(records: list[dict[str, Any]], predicted: list[set[str]], errors: bool) -> str:
    truth = [groups_of(r["labels"]) for r in records]
    rows = list(zip(records, truth, predicted, strict=True))
    out = [line("flagged (any)", [(bool(t), bool(p)) for _, t, p in rows])]
    for lang in ("en", "de"):
        pairs = [(bool(t), bool(p)) for r, t, p in rows if r["lang"] == lang]
        out.append(line(f"  language {lang}", pairs))
    out.append("\nper category group (exact group match)")
    for group in GROUPS:
        out.append(line(f"  {group}", [(group in t, group in p) for _, t, p in rows]))
    out.append("\nfalse-positive rate on benign lines")
    for note in ("everyday", "hard"):
        benign = [bool(p) for r, _, p in rows if not r["labels"] and r.get("note") == note]
        rate = sum(benign) / max(len(benign), 1)
        out.append(f"  {note:<10} {rate:.3f}  ({sum(benign)} of {len(benign)})")
    if errors:
        out.append("\nmisclassified")
        for r, t, p in rows:
            if t != p:
                out.append(f"  [{r['lang']}] true={sorted(t)} got={sorted(p)}  {r['text']}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="e5", choices=("e5", "minilm"))
    parser.add_argument("--data", type=Path, default=EVAL_FILE)
    parser.add_argument("--errors", action="store_true", help="list every misclassified line")
    args = parser.parse_args()

    records = [json.loads(s) for s in args.data.read_text(encoding="utf-8").splitlines() if s]
    started = time.perf_counter()
    classifier = ModerationClassifier(load_encoder(args.encoder), args.encoder, Lexicon.load())
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    verdicts = classifier.classify([r["text"] for r in records])
    elapsed = time.perf_counter() - started
    predicted = [groups_of([c for c, f in v.flags.items() if f]) for v in verdicts]
    sys.stdout.write(
        f"encoder {args.encoder}: loaded in {loaded:.2f}s, {len(records)} texts in "
        f"{elapsed:.2f}s ({len(records) / elapsed:.0f}/s)\n\n"
    )
    sys.stdout.write(report(records, predicted, args.errors))


if __name__ == "__main__":
    main()
