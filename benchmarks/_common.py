"""Shared helpers for the benchmark scripts: data paths, machine description, JSON output, the benchmark API key."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHOPGUIDE_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "benchmarks" / "out"

#: The admin key every benchmark server is configured with (``SHOPGUIDE_ADMIN_KEY`` in the server's
#: environment, or ``admin_key=`` in Settings) and every benchmark request sends
#: (``Authorization: Bearer ...``): the service requires API keys (SECURITY.md), and without one a load
#: test would measure 401s. A configured admin key is checked like any key (one HMAC per request, on the
#: feed's cache fast path too) but has no rate limit, so the load phases still measure the service, not the
#: per-key limiter (a stored ``read`` key gets 200 requests/s by default). Benchmark servers listen on
#: loopback only; this key is public and must never configure a real deployment.
BENCH_ADMIN_KEY = "bench-admin-key-0123456789abcdef"


def bench_auth_headers() -> dict[str, str]:
    """The header that carries :data:`BENCH_ADMIN_KEY` (httpx clients, TestClient, raw HTTP, wrk ``-H``)."""
    return {"Authorization": f"Bearer {BENCH_ADMIN_KEY}"}


def bench_server_env() -> dict[str, str]:
    """The environment that gives a ``shopguide serve`` process (and its workers) :data:`BENCH_ADMIN_KEY`."""
    return {"SHOPGUIDE_ADMIN_KEY": BENCH_ADMIN_KEY}


def data_dir(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        sys.exit(f"missing {path}: the benchmarks read the public data sets from ../shared/data")
    return path


def machine() -> str:
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        return "unknown"


def write_json(name: str, payload: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    payload = {"machine": machine(), "commit": git_commit(), **payload}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return path
