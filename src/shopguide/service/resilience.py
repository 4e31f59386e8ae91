"""Resilience: load shedding, request-body limits and per-request deadlines.

Load shedding answers 503 with ``Retry-After`` at once when too many requests are in flight or when
the estimated queueing delay exceeds its budget, instead of queueing them until every request is late.
Health, metrics and admin endpoints are never shed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from shopguide.service.errors import error_json
from shopguide.service.metrics import REQUESTS

T = TypeVar("T")
#: Never shed (and not timed for shedding): probes, metrics and the operators' admin API.
EXEMPT_PREFIXES = ("/health", "/metrics", "/v1/admin")


class DeadlineExceeded(Exception):
    """A model stage ran past its share of the request deadline."""


async def run_with_deadline(fn: Callable[[], T], seconds: float) -> T:
    """Run blocking ``fn`` in a worker thread; raise DeadlineExceeded when it takes longer than ``seconds``."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn), timeout=seconds)
    except TimeoutError:
        raise DeadlineExceeded(f"took longer than {seconds * 1000:.0f} ms") from None


async def _send_json(send: Send, status: int, payload: bytes, headers: list[tuple[bytes, bytes]]) -> None:
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


class ShedPolicy:
    """When to refuse a request at once (503 + ``Retry-After``) instead of queueing it.

    Two limits: at most ``max_in_flight`` requests at once, and (when ``max_wait`` > 0 seconds) no request
    whose estimated wait, requests in flight x recent mean service time, exceeds ``max_wait``. The service
    time is the moving average (weight ``alpha``) of the interval from the later of a request's start and
    the previous completion to its completion: under load, completions come one service time apart however
    many requests share the worker. One policy per worker, shared by the two places that enforce it: the
    ASGI middleware :class:`LoadShedder` and, under ``shopguide serve``, the HTTP protocol of
    :mod:`shopguide.service.shedding_protocol`, which refuses before any ASGI work is spent. ``clock`` is
    injectable for tests.
    """

    def __init__(
        self,
        max_in_flight: int = 64,
        retry_after: int = 1,
        max_wait: float = 0.0,
        alpha: float = 0.1,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.retry_after = retry_after
        self.max_wait = max_wait
        self.alpha = alpha
        self.clock = clock
        self.in_flight = 0  # requests inside the middleware
        self.shed = 0
        self.service_time = 0.0  # seconds; 0 until a request has completed
        self._last_done = float("-inf")

    @staticmethod
    def exempt(path: str) -> bool:
        """Probes, metrics and the admin API are never shed."""
        return path.startswith(EXEMPT_PREFIXES)

    def overloaded(self, in_flight: int) -> str | None:
        """Why a request arriving with ``in_flight`` others in progress must be refused, or None to admit it."""
        if in_flight >= self.max_in_flight:
            return "too many requests in flight; retry shortly"
        if self.max_wait > 0 and in_flight * self.service_time > self.max_wait:
            wait = in_flight * self.service_time
            return f"estimated wait {wait * 1000:.0f} ms exceeds {self.max_wait * 1000:.0f} ms; retry shortly"
        return None

    def refused(self, method: str) -> None:
        """Count a refusal (this object and the Prometheus request counter)."""
        self.shed += 1
        REQUESTS.labels("shed", method, "503").inc()

    def body(self, detail: str) -> bytes:
        """The JSON body of a refusal."""
        return error_json("overloaded", detail)

    def completed(self, started: float) -> None:
        """A request admitted at ``started`` (``clock`` time) finished now: update the service time."""
        done = self.clock()
        sample = done - max(started, self._last_done)
        self._last_done = done
        self.service_time = (
            sample if self.service_time == 0 else self.service_time + self.alpha * (sample - self.service_time)
        )


class LoadShedder:
    """ASGI middleware: admit a request only while :class:`ShedPolicy` allows it; else 503 at once.

    Either give the worker's ``policy`` (the app factory does, so that the HTTP protocol shares it) or
    the policy's own keyword arguments.
    """

    def __init__(self, app: ASGIApp, policy: ShedPolicy | None = None, **limits: Any) -> None:
        self.app = app
        self.policy = policy or ShedPolicy(**limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self.policy
        if scope["type"] != "http" or policy.exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        detail = policy.overloaded(policy.in_flight)
        if detail is not None:
            policy.refused(scope.get("method", "GET"))
            await _send_json(send, 503, policy.body(detail), [(b"retry-after", str(policy.retry_after).encode())])
            return
        policy.in_flight += 1
        started = policy.clock()
        try:
            await self.app(scope, receive, send)
        finally:
            policy.in_flight -= 1
            policy.completed(started)


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
            error_json("payload_too_large", f"request body exceeds {self.max_bytes} bytes", "body"),
            [],
        )
