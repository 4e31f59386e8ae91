"""Chinese product-type (HCCX) and brand (HPPX) tagging on ecommerce-ner-zh: CRF baseline vs ProductTagger.

    .venv/bin/python benchmarks/ner_ecommerce.py [--ablations]

Both taggers train on train.txt (6,000 sentences) with their shipped defaults and are scored on dev.txt
(998 sentences) with entity-level exact-span precision / recall / F1. About 46% of the dev sentences occur
word for word in train, so every number is given on all of dev, on the seen part and on the unseen part.
The defaults were tuned on one half of the unseen sentences ("unseen-tune", chosen by a hash of the text);
the other half ("unseen-held-out") was not looked at while tuning.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from _common import data_dir, machine, write_json
from shopguide.guide.ner import CrfTagger, ProductTagger, Sentence, read_bio, score_tags, split_seen
from shopguide.guide.ner.data import FOCUS_TYPES, halves, spans

MODELS: dict[str, tuple[type[CrfTagger], dict[str, Any]]] = {
    "crf (baseline)": (CrfTagger, {}),
    "product (crf + jieba + gazetteer)": (ProductTagger, {}),
}
ABLATIONS: dict[str, tuple[type[CrfTagger], dict[str, Any]]] = {
    "product without jieba words": (ProductTagger, {"words": False}),
    "product without gazetteer": (ProductTagger, {"gazetteer": False}),
    "product, gazetteer without jackknife": (ProductTagger, {"folds": 1}),
}


def latency_ms(tagger: CrfTagger, texts: list[str]) -> dict[str, float]:
    for text in texts[:50]:  # warm-up (jieba's dictionary loads on first use)
        tagger.tag(text)
    samples = []
    for text in texts:
        started = time.perf_counter()
        tagger.tag(text)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 3),
        "max_ms": round(samples[-1], 3),
    }


def focus_counts(sentences: list[Sentence], predicted: list[list[str]]) -> np.ndarray:
    """Per sentence: (tp, fp, fn) over the HCCX and HPPX spans."""
    rows = []
    for sentence, tags in zip(sentences, predicted, strict=True):
        gold = {s for s in spans(sentence.tags) if s[0] in FOCUS_TYPES}
        pred = {s for s in spans(tags) if s[0] in FOCUS_TYPES}
        rows.append((len(gold & pred), len(pred - gold), len(gold - pred)))
    return np.array(rows, dtype=np.int64)


def bootstrap_delta(a: np.ndarray, b: np.ndarray, *, n: int = 2000, seed: int = 0) -> dict[str, float]:
    """Paired bootstrap over sentences of micro F1(b) - F1(a): mean and 95% interval."""

    def f1(counts: np.ndarray) -> np.ndarray:
        tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
        return 2 * tp / np.maximum(2 * tp + fp + fn, 1)

    idx = np.random.default_rng(seed).integers(0, len(a), size=(n, len(a)))
    delta = f1(b[idx].sum(axis=1)) - f1(a[idx].sum(axis=1))
    lo, hi = np.percentile(delta, [2.5, 97.5])
    return {
        "delta": round(float(f1(b.sum(0)) - f1(a.sum(0))), 4),
        "ci95_low": round(float(lo), 4),
        "ci95_high": round(float(hi), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ablations", action="store_true", help="also train three ProductTagger ablations")
    args = parser.parse_args()
    console = Console(width=150)
    root = data_dir("ecommerce-ner-zh")
    train, dev = read_bio(root / "train.txt"), read_bio(root / "dev.txt")
    seen, unseen = split_seen(dev, train)
    tune, held_out = halves(unseen)
    subsets: dict[str, list[Sentence]] = {
        "dev (all)": dev,
        "dev seen in train": seen,
        "dev unseen": unseen,
        "unseen-tune": tune,
        "unseen-held-out": held_out,
    }
    console.print(
        f"train {len(train)} sentences, dev {len(dev)}: {len(seen)} seen in train, {len(unseen)} unseen "
        f"({len(tune)} tune / {len(held_out)} held out) on {machine()}"
    )
    models = {**MODELS, **(ABLATIONS if args.ablations else {})}
    results: dict[str, Any] = {}
    counts: dict[str, dict[str, np.ndarray]] = {}
    for name, (cls, params) in models.items():
        tagger = cls.train(train, **params)
        entry: dict[str, Any] = {
            "class": cls.__name__,
            "params": tagger.get_params(),
            "fit_seconds": round(tagger.fit_seconds_, 1),
            "latency": latency_ms(tagger, [s.text for s in dev]),
            "subsets": {},
        }
        counts[name] = {}
        for subset, sentences in subsets.items():
            predicted = [tagger.predict_tags(s.chars) for s in sentences]
            scores = score_tags([s.tags for s in sentences], predicted)
            counts[name][subset] = focus_counts(sentences, predicted)
            entry["subsets"][subset] = {"sentences": len(sentences), **scores.as_dict(FOCUS_TYPES)}
        results[name] = entry
        unseen_f1 = entry["subsets"]["dev unseen"]["micro_HCCX_HPPX"]["f1"]
        console.print(f"{name}: fit {entry['fit_seconds']} s, unseen micro F1 (HCCX+HPPX) {unseen_f1:.4f}")

    for subset in subsets:
        table = Table(title=f"{subset} ({len(subsets[subset])} sentences): exact-span P / R / F1")
        table.add_column("model")
        for col in ("HCCX", "HPPX", "micro HCCX+HPPX", "micro all 4"):
            table.add_column(col, justify="right")
        for name, entry in results.items():
            s = entry["subsets"][subset]
            cells = [s.get(k, {}) for k in ("HCCX", "HPPX", "micro_HCCX_HPPX", "micro_all")]
            table.add_row(name, *(f"{c['precision']:.4f} / {c['recall']:.4f} / {c['f1']:.4f}" for c in cells))
        console.print(table)
    table = Table(title="training and tagging time")
    for col in ("model", "fit s", "tag median ms", "tag p95 ms", "tag max ms"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for name, entry in results.items():
        lat = entry["latency"]
        table.add_row(name, f"{entry['fit_seconds']}", f"{lat['median_ms']}", f"{lat['p95_ms']}", f"{lat['max_ms']}")
    console.print(table)
    base, better = list(MODELS)
    comparison = {subset: bootstrap_delta(counts[base][subset], counts[better][subset]) for subset in subsets}
    for subset, d in comparison.items():
        console.print(
            f"{better} minus {base}, micro F1 HCCX+HPPX on {subset}: {d['delta']:+.4f} "
            f"(paired bootstrap over sentences, 95% interval {d['ci95_low']:+.4f} .. {d['ci95_high']:+.4f})"
        )

    path = write_json(
        "ner_ecommerce",
        {
            "protocol": "train on train.txt, entity-level exact-span P/R/F1 on dev.txt; dev split into sentences "
            "seen / unseen in train; defaults tuned on unseen-tune, unseen-held-out untouched; "
            "tag() latency per dev sentence, one call each, after 50 warm-up calls",
            "data": {
                "train": len(train),
                "dev": len(dev),
                **{subset: len(sentences) for subset, sentences in subsets.items()},
            },
            "results": results,
            "product_minus_crf_micro_f1_hccx_hppx": comparison,
        },
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
