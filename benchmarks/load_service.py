"""Load test of the HTTP service: 2 uvicorn workers on 127.0.0.1, driven from this process.

    .venv/bin/python benchmarks/load_service.py [--duration 60] [--rate 500] [--home DIR] [--beauty] [--quick]

Set-up: a home with the demo catalog (default, in a temporary directory unless --home is given) or Amazon
Beauty (--beauty: ``shopguide import amazon ../shared/data/amazon-beauty``), and two model versions trained
with the CLI (demo: ``fallback`` then ``item_knn``; Beauty: ``item_knn`` twice). The service is started as a
separate process (``python -m shopguide.cli.serve_cmd --workers 2``, i.e. ``shopguide serve``) and the
phases begin once /health/ready answers 200. Shopper ids are drawn (seeded) from a file of known shoppers
from the store plus 10% never-seen ids (the cold-start path).

Phases, each on GET /v1/users/{id}/recommendations?n=10 unless said otherwise:

(a) open loop at a fixed --rate (default 500 req/s) for --duration s: p50/p95/p99 from each request's due
    time (no coordinated omission), errors;
(b) saturation: closed loop (wrk, 8 connections) for 20 s on recommendations, then on /health/live (the
    framework's own ceiling on the same server); the ratio says how much of it the model path costs;
(c) overload: open loop at 3x the saturation rate of (b) for 20 s: p99 of the accepted (200) answers, the
    number of 503s (load shedding) and their latency, any other 5xx;
(d) hot swap: open loop at --swap-rate (default half of --rate) for 20 s while POST
    /v1/admin/models/{v}/activate alternates between the two versions every 2 s: failed requests must be 0.

The open loops of (a) and (c) run in wrk when it is installed (a Lua script paces --open-connections
threads of one connection each, wrk2-style; see load_wrk.py), else in the asyncio generator of
load_http.py; (d) always runs in the asyncio generator, which also reads which version answered.

The load generator runs on the same machine as the server, at a lower priority (wrk at nice 10,
--generator-nice; lateness counts from due times, so a starved generator never flatters the server);
--server-env passes SHOPGUIDE_* settings to the server. Each phase reports the CPU the server
processes, the generator (this process plus wrk) and the whole machine used, and the generator's own
lag, so that a saturated generator is not mistaken for a slow server. --quick runs 5 s phases (a smoke run;
its numbers are not the ones to report). Output: benchmarks/out/load_service.json and a table.

Access control: the server is started with ``SHOPGUIDE_ADMIN_KEY`` set to the benchmark admin key
(``_common.BENCH_ADMIN_KEY``; --server-env may override it) and every request of every phase sends it
(load_http.Pool, wrk ``-H``), the admin calls (activate, /metrics) included. That key has no rate limit;
each request pays the key check (one HMAC), on the feed's cache fast path too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
from rich.console import Console
from rich.table import Table

import load_wrk
from _common import ROOT, bench_server_env, data_dir, machine, write_json
from load_http import Pool, closed_loop, open_loop
from load_wrk import run_wrk, run_wrk_open, wrk_path
from shopguide.config import Settings
from shopguide.recommend.bundle import BundleStore
from shopguide.store import open_store

RECS = "/v1/users/{}/recommendations?n=10"
LIVE = "/health/live"
VERSION_RE = re.compile(rb'"model_version":\s*"([^"]*)"')
DEGRADED = b'"degraded":true'
STATIC = b'"source":"static"'
console = Console() if sys.stdout.isatty() else Console(width=160)


# --------------------------------------------------------------------------- set-up


def cli(*args: str, log: Path) -> None:
    """Run the shopguide CLI (the installed entry point next to this interpreter)."""
    exe = Path(sys.executable).with_name("shopguide")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from shopguide.cli.app import main; main()"]
    console.print(f"[dim]$ shopguide {' '.join(args)}[/]")
    with log.open("a") as out:
        subprocess.run([*cmd, *args], check=True, stdout=out, stderr=subprocess.STDOUT, timeout=1800, env=clean_env())


def clean_env() -> dict[str, str]:
    """This environment without SHOPGUIDE_* / PROMETHEUS_* settings from the caller's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SHOPGUIDE_", "PROMETHEUS_"))}


def prepare_home(home: Path, beauty: bool, log: Path) -> list[str]:
    """Data in the store and at least two model versions; returns the two newest versions (oldest first)."""
    settings = Settings(_env_file=None, home=home, store_url="")
    home.mkdir(parents=True, exist_ok=True)
    with open_store(settings.resolved_store_url) as store:
        empty = store.count_events() == 0
    if empty and beauty:
        cli("import", "amazon", str(data_dir("amazon-beauty")), "--home", str(home), log=log)
    elif empty:
        cli("import", "demo", "--home", str(home), log=log)
    models = ["item_knn", "item_knn"] if beauty else ["fallback", "item_knn"]
    have = len(BundleStore(settings.model_dir).versions())
    for model in models[have:]:
        cli("train", "--model", model, "--home", str(home), log=log)
    versions = [info.version for info in BundleStore(settings.model_dir).versions()]
    return versions[-2:]


def write_user_ids(home: Path, path: Path, *, unknown_share: float, cap: int = 5000, seed: int = 0) -> dict:
    """Known shoppers from the store (at most ``cap``, seeded sample) plus never-seen ids, URL-quoted."""
    settings = Settings(_env_file=None, home=home, store_url="")
    with open_store(settings.resolved_store_url) as store:
        known = [u.id for u in store.iter_users()] or sorted({ev.user for ev in store.iter_events()})
    rng = np.random.default_rng(seed)
    if len(known) > cap:
        known = [known[i] for i in sorted(rng.choice(len(known), size=cap, replace=False))]
    n_unknown = round(len(known) * unknown_share / max(1e-9, 1 - unknown_share))
    unknown = [f"load-new-{k:05d}" for k in range(n_unknown)]
    ids = [quote(i, safe="") for i in known + unknown]
    path.write_text("\n".join(ids) + "\n")
    return {"known": len(known), "unknown": len(unknown), "file": str(path)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the server process


@dataclass
class Server:
    home: Path
    port: int
    workers: int
    log: Path
    cwd: Path
    answer_cache: bool = True
    env: dict[str, str] | None = None  # extra SHOPGUIDE_* settings (--server-env)
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "shopguide.cli.serve_cmd",
            "--workers",
            str(self.workers),
            "--home",
            str(self.home),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        console.print(f"[dim]$ shopguide serve --workers {self.workers} --home {self.home} --port {self.port}[/]")
        out = self.log.open("a")
        # own session: on the way out the whole group (uvicorn parent + workers) can be stopped by its id
        self.proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            env={
                **clean_env(),
                **bench_server_env(),  # the admin key every benchmark request sends
                **({} if self.answer_cache else {"SHOPGUIDE_ANSWER_CACHE_SIZE": "0"}),
                **(self.env or {}),
            },
            start_new_session=True,
        )
        out.close()

    def wait_ready(self, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(OSError):
                status, _ = asyncio.run(_get_once(self.port, "/health/ready"))
                if status == 200:
                    return time.monotonic() - started
            time.sleep(0.25)
        raise RuntimeError(f"the server was not ready after {timeout:.0f}s; see {self.log}")

    def pids(self) -> list[int]:
        """The uvicorn parent and its worker processes."""
        if self.proc is None:
            return []
        found = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    if _stat_fields(int(entry.name))[1] == self.proc.pid:
                        found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # uvicorn: graceful shutdown of all workers
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


async def _get_once(port: int, path: str, method: str = "GET", timeout: float = 5.0) -> tuple[int, bytes]:
    pool = Pool(port, 1)
    try:
        async with asyncio.timeout(timeout):
            return await pool.request(method, path)
    finally:
        pool.close()


# --------------------------------------------------------------------------- CPU accounting

TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> tuple[int, int, float]:
    """(pid, ppid, cpu seconds) from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    rest = raw[raw.rindex(")") + 2 :].split()
    return pid, int(rest[1]), (int(rest[11]) + int(rest[12])) / TICK


def _machine_jiffies() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU used by the server processes, the generator (this process + finished children such as wrk)
    and the whole machine between ``start()`` and ``stop()``."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def _snap(self) -> dict:
        server = 0.0
        for pid in self.server.pids():
            with contextlib.suppress(OSError, ValueError):
                server += _stat_fields(pid)[2]
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, total = _machine_jiffies()
        return {
            "wall": time.monotonic(),
            "server": server,
            "gen": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
            "busy": busy,
            "total": total,
        }

    def start(self) -> None:
        self._start = self._snap()

    def stop(self) -> dict:
        end, start = self._snap(), self._start
        wall = max(end["wall"] - start["wall"], 1e-9)
        return {
            "server_cpu_s": round(end["server"] - start["server"], 2),
            "server_cores": round((end["server"] - start["server"]) / wall, 2),
            "generator_cores": round((end["gen"] - start["gen"]) / wall, 2),
            "machine_busy_pct": round(100 * (end["busy"] - start["busy"]) / max(end["total"] - start["total"], 1), 1),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "cores": os.cpu_count(),
        }


# --------------------------------------------------------------------------- phases


class Ids:
    def __init__(self, path: Path, seed: int) -> None:
        self.ids = [line for line in path.read_text().splitlines() if line]
        self.rng = np.random.default_rng(seed)

    def paths(self, count: int):
        picks = self.rng.integers(0, len(self.ids), size=max(count, 1))
        return lambda i: RECS.format(self.ids[picks[i % len(picks)]])


def measured(meter: CpuMeter, run) -> dict:
    before = server_totals(meter.server.port, CACHE_RE)
    meter.start()
    result = run()
    result["cpu"] = meter.stop()
    after = server_totals(meter.server.port, CACHE_RE)
    hits, misses = (after.get(k, 0.0) - before.get(k, 0.0) for k in ("hit", "miss"))
    result["answer_cache_hit_share"] = round(hits / (hits + misses), 3) if hits + misses else None
    static = result.get("answers", {}).get("static_last_resort", 0)
    # 200s that carry the model's answer, not the static list served when the 100 ms deadline ran out
    result["model_answers_rps"] = round((result["ok"] - static) / max(result["wall_s"], 1e-9), 1)
    answered = result["ok"] + result["shed_503"]
    # CPU time per answer barely depends on what else runs on the machine, unlike rates and latencies
    result["cpu"]["server_cpu_ms_per_answer"] = round(1000 * result["cpu"]["server_cpu_s"] / max(answered, 1), 3)
    return result


class Answers:
    """What the 200 answers said: which model version served them, how many were degraded (a fallback
    served the first item) and how many were the static last-resort list (deadline or model error)."""

    def __init__(self) -> None:
        self.versions: Counter[str] = Counter()
        self.degraded = 0
        self.static = 0

    def __call__(self, i: int, body: bytes) -> None:
        match = VERSION_RE.search(body)
        self.versions[match.group(1).decode() if match else "?"] += 1
        self.degraded += DEGRADED in body
        self.static += STATIC in body

    def summary(self) -> dict:
        return {"degraded": self.degraded, "static_last_resort": self.static, "versions": dict(self.versions)}


async def open_phase(port: int, path_for, rate: float, duration: float, conns: int, keep: list | None = None) -> dict:
    pool = Pool(port, conns)
    answers = Answers()
    try:
        samples = await open_loop(pool, path_for, rate=rate, duration=duration, on_body=answers)
    finally:
        pool.close()
    if keep is not None:
        keep.append(samples)
    result = samples.summary()
    result["answers"] = answers.summary()
    result.update(
        tool=f"open loop, asyncio HTTP/1.1, <= {conns} connections",
        rate=rate,
        connections_opened=pool.opened,
        stale_connection_retries=pool.stale_retries,
    )
    return result


def fixed_rate(port: int, ids_file: Path, ids: Ids, rate: float, duration: float, conns: int, workdir: Path) -> dict:
    """An open-loop phase on the recommendations route: wrk (paced, one connection per thread) when it is
    installed, as it costs the shared cores far less than Python; else the asyncio generator."""
    if wrk_path() is not None:
        return run_wrk_open(
            port, RECS.format("%s"), ids_file=ids_file, rate=rate, duration=duration, connections=conns, workdir=workdir
        )
    return asyncio.run(open_phase(port, ids.paths(int(rate * duration)), rate, duration, conns=conns))


def saturation(port: int, template: str, ids_file: Path | None, duration: float, conns: int, workdir: Path, ids: Ids):
    if wrk_path() is not None:
        return run_wrk(port, template, ids_file=ids_file, duration=duration, connections=conns, workdir=workdir)

    async def fallback() -> dict:  # no wrk: the same closed loop in Python (it costs the server more CPU)
        pool = Pool(port, conns)
        path_for = ids.paths(1_000_000) if ids_file else (lambda i: template)
        try:
            samples = await closed_loop(pool, path_for, concurrency=conns, duration=duration)
        finally:
            pool.close()
        out = samples.summary()
        out.update(tool=f"closed loop, asyncio HTTP/1.1, {conns} connections (wrk not installed)")
        return out

    return asyncio.run(fallback())


async def hot_swap_phase(port: int, ids: Ids, versions: list[str], rate: float, duration: float, interval: float):
    """Open-loop load while the active version alternates every ``interval`` seconds."""
    swaps: list[dict] = []

    async def swapper() -> None:
        admin = Pool(port, 1)
        began = time.monotonic()
        try:
            for k in range(int(duration / interval)):  # bounded: one swap per interval within the phase
                await asyncio.sleep(began + (k + 1) * interval - time.monotonic())
                if time.monotonic() - began > duration - 0.5:
                    break
                version = versions[k % 2]
                t0 = time.monotonic()
                try:
                    async with asyncio.timeout(30):
                        status, _ = await admin.request("POST", f"/v1/admin/models/{quote(version)}/activate")
                except (TimeoutError, OSError) as exc:
                    status = f"{type(exc).__name__}"
                swaps.append(
                    {
                        "at": t0,
                        "version": version,
                        "status": status,
                        "ms": round((time.monotonic() - t0) * 1000, 1),
                    }
                )
        finally:
            admin.close()

    planned = int(rate * duration)
    kept: list = []
    load, _ = await asyncio.gather(
        open_phase(port, ids.paths(planned), rate, duration, conns=256, keep=kept), swapper()
    )
    origin = kept[0].started  # loop.time() is time.monotonic(): one clock for swaps and requests
    for swap in swaps:
        swap["at_s"] = round(swap.pop("at") - origin, 2)
    load["timeline"] = kept[0].timeline(step=0.5)
    load["swaps"] = swaps
    load["served_versions"] = load["answers"]["versions"]
    load["swaps_failed"] = sum(1 for s in swaps if s["status"] != 200)
    return load


REQUESTS_RE = re.compile(rb'^shopguide_requests_total\{.*status="(\d+)".*\} (\S+)$', re.M)
CACHE_RE = re.compile(rb'^shopguide_answer_cache_total\{result="(\w+)"\} (\S+)$', re.M)


def server_totals(port: int, pattern: re.Pattern[bytes] = REQUESTS_RE) -> dict[str, float]:
    """A counter summed over the workers by its label (default: requests by status), from /metrics."""
    status, body = asyncio.run(_get_once(port, "/metrics", timeout=60))
    totals: Counter[str] = Counter()
    if status == 200:
        for m in pattern.finditer(body):
            totals[m.group(1).decode()] += float(m.group(2))
    return dict(totals)


# --------------------------------------------------------------------------- report


def _ms(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(results: dict) -> Table:
    tab = Table(title="shopguide service under load (2 workers, same machine as the generator)", title_justify="left")
    for col in (
        "phase",
        "offered/s",
        "ok/s",
        "ok p50 ms",
        "ok p95 ms",
        "ok p99 ms",
        "ok",
        "503",
        "static",
        "other fail",
        "srv ms/answer",
        "srv cores",
        "gen cores",
        "busy %",
        "cache hits",
    ):
        tab.add_column(col, justify="left" if col == "phase" else "right", no_wrap=col == "phase")
    for name, r in results["phases"].items():
        lat = r.get("ok_latency_ms") or r["latency_ms"]
        offered = r.get("offered_rps") or r.get("throughput_rps") or ""
        tab.add_row(
            name,
            f"{offered}",
            f"{r['throughput_ok_rps']}",
            _ms(lat["p50"]),
            _ms(lat["p95"]),
            _ms(lat["p99"]),
            str(r["ok"]),
            str(r["shed_503"]),
            str(r.get("answers", {}).get("static_last_resort", "-")),
            str(r["failed"] - r["shed_503"]),
            str(r["cpu"]["server_cpu_ms_per_answer"]),
            str(r["cpu"]["server_cores"]),
            str(r["cpu"]["generator_cores"]),
            str(r["cpu"]["machine_busy_pct"]),
            "-" if r.get("answer_cache_hit_share") is None else f"{100 * r['answer_cache_hit_share']:.0f}%",
        )
    return tab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of phase (a)")
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s of phase (a)")
    parser.add_argument("--swap-rate", type=float, default=None, help="requests/s of phase (d) (default rate/2)")
    parser.add_argument("--phase-seconds", type=float, default=20.0, help="seconds of phases (b), (c), (d)")
    parser.add_argument("--home", type=Path, default=None, help="home to use (default: a fresh temporary one)")
    parser.add_argument("--beauty", action="store_true", help="Amazon Beauty instead of the demo catalog")
    parser.add_argument("--quick", action="store_true", help="5 s phases: a smoke run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="wrk connections in (b): 4 per worker")
    parser.add_argument(
        "--open-connections",
        type=int,
        default=256,
        help="connections of the open-loop phases (a) and (c) (wrk: one thread each); enough that none waits",
    )
    parser.add_argument(
        "--no-answer-cache", action="store_true", help="run the server with SHOPGUIDE_ANSWER_CACHE_SIZE=0"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="SHOPGUIDE_NAME=VALUE",
        help="a setting for the server (repeatable), e.g. SHOPGUIDE_MAX_IN_FLIGHT=16",
    )
    parser.add_argument(
        "--generator-nice",
        type=int,
        default=load_wrk.GENERATOR_NICE,
        help="nice level of wrk (0: the same priority as the server; see load_wrk.GENERATOR_NICE)",
    )
    parser.add_argument("--unknown-share", type=float, default=0.1, help="share of never-seen shopper ids")
    args = parser.parse_args()
    if args.quick:
        args.duration = min(args.duration, 5.0)
        args.phase_seconds = 5.0
    swap_rate = args.swap_rate or args.rate / 2
    load_wrk.GENERATOR_NICE = args.generator_nice
    swap_seconds = max(args.phase_seconds, 6.0)  # at least two swaps

    workdir = Path(tempfile.mkdtemp(prefix="shopguide-load-"))
    home = (args.home or workdir / "home").resolve()
    log = ROOT / "benchmarks" / "out" / "load_service_server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    console.print(f"load test on {machine()}; home {home}; server log {log}")
    server: Server | None = None
    try:
        t0 = time.monotonic()
        versions = prepare_home(home, args.beauty, log)
        setup_s = time.monotonic() - t0
        ids_path = workdir / "user_ids.txt"
        id_info = write_user_ids(home, ids_path, unknown_share=args.unknown_share)
        ids = Ids(ids_path, seed=1)
        server_env = dict(item.split("=", 1) for item in args.server_env)
        if bad := [k for k in server_env if not k.startswith("SHOPGUIDE_")]:
            parser.error(f"--server-env takes SHOPGUIDE_* settings, not {bad}")
        server = Server(
            home, free_port(), args.workers, log, cwd=workdir, answer_cache=not args.no_answer_cache, env=server_env
        )
        server.start()
        ready_s = server.wait_ready(timeout=300)
        console.print(f"ready after {ready_s:.1f}s on port {server.port}; versions {versions}; ids {id_info}")
        port, meter = server.port, CpuMeter(server)
        phases: dict[str, dict] = {}

        asyncio.run(open_phase(port, ids.paths(200), 50, 2 if args.quick else 5, conns=16))  # warm-up, not reported

        console.print(f"(a) open loop {args.rate:.0f}/s for {args.duration:.0f}s")
        phases["a_fixed_rate"] = measured(
            meter, lambda: fixed_rate(port, ids_path, ids, args.rate, args.duration, args.open_connections, workdir)
        )

        console.print(f"(b) saturation, closed loop, {args.phase_seconds:.0f}s each")
        template = RECS.format("%s")
        phases["b_saturation_recs"] = measured(
            meter,
            lambda: saturation(port, template, ids_path, args.phase_seconds, args.connections, workdir, ids),
        )
        phases["b_saturation_live"] = measured(
            meter, lambda: saturation(port, LIVE, None, args.phase_seconds, args.connections, workdir, ids)
        )
        sat = phases["b_saturation_recs"]["throughput_ok_rps"]
        bare = phases["b_saturation_live"]["throughput_ok_rps"]

        over_rate = max(3 * sat, 1.0)
        console.print(f"(c) overload: open loop {over_rate:.0f}/s (3x saturation) for {args.phase_seconds:.0f}s")
        phases["c_overload_3x"] = measured(
            meter,
            lambda: fixed_rate(port, ids_path, ids, over_rate, args.phase_seconds, args.open_connections, workdir),
        )
        time.sleep(2)  # let the backlog of (c) drain before the swap phase

        swap_rate = min(swap_rate, max(sat / 2, 1.0))  # below saturation: a failure is the swap's, not overload's
        console.print(f"(d) hot swap every 2 s under {swap_rate:.0f}/s for {swap_seconds:.0f}s")
        phases["d_hot_swap"] = measured(
            meter,
            lambda: asyncio.run(hot_swap_phase(port, ids, [versions[0], versions[-1]], swap_rate, swap_seconds, 2.0)),
        )
        # as it was (a load prepares answers with the new version first: seconds on Beauty)
        asyncio.run(_get_once(port, f"/v1/admin/models/{quote(versions[-1])}/activate", "POST", timeout=120))

        results = {
            "protocol": (
                "service started with `shopguide serve --workers 2` on 127.0.0.1; generator on the same machine; "
                "(a)/(c)/(d) open loop with latency from each request's due time; (b) closed loop (wrk)"
            ),
            "quick": args.quick,
            "data": "amazon-beauty" if args.beauty else "demo catalog (simulated shoppers)",
            "endpoint": RECS.format("{user}"),
            "workers": args.workers,
            "answer_cache": not args.no_answer_cache,
            "server_env": server_env,
            "generator_nice": args.generator_nice,
            "setup_seconds": round(setup_s, 1),
            "ready_seconds": round(ready_s, 1),
            "versions": versions,
            "user_ids": id_info,
            "phases": phases,
            "saturation_ratio_recs_to_live": round(sat / bare, 3) if bare else None,
            "overload_rate": round(over_rate, 1),
            "swap_rate": round(swap_rate, 1),
            "server_request_totals": server_totals(port),
            "checks": {
                "a_no_errors": phases["a_fixed_rate"]["failed"] == 0,
                "c_no_5xx_but_503": phases["c_overload_3x"]["other_5xx"] == 0,
                "d_zero_failed": phases["d_hot_swap"]["failed"] == 0 and phases["d_hot_swap"]["swaps_failed"] == 0,
                "d_both_versions_served": len(phases["d_hot_swap"]["served_versions"]) >= 2,
            },
        }
    except BaseException as exc:  # keep what was measured before the failure
        if "phases" in locals():
            write_json("load_service_partial", {"error": repr(exc), "phases": phases})
        raise
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    path = write_json("load_service", results)
    console.print(table(results))
    d = phases["d_hot_swap"]
    console.print(
        f"saturation: recommendations {sat:.0f}/s "
        f"({phases['b_saturation_recs']['model_answers_rps']:.0f}/s from the model, the rest static last-resort lists) "
        f"vs /health/live {bare:.0f}/s "
        f"(ratio {results['saturation_ratio_recs_to_live']}); overload at {over_rate:.0f}/s: "
        f"{phases['c_overload_3x']['shed_503']} shed (503), {phases['c_overload_3x']['other_5xx']} other 5xx; "
        f"hot swap: {len(d['swaps'])} swaps, {d['failed']} failed requests, versions served {d['served_versions']}"
    )
    for swap in d["swaps"]:
        window = [w for w in d["timeline"] if swap["at_s"] - 0.5 < w["t"] <= swap["at_s"] + 2.5]
        console.print(
            f"  swap at {swap['at_s']:.1f}s to {swap['version']}: HTTP {swap['status']} in {swap['ms']:.0f} ms; "
            f"next 2.5 s: {sum(w['failed'] for w in window)} failed, "
            f"max latency {max((w['max_ms'] for w in window), default=0):.0f} ms"
        )
    slow = [w for w in phases["a_fixed_rate"].get("timeline", []) if w.get("over_20ms")]
    if slow:
        console.print(
            "(a) seconds with answers over 20 ms: "
            + ", ".join(f"{w['t']}s: {w['over_20ms']} (max {w['max_ms']:.0f} ms)" for w in slow)
        )
    console.print(f"checks: {results['checks']}")
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
