"""Chinese product-type (HCCX) and brand (HPPX) tagging on ecommerce-ner-zh: CRF baseline, ProductTagger, NeuralTagger.

    .venv/bin/python benchmarks/ner_ecommerce.py [--ablations] [--threads N]

The taggers train on train.txt (6,000 sentences) with their shipped defaults and are scored on dev.txt
(998 sentences) with entity-level exact-span precision / recall / F1. About 46% of the dev sentences occur
word for word in train, so every number is given on all of dev, on the seen part and on the unseen part.
The defaults were tuned on one half of the unseen sentences ("unseen-tune", chosen by a hash of the text);
the neural tagger also early-stops on that half. The other half ("unseen-held-out") was not looked at while
tuning. Load time is measured in a fresh interpreter (import, load, first tag, which loads jieba).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from _common import data_dir, machine, write_json
from shopguide.guide.ner import CrfTagger, NeuralTagger, ProductTagger, Sentence, read_bio, score_tags, split_seen
from shopguide.guide.ner.data import FOCUS_TYPES, halves, spans

Tagger = CrfTagger | NeuralTagger
CRF, PRODUCT, NEURAL = "crf (baseline)", "product (crf + jieba + gazetteer)", "neural (bilstm-crf, numpy serving)"
MODELS: dict[str, tuple[type[Tagger], dict[str, Any]]] = {
    CRF: (CrfTagger, {}),
    PRODUCT: (ProductTagger, {}),
    NEURAL: (NeuralTagger, {}),
}
ABLATIONS: dict[str, tuple[type[Tagger], dict[str, Any]]] = {
    "product without jieba words": (ProductTagger, {"words": False}),
    "product without gazetteer": (ProductTagger, {"gazetteer": False}),
    "product, gazetteer without jackknife": (ProductTagger, {"folds": 1}),
    "neural, one network": (NeuralTagger, {"members": 1}),
    "neural, gazetteer without jackknife": (NeuralTagger, {"folds": 1}),
}


def train(cls: type[Tagger], params: dict[str, Any], sentences: list[Sentence], tune: list[Sentence]) -> Tagger:
    """The neural tagger early-stops on the unseen-tune half; the CRFs have no use for it."""
    if cls is NeuralTagger:
        return NeuralTagger.train(sentences, valid=tune, **params)
    return cls.train(sentences, **params)


def load_seconds(tagger: Tagger, runs: int = 3) -> float:
    """Median seconds for a fresh interpreter to import shopguide, load the saved tagger and tag one text
    (which loads jieba's dictionary); the median of ``runs`` because one start on a busy machine can be slow."""
    with tempfile.TemporaryDirectory(prefix="ner-bench-") as tmp:
        path = tagger.save(Path(tmp) / "tagger")
        code = (
            "import time; t = time.perf_counter(); from shopguide.guide import ner; "
            f"x = ner.{type(tagger).__name__}.load({str(path)!r}); x.tag('华为手机壳'); "
            "print(time.perf_counter() - t)"
        )
        samples = []
        for _ in range(runs):
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            samples.append(float(done.stdout.strip().splitlines()[-1]))
        return round(statistics.median(samples), 3)


def latency_ms(tagger: Tagger, texts: list[str]) -> dict[str, float]:
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
    parser.add_argument(
        "--ablations", action="store_true", help="also train the ProductTagger and NeuralTagger ablations"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the neural tagger (default 1)")
    args = parser.parse_args()
    console = Console(width=150)
    root = data_dir("ecommerce-ner-zh")
    train_set, dev = read_bio(root / "train.txt"), read_bio(root / "dev.txt")
    seen, unseen = split_seen(dev, train_set)
    tune, held_out = halves(unseen)
    subsets: dict[str, list[Sentence]] = {
        "dev (all)": dev,
        "dev seen in train": seen,
        "dev unseen": unseen,
        "unseen-tune": tune,
        "unseen-held-out": held_out,
    }
    console.print(
        f"train {len(train_set)} sentences, dev {len(dev)}: {len(seen)} seen in train, {len(unseen)} unseen "
        f"({len(tune)} tune / {len(held_out)} held out) on {machine()}"
    )
    models = {**MODELS, **(ABLATIONS if args.ablations else {})}
    results: dict[str, Any] = {}
    counts: dict[str, dict[str, np.ndarray]] = {}
    for name, (cls, params) in models.items():
        if cls is NeuralTagger:
            params = {"threads": args.threads, **params}
        tagger = train(cls, params, train_set, tune)
        entry: dict[str, Any] = {
            "class": cls.__name__,
            "params": {k: v for k, v in tagger.get_params().items() if k != "extra_lexicon"},
            "fit_seconds": round(tagger.fit_seconds_, 1),
            "load_seconds": load_seconds(tagger),
            "latency": latency_ms(tagger, [s.text for s in dev]),
            "subsets": {},
        }
        if isinstance(tagger, NeuralTagger):
            entry["train_log"] = tagger.train_log_
        counts[name] = {}
        for subset, sentences in subsets.items():
            predicted = [tagger.predict_tags(s.chars) for s in sentences]
            scores = score_tags([s.tags for s in sentences], predicted)
            counts[name][subset] = focus_counts(sentences, predicted)
            entry["subsets"][subset] = {"sentences": len(sentences), **scores.as_dict(FOCUS_TYPES)}
        results[name] = entry
        unseen_f1 = entry["subsets"]["dev unseen"]["micro_HCCX_HPPX"]["f1"]
        console.print(
            f"{name}: fit {entry['fit_seconds']} s, load {entry['load_seconds']} s, "
            f"unseen micro F1 (HCCX+HPPX) {unseen_f1:.4f}"
        )

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
    for col in ("model", "fit s", "load s", "tag median ms", "tag p95 ms", "tag max ms"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for name, entry in results.items():
        lat = entry["latency"]
        cells = (entry["fit_seconds"], entry["load_seconds"], lat["median_ms"], lat["p95_ms"], lat["max_ms"])
        table.add_row(name, *(f"{c}" for c in cells))
    console.print(table)
    comparisons = {}
    for base, better in ((CRF, PRODUCT), (PRODUCT, NEURAL)):
        comparison = {subset: bootstrap_delta(counts[base][subset], counts[better][subset]) for subset in subsets}
        for subset, d in comparison.items():
            console.print(
                f"{better} minus {base}, micro F1 HCCX+HPPX on {subset}: {d['delta']:+.4f} "
                f"(paired bootstrap over sentences, 95% interval {d['ci95_low']:+.4f} .. {d['ci95_high']:+.4f})"
            )
        comparisons[f"{better.split()[0]}_minus_{base.split()[0]}_micro_f1_hccx_hppx"] = comparison

    path = write_json(
        "ner_ecommerce",
        {
            "protocol": "train on train.txt, entity-level exact-span P/R/F1 on dev.txt; dev split into sentences "
            "seen / unseen in train; defaults tuned on unseen-tune (the neural tagger early-stops on it), "
            "unseen-held-out untouched; tag() latency per dev sentence, one call each, after 50 warm-up calls; "
            "load time in a fresh interpreter including the first tag()",
            "data": {
                "train": len(train_set),
                "dev": len(dev),
                **{subset: len(sentences) for subset, sentences in subsets.items()},
            },
            "results": results,
            **comparisons,
        },
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
