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
    """ASGI middleware: reject request bodies larger than ``max_bytes`` with 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int = 2_000_000) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        received = 0
        too_big = False

        async def limited_receive() -> dict:
            nonlocal received, too_big
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_big = True
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        await _send_json(
            send,
            413,
            {"error": "payload_too_large", "detail": f"request body exceeds {self.max_bytes} bytes", "field": "body"},
            [],
        )


class _TooLarge(Exception):
    pass
