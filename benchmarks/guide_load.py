"""Chat turns under load: every turn within the chat deadline at 20 turns/s, and no "I'm busy" answers.

    .venv/bin/python benchmarks/guide_load.py [--rates 20 40] [--seconds 60] [--workers 1]

Protocol: a fresh home with the demo catalog (the intent model trained and cached by the serve parent), then
``shopguide serve`` in a subprocess on loopback. The load is open-loop: turn *i* is due at ``start + i / rate``
and its latency counts from that due time (a stalled server shows up in the percentiles instead of lowering the
rate). Each due turn goes to a conversation whose previous turn has been answered (a new session of a random
conversation when all are waiting), so every session's turns stay in order, as a shopper's would. Messages: the
scripted conversations of ``tests/guide/conversations`` and the dev held-out dialogues, mixed. A turn counts as
"busy" when the service answered its fallback (``degraded: true``: the turn ran past its deadline or failed).
The generator runs at nice 10 in this process (httpx, a few dozen requests a second: a small share of a core).
The server gets the benchmark admin key as ``SHOPGUIDE_ADMIN_KEY`` (``_common.BENCH_ADMIN_KEY``, no rate limit)
and every chat turn sends it (``Authorization: Bearer``): the service requires API keys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml
from rich.console import Console

from _common import ROOT, bench_auth_headers, bench_server_env, machine, write_json
from shopguide.config import Settings
from shopguide.service.state import ServiceState


def conversations() -> list[tuple[str, list[str]]]:
    """(language, messages) of every scripted and dev held-out conversation."""
    out = []
    for path in sorted((ROOT / "tests" / "guide" / "conversations").glob("*.yaml")):
        for conv in yaml.safe_load(path.read_text("utf-8")):
            lang = conv.get("lang") or ("en" if path.name.startswith("en") else "zh")
            out.append((lang, [str(t["say"]) for t in conv["turns"]]))
    for lang in ("zh", "en"):
        for conv in yaml.safe_load((ROOT / "benchmarks" / "heldout" / f"dialogues_{lang}.yaml").read_text("utf-8")):
            out.append((lang, [str(t["say"]) for t in conv["turns"]]))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_phase(port: int, rate: float, seconds: float, convs: list, seed: int) -> dict:
    rng = random.Random(seed)
    active: list[dict] = []  # {lang, messages, next, session, busy}
    samples: list[tuple[float, bool, int]] = []  # latency ms, degraded, status
    started = time.perf_counter() + 0.5
    tasks = []
    n = int(rate * seconds)
    counter = 0

    async def send(client: httpx.AsyncClient, conv: dict, due: float) -> None:
        message = conv["messages"][conv["next"]]
        conv["next"] += 1
        try:
            r = await client.post("/v1/chat", json={"session_id": conv["session"], "message": message,
                                                    "lang": conv["lang"]}, timeout=10.0)  # fmt: skip
            body = r.json() if r.status_code == 200 else {}
            samples.append(((time.perf_counter() - due) * 1000, bool(body.get("degraded")), r.status_code))
        except httpx.HTTPError:
            samples.append(((time.perf_counter() - due) * 1000, True, 0))
        conv["busy"] = False

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=httpx.Limits(max_connections=256), headers=bench_auth_headers()
    ) as client:
        for i in range(n):
            due = started + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            free = [c for c in active if not c["busy"] and c["next"] < len(c["messages"])]
            if free:
                conv = rng.choice(free)
            else:
                lang, messages = rng.choice(convs)
                counter += 1
                conv = {
                    "lang": lang,
                    "messages": messages,
                    "next": 0,
                    "session": f"load-{seed}-{counter}",
                    "busy": False,
                }
                active.append(conv)
            conv["busy"] = True
            tasks.append(asyncio.create_task(send(client, conv, due)))
            active = [c for c in active if c["busy"] or c["next"] < len(c["messages"])]
        await asyncio.gather(*tasks)
    lat = np.asarray([s[0] for s in samples])
    degraded = sum(s[1] for s in samples)
    return {
        "rate": rate, "turns": len(samples), "sessions": counter,
        "p50_ms": round(float(np.percentile(lat, 50)), 1), "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1), "max_ms": round(float(lat.max()), 1),
        "busy_answers": int(degraded), "busy_share": round(degraded / len(samples), 4),
        "errors": sum(s[2] != 200 for s in samples),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[20.0, 40.0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    console = Console()
    os.nice(10)
    convs = conversations()
    with tempfile.TemporaryDirectory() as tmp:
        home, port = Path(tmp), free_port()
        settings = Settings(_env_file=None, home=home, store_url="")
        log = (home / "server.log").open("w")
        ServiceState.start(settings).close()  # demo import, start-up model, cached intent model
        env = {**os.environ, "SHOPGUIDE_HOME": str(home), "SHOPGUIDE_PORT": str(port), "SHOPGUIDE_WORKERS": str(args.workers),
               "SHOPGUIDE_LOG_LEVEL": "WARNING", **bench_server_env()}  # fmt: skip
        server = subprocess.Popen([str(Path(sys.executable).with_name("shopguide")), "serve", "--log-level", "warning"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)  # fmt: skip
        try:
            deadline = time.time() + 600
            while time.time() < deadline:
                if server.poll() is not None:
                    sys.exit("the service exited:\n" + (home / "server.log").read_text()[-3000:])
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            else:
                sys.exit("the service did not become ready:\n" + (home / "server.log").read_text()[-3000:])
            # the guide is built (a 401 here: the server did not get the benchmark key)
            warm = httpx.post(
                f"http://127.0.0.1:{port}/v1/chat", json={"message": "你好"}, timeout=30, headers=bench_auth_headers()
            )
            warm.raise_for_status()
            results = []
            for k, rate in enumerate(args.rates):
                r = asyncio.run(run_phase(port, rate, args.seconds, convs, seed=k))
                results.append(r)
                console.print(f"{rate:g} turns/s: {r['turns']} turns in {r['sessions']} sessions; p50 {r['p50_ms']} ms "
                              f"p95 {r['p95_ms']} ms p99 {r['p99_ms']} ms max {r['max_ms']} ms; busy {r['busy_answers']} "
                              f"({r['busy_share']:.2%}); errors {r['errors']}")  # fmt: skip
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    path = write_json("guide_load", {"workers": args.workers, "seconds": args.seconds, "results": results,
                                     "deadline_ms": Settings(_env_file=None).deadline_ms * 3})  # fmt: skip
    console.print(f"{machine()}; wrote {path}")


if __name__ == "__main__":
    main()
