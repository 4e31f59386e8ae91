"""Does continuous training slow serving? The load target of RESULTS §8 (p99 under 20 ms at 500 req/s), idle and
while a training cycle runs.

    .venv/bin/python benchmarks/training_interference.py [--rate 500] [--duration 30] [--minutes 3]

The demo home of load_service.py; ``shopguide serve --workers 2`` twice on it, driven by the same open-loop
generator (latency from each request's due time) at ``--rate`` for ``--duration`` s on the feed:

1. continuous training off: the baseline;
2. continuous training on, the first cycle starting at once (``SHOPGUIDE_TRAINING_START_DELAY_SECONDS=0``) with
   the default challenger (the sequential model) given ``--minutes`` per fit: the phase starts once
   ``GET /v1/admin/training`` says a cycle runs, and the cycle must still be running when it ends (else the
   phase is reported as not overlapping). The cycle is the service's own: a child process at nice 10 with one
   BLAS / torch thread (`SHOPGUIDE_TRAINING_*` defaults).

Reported per run: p50 / p95 / p99, errors, and the CPU the server processes and the machine used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from _common import git_commit, machine
from load_service import (
    ROOT,
    CpuMeter,
    Ids,
    Server,
    _get_once,
    fixed_rate,
    free_port,
    measured,
    open_phase,
    prepare_home,
    write_user_ids,
)


def training_status(port: int) -> dict:
    status, body = asyncio.run(_get_once(port, "/v1/admin/training"))
    return json.loads(body) if status == 200 else {}


def run(home: Path, workdir: Path, log: Path, ids_path: Path, ids: Ids, args, training: bool) -> dict:
    env = {"SHOPGUIDE_CONTINUOUS_TRAINING": "true" if training else "false"}
    if training:
        env |= {
            "SHOPGUIDE_TRAINING_START_DELAY_SECONDS": "0",
            "SHOPGUIDE_TRAINING_PARAMS": json.dumps({"config": {"max_minutes": args.minutes}}),
        }
    server = Server(home, free_port(), 2, log, cwd=workdir, env=env)
    server.start()
    try:
        server.wait_ready(timeout=600)
        port = server.port
        asyncio.run(open_phase(port, ids.paths(200), 50, 5, conns=16))  # warm-up, not reported
        if training:
            waited = time.monotonic()
            while not training_status(port).get("running"):
                if time.monotonic() - waited > 300:
                    return {"error": "no training cycle started within 300 s", "status": training_status(port)}
                time.sleep(1)
        result = measured(
            CpuMeter(server), lambda: fixed_rate(port, ids_path, ids, args.rate, args.duration, 256, workdir)
        )
        if training:
            status = training_status(port)
            result["training_still_running"] = bool(status.get("running"))
            if args.wait_cycle:  # the cycle's own verdict: challenger against champion on the store's recent events
                waited = time.monotonic()
                while status.get("running") and time.monotonic() - waited < 3600:
                    time.sleep(5)
                    status = training_status(port)
                result["cycle_seconds_after_phase"] = round(time.monotonic() - waited, 1)
            result["training_status"] = status
        return result
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--minutes", type=float, default=3.0, help="the sequential model's budget per fit")
    parser.add_argument("--wait-cycle", action="store_true", help="then wait for the cycle's verdict and report it")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="shopguide-train-load-"))
    home = workdir / "home"
    log = ROOT / "benchmarks" / "out" / "training_interference_server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    prepare_home(home, False, log)
    ids_path = workdir / "user_ids.txt"
    write_user_ids(home, ids_path, unknown_share=0.1)
    results = {}
    for name, training in (("idle", False), ("training", True)):
        results[name] = run(home, workdir, log, ids_path, Ids(ids_path, seed=1), args, training)
    print(f"machine: {machine()}  commit: {git_commit()}  rate {args.rate:.0f}/s for {args.duration:.0f} s")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:9s} {r['error']}")
            continue
        lat, cpu = r.get("latency_ms", {}), r.get("cpu", {})
        extra = "" if name == "idle" else f"  training overlapped the whole phase: {r.get('training_still_running')}"
        print(f"{name:9s} p50 {lat.get('p50')} p95 {lat.get('p95')} p99 {lat.get('p99')} max {lat.get('max')} ms  "
              f"ok {r.get('ok')} of {r.get('planned')}, 503 {r.get('shed_503')}, other errors {r.get('failed')}  "
              f"server {cpu.get('server_cores')} cores, machine {cpu.get('machine_busy_pct')} % busy{extra}")  # fmt: skip
    last = (results.get("training", {}).get("training_status") or {}).get("last")
    if last:
        print("the cycle's verdict:", json.dumps(last, default=str)[:1500])
    out = ROOT / "benchmarks" / "out" / "training_interference.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"details: {out}")


if __name__ == "__main__":
    main()
