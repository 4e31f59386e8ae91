"""Closed-loop saturation with ``wrk`` (Debian package ``wrk``) for load_service.py.

wrk keeps ``connections`` requests in flight and sends the next one as soon as one answers, so its
request rate is the most the server completes (the saturation throughput). Its latencies are closed-loop
latencies (they understate queueing); the open-loop phases measure latency properly.

The Lua script picks a random id from a file for each request (``%s`` in the path template), counts the
answers by status in every thread and prints one ``WRKJSON {...}`` line at the end.

Every request carries the benchmark admin key: wrk runs with ``-H 'Authorization: Bearer <key>'``
(``_common.BENCH_ADMIN_KEY``, which the servers get as ``SHOPGUIDE_ADMIN_KEY``); the scripts'
``wrk.format("GET", path)`` sends the ``-H`` headers (``wrk.headers``) with every request it builds.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from _common import bench_auth_headers
from load_http import percentiles

#: Shared by both scripts: the thread registry (``done`` reads every thread's counters), the id file
#: (``args[2]``: a random id per request fills ``%s`` in the path template ``args[1]``), answer counting.
_PRELUDE = r"""
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function load_ids(args)
  template = args[1]
  ids = {}
  if args[2] and args[2] ~= "" then
    for line in io.lines(args[2]) do
      if line ~= "" then ids[#ids + 1] = line end
    end
  end
  math.randomseed(1000 + tid)
  static = 0
  degraded = 0
end

local function next_request()
  if #ids > 0 then
    return wrk.format("GET", string.format(template, ids[math.random(#ids)]))
  end
  return wrk.format("GET", template)
end

local function count_answer(body)
  if body then
    if string.find(body, '"source":"static"', 1, true) then static = static + 1 end
    if string.find(body, '"degraded":true', 1, true) then degraded = degraded + 1 end
  end
end

local function answer_counts()
  local n_static, n_degraded = 0, 0
  for _, t in ipairs(threads) do
    n_static = n_static + t:get("static")
    n_degraded = n_degraded + t:get("degraded")
  end
  return n_static, n_degraded
end
"""

SCRIPT = (
    _PRELUDE
    + r"""
function init(args)
  load_ids(args)
  statuses = {}
end

function request()
  return next_request()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  count_answer(body)
end

function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do agg[code] = (agg[code] or 0) + n end
  end
  local n_static, n_degraded = answer_counts()
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
)

OPEN_SCRIPT = (
    _PRELUDE
    + r"""
-- Open loop at a fixed rate (wrk2-style) on stock wrk: one connection per thread, each thread sends its
-- share of the rate at fixed due times (delay()), and a request's latency counts from its due time, so a
-- late answer that holds up the next request shows in the percentiles (no coordinated omission).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } sg_timespec;
int clock_gettime(int clk_id, sg_timespec *tp);
]]
local tsbuf = ffi.new("sg_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, tsbuf)  -- CLOCK_MONOTONIC, the clock of Python's time.monotonic() on Linux
  return tonumber(tsbuf.tv_sec) * 1000 + tonumber(tsbuf.tv_nsec) / 1e6
end

function init(args)
  load_ids(args)
  local start_ms, n_threads = tonumber(args[4]), tonumber(args[6])
  interval = tonumber(args[3])
  planned = tonumber(args[5])
  due = start_ms + interval * tid / n_threads  -- the threads' due times interleave evenly
  first_due = start_ms
  sent = 0
  hist = {}  -- status * 1e7 + latency in 0.1 ms -> count
  lag = {}   -- how late a request went out, in 0.1 ms -> count
  slow = {}  -- second of the phase (by due time) -> answers slower than 20 ms
  worst = {} -- second of the phase -> slowest answer, in 0.1 ms
  current = nil
  resent = 0
end

function delay()
  if sent >= planned then return 3600000 end
  local d = due - now_ms()
  if d <= 0 then return 0 end
  return math.ceil(d)
end

function request()
  if current ~= nil then
    -- asked again before an answer: wrk does this when a fresh connection's first write could not go
    -- out yet, and after reconnecting when a connection broke (its socket error counts say which);
    -- either way it is the same due request, sent again, its latency still counted from its due time
    resent = resent + 1
    return next_request()
  end
  local now = now_ms()
  local late = math.floor(math.max(now - due, 0) * 10)
  lag[late] = (lag[late] or 0) + 1
  current = due <= now and due or now  -- late: from its due time; early (timer granularity): from now
  due = due + interval
  sent = sent + 1
  return next_request()
end

function response(status, headers, body)
  if current == nil then return end
  local ms = now_ms() - current
  local key = status * 10000000 + math.floor(ms * 10)
  hist[key] = (hist[key] or 0) + 1
  local second = math.floor((current - first_due) / 1000)
  if ms > 20 then slow[second] = (slow[second] or 0) + 1 end
  if ms * 10 > (worst[second] or 0) then worst[second] = math.floor(ms * 10) end
  current = nil
  count_answer(body)
end

function done(summary, latency, requests)
  local parts, lags, slows, worsts = {}, {}, {}, {}
  local n_resent = 0
  for _, t in ipairs(threads) do
    n_resent = n_resent + t:get("resent")
    for sec, n in pairs(t:get("slow")) do slows[#slows + 1] = string.format("[%d,%d]", sec, n) end
    for sec, w in pairs(t:get("worst")) do worsts[#worsts + 1] = string.format("[%d,%d]", sec, w) end
    for key, n in pairs(t:get("hist")) do parts[#parts + 1] = string.format("[%d,%d]", key, n) end
    for b, n in pairs(t:get("lag")) do lags[#lags + 1] = string.format("[%d,%d]", b, n) end
  end
  local n_static, n_degraded = answer_counts()
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"timeouts": %d, "static": %d, "degraded": %d, "resent": %d, "hist": [%s], "lag": [%s], "slow": [%s], ' ..
    '"worst": [%s]}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, n_static, n_degraded, n_resent,
    table.concat(parts, ","), table.concat(lags, ","), table.concat(slows, ","), table.concat(worsts, ",")))
end
"""
)


#: wrk runs at this nice level (0: as the server). Generator and server share the machine's cores; at the
#: kernel's equal weights wrk's 256 threads crowd the 2 workers out of the run queue for milliseconds at a
#: time. A lower priority lets the server run whenever it has work, as it would with the generator on
#: another machine; a generator that is starved in return sends late, and lateness counts from the due
#: time, so the server is never flattered by it.
GENERATOR_NICE = 10


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _wrk(
    script: Path, text: str, port: int, threads: int, connections: int, seconds: int, timeout: float, args: list[str]
) -> dict:
    """Write the Lua ``text`` to ``script``, run wrk with it against 127.0.0.1:``port``, parse its WRKJSON line."""
    exe = wrk_path()
    if exe is None:
        raise FileNotFoundError("wrk is not installed (apt-get install -y wrk)")
    script.write_text(text)
    cmd = ["nice", "-n", str(GENERATOR_NICE)] if GENERATOR_NICE else []
    cmd += [exe, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={max(1, round(timeout))}s"]
    for name, value in bench_auth_headers().items():  # the service requires an API key
        cmd += ["-H", f"{name}: {value}"]
    cmd += ["-s", str(script), f"http://127.0.0.1:{port}", "--", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return json.loads(line.removeprefix("WRKJSON "))


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
    seconds = max(1, round(duration))
    raw = _wrk(
        workdir / "load_service.lua", SCRIPT, port, threads, connections, seconds, timeout,
        [template, str(ids_file) if ids_file else ""],
    )  # fmt: skip
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


def run_wrk_open(
    port: int,
    template: str,
    *,
    ids_file: Path | None,
    rate: float,
    duration: float,
    connections: int,
    workdir: Path,
    timeout: float = 5.0,
) -> dict:
    """Open loop at ``rate`` requests/s for ``duration`` s with wrk, ``connections`` threads of one connection.

    Latency counts from each request's due time (wrk2's correction for coordinated omission: a request
    that waits for its connection is late, and that wait is in its latency). Returns the same keys as
    ``load_http.Samples.summary`` (latency in ms: all answers, 200s, 503s; the generator's send lag).
    """
    per_thread = max(1, round(rate * duration / connections))
    planned = per_thread * connections
    lead = 1.0 + 0.01 * connections  # wrk needs this to start its threads, build their Lua states and connect
    start_ms = (time.monotonic() + lead) * 1000
    raw = _wrk(
        workdir / "load_service_open.lua", OPEN_SCRIPT, port, connections, connections,
        max(1, math.ceil(lead + duration + timeout)), timeout,
        [template, str(ids_file) if ids_file else "", repr(1000.0 * connections / rate), repr(start_ms),
         str(per_thread), str(connections)],
    )  # fmt: skip
    pairs = np.asarray(raw["hist"] or np.zeros((0, 2)), dtype=np.int64).reshape(-1, 2)
    status = np.repeat(pairs[:, 0] // 10_000_000, pairs[:, 1])
    latency = np.repeat((pairs[:, 0] % 10_000_000) / 10.0, pairs[:, 1])
    lags = np.asarray(raw["lag"] or np.zeros((0, 2)), dtype=np.int64).reshape(-1, 2)
    lag = np.repeat(lags[:, 0] / 10.0, lags[:, 1])
    ok, shed = status == 200, status == 503
    counts = {str(int(c)): int(n) for c, n in zip(*np.unique(status, return_counts=True), strict=True)}
    unanswered = planned - len(status)  # still in flight when wrk stopped: past the timeout
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"]
    wall = duration
    return {
        "tool": f"open loop, wrk -t{connections} -c{connections} (one connection per thread, paced)",
        "rate": rate,
        "planned": planned,
        "sent": len(lag),
        "offered_rps": round(len(lag) / duration, 1),
        "throughput_ok_rps": round(int(ok.sum()) / wall, 1),
        "wall_s": round(wall, 2),
        "ok": int(ok.sum()),
        "shed_503": int(shed.sum()),
        "other_5xx": int(((status >= 500) & ~shed).sum()),
        "timeouts": int(unanswered),
        "connection_errors": int(errors),  # wrk reconnects; includes idle connections closed after the last send
        "socket_errors": {k: raw[f"{k}_errors"] for k in ("connect", "read", "write")},
        "resent": raw["resent"],
        "failed": int((~ok).sum()) + int(unanswered),
        "status_counts": counts,
        "latency_ms": percentiles(latency),
        "ok_latency_ms": percentiles(latency[ok]),
        "shed_latency_ms": percentiles(latency[shed]),
        "generator_lag_ms": percentiles(lag),
        "answers": {"degraded": raw["degraded"], "static_last_resort": raw["static"]},
        "timeline": _timeline(raw["slow"], raw["worst"]),
    }


def _timeline(slow: list[list[int]], worst: list[list[int]]) -> list[dict]:
    """Per second of the phase (by due time): answers slower than 20 ms and the slowest one (ms)."""
    count: dict[int, int] = {}
    top: dict[int, float] = {}
    for second, n in slow:
        count[second] = count.get(second, 0) + n
    for second, w in worst:
        top[second] = max(top.get(second, 0.0), w / 10)
    return [{"t": t, "over_20ms": count.get(t, 0), "max_ms": top[t]} for t in sorted(top)]
