"""Precision and recall of the learned spam model (screening/learned.py) on a held-out split of its seed corpus.

    .venv/bin/python -m bench.screening_quality_learned            # --seed 13 --train 0.7 --splits 50

Trains a fresh model on 70 % of screening/data/seed_corpus.tsv (stratified: 70 % of the spam and 70 %
of the ham, shuffled with a fixed seed) and scores the other 30 %, at the default threshold and a few
others. "Flagged" is what would carry the `spam.learned` finding (p >= threshold). The same is then
repeated over many random splits, because 60 test messages make one split's figures coarse.
Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bench.common import machine
from screening.learned import HAM, SPAM, ModelState, Trainer, features, score, seed_examples
from screening.model import Candidate

DEFAULT = ModelState({}).threshold  # as LEARNED_MODEL_THRESHOLD's default
THRESHOLDS = (0.5, 0.8, 0.9, DEFAULT, 0.99)


def split(seed: int, share: float) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Stratified train/test split of the seed corpus."""
    rng = random.Random(seed)
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    for label in (SPAM, HAM):
        rows = [row for row in seed_examples() if row[0] == label]
        rng.shuffle(rows)
        cut = round(len(rows) * share)
        train += rows[:cut]
        test += rows[cut:]
    return train, test


def evaluate(seed: int, share: float) -> tuple[list[tuple[str, float, str, tuple[str, ...]]], float]:
    """Each test row's (label, p, text, top tokens), and the training time in seconds."""
    train, test = split(seed, share)
    started = time.perf_counter()
    trainer = Trainer()
    for label, text in train:
        trainer.add(features(Candidate(email="", message=text)), label)
    state = trainer.state(min_examples=0)
    trained = time.perf_counter() - started
    rows = []
    for label, text in test:
        p, top = score(state, Candidate(email="", message=text))
        rows.append((label, p, text, top))
    return rows, trained


def figures(rows: list[tuple[str, float, str, tuple[str, ...]]], threshold: float) -> tuple[float, float, int, int]:
    """Precision, recall, false positives, false negatives at a threshold."""
    tp = sum(1 for label, p, _, _ in rows if label == SPAM and p >= threshold)
    fp = sum(1 for label, p, _, _ in rows if label == HAM and p >= threshold)
    fn = sum(1 for label, p, _, _ in rows if label == SPAM and p < threshold)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, fp, fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--train", type=float, default=0.7)
    parser.add_argument("--splits", type=int, default=50)
    args = parser.parse_args()
    print(" ".join(f"{k}={v}" for k, v in machine().items()))
    corpus = seed_examples()
    print(f"corpus: {sum(r[0] == SPAM for r in corpus)} spam, {sum(r[0] == HAM for r in corpus)} ham")
    rows, trained = evaluate(args.seed, args.train)
    test_spam = sum(r[0] == SPAM for r in rows)
    print(
        f"split seed {args.seed}: trained on {len(corpus) - len(rows)} in {trained * 1000:.1f} ms; "
        f"test {test_spam} spam, {len(rows) - test_spam} ham"
    )
    print("threshold  precision  recall  false pos  false neg")
    for threshold in THRESHOLDS:
        precision, recall, fp, fn = figures(rows, threshold)
        print(f"{threshold:9.2f}  {precision:9.1%}  {recall:6.1%}  {fp:9d}  {fn:9d}")
    for label, p, text, top in rows:
        if (label == SPAM) != (p >= DEFAULT):
            print(f"  {'missed' if label == SPAM else 'FALSE'} at {DEFAULT}: {label} p={p:.2f} {top} {text[:80]!r}")
    started = time.perf_counter()
    many = [evaluate(seed, args.train)[0] for seed in range(args.splits)]
    elapsed = time.perf_counter() - started
    print(f"over {args.splits} random splits (seeds 0..{args.splits - 1}), mean [min-max]:")
    for threshold in THRESHOLDS:
        each = [figures(r, threshold) for r in many]
        ps, rs = [f[0] for f in each], [f[1] for f in each]
        print(
            f"{threshold:9.2f}  precision {statistics.mean(ps):.1%} [{min(ps):.1%}-{max(ps):.1%}]"
            f"  recall {statistics.mean(rs):.1%} [{min(rs):.1%}-{max(rs):.1%}]"
        )
    scored = sum(len(r) for r in many)
    print(f"{scored} messages trained+scored in {elapsed:.2f} s ({scored / elapsed:.0f}/s incl. training)")
    print(f"learning curve at {DEFAULT} (same {args.splits} seeds, the rest tested):")
    for share in (0.3, 0.5, 0.7, 0.9):
        each = [figures(evaluate(seed, share)[0], DEFAULT) for seed in range(args.splits)]
        print(
            f"  trained on {share:.0%}: precision {statistics.mean(f[0] for f in each):.1%}"
            f"  recall {statistics.mean(f[1] for f in each):.1%}"
        )


if __name__ == "__main__":
    main()
