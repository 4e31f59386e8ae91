"""Small in-process measurements behind the service's design choices (RESULTS.md §8, seventh session).

    .venv/bin/python benchmarks/service_micro.py [--beauty-home HOME]

- a full garbage collection in a started demo worker, before and after ``gc.freeze`` (app.settle_heap);
- the recent-actions read: SQLAlchemy against the plain per-thread sqlite3 reader (store/sqlite_reads.py);
- a bare FastAPI endpoint as plain ``def`` (run in the thread pool) against ``async def``;
- with ``--beauty-home`` (a home with Amazon Beauty imported and a model trained, e.g. the one
  ``load_service.py --beauty --home`` leaves): the first model load (item embeddings included), a
  reload that rebuilds the derived indexes, one that reuses them, and the data fingerprint that
  decides it (service/models.py).

Output: benchmarks/out/service_micro.json and the numbers printed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from dataclasses import replace
from pathlib import Path

from _common import write_json
from request_cost import call


def timed_ms(fn, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat * 1000


async def worker_heap(home: Path) -> dict:
    from shopguide.config import Settings
    from shopguide.service.app import create_app

    app = create_app(Settings(_env_file=None, home=home, store_url="", warm_shoppers=0))
    gc.unfreeze()
    async with app.router.lifespan_context(app):  # the lifespan freezes the heap at its end
        gc.unfreeze()
        objects = len(gc.get_objects())
        before = [timed_ms(gc.collect, 1) for _ in range(3)]
        gc.freeze()
        after = [timed_ms(gc.collect, 1) for _ in range(3)]
        store = app.state.shopguide.store
        users = [f"shopper-{k:03d}" for k in range(1, 601)]
        reader = store._reader

        def reads() -> None:
            for user in users:
                store.recent_actions(user)

        plain = timed_ms(reads, 10) / len(users) * 1000
        store._reader = None  # the SQLAlchemy path, as for PostgreSQL
        try:
            through_sqlalchemy = timed_ms(reads, 10) / len(users) * 1000
        finally:
            store._reader = reader
    return {
        "tracked_objects_after_start": objects,
        "full_collection_ms_before_freeze": [round(v, 1) for v in before],
        "full_collection_ms_after_freeze": [round(v, 2) for v in after],
        "recent_actions_us_sqlalchemy": round(through_sqlalchemy, 1),
        "recent_actions_us_plain_sqlite3": round(plain, 1),
    }


async def bare_endpoints() -> dict:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/sync")
    def sync_live() -> dict:
        return {"status": "alive"}

    @app.get("/async")
    async def async_live() -> dict:
        return {"status": "alive"}

    out = {}
    for path in ("/sync", "/async", "/sync", "/async"):  # interleaved; the second round is reported
        for _ in range(300):
            await call(app, path)
        started = time.process_time()
        for _ in range(5000):
            await call(app, path)
        out[f"{path.strip('/')}_def_us"] = round((time.process_time() - started) / 5000 * 1e6, 1)
    return out


def beauty_loads(home: Path) -> dict:
    from shopguide.config import Settings
    from shopguide.recommend.bundle import BundleStore
    from shopguide.service.models import ModelHolder, data_fingerprint

    settings = Settings(_env_file=None, home=home, store_url="")
    holder = ModelHolder(BundleStore(settings.model_dir))
    version = holder.bundles.active_version()
    started = time.perf_counter()
    holder.load(version)
    cold = time.perf_counter() - started
    holder._served = replace(holder.served, data_fingerprint="")  # as if the data had changed
    started = time.perf_counter()
    holder.load(version)  # rebuilds pairing, BM25 and context; the item embeddings carry over (same text)
    rebuilt = time.perf_counter() - started
    started = time.perf_counter()
    holder.load(version)  # the same data: the indexes are reused
    reused = time.perf_counter() - started
    data = holder.served.model.dataset_
    return {
        "load_s_first": round(cold, 2),
        "load_s_rebuilding_indexes": round(rebuilt, 2),
        "load_s_reusing_indexes": round(reused, 2),
        "data_fingerprint_ms": round(timed_ms(lambda: data_fingerprint(data), 5), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beauty-home", type=Path, default=None)
    args = parser.parse_args()
    from request_cost import seeded_home

    home = seeded_home()
    results = {"demo_worker": asyncio.run(worker_heap(home)), "bare_endpoint": asyncio.run(bare_endpoints())}
    if args.beauty_home:
        results["amazon_beauty"] = beauty_loads(args.beauty_home)
    for section, values in results.items():
        print(section, values)
    write_json("service_micro", results)


if __name__ == "__main__":
    main()
