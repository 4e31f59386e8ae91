"""The listening sockets of a multi-worker ``shopguide serve``: one per worker, on one port (SO_REUSEPORT).

uvicorn binds one socket in its supervisor and hands that same socket to every worker. Whichever
worker wakes first accepts every connection waiting at that moment, so a client that opens its
keep-alive connections together (a load balancer, a load generator) can find them all on one worker
while the other idles: in the load benchmark one closed-loop phase of two ran on one worker (1.0 of 2
cores, RESULTS.md §8). With SO_REUSEPORT each worker listens on a socket of its own and the kernel
spreads new connections over them evenly (by a hash of the connection's addresses).

:class:`ReusePortListener` is what the supervisor binds: with SO_REUSEPORT, so that the port is
reserved (also a port 0 made concrete) and the workers can join it; it never listens itself. Pickled
into a worker (multiprocessing spawns them), it becomes a fresh socket bound to the same address
there, so each worker has its own. Its sockets say IPPROTO_TCP, which asyncio checks before turning on
TCP_NODELAY for accepted connections: without it, Nagle's algorithm held every keep-alive answer about
40 ms for the client's delayed ACK (uvicorn issue #3149).
"""

from __future__ import annotations

import socket
from typing import Any

REUSE_PORT = hasattr(socket, "SO_REUSEPORT")


def bind_reuse_port(family: socket.AddressFamily, address: Any, kind: type[socket.socket] = socket.socket) -> Any:
    """A TCP socket of class ``kind`` bound to ``address`` with SO_REUSEPORT (not listening yet)."""
    sock = kind(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


class ReusePortListener(socket.socket):
    """A bound SO_REUSEPORT socket that pickles into a new socket on the same address (one per worker)."""

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, tuple[Any, ...]]:
        return bind_reuse_port, (self.family, self.getsockname())


def reserve(host: str, port: int) -> ReusePortListener:
    """The supervisor's socket for ``host``:``port`` (port 0: a free port, kept for the workers)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock: ReusePortListener = bind_reuse_port(family, (host, port), ReusePortListener)
    sock.set_inheritable(True)
    return sock
