"""Dashboard analytics over 10 million events: the Taobao UserBehavior sample replicated with shifted ids and times.

    .venv/bin/python benchmarks/analytics_10m.py [--events 10000000] [--store] [--repeat 2]

Data: the 84,287-row sample in ../shared/data/taobao-userbehavior-sample, copied k = 0, 1, 2, ... times with
user and item ids shifted by k * 10,000,000 and timestamps by k days, cut at ``--events`` rows (10M: 118 full
copies and part of the 119th; about 96,000 users, 6.5 million items, 2,911 categories, 4 months of days).
It is written once to benchmarks/out/analytics_10m/ (never committed) in the store-export Parquet format
(events + items files), which is exactly what the dashboard reads after exporting a store.

Protocol, each step timed with a wall clock on this machine:

1. load: Parquet -> the DuckDB working table (``EventSource.from_parquet``; ids hashed, items joined);
2. cold aggregates: ``compute_dashboard`` on the fresh source, every section timed (no JSON cache), for all
   events and for a filtered view (one month and two categories); ``--repeat`` runs take the median;
3. from cache: the aggregates read back from the JSON cache by a new cache object (as a new process would)
   and the /dashboard page rendered from them (``render_dashboard``, what the route returns on a hit);
4. with ``--store``: the same events bulk-loaded into a SQLite store (once; reused), then the store's
   fingerprint query (what a /dashboard request runs, at most every 5 s), the first and an unchanged
   export to Parquet, and the /dashboard route itself: the first request (export check, load, aggregates)
   and the median of 20 requests served from the cached aggregates (an ``admin`` route: the app checks the
   benchmark admin key, ``_common.BENCH_ADMIN_KEY``, which the client sends).

Targets: every dashboard aggregate under 10 s on this 2-core machine; the page under 1 s from cached aggregates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from _common import BENCH_ADMIN_KEY, OUT, bench_auth_headers, data_dir, machine, write_json
from shopguide.analytics import AggregateCache, DashboardOptions, EventSource, Filters, cache_key, compute_dashboard

SHIFT_IDS = 10_000_000
SHIFT_SECONDS = 86_400


def generate(events: int, directory: Path, console: Console) -> tuple[Path, Path]:
    """Write the replicated events and items (skipped when already there for this size)."""
    directory.mkdir(parents=True, exist_ok=True)
    ev_path, it_path = directory / f"events-{events}.parquet", directory / f"items-{events}.parquet"
    if ev_path.exists() and it_path.exists():
        return ev_path, it_path
    src = next(data_dir("taobao-userbehavior-sample").glob("UserBehavior*.csv"))
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE src AS SELECT row_number() OVER () - 1 AS rn, column0::BIGINT AS u, column1::BIGINT AS i, "
        f"column2::VARCHAR AS cat, column3 AS b, column4::DOUBLE AS ts FROM read_csv('{src}', header = false)"
    ).fetchall()
    n = con.execute("SELECT count(*) FROM src").fetchall()[0][0]
    copies = -(-events // n)
    rows = f"FROM src, range({copies}) r(k) WHERE k * {n} + rn < {events}"
    con.execute(
        f"""COPY (
            SELECT CAST(k * {n} + rn + 1 AS BIGINT) AS seq, CAST(u + k * {SHIFT_IDS} AS VARCHAR) AS user_id,
                   CAST(i + k * {SHIFT_IDS} AS VARCHAR) AS item_id,
                   CASE b WHEN 'pv' THEN 'view' WHEN 'buy' THEN 'purchase' ELSE b END AS type,
                   CAST(1.0 AS DOUBLE) AS value, ts + k * {SHIFT_SECONDS} AS ts, NULL::VARCHAR AS session, '{{}}' AS context
            {rows} ORDER BY seq
        ) TO '{ev_path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 500000)"""
    ).fetchall()
    con.execute(
        f"""COPY (
            SELECT CAST(i + k * {SHIFT_IDS} AS VARCHAR) AS item_id, arg_min(cat, ts) AS category, arg_min(cat, ts) AS leaf,
                   arg_min(cat, ts) AS category_path, NULL::DOUBLE AS price, false AS deleted
            {rows} GROUP BY ALL
        ) TO '{it_path}' (FORMAT parquet, COMPRESSION zstd)"""
    ).fetchall()
    con.close()
    console.print(f"generated {events:,} events from {copies} copies in {time.perf_counter() - started:.1f} s")
    return ev_path, it_path


def cold_run(ev: Path, it: Path, filters: Filters) -> tuple[float, dict[str, float], dict]:
    started = time.perf_counter()
    source = EventSource.from_parquet(ev, it)
    load_s = time.perf_counter() - started
    aggs = compute_dashboard(source, filters)
    source.close()
    return load_s, aggs["meta"]["timings"], aggs


def page_from_cache(aggs: dict, filters: Filters, directory: Path, repeats: int = 20) -> dict[str, float]:
    from shopguide.service.routes.dashboard import render_dashboard

    options = DashboardOptions()
    key = cache_key(aggs["meta"]["fingerprint"], filters, options)
    AggregateCache(directory).put(key, aggs)
    reads, renders, sizes = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        cached = AggregateCache(directory).get(key)  # a new cache object: the JSON file is parsed
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        html = render_dashboard(cached, filters, "week", cached=True, seconds=0.0)
        renders.append(time.perf_counter() - started)
        sizes.append(len(html.encode()))
    return {
        "json_read_ms": 1000 * statistics.median(reads),
        "render_ms": 1000 * statistics.median(renders),
        "page_ms": 1000 * (statistics.median(reads) + statistics.median(renders)),
        "page_kib": sizes[0] / 1024,
        "json_kib": AggregateCache(directory).path(key).stat().st_size / 1024,
    }


def store_steps(ev: Path, events: int, directory: Path, console: Console) -> dict[str, float]:
    """A SQLite store holding the same events (bulk-loaded once, reused): its fingerprint, its first and an
    unchanged Parquet export, and the /dashboard route itself (first request computes, then from cache)."""
    import sqlite3
    from types import SimpleNamespace

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from shopguide.analytics import export_store, store_fingerprint
    from shopguide.analytics.export import store_directory
    from shopguide.config import Settings
    from shopguide.security.auth import Authenticator
    from shopguide.security.secret import server_secret
    from shopguide.service.errors import install_error_handlers
    from shopguide.service.routes import dashboard
    from shopguide.store import open_store

    db = directory / f"store-{events}.db"
    url = f"sqlite:///{db}"
    with open_store(url) as st:
        loaded = st.count_events() == events
    if not loaded:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        open_store(url).close()  # schema
        started = time.perf_counter()
        con = duckdb.connect()
        cursor = con.execute(
            f"SELECT seq, seq::VARCHAR, user_id, item_id, type, value, ts, session, context FROM '{ev}'"
        )
        lite = sqlite3.connect(db)
        lite.execute("PRAGMA journal_mode = WAL")
        lite.execute("PRAGMA synchronous = OFF")
        sql = "INSERT INTO events (seq, key, user_id, item_id, type, value, ts, session, context) VALUES (?,?,?,?,?,?,?,?,?)"
        while rows := cursor.fetchmany(200_000):
            lite.executemany(sql, rows)
        lite.commit()
        lite.close()
        console.print(f"bulk-loaded the SQLite store in {time.perf_counter() - started:.1f} s")
    out: dict[str, float] = {}
    export_dir = directory / "export"
    with open_store(url) as st:
        samples = []
        for _ in range(7):
            started = time.perf_counter()
            store_fingerprint(st)
            samples.append(time.perf_counter() - started)
        out["fingerprint_ms"] = 1000 * statistics.median(samples)
        if not loaded or not store_directory(export_dir, st).exists():
            started = time.perf_counter()
            export_store(st, export_dir)
            out["first_export_s"] = time.perf_counter() - started
        started = time.perf_counter()
        export_store(st, export_dir)
        out["unchanged_export_s"] = time.perf_counter() - started
        # the route, on a home whose analytics directory reuses that export (a fresh JSON cache)
        workdir = directory / "home" / "analytics"
        workdir.mkdir(parents=True, exist_ok=True)
        link = store_directory(workdir, st)
        if not link.exists():
            link.symlink_to(store_directory(export_dir, st).resolve(), target_is_directory=True)
        for stale in (workdir / "cache").glob("*.json"):
            stale.unlink()
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(dashboard.router)
        settings = Settings(home=directory / "home", admin_key=BENCH_ADMIN_KEY)
        app.state.shopguide = SimpleNamespace(settings=settings, store=st)
        app.state.auth = Authenticator(settings, server_secret(settings))  # the route requires the admin scope
        with TestClient(app, headers=bench_auth_headers()) as client:
            started = time.perf_counter()
            assert client.get("/dashboard").status_code == 200
            out["route_first_request_s"] = time.perf_counter() - started
            samples = []
            for _ in range(20):
                started = time.perf_counter()
                assert "from cached aggregates" in client.get("/dashboard").text
                samples.append(time.perf_counter() - started)
            out["route_cached_request_ms"] = 1000 * statistics.median(samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="cold runs per selection (median reported)")
    parser.add_argument("--store", action="store_true", help="also time a 10M-event SQLite store (slow)")
    parser.add_argument("--store-only", action="store_true", help="only the --store steps")
    args = parser.parse_args()
    console = Console()
    directory = OUT / "analytics_10m"
    ev, it = generate(args.events, directory, console)
    console.print(f"{args.events:,} events on {machine()}; duckdb {duckdb.__version__}; load average {os.getloadavg()}")
    load_before = os.getloadavg()
    selections = {
        "all events": Filters(),
        "one month, two categories": Filters.of("2018-01-01", "2018-01-31", ["4756105", "982926"]),
    }
    results: dict[str, dict] = {}
    for name, filters in ({} if args.store_only else selections).items():
        runs = [cold_run(ev, it, filters) for _ in range(args.repeat)]
        sections = list(runs[0][1])
        results[name] = {
            "filters": filters.to_dict(),
            "load_s": statistics.median(r[0] for r in runs),
            "sections_s": {s: statistics.median(r[1][s] for r in runs) for s in sections},
            "events_selected": runs[0][2]["overview"]["events"],
        }
        results[name]["dashboard_s"] = sum(results[name]["sections_s"].values())
        results[name]["page"] = page_from_cache(runs[0][2], filters, directory / "cache")
    table = Table(title=f"dashboard over {args.events:,} events (seconds, median of {args.repeat} cold runs)")
    table.add_column("step")
    for name in selections:
        table.add_column(name, justify="right")
    rows = [
        ("events selected", lambda r: f"{r['events_selected']:,}"),
        ("load (Parquet -> DuckDB)", lambda r: f"{r['load_s']:.2f}"),
    ]
    rows += [
        (f"  {s}", lambda r, s=s: f"{r['sections_s'][s]:.2f}")
        for s in results.get("all events", {}).get("sections_s", {})
    ]
    rows += [
        ("all aggregates", lambda r: f"{r['dashboard_s']:.2f}"),
        ("load + all aggregates", lambda r: f"{r['load_s'] + r['dashboard_s']:.2f}"),
        ("page from cache (ms)", lambda r: f"{r['page']['page_ms']:.1f}"),
    ]
    for label, cell in rows if results else []:
        table.add_row(label, *(cell(results[n]) for n in selections))
    if results:
        console.print(table)
    payload = {
        "events": args.events,
        "duckdb": duckdb.__version__,
        "load_average_before_after": [load_before, os.getloadavg()],
        "results": results,
    }
    console.print(
        f"load average before {load_before}, after {os.getloadavg()} (other work on the machine slows every step)"
    )
    if args.store or args.store_only:
        payload["store"] = store_steps(ev, args.events, directory, console)
        console.print(payload["store"])
    path = write_json("analytics_10m_store" if args.store_only else "analytics_10m", payload)
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
