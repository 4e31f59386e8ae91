"""A small open-loop HTTP/1.1 load generator (wrk2-style) on plain asyncio streams, for load_service.py.

Why not httpx: on a 2-core machine the generator shares the CPU with the server, and httpx spends several
times more CPU per request than a bare keep-alive HTTP/1.1 exchange; the cheaper the generator, the more
of the machine the server gets. Targets are loopback only (``127.0.0.1``); every run is bounded both in
request count (``rate * duration``) and in time (``duration + timeout + grace``).

Open loop: request *i* is due at ``start + i / rate`` whether or not earlier ones have answered, and its
latency is measured **from that due time** (not from when it was actually sent), so a stalled server or a
full connection pool shows up in the percentiles instead of silently lowering the rate (no coordinated
omission). ``lag`` is how late the generator itself started each request (its own event loop falling
behind), reported separately so that a saturated generator is not mistaken for a slow server.

Every request carries ``Authorization: Bearer`` with the benchmark admin key (``_common.BENCH_ADMIN_KEY``;
the servers of load_service.py and shed_cost.py are started with it as ``SHOPGUIDE_ADMIN_KEY``): the
service requires API keys, and that key has no rate limit. ``Pool(..., headers={})`` sends none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from _common import bench_auth_headers

TIMEOUT = -1  # status recorded for a request that ran past its timeout
FAILED = 0  # status recorded for a connection error / malformed response
#: what a request on a keep-alive connection that the server has just closed runs into
STALE = (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError)


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Pool:
    """At most ``max_conns`` keep-alive connections to ``127.0.0.1:port``; extra requests wait for one.
    ``headers``: sent with every request (default: the benchmark admin key, :func:`bench_auth_headers`)."""

    def __init__(
        self, port: int, max_conns: int, host: str = "127.0.0.1", headers: dict[str, str] | None = None
    ) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the load generator only targets loopback")
        self.host = host
        self.port = port
        extra = bench_auth_headers() if headers is None else headers
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        self._sem = asyncio.Semaphore(max_conns)
        self._idle: list[_Conn] = []
        self.opened = 0
        self.stale_retries = 0

    async def request(self, method: str, path: str) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self._headers}"
        if method != "GET":
            head += "Content-Length: 0\r\n"
        raw = (head + "\r\n").encode()
        async with self._sem:
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._open()
            try:
                conn.writer.write(raw)
                status, body, keep = await _read_response(conn.reader)
            except STALE as exc:
                conn.close()
                if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise
                # the server closed this idle keep-alive connection as the request went out (its keep-alive
                # timeout): nothing was answered, so retry once on a fresh connection, as browsers and
                # HTTP client libraries do for idempotent requests (RFC 9110 section 9.2.2); counted
                self.stale_retries += 1
                conn = await self._open()
                try:
                    conn.writer.write(raw)
                    status, body, keep = await _read_response(conn.reader)
                except BaseException:
                    conn.close()
                    raise
            except BaseException:
                conn.close()
                raise
            if keep:
                self._idle.append(conn)
            else:
                conn.close()
            return status, body

    async def _open(self) -> _Conn:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened += 1
        return _Conn(reader, writer)

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    keep = True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(data[:-2])
        return status, b"".join(parts), keep
    if length is None:
        return status, await reader.read(), False
    return status, await reader.readexactly(length), keep


@dataclass
class Samples:
    """One run's raw measurements (seconds) and the run's wall-clock window."""

    due: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    started: float = 0.0
    last_sent: float = 0.0
    finished: float = 0.0
    planned: int = 0

    def add(self, due: float, latency: float, lag: float, status: int) -> None:
        self.due.append(due)
        self.latency.append(latency)
        self.lag.append(lag)
        self.status.append(status)

    def summary(self) -> dict:
        """Counts by outcome, latency percentiles (ms) overall / for 200s / for 503s, rates."""
        status = np.asarray(self.status, dtype=np.int64)
        lat = np.asarray(self.latency) * 1000
        send_window = max(self.last_sent - self.started, 1e-9)
        wall = max(self.finished - self.started, 1e-9)
        ok = status == 200
        shed = status == 503
        other_5xx = (status >= 500) & ~shed
        counts = {str(int(code)): int(n) for code, n in zip(*np.unique(status, return_counts=True), strict=True)}
        return {
            "planned": self.planned,
            "sent": len(status),
            "offered_rps": round(len(status) / send_window, 1) if len(status) > 1 else 0.0,
            "throughput_ok_rps": round(int(ok.sum()) / wall, 1),
            "wall_s": round(wall, 2),
            "ok": int(ok.sum()),
            "shed_503": int(shed.sum()),
            "other_5xx": int(other_5xx.sum()),
            "timeouts": int((status == TIMEOUT).sum()),
            "connection_errors": int((status == FAILED).sum()),
            "failed": int((status != 200).sum()),
            "status_counts": counts,
            "latency_ms": percentiles(lat),
            "ok_latency_ms": percentiles(lat[ok]),
            "shed_latency_ms": percentiles(lat[shed]),
            "generator_lag_ms": percentiles(np.asarray(self.lag) * 1000),
        }

    def timeline(self, step: float = 0.5) -> list[dict]:
        """Per ``step`` seconds of due time: requests, failures and the worst latencies (ms)."""
        if not self.due:
            return []
        due = np.asarray(self.due) - self.started
        lat = np.asarray(self.latency) * 1000
        bad = np.asarray(self.status) != 200
        slots = (due // step).astype(np.int64)
        out = []
        for slot in range(int(slots.max()) + 1):
            mask = slots == slot
            if mask.any():
                out.append(
                    {
                        "t": round(slot * step, 2),
                        "sent": int(mask.sum()),
                        "failed": int(bad[mask].sum()),
                        "p99_ms": round(float(np.percentile(lat[mask], 99)), 1),
                        "max_ms": round(float(lat[mask].max()), 1),
                    }
                )
        return out


def percentiles(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "max": round(float(values.max()), 2),
        "mean": round(float(values.mean()), 2),
    }


async def open_loop(
    pool: Pool,
    path_for: Callable[[int], str],
    *,
    rate: float,
    duration: float,
    timeout: float = 5.0,
    on_body: Callable[[int, bytes], None] | None = None,
) -> Samples:
    """Send ``rate * duration`` GETs at fixed intervals; latency counts from each request's due time."""
    loop = asyncio.get_running_loop()
    planned = max(1, int(rate * duration))
    samples = Samples(planned=planned)
    pending: set[asyncio.Task] = set()

    async def one(i: int, due: float) -> None:
        lag = loop.time() - due
        status = FAILED
        body = b""
        try:
            async with asyncio.timeout(max(due + timeout - loop.time(), 0.001)):
                status, body = await pool.request("GET", path_for(i))
        except TimeoutError:
            status = TIMEOUT
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            status = FAILED
        samples.add(due, loop.time() - due, lag, status)
        if on_body is not None and status == 200:
            on_body(i, body)

    start = loop.time() + 0.02
    samples.started = start
    for i in range(planned):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif i % 32 == 0:  # behind schedule: still let answers be read between bursts of sends
            await asyncio.sleep(0)
        task = asyncio.create_task(one(i, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    samples.last_sent = loop.time()
    if pending:  # bounded drain: every request has its own timeout; cancel whatever outlives it anyway
        _, late = await asyncio.wait(set(pending), timeout=timeout + 2.0)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)
    samples.finished = loop.time()
    return samples


async def closed_loop(
    pool: Pool,
    path_for: Callable[[int], str],
    *,
    concurrency: int,
    duration: float,
    timeout: float = 5.0,
    max_requests: int = 2_000_000,
) -> Samples:
    """``concurrency`` loops each sending the next request when the previous one answered (for when wrk
    is not installed). Latency here is per request (closed loop: it understates queueing)."""
    loop = asyncio.get_running_loop()
    samples = Samples(planned=max_requests)
    end = loop.time() + duration
    counter = iter(range(max_requests))

    async def worker() -> None:
        for i in counter:
            now = loop.time()
            if now >= end:
                return
            status = FAILED
            try:
                async with asyncio.timeout(timeout):
                    status, _ = await pool.request("GET", path_for(i))
            except TimeoutError:
                status = TIMEOUT
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                status = FAILED
            samples.add(now, loop.time() - now, 0.0, status)

    samples.started = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    samples.last_sent = samples.finished = loop.time()
    return samples
