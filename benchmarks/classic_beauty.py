"""Amazon Beauty (S3-Rec files), leave-one-out, full ranking over all 12,101 items, history masked,
all 22,363 users. Weights are trained only on the items before each user's last two; at test time the
history is everything before the last item. Also times fit and evaluation of every classic model.

    .venv/bin/python benchmarks/classic_beauty.py [--models ease item_knn ...]

Anchors (HR@10 / NDCG@10, same protocol): SASRec 0.0605 / 0.0318, S3-Rec 0.0647 / 0.0327,
ICLRec 0.0744 / 0.0403, BSARec 0.1008 / 0.0611 (HR@20 0.1373 / NDCG@20 0.0703).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from _common import data_dir, machine, write_json
from shopguide.data.loaders import load
from shopguide.evaluate.protocols import loo_protocol
from shopguide.evaluate.runner import evaluate
from shopguide.recommend.registry import CLASSIC, make_model

METRICS = ("HR@10", "NDCG@10", "HR@20", "NDCG@20", "MRR@20", "Coverage@10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=[*CLASSIC, "hybrid"])
    args = parser.parse_args()
    data = load("amazon", data_dir("amazon-beauty")).to_dataset()
    console = Console()
    console.print(f"{data!r} on {machine()}")
    task = loo_protocol(data)
    table = Table(title=f"Amazon Beauty, leave-one-out, full ranking, {task.n_users:,} users")
    table.add_column("model")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("eval s", justify="right")
    results = {}
    for name in args.models:
        result = evaluate(make_model(name), task, ks=(10, 20))
        results[name] = {
            **{m: result.metrics[m] for m in METRICS},
            "fit_seconds": result.fit_seconds,
            "eval_seconds": result.eval_seconds,
            "n_users": result.n_users,
        }
        table.add_row(
            name,
            *(f"{result.metrics[m]:.4f}" for m in METRICS),
            f"{result.fit_seconds:.1f}",
            f"{result.eval_seconds:.1f}",
        )
        console.print(
            f"{name:18s} HR@10 {result.metrics['HR@10']:.4f} NDCG@10 {result.metrics['NDCG@10']:.4f} "
            f"fit {result.fit_seconds:.1f}s eval {result.eval_seconds:.1f}s"
        )
    console.print(table)
    path = write_json("classic_beauty", {"protocol": "leave-one-out, full ranking, history masked", "results": results})
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
