"""The security bars of issue 15, shown on a running ``shopguide serve``.

    .venv/bin/python benchmarks/security_probe.py [--json OUT]

Protocol: a fresh home with the demo catalog (prepared in this process), then ``shopguide serve`` in a
subprocess on loopback with nothing configured, as ``make run`` starts it. The probe then:

1. reads the admin key ``serve`` printed once, and makes a ``read`` + ``ingest`` key and a slow key
   (5 requests/s) with ``shopguide keys create``;
2. calls every admin and catalog route (from the app's own OpenAPI document: every operation tagged admin,
   catalog, analytics or privacy, plus /metrics and /dashboard) without a key, with a malformed key and
   with the read key: each must answer 401, 401 and 403;
3. sends 40 requests as fast as it can with the slow key and counts the 429 answers and their Retry-After;
4. posts a batch of 5 events where 3 are hostile (``ts`` NaN, Infinity and 1e20, as raw JSON tokens) and 2
   are valid: the 3 must be rejected with a reason, the 2 stored, and /dashboard and /v1/analytics must
   still answer 200;
5. exports a shopper, erases it, and checks that a second export is a 404 and that the export held the
   shopper's events;
6. runs the scrubber benchmark (``privacy_scrub.py``) on the labelled sets and reports precision and recall
   of phones, ID numbers, cards and e-mails against the bar (>= 0.95 / >= 0.95).

Each check prints pass/fail; the JSON under ``benchmarks/out/security_probe.json`` holds the details.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console

from _common import machine, write_json
from shopguide.config import Settings
from shopguide.service.state import ServiceState

console = Console()
ADMIN_TAGS = {"admin", "catalog", "analytics", "privacy"}
BAR = 0.95


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shopguide(*args: str, home: Path) -> str:
    exe = str(Path(sys.executable).with_name("shopguide"))
    done = subprocess.run([exe, *args, "--home", str(home)], capture_output=True, text=True, check=True)
    return done.stdout


def new_key(home: Path, name: str, *scopes: str, rate: float | None = None) -> str:
    args = ["keys", "create", "--name", name, *(a for s in scopes for a in ("--scope", s))]
    if rate is not None:
        args += ["--rate-limit", str(rate)]
    return re.search(r"sg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", shopguide(*args, home=home)).group(0)


def protected_routes(http: httpx.Client, admin: dict) -> list[tuple[str, str]]:
    """(method, path) of every admin / catalog operation, path parameters filled with a placeholder."""
    spec = http.get("/openapi.json").json()
    routes = [("GET", "/metrics"), ("GET", "/dashboard")]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if ADMIN_TAGS & set(op.get("tags", [])) and not (method == "get" and path == "/v1/items/{item_id}"):
                routes.append((method.upper(), re.sub(r"\{[^}]+\}", "probe-x", path)))
    return sorted(set(routes))


def patient(http: httpx.Client, method: str, path: str, headers: dict) -> int:
    """The status of a request, waiting out 429s (callers without a key share a per-address limit, lower on
    admin routes, so a burst of refused calls is slowed down: that is the brute-force protection)."""
    for _ in range(5):
        answer = http.request(method, path, headers=headers)
        if answer.status_code != 429:
            return answer.status_code
        time.sleep(float(answer.headers.get("retry-after", "1")))
    return 429


def check_access(http: httpx.Client, keys: dict) -> dict:
    routes = protected_routes(http, keys["admin"])
    wrong = []
    for method, path in routes:
        got = {
            "none": patient(http, method, path, {}),
            "malformed": patient(http, method, path, {"Authorization": "Bearer not-a-key"}),
            "read": patient(http, method, path, keys["read"]),
        }
        if got != {"none": 401, "malformed": 401, "read": 403}:
            wrong.append({"route": f"{method} {path}", **got})
    return {"routes": len(routes), "refused_as_expected": len(routes) - len(wrong), "wrong": wrong,
            "pass": not wrong and len(routes) >= 10}  # fmt: skip


def check_rate_limit(http: httpx.Client, slow: dict) -> dict:
    answers = [http.get("/v1/demo/features", headers=slow) for _ in range(40)]
    limited = [a for a in answers if a.status_code == 429]
    retry = sorted({a.headers.get("retry-after") for a in limited})
    return {"requests": 40, "ok": sum(a.status_code == 200 for a in answers), "429": len(limited),
            "retry_after_values": retry, "pass": bool(limited) and all(r and r.isdigit() for r in retry)}  # fmt: skip


def check_hostile_events(http: httpx.Client, keys: dict) -> dict:
    now = time.time()
    body = (
        '{"events": ['
        '{"user": "probe-u", "item": "demo-0001", "type": "view", "ts": NaN},'
        '{"user": "probe-u", "item": "demo-0002", "type": "view", "ts": Infinity},'
        '{"user": "probe-u", "item": "demo-0003", "type": "view", "ts": 1e20},'
        f'{{"user": "probe-u", "item": "demo-0004", "type": "view", "ts": {now - 60}}},'
        f'{{"user": "probe-u", "item": "demo-0005", "type": "click", "ts": {now - 30}}}'
        "]}"
    )
    headers = {**keys["ingest"], "content-type": "application/json"}
    answer = http.post("/v1/events", content=body, headers=headers)
    result = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    dashboard = http.get("/dashboard", headers=keys["admin"]).status_code
    analytics = http.get("/v1/analytics", headers=keys["admin"]).status_code
    ok = (answer.status_code == 200 and result.get("accepted") == 2 and result.get("rejected") == 3
          and dashboard == 200 and analytics == 200)  # fmt: skip
    return {"status": answer.status_code, "result": result, "dashboard": dashboard, "analytics": analytics, "pass": ok}


def check_export_erasure(http: httpx.Client, admin: dict) -> dict:
    user = "shopper-007"
    exported = http.get(f"/v1/users/{user}/export", headers=admin)
    events = len(exported.json().get("events", [])) if exported.status_code == 200 else 0
    erased = http.delete(f"/v1/users/{user}", headers=admin)
    again = http.get(f"/v1/users/{user}/export", headers=admin).status_code
    ok = exported.status_code == 200 and events > 0 and erased.status_code == 200 and again == 404
    return {"export": exported.status_code, "events_exported": events, "erase": erased.status_code,
            "erased": erased.json() if erased.status_code == 200 else None, "export_after": again, "pass": ok}  # fmt: skip


def check_scrubber() -> dict:
    out = Path(tempfile.mkdtemp()) / "scrub.json"
    subprocess.run([sys.executable, str(Path(__file__).with_name("privacy_scrub.py")), "--json", str(out)], check=True)
    results = json.loads(out.read_text())["results"]
    both = results.get("both") or next(iter(results.values()))
    rows = {}
    for kind in ("phone", "id_number", "card", "email"):
        if (row := both["types"].get(kind)) is not None:
            exact = row["exact"]
            rows[kind] = {"support": row["support"], "precision": round(exact["precision"], 3),
                          "recall": round(exact["recall"], 3)}  # fmt: skip
    passed = all(r["precision"] >= BAR and r["recall"] >= BAR for r in rows.values())
    return {"set": "both label files together, exact spans", "types": rows, "pass": passed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, port = Path(tmp), free_port()
        ServiceState.start(Settings(_env_file=None, home=home, store_url="")).close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUIDE_")}
        env |= {"SHOPGUIDE_HOME": str(home), "SHOPGUIDE_PORT": str(port)}
        log = (home / "serve.log").open("w")
        exe = str(Path(sys.executable).with_name("shopguide"))
        server = subprocess.Popen([exe, "serve", "--log-level", "warning"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        results: dict = {}
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                for _ in range(600):
                    if server.poll() is not None:
                        sys.exit("serve exited:\n" + (home / "serve.log").read_text()[-3000:])
                    try:
                        if http.get("/health/ready").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(1)
                printed = re.findall(r"sg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", (home / "serve.log").read_text())
                keys = {
                    "admin": {"Authorization": f"Bearer {printed[0]}"},
                    "read": {"Authorization": f"Bearer {new_key(home, 'probe-read', 'read')}"},
                    "ingest": {"Authorization": f"Bearer {new_key(home, 'probe-ingest', 'ingest')}"},
                }
                slow = {"Authorization": f"Bearer {new_key(home, 'probe-slow', 'read', rate=5)}"}
                results["admin_key_printed_once"] = {"printed": len(printed), "pass": len(printed) == 1}
                results["access"] = check_access(http, keys)
                results["rate_limit"] = check_rate_limit(http, slow)
                results["hostile_events"] = check_hostile_events(http, keys)
                results["export_erasure"] = check_export_erasure(http, keys["admin"])
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    results["scrubber"] = check_scrubber()
    for name, r in results.items():
        console.print(f"[{'green' if r['pass'] else 'red'}]{'PASS' if r['pass'] else 'FAIL'}[/] {name}: "
                      f"{ {k: v for k, v in r.items() if k != 'pass'} }")  # fmt: skip
    if args.json is None:
        path = write_json("security_probe", {"results": results})
    else:
        path = args.json
        path.write_text(json.dumps({"machine": machine(), "results": results}, indent=2, ensure_ascii=False))
    console.print(f"{machine()}; wrote {path}")


if __name__ == "__main__":
    main()
