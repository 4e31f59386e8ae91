"""The guide's NLU on its held-out test split: intent accuracy, slot precision / recall / F1, latency.

    .venv/bin/python benchmarks/guide_nlu.py [--repeats 20] [--folds 5]

Data: ``src/shopguide/guide/data/intents.jsonl`` (hand-written shopper messages, Chinese and English;
25 % of every intent in every language held out as ``test`` before any model was trained). The model is
trained on the train split only; the cross-validation numbers on the train split are the ones the
defaults were tuned on and are reported next to the test numbers. Slot scores are micro-averaged over
``slot=value`` pairs, negations counted as ``neg:slot=value``. Latency is one ``understand()`` call per
message, single process, warm. Targets: intent accuracy >= 0.90 per language, slot F1 >= 0.85, < 5 ms.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
from rich.console import Console
from sklearn.model_selection import StratifiedKFold

from _common import machine, write_json
from shopguide.guide.nlu import NLU, IntentClassifier, default_lexicon, detect_language, evaluate, load_examples


def cross_validate(train, folds: int) -> dict[str, float]:
    """Intent accuracy of the whole NLU in ``folds``-fold CV on the train split (what the defaults were tuned on)."""
    labels = [f"{e.intent.value}/{e.lang}" for e in train]
    correct, total = Counter(), Counter()
    for fit_idx, val_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(train, labels):
        nlu = NLU(default_lexicon(), IntentClassifier().train([train[i] for i in fit_idx]))
        for lang, scores in evaluate(nlu, [train[i] for i in val_idx]).by_lang.items():
            correct[lang] += scores.correct
            total[lang] += scores.n
    return {lang: round(correct[lang] / total[lang], 4) for lang in sorted(total)}


def model_only_accuracy(classifier: IntentClassifier, test) -> dict[str, float]:
    """Accuracy of the classifier alone: no rules, no context handling."""
    predicted = classifier.predict_many([e.text for e in test])
    out = {}
    for lang in ("zh", "en"):
        pairs = [(p, e.intent) for p, e in zip(predicted, test, strict=True) if e.lang == lang]
        out[lang] = round(sum(p == g for p, g in pairs) / len(pairs), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20, help="latency: passes over the test messages")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    console.print(f"guide NLU on {machine()}")

    train, test = load_examples(split="train"), load_examples(split="test")
    started = time.perf_counter()
    lexicon = default_lexicon()
    lexicon_s = time.perf_counter() - started
    started = time.perf_counter()
    classifier = IntentClassifier().train(train)  # cold: includes loading jieba's dictionary
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    IntentClassifier().train(train)
    warm_s = time.perf_counter() - started
    nlu = NLU(lexicon, classifier)

    report = evaluate(nlu, test)
    scores = report.as_dict()
    for lang, s in scores.items():
        console.print(
            f"{lang}: n={s['n']} intent accuracy {s['intent_accuracy']:.3f}  slots P {s['slot_precision']:.3f} "
            f"R {s['slot_recall']:.3f} F1 {s['slot_f1']:.3f}  rules fired {s['rules_fired']} "
            f"(correct {s['rules_correct']})"
        )
        for c in s["confusions"]:
            console.print(f"    {c['gold']:>16s} -> {c['predicted']:<16s} x{c['count']}")
    model_only = model_only_accuracy(classifier, test)
    console.print(f"classifier alone (no rules, no context): {model_only}")
    cv = cross_validate(train, args.folds)
    console.print(f"{args.folds}-fold CV on the train split (tuning): {cv}")
    all_examples = train + test
    lang_acc = sum(detect_language(e.text) == e.lang for e in all_examples) / len(all_examples)
    console.print(f"language detection accuracy (all {len(all_examples)} messages): {lang_acc:.4f}")

    messages = [(e.text, e.context or None) for e in test]
    for text, context in messages[:50]:  # warm-up
        nlu.understand(text, context_slots=context)
    samples = []
    for _ in range(args.repeats):
        for text, context in messages:
            t0 = time.perf_counter()
            nlu.understand(text, context_slots=context)
            samples.append((time.perf_counter() - t0) * 1000)
    lat = np.array(samples)
    latency = {
        "p50_ms": round(float(np.percentile(lat, 50)), 3),
        "p95_ms": round(float(np.percentile(lat, 95)), 3),
        "p99_ms": round(float(np.percentile(lat, 99)), 3),
        "calls": len(lat),
    }
    console.print(
        f"latency per message: p50 {latency['p50_ms']:.2f} ms  p95 {latency['p95_ms']:.2f} ms  "
        f"p99 {latency['p99_ms']:.2f} ms  ({len(lat)} calls)"
    )
    console.print(
        f"training: cold {cold_s:.2f} s (incl. jieba dictionary), warm {warm_s:.2f} s; lexicon {lexicon_s:.2f} s"
    )
    path = write_json(
        "guide_nlu",
        {
            "protocol": "train on the train split, score the NLU (rules + model + context) on the held-out test split",
            "data": {"train": len(train), "test": len(test), "test_by_lang": dict(Counter(e.lang for e in test))},
            "test": scores,
            "classifier_only_test_accuracy": model_only,
            "cv_train_accuracy": cv,
            "language_detection_accuracy": round(lang_acc, 4),
            "latency": latency,
            "train_seconds": {"cold": round(cold_s, 3), "warm": round(warm_s, 3), "lexicon": round(lexicon_s, 3)},
            "lexicon_entries": len(lexicon),
            "intent_errors": report.intent_errors,
            "slot_errors": report.slot_errors,
        },
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
