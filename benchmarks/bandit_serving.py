"""What a learning-loop decision adds to a recommendation, in process (target: under 0.2 ms).

On the demo catalog with the default start-up model, in one process:

1. **The decision step alone**, as the feed route runs it for every request of an active point: read the
   shopper's context (one indexed read of the latest events), choose an arm (linear Thompson sampling, the
   service's default, with its cached propensities), queue the decision for logging, and add it to the
   response body. CPU time per request over ``--requests`` shoppers (600 demo shoppers and 60 unknown ones).
2. **The whole request** through the ASGI app (no sockets), with ``feed:home`` off and then on, interleaved
   ``--rounds`` times on the same app (the switch needs no restart): a pass on a cleared answer cache, the same
   requests again, and (point on) again once every strategy's answer of every shopper is cached. With the point
   on, the cache fast path decides as the route does and serves the chosen strategy's cached answer; the
   second pass shows how the cache fares when the chosen strategy changes between requests.

    .venv/bin/python benchmarks/bandit_serving.py [--requests 1000] [--rounds 3] [--home SEEDED_HOME]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import BENCH_ADMIN_KEY, git_commit, machine
from request_cost import call, seeded_home


async def measure(home: Path, requests: int, rounds: int) -> dict[str, float]:
    from shopguide.config import Settings
    from shopguide.service.app import create_app
    from shopguide.service.learning import feed_arms, shopper_context, with_decision

    settings = Settings(_env_file=None, home=home, store_url="", warm_shoppers=0, admin_key=BENCH_ADMIN_KEY,
                        learning_seed=0, learn_seconds=0)  # fmt: skip
    app = create_app(settings)
    users = [f"shopper-{k:03d}" for k in range(1, 601)] + [f"never-seen-{k}" for k in range(60)]
    order = [users[i] for i in np.random.default_rng(0).integers(0, len(users), requests)]
    paths = [(f"/v1/users/{u}/recommendations", b"n=10") for u in order]

    async def cpu_ms(batch) -> float:
        started = time.process_time()
        for path, query in batch:
            await call(app, path, query)
        return (time.process_time() - started) / len(batch) * 1000

    keys = ("decision", "off_miss", "off_second", "off_hit", "on_miss", "on_second", "on_hit")
    out: dict[str, list[float]] = {k: [] for k in keys}
    async with app.router.lifespan_context(app):
        state, loop = app.state.shopguide, app.state.learning
        served = state.models.served
        await cpu_ms(paths[:100])  # warm-up
        body = b'{"user":"x","items":[]}'
        for _ in range(rounds):
            loop.switch("feed:home", True)
            started = time.process_time()
            for user in order:
                ctx = shopper_context(state.store, served, user)
                choice = loop.decide("feed:home", ctx, user_id=user, allowed=feed_arms(served))
                loop.log(choice, (), user_id=user)
                with_decision(body, choice)
            out["decision"].append((time.process_time() - started) / requests * 1000)
            loop.flush()
            for switch in ("off", "on"):
                loop.switch("feed:home", switch == "on")
                state.answers.clear()
                out[f"{switch}_miss"].append(await cpu_ms(paths))
                out[f"{switch}_second"].append(await cpu_ms(paths))
                if switch == "on":  # until every shopper's every strategy is cached
                    for _ in range(6):
                        await cpu_ms(paths)
                out[f"{switch}_hit"].append(await cpu_ms(paths))
                loop.flush()
    return {k: float(np.median(v)) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--home", help="a seeded home to copy (default: seed a fresh one)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp()) / "home"
    shutil.copytree(Path(args.home) if args.home else seeded_home(), home)
    r = asyncio.run(measure(home, args.requests, args.rounds))
    print(f"machine: {machine()}  commit: {git_commit()}  requests: {args.requests}  rounds: {args.rounds} (medians)")
    print(f"decision step alone (context + choose + log + body) : {r['decision']:.3f} ms CPU per request")
    print(f"request, point off, cache miss                       : {r['off_miss']:.3f} ms")
    print(f"request, point on,  cache miss                       : {r['on_miss']:.3f} ms "
          f"(+{r['on_miss'] - r['off_miss']:.3f}, x{r['on_miss'] / r['off_miss']:.2f})")  # fmt: skip
    print(f"request, point off, the same requests again        : {r['off_second']:.3f} ms (all cached, fast path)")
    print(f"request, point on,  the same requests again        : {r['on_second']:.3f} ms "
          f"(cached only where the same strategy is chosen again)")  # fmt: skip
    print(f"request, point on,  every strategy's answer cached : {r['on_hit']:.3f} ms "
          f"(fast path with a decision; +{r['on_hit'] - r['off_hit']:.3f} over point off {r['off_hit']:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
