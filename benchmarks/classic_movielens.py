"""MovieLens-100K, the Microsoft Recommenders protocol: per-user stratified 75/25 random split, top-10,
items seen in training removed, every rating counts as relevant. Three split seeds; mean and spread.

    .venv/bin/python benchmarks/classic_movielens.py [--seeds 1 2 3] [--models ease als ...]

Anchors (MS Recommenders benchmark table): NDCG@10 BiVAE 0.475, BPR 0.442, LightGCN 0.420, NCF 0.396,
SAR 0.382; Precision@10 / Recall@10 BiVAE 0.412 / 0.219; MAP@10 BiVAE 0.146, BPR 0.132.
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table

from _common import data_dir, machine, write_json
from shopguide.data.loaders import load
from shopguide.evaluate.protocols import stratified_protocol
from shopguide.evaluate.runner import evaluate
from shopguide.recommend.registry import CLASSIC, make_model

METRICS = ("NDCG@10", "Precision@10", "Recall@10", "MAP@10", "Coverage@10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--models", nargs="+", default=list(CLASSIC))
    args = parser.parse_args()
    data = load("movielens", data_dir("movielens-100k")).to_dataset()
    console = Console()
    console.print(f"{data!r} on {machine()}")
    rows: dict[str, dict[str, list[float]]] = {}
    timings: dict[str, list[float]] = {}
    for seed in args.seeds:
        task = stratified_protocol(data, ratio=0.75, seed=seed)
        for name in args.models:
            result = evaluate(make_model(name), task, ks=(10,))
            for metric in METRICS:
                rows.setdefault(name, {}).setdefault(metric, []).append(result.metrics[metric])
            timings.setdefault(name, []).append(result.fit_seconds)
            console.print(f"seed {seed} {name:18s} NDCG@10 {result.metrics['NDCG@10']:.4f}")
    table = Table(title=f"MovieLens-100K, stratified 75/25, seeds {args.seeds} (mean ± std)")
    table.add_column("model")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    table.add_column("fit s", justify="right")
    summary = {}
    for name, metrics in rows.items():
        cells = []
        summary[name] = {}
        for metric in METRICS:
            values = np.array(metrics[metric])
            summary[name][metric] = {"mean": values.mean(), "std": values.std(ddof=0), "values": values.tolist()}
            cells.append(f"{values.mean():.4f} ± {values.std(ddof=0):.4f}")
        table.add_row(name, *cells, f"{np.mean(timings[name]):.2f}")
    console.print(table)
    path = write_json(
        "classic_movielens", {"protocol": "stratified 75/25 per user, top-10", "seeds": args.seeds, "results": summary}
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
