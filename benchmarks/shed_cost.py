"""Server CPU per refused request: the ASGI middleware against the HTTP protocol of ``shopguide serve``.

    .venv/bin/python benchmarks/shed_cost.py [--seconds 10] [--connections 64]

Two servers in turn, both ``shopguide serve --workers 1`` on the demo catalog whose shedding policy
refuses every request (patched in the serving process, hence one worker: spawned workers would import
the module afresh): once with uvicorn's plain httptools protocol (the refusal happens in the
LoadShedder middleware) and once with the shedding protocol (the default). wrk drives each with a
closed loop on the recommendations route; the server's CPU time divided by the answers is the cost of
a refusal. Output: benchmarks/out/shed_cost.json.

The servers get the benchmark admin key as ``SHOPGUIDE_ADMIN_KEY`` and wrk sends it (``-H``, load_wrk.py),
as a real client would; the refusals happen before any key check, so the key changes nothing measured here.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import bench_server_env, write_json
from load_service import CpuMeter, Server, clean_env, cli, free_port, write_user_ids
from load_wrk import run_wrk

PROTOCOLS = {
    "asgi middleware (uvicorn httptools)": "httptools",
    "http protocol (shedding_protocol)": "shopguide.service.shedding_protocol:SheddingHttpToolsProtocol",
}
RECS = "/v1/users/%s/recommendations?n=10"


def measure(home: Path, ids: Path, protocol: str, seconds: float, connections: int, workdir: Path) -> dict:
    port = free_port()
    log = workdir / "server.log"
    server = Server(home, port, 1, log, cwd=workdir)
    code = (
        "import shopguide.cli.serve_cmd as s, shopguide.service.resilience as r, typer; "
        f"s.HTTP_PROTOCOL = {protocol!r}; "
        "r.ShedPolicy.overloaded = lambda self, in_flight: 'refused by the benchmark'; typer.run(s.serve)"
    )
    cmd = [sys.executable, "-c", code, "--workers", "1", "--home", str(home), "--port", str(port)]
    cmd += ["--host", "127.0.0.1", "--log-level", "warning"]
    env = {**clean_env(), **bench_server_env()}
    with log.open("a") as out:
        server.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server.wait_ready(300)
        run_wrk(port, RECS, ids_file=ids, duration=3, connections=connections, workdir=workdir)  # warm-up
        meter = CpuMeter(server)
        meter.start()
        result = run_wrk(port, RECS, ids_file=ids, duration=seconds, connections=connections, workdir=workdir)
        cpu = meter.stop()
    finally:
        server.stop()
    answered = result["sent"]
    return {
        "answers_per_s": result["throughput_rps"],
        "refused_503": result["shed_503"],
        "ok": result["ok"],
        "other_5xx": result["other_5xx"],
        "server_cpu_ms_per_answer": round(1000 * cpu["server_cpu_s"] / max(answered, 1), 4),
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="shopguide-shed-"))
    home = workdir / "home"
    log = workdir / "setup.log"
    cli("import", "demo", "--home", str(home), log=log)
    ids = workdir / "ids.txt"
    write_user_ids(home, ids, unknown_share=0.1)
    try:
        results = {
            name: measure(home, ids, protocol, args.seconds, args.connections, workdir)
            for name, protocol in PROTOCOLS.items()
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for name, r in results.items():
        print(f"{name}: {r['answers_per_s']:.0f} answers/s, {r['server_cpu_ms_per_answer']:.3f} ms of server CPU each")
    write_json("shed_cost", {"connections": args.connections, "seconds": args.seconds, "results": results})


if __name__ == "__main__":
    main()
