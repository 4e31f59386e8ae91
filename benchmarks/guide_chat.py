"""Chat turn latency of the conversational guide, without an LLM, on the demo catalog.

    .venv/bin/python benchmarks/guide_chat.py [--rounds 10] [--home DIR]

Protocol: start the service on a home with the demo catalog and the start-up model (a fresh temporary one
unless --home is given), build the guide once (knowledge graph, FAQ, NLU: timed separately), then replay
every scripted conversation of ``tests/guide/conversations`` ``--rounds`` times, each round in new
sessions, through POST /v1/chat in-process (FastAPI TestClient: validation, the worker-thread hop, the
session read and write in SQLite, NLU, retrieval, re-ranking, reply). The same turns are also timed on
``DialogueManager.turn`` directly (no HTTP). Target: p95 under 50 ms per turn. The app is configured with the
benchmark admin key (``admin_key``, ``_common.BENCH_ADMIN_KEY``) and the client sends it with every turn: the
service requires API keys.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from fastapi.testclient import TestClient
from rich.console import Console

from _common import BENCH_ADMIN_KEY, ROOT, bench_auth_headers, machine, write_json
from shopguide.config import Settings
from shopguide.service.app import create_app
from shopguide.service.routes import chat as chat_route
from shopguide.service.state import ServiceState


def has_route(routes: list, path: str) -> bool:
    """Whether ``path`` is served, looking into included routers too (FastAPI nests them)."""
    return any(
        getattr(r, "path", None) == path or has_route(getattr(getattr(r, "original_router", None), "routes", []), path)
        for r in routes
    )


def summary(samples: list[float]) -> dict[str, float]:
    s = np.asarray(samples)
    return {
        "turns": len(s),
        "median_ms": round(float(np.median(s)), 3),
        "p95_ms": round(float(np.percentile(s, 95)), 3),
        "p99_ms": round(float(np.percentile(s, 99)), 3),
        "max_ms": round(float(s.max()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    console = Console()
    conversations = [
        conv
        for path in sorted((ROOT / "tests" / "guide" / "conversations").glob("*.yaml"))
        for conv in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        settings = Settings(_env_file=None, home=home, store_url="", admin_key=BENCH_ADMIN_KEY)
        ServiceState.start(settings).close()
        app = create_app(settings)
        if not any(getattr(r, "path", "") == "/v1/chat" for r in app.routes):
            app.include_router(chat_route.router)
        with TestClient(app, headers=bench_auth_headers()) as client:
            started = time.perf_counter()
            guide = chat_route.guide_for(app.state, app.state.shopguide)
            build_s = time.perf_counter() - started
            http, direct, degraded = [], [], 0
            for round_ in range(args.rounds + 1):  # round 0 warms up
                for k, conv in enumerate(conversations):
                    for turn in conv["turns"]:
                        payload = {"session_id": f"bench-{round_}-{k}", "message": turn["say"]}
                        if conv.get("lang"):
                            payload["lang"] = conv["lang"]
                        if conv.get("user"):
                            payload["user_id"] = conv["user"]
                        t0 = time.perf_counter()
                        answer = client.post("/v1/chat", json=payload)
                        body = answer.json()
                        if round_:
                            http.append((time.perf_counter() - t0) * 1000)
                            degraded += bool(body.get("degraded"))
                        answer.raise_for_status()  # e.g. a 401: the turns timed would be refusals
                        t0 = time.perf_counter()
                        guide.manager.turn(f"direct-{round_}-{k}", conv.get("user"), turn["say"], conv.get("lang"))
                        if round_:
                            direct.append((time.perf_counter() - t0) * 1000)
    results = {"http": summary(http), "dialogue_manager": summary(direct)}
    for name, r in results.items():
        console.print(
            f"{name:17s} median {r['median_ms']:.2f} ms  p95 {r['p95_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
            f"max {r['max_ms']:.1f} ms  ({r['turns']} turns)"
        )
    console.print(f"guide build (KG + FAQ + NLU): {build_s:.2f} s; degraded replies: {degraded}; {machine()}")
    path = write_json(
        "guide_chat",
        {
            "protocol": f"{len(conversations)} scripted conversations x {args.rounds} rounds through POST /v1/chat "
            "(in-process TestClient, SQLite session store, no LLM); p95 target 50 ms",
            "conversations": len(conversations),
            "guide_build_seconds": round(build_s, 3),
            "degraded_replies": degraded,
            "results": results,
        },
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
