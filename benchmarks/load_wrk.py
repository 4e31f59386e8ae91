"""Closed-loop saturation with ``wrk`` (Debian package ``wrk``) for load_service.py.

wrk keeps ``connections`` requests in flight and sends the next one as soon as one answers, so its
request rate is the most the server completes (the saturation throughput). Its latencies are closed-loop
latencies (they understate queueing); the open-loop phases measure latency properly.

The Lua script picks a random id from a file for each request (``%s`` in the path template), counts the
answers by status in every thread and prints one ``WRKJSON {...}`` line at the end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = r"""
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  template = args[1]
  ids = {}
  if args[2] and args[2] ~= "" then
    for line in io.lines(args[2]) do
      if line ~= "" then ids[#ids + 1] = line end
    end
  end
  math.randomseed(1000 + tid)
  statuses = {}
  static = 0
  degraded = 0
end

function request()
  if #ids > 0 then
    return wrk.format("GET", string.format(template, ids[math.random(#ids)]))
  end
  return wrk.format("GET", template)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if body then
    if string.find(body, '"source":"static"', 1, true) then static = static + 1 end
    if string.find(body, '"degraded":true', 1, true) then degraded = degraded + 1 end
  end
end

function done(summary, latency, requests)
  local agg = {}
  local n_static, n_degraded = 0, 0
  for _, t in ipairs(threads) do
    n_static = n_static + t:get("static")
    n_degraded = n_degraded + t:get("degraded")
    for code, n in pairs(t:get("statuses")) do agg[code] = (agg[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(agg) do parts[#parts + 1] = string.format('"%d": %d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "non_2xx": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "static": %d, "degraded": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean, n_static, n_degraded,
    table.concat(parts, ", ")))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(
    port: int,
    template: str,
    *,
    ids_file: Path | None,
    duration: float,
    connections: int,
    workdir: Path,
    threads: int = 1,
    timeout: float = 5.0,
) -> dict:
    """Run wrk against ``http://127.0.0.1:port`` and return its counts and latency percentiles (ms)."""
    exe = wrk_path()
    if exe is None:
        raise FileNotFoundError("wrk is not installed (apt-get install -y wrk)")
    script = workdir / "load_service.lua"
    script.write_text(SCRIPT)
    seconds = max(1, round(duration))
    cmd = [
        exe,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={max(1, round(timeout))}s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        template,
        str(ids_file) if ids_file else "",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    wall = raw["duration_us"] / 1e6
    statuses = {str(k): v for k, v in sorted(raw["statuses"].items())}
    ok = statuses.get("200", 0)
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    return {
        "tool": f"wrk -t{threads} -c{connections} (closed loop)",
        "connections": connections,
        "wall_s": round(wall, 2),
        "sent": raw["requests"],
        "ok": ok,
        "throughput_ok_rps": round(ok / wall, 1) if wall else 0.0,
        "throughput_rps": round(raw["requests"] / wall, 1) if wall else 0.0,
        "shed_503": statuses.get("503", 0),
        "other_5xx": sum(v for k, v in statuses.items() if k.startswith("5") and k != "503"),
        "failed": raw["requests"] - ok + errors,
        "socket_errors": errors,
        "status_counts": statuses,
        "answers": {"degraded": raw["degraded"], "static_last_resort": raw["static"]},
        "latency_ms": {
            "p50": raw["p50_us"] / 1000,
            "p95": raw["p95_us"] / 1000,
            "p99": raw["p99_us"] / 1000,
            "max": raw["max_us"] / 1000,
            "mean": round(raw["mean_us"] / 1000, 3),
        },
    }
