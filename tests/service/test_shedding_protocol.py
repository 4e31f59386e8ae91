"""The HTTP protocol of ``shopguide serve`` refuses overload itself, before the ASGI app (a real uvicorn)."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import uvicorn
from uvicorn.importer import import_from_string

from authkit import ADMIN_KEY
from shopguide.cli.serve_cmd import HTTP_PROTOCOL
from shopguide.service.app import create_app
from shopguide.service.resilience import ShedPolicy
from shopguide.service.shedding_protocol import SheddingHttpToolsProtocol, find_policy


class HeldApp:
    """Requests under /v1 stay in flight until ``release`` is set; /health answers at once. Counts what
    reached it, so a refusal that leaked into the app would show."""

    def __init__(self, policy: ShedPolicy) -> None:
        self.state = SimpleNamespace(shedding=policy)
        self.release = threading.Event()
        self.started: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        self.started.append(f"{scope['method']} {scope['path']}")
        while True:  # read the whole body
            message = await receive()
            if not message.get("more_body"):
                break
        if scope["path"].startswith("/v1"):
            while not self.release.is_set():
                await asyncio.sleep(0.005)
        body = json.dumps({"path": scope["path"]}).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]}
        )
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def served() -> Iterator[tuple[HeldApp, int]]:
    app = HeldApp(ShedPolicy(max_in_flight=1, retry_after=2))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=SheddingHttpToolsProtocol, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    yield app, port
    app.release.set()
    server.should_exit = True
    thread.join(timeout=10)


def _wait_started(app: HeldApp, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(app.started) < count:
        assert time.monotonic() < deadline, f"only {app.started} reached the app"
        time.sleep(0.005)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_overload_is_refused_by_the_protocol_and_the_connection_stays_usable(served: tuple[HeldApp, int]) -> None:
    app, port = served
    holder = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    holder.request("GET", "/v1/users/a/recommendations")
    _wait_started(app, 1)  # one request in flight = the limit

    other = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    other.request("GET", "/v1/users/b/recommendations")
    refused = other.getresponse()
    assert refused.status == 503
    assert refused.getheader("retry-after") == "2"
    assert refused.getheader("content-type") == "application/json"
    assert json.loads(refused.read()) == {
        "error": "overloaded",
        "detail": "too many requests in flight; retry shortly",
        "field": None,
    }

    other.request("POST", "/v1/events", body=b'{"events": []}', headers={"content-type": "application/json"})
    posted = other.getresponse()
    assert posted.status == 503
    posted.read()

    other.request("GET", "/health/live")  # never shed
    health = other.getresponse()
    assert health.status == 200
    health.read()
    assert app.started == ["GET /v1/users/a/recommendations", "GET /health/live"], "refusals never reach the app"
    assert app.state.shedding.shed == 2

    app.release.set()
    first = holder.getresponse()
    assert first.status == 200
    first.read()
    # uvicorn forgets a finished request task a loop turn after its answer went out: until then the worker
    # still counts it in flight, so the next request may be refused once more; wait on that, not on the clock
    deadline = time.monotonic() + 10
    while True:
        other.request("GET", "/v1/users/b/recommendations")  # same keep-alive connection, after the POST's body
        again = other.getresponse()
        if again.status != 503 or time.monotonic() > deadline:
            break
        again.read()
        time.sleep(0.01)
    assert again.status == 200
    assert json.loads(again.read()) == {"path": "/v1/users/b/recommendations"}
    holder.close()
    other.close()


def test_a_refused_http_1_0_request_gets_connection_close(served: tuple[HeldApp, int]) -> None:
    app, port = served
    holder = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    holder.request("GET", "/v1/held")
    _wait_started(app, 1)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /v1/users/b/recommendations HTTP/1.0\r\nHost: x\r\n\r\n")
        raw = _read_all(sock)  # returns only because the server closes the connection
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"] == "overloaded"
    app.release.set()
    assert holder.getresponse().status == 200
    holder.close()


def test_a_pipelined_request_behind_one_in_progress_is_queued_not_refused(served: tuple[HeldApp, int]) -> None:
    app, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /v1/one HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        _wait_started(app, 1)
        app.release.set()
        raw = _read_all(sock)
    assert raw.count(b"HTTP/1.1 200 ") == 2, raw
    assert b'{"path": "/v1/two"}' in raw
    assert app.state.shedding.shed == 0


def test_serve_runs_the_shedding_protocol_with_the_apps_policy(tmp_path) -> None:
    assert import_from_string(HTTP_PROTOCOL) is SheddingHttpToolsProtocol
    from shopguide.config import Settings

    app = create_app(Settings(_env_file=None, home=tmp_path, max_in_flight=7, admin_key=ADMIN_KEY))
    wrapped = SimpleNamespace(app=SimpleNamespace(app=app))  # as uvicorn wraps it (proxy headers etc.)
    assert find_policy(wrapped) is app.state.shedding
    assert app.state.shedding.max_in_flight == 7
    assert find_policy(SimpleNamespace(app=None)) is None, "an app without a policy is served as plain uvicorn"
