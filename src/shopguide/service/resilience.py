"""Resilience: load shedding, request-body limits and per-request deadlines.

Load shedding answers 503 with ``Retry-After`` at once when too many requests are in flight, instead
of queueing them until every request is late. Health endpoints are never shed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from shopguide.service.metrics import REQUESTS

T = TypeVar("T")
EXEMPT_PREFIXES = ("/health", "/metrics")


class DeadlineExceeded(Exception):
    """A model stage ran past its share of the request deadline."""


async def run_with_deadline(fn: Callable[[], T], seconds: float) -> T:
    """Run blocking ``fn`` in a worker thread; raise DeadlineExceeded when it takes longer than ``seconds``."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn), timeout=seconds)
    except TimeoutError:
        raise DeadlineExceeded(f"took longer than {seconds * 1000:.0f} ms") from None


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class LoadShedder:
    """ASGI middleware: at most ``max_in_flight`` requests at once; the rest get 503 immediately."""

    def __init__(self, app: ASGIApp, max_in_flight: int = 64, retry_after: int = 1) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after = retry_after
        self.in_flight = 0
        self.shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.shed += 1
            REQUESTS.labels("shed", scope.get("method", "GET"), "503").inc()
            await _send_json(
                send,
                503,
                {"error": "overloaded", "detail": "too many requests in flight; retry shortly"},
                [(b"retry-after", str(self.retry_after).encode())],
            )
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimit:
    """ASGI middleware: reject request bodies larger than ``max_bytes`` with 413 JSON.

    A declared Content-Length is checked up front; a streamed body is read (up to the limit) before the
    app sees it and replayed, so an oversized stream is refused before any of it is parsed.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = 2_000_000) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                await self._reject(send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._reject(send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        REQUESTS.labels("body_limit", "POST", "413").inc()
        await _send_json(
            send,
            413,
            {"error": "payload_too_large", "detail": f"request body exceeds {self.max_bytes} bytes", "field": "body"},
            [],
        )
