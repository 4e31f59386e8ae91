"""The sequential recommender on Amazon Beauty (S3-Rec files), the published protocol exactly.

Leave-one-out, full ranking over all 12,101 items, history masked, all 22,363 users. The model is fitted
on everything before each user's last item with ``validation="last"``: the second-last item is held out
as the early-stopping target and never trained on, so the weights see only the items before the last
two, as in S3-Rec / BSARec. At test time the input is everything before the last item. One run per seed;
mean and spread are reported, with training time and single-shopper inference latency.

    .venv/bin/python benchmarks/sequential_beauty.py [--seeds 1 2 3] [--set dim=64 --set filter_mix=0.3]

Anchors (HR@10 / NDCG@10 / HR@20 / NDCG@20): BSARec 0.1008 / 0.0611 / 0.1373 / 0.0703;
SASRec (S3-Rec paper, one sampled negative) 0.0605 / 0.0318; SASRec with full softmax ~0.085 / 0.043.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from _common import data_dir, machine, write_json
from shopguide.data.loaders import load
from shopguide.evaluate.protocols import loo_protocol
from shopguide.evaluate.runner import evaluate
from shopguide.recommend.composite import minmax_rows
from shopguide.recommend.linear import EASE
from shopguide.recommend.neighbors import ItemKNN
from shopguide.recommend.recent import RECENT_ITEMS, RecentItems
from shopguide.recommend.sequential.config import SequentialConfig
from shopguide.recommend.sequential.recommender import SequentialRecommender

METRICS = ("HR@10", "NDCG@10", "HR@20", "NDCG@20")
ANCHORS = {
    "BSARec (AAAI 2024)": (0.1008, 0.0611, 0.1373, 0.0703),
    "SASRec (S3-Rec paper)": (0.0605, 0.0318, None, None),
}


def parse_sets(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


class Blend:
    """``Hybrid``'s formula (per-user min-max, weighted sum) over models fitted on different datasets:
    the sequence model on everything before the last item with its internal holdout, item-kNN on the
    items before the last two (both see exactly what the protocol allows)."""

    def __init__(self, parts, validation_sequences=None) -> None:
        self.parts = parts
        self.validation_sequences = validation_sequences

    def score(self, users, history):
        total = None
        for model, weight in self.parts:
            if weight == 0:
                continue
            if self.validation_sequences is not None and isinstance(model, SequentialRecommender):
                # validation: the sequence model must not see the held-out item; feed the ordered train part
                token = RECENT_ITEMS.set(RecentItems.of_indices([self.validation_sequences[u] for u in users]))
                try:
                    part = minmax_rows(model.score(np.full(len(users), -1), history))
                finally:
                    RECENT_ITEMS.reset(token)
            else:
                part = minmax_rows(model.score(users, history))
            part = weight * np.where(np.isfinite(part), part, 0.0)
            total = part if total is None else total + part
        return total


def blend_with_classic(model: SequentialRecommender, task, console) -> dict:
    """Pick a classic partner (item-kNN or EASE, shipped defaults) and its weight on the validation task
    (never on test), then score test once with the pick."""
    partners = {"item_knn": ItemKNN().fit(task.train), "ease": EASE().fit(task.train)}
    train_seqs = {u: task.train.sequence(u) for u in task.validation.users}
    best_pick, best = ("item_knn", 0.0), -1.0
    for name, partner in partners.items():
        for w in (0.0, 0.05, 0.1, 0.2, 0.3) if name == "item_knn" else (0.05, 0.1, 0.2, 0.3):
            blend = Blend([(model, 1.0), (partner, w)], validation_sequences=train_seqs)
            valid = evaluate(blend, task.validation, ks=(10,), fit=False).metrics["NDCG@10"]
            console.print(f"  blend {name} weight {w}: valid NDCG@10 {valid:.4f}")
            if valid > best:
                best_pick, best = (name, w), valid
    name, w = best_pick
    result = evaluate(Blend([(model, 1.0), (partners[name], w)]), task, ks=(10, 20), fit=False)
    return {"partner": name, "weight": w, "valid_ndcg10": best, **{m: result.metrics[m] for m in METRICS}}


def latency_ms(model: SequentialRecommender, task, n: int = 500) -> dict[str, float]:
    """Single-shopper top-10 over the whole catalogue: encode, score, mask history, top-10 (ms)."""
    rng = np.random.default_rng(0)
    users = rng.choice(len(task.users), size=n, replace=False)
    times = []
    for r in users:
        u, hist = task.users[r : r + 1], task.history[r]
        start = time.perf_counter()
        scores = model.score(u, hist)[0]
        scores[hist.indices] = -np.inf
        top = np.argpartition(-scores, 10)[:10]
        top[np.argsort(-scores[top])]
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--set", action="append", default=[], help="config field=value (JSON), repeatable")
    parser.add_argument("--tag", default="sequential_beauty")
    parser.add_argument("--blend", action="store_true", help="also blend with item-kNN (weight tuned on validation)")
    parser.add_argument("--save", default=None, help="save each seed's model under this folder")
    parser.add_argument("--load", default=None, help="evaluate models saved by --save instead of training")
    args = parser.parse_args()
    console = Console()
    data = load("amazon", data_dir("amazon-beauty")).to_dataset()
    task = loo_protocol(data)
    console.print(f"{data!r} on {machine()}")
    overrides = parse_sets(args.set)
    runs = []
    for seed in args.seeds:
        cfg = SequentialConfig.from_mapping({**overrides, "seed": seed})
        model = SequentialRecommender(config=cfg)
        with Progress(
            TextColumn("seed {task.fields[seed]} epoch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task("train", total=cfg.max_epochs, seed=seed, note="")

            def on_epoch(entry, total, bar=bar, progress=progress, members=cfg.members):
                note = f"loss {entry.loss:.3f} valid NDCG@10 {entry.ndcg10 or 0:.4f}{' *' if entry.best else ''}"
                note += f" (member {entry.member})" if members > 1 else ""
                progress.update(bar, completed=entry.epoch, note=note)
                console.log(f"epoch {entry.epoch} {note} {entry.seconds:.1f}s")

            model.on_epoch = on_epoch
            started = time.perf_counter()
            if args.load:
                model = SequentialRecommender.load(f"{args.load}/seed{seed}")
            else:
                model.fit(task.history_data)  # validation="last" holds out each user's second-last item
            fit_seconds = time.perf_counter() - started if not args.load else model.report_.seconds
        result = evaluate(model, task, ks=(10, 20), fit=False)
        lat = latency_ms(model, task)
        if args.save:
            model.save(f"{args.save}/seed{seed}")
        blend = blend_with_classic(model, task, console) if args.blend else None
        run = {
            "seed": seed,
            **{m: result.metrics[m] for m in METRICS},
            "fit_seconds": fit_seconds,
            "best_epoch": model.report_.best_epoch,
            "epochs": len(model.report_.epochs),
            "stopped": model.report_.stopped,
            "valid_ndcg10": model.report_.best_ndcg10,
            "members": [
                {"best_epoch": r.best_epoch, "valid_ndcg10": r.best_ndcg10, "stopped": r.stopped, "seconds": r.seconds}
                for r in model.reports_
            ]
            if not args.load
            else None,
            "epoch_log": [
                {"member": e.member, "epoch": e.epoch, "loss": e.loss, "valid_ndcg10": e.ndcg10, "seconds": e.seconds}
                for e in model.report_.epochs
            ],
            "latency_ms": lat,
            "blend": blend,
            "config": model.config_.model_dump(),
        }
        runs.append(run)
        console.print(
            f"seed {seed}: "
            + " ".join(f"{m} {run[m]:.4f}" for m in METRICS)
            + f" fit {fit_seconds / 60:.1f} min, best epoch {run['best_epoch']}, p99 {lat['p99']:.2f} ms"
        )
        if blend:
            console.print(
                "  + classic: "
                + " ".join(f"{m} {blend[m]:.4f}" for m in METRICS)
                + f" ({blend['partner']} w {blend['weight']})"
            )
    summary = {
        m: {"mean": statistics.fmean(r[m] for r in runs), "std": statistics.pstdev(r[m] for r in runs)} for m in METRICS
    }
    for m in METRICS:
        console.print(f"{m}: {summary[m]['mean']:.4f} ± {summary[m]['std']:.4f}")
    path = write_json(
        args.tag,
        {
            "protocol": "leave-one-out, full ranking over all items, history masked, all users; "
            "weights trained on items before the last two",
            "config": SequentialConfig.from_mapping(overrides).model_dump(),
            "runs": runs,
            "summary": summary,
            "anchors": ANCHORS,
        },
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
