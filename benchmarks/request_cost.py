"""Server CPU per request of GET /v1/users/{id}/recommendations?n=10, in process (no sockets, no HTTP parsing).

The ASGI app is called directly on the demo catalog with the default start-up model; CPU time (all
threads of this process) is divided by the number of requests, for the bare /health/live endpoint, the
recommendation endpoint, the same requests again (answered from the answer cache), and
``model.recommend`` alone. An MD5 of all response bodies shows whether two
source trees give the same answers.

    .venv/bin/python benchmarks/request_cost.py [--requests 1000] [--home SEEDED_HOME]
    .venv/bin/python benchmarks/request_cost.py --compare OTHER/src --rounds 3   # A/B, interleaved

``--compare`` runs this script alternately on ``OTHER/src`` (e.g. a copy of the tree before a change)
and on this tree, in fresh processes, so that a noisy machine affects both sides alike. Without --home it
seeds the home with ``OTHER/src``: each side runs on its own copy, and a newer tree migrates its copy's store
forward, where an older one refuses a store whose schema is newer than it knows.

Every request carries ``Authorization: Bearer`` with the benchmark admin key (``_common.BENCH_ADMIN_KEY``),
which the app is given as ``admin_key`` when its Settings have that field, so the numbers include the key
check (one HMAC per request, on the feed's cache fast path too). A tree from before access control has
no such field and ignores the header, so ``--compare`` against it shows what the check costs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import BENCH_ADMIN_KEY

ROOT = Path(__file__).resolve().parents[1]
#: sent with every request (the service requires an API key; a tree without access control ignores it)
AUTH = (b"authorization", b"Bearer " + BENCH_ADMIN_KEY.encode())


async def call(app, path: str, query: bytes = b"") -> bytes:
    """One GET through the whole ASGI stack; the response body."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"bench"), AUTH], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    body: list[bytes] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        body.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(body)


async def measure(home: Path, requests: int) -> dict:
    from shopguide.config import Settings
    from shopguide.service.app import create_app

    # no answers prepared at start-up: the first pass must be model calls (older trees lack the setting)
    quiet = {"warm_shoppers": 0} if "warm_shoppers" in Settings.model_fields else {}
    # the key every request sends (trees from before access control lack the setting and ignore the header)
    key = {"admin_key": BENCH_ADMIN_KEY} if "admin_key" in Settings.model_fields else {}
    app = create_app(Settings(_env_file=None, home=home, store_url="", **quiet, **key))
    users = [f"shopper-{k:03d}" for k in range(1, 601)] + [f"never-seen-{k}" for k in range(60)]
    rng = np.random.default_rng(0)
    order = [users[i] for i in rng.integers(0, len(users), requests)]

    async def cpu_ms(paths) -> tuple[float, list[bytes]]:
        started, bodies = time.process_time(), []
        for path, query in paths:
            bodies.append(await call(app, path, query))
        return (time.process_time() - started) / len(bodies) * 1000, bodies

    async with app.router.lifespan_context(app):
        state = app.state.shopguide
        model = state.models.served.model
        recs = [(f"/v1/users/{u}/recommendations", b"n=10") for u in order]
        await cpu_ms(recs[:100])  # warm-up
        live, _ = await cpu_ms([("/health/live", b"")] * requests)
        rec, bodies = await cpu_ms(recs)
        cached, _ = await cpu_ms(recs)  # the same requests again: answered from the answer cache
        events = {u: [(e.item, e.type.value) for e in reversed(state.store.recent_events(u, limit=20))] for u in users}
        started = time.process_time()
        for u in order:
            model.recommend(u, 10, exclude=state.deleted, history=events[u])
        alone = (time.process_time() - started) / requests * 1000
    return {
        "live_ms": live,
        "recommend_http_ms": rec,
        "recommend_cached_ms": cached,
        "model_recommend_ms": alone,
        "answers_md5": hashlib.md5(b"\n".join(bodies)).hexdigest(),
    }


def seeded_home() -> Path:
    from shopguide.config import Settings
    from shopguide.service.state import ServiceState

    home = Path(tempfile.mkdtemp(prefix="shopguide-cost-")) / "home"
    ServiceState.start(Settings(_env_file=None, home=home, store_url="")).close()
    return home


def seeded_home_of(src: str) -> Path:
    """:func:`seeded_home`, made by the tree ``src`` (in a fresh process)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(Path(__file__).parent)])}
    code = "import request_cost; print(request_cost.seeded_home())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    return Path(out.strip().splitlines()[-1])


def compare(args: argparse.Namespace) -> None:
    sides = {"before": str(Path(args.compare).resolve()), "after": str(ROOT / "src")}
    home = Path(args.home) if args.home else seeded_home_of(sides["before"])
    results: dict[str, list[dict]] = {k: [] for k in sides}
    for _ in range(args.rounds):
        for side, src in sides.items():
            copy = Path(tempfile.mkdtemp()) / "home"
            shutil.copytree(home, copy)
            env = {**os.environ, "PYTHONPATH": src}
            cmd = [sys.executable, __file__, "--home", str(copy), "--requests", str(args.requests), "--json"]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            results[side].append(json.loads(out.strip().splitlines()[-1]))
            shutil.rmtree(copy.parent, ignore_errors=True)
    for key in ("live_ms", "recommend_http_ms", "recommend_cached_ms", "model_recommend_ms"):
        before = float(np.median([r[key] for r in results["before"]]))
        after = float(np.median([r[key] for r in results["after"]]))
        print(
            f"{key:20s} before {before:6.3f}  after {after:6.3f}  ratio {after / before:5.2f}  (median of {args.rounds})"
        )
    same = {r["answers_md5"] for r in results["before"]} == {r["answers_md5"] for r in results["after"]}
    print("same answers:", same, sorted({r["answers_md5"] for rs in results.values() for r in rs}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--home", help="a seeded home to copy (default: seed a fresh one, ~15 s)")
    parser.add_argument("--compare", help="another tree's src/ to measure against, interleaved")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="measure --home in place; print one JSON line")
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
    if args.json:
        print(json.dumps(asyncio.run(measure(Path(args.home), args.requests))))
        return
    home = Path(tempfile.mkdtemp()) / "home"
    shutil.copytree(Path(args.home) if args.home else seeded_home(), home)
    for key, value in asyncio.run(measure(home, args.requests)).items():
        print(f"{key:20s} {value if isinstance(value, str) else f'{value:.3f}'}")


if __name__ == "__main__":
    main()
