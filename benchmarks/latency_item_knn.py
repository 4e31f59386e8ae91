"""Single-shopper recommendation latency on Amazon Beauty: item-CF (and the other classic models),
the raw-id API end to end (history lookup, scoring, masking, top-n, reasons), one user per call.

    .venv/bin/python benchmarks/latency_item_knn.py [--requests 2000] [--models item_knn ...]

Target: item-CF median under 5 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console

from _common import data_dir, machine, write_json
from shopguide.data.loaders import load
from shopguide.recommend.registry import make_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--models", nargs="+", default=["item_knn", "ease", "als", "popular", "fallback"])
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    console = Console()
    data = load("amazon", data_dir("amazon-beauty")).to_dataset()
    console.print(f"{data!r} on {machine()}")
    rng = np.random.default_rng(0)
    users = data.users.ids(rng.integers(0, data.n_users, size=args.requests))
    results = {}
    for name in args.models:
        model = make_model(name).fit(data)
        for user in users[:50]:  # warm-up
            model.recommend(user, args.n)
        samples = []
        for user in users:
            started = time.perf_counter()
            model.recommend(user, args.n)
            samples.append((time.perf_counter() - started) * 1000)
        s = np.array(samples)
        results[name] = {
            "median_ms": float(np.median(s)),
            "p95_ms": float(np.percentile(s, 95)),
            "p99_ms": float(np.percentile(s, 99)),
            "requests": len(s),
        }
        console.print(
            f"{name:10s} median {np.median(s):.2f} ms  p95 {np.percentile(s, 95):.2f} ms  "
            f"p99 {np.percentile(s, 99):.2f} ms  ({len(s)} single-user requests, top-{args.n})"
        )
    path = write_json("latency", {"protocol": f"recommend(user, {args.n}) one user per call", "results": results})
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
