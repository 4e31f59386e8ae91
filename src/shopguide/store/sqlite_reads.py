"""Plain sqlite3 connections, one per thread, for the request path's hottest read.

The recommendation route reads the shopper's recent actions on every request, cache hits included.
Through SQLAlchemy one such read cost about 95 µs of CPU (connection checkout, ``BEGIN``, statement
and result processing) against 18 µs for the same indexed query on a plain sqlite3 connection
(``benchmarks/service_micro.py`` on the demo store). The other reads and every
write keep going through SQLAlchemy.

File databases only (an in-memory database lives in its one shared connection). Each connection is
opened like the engine's (same pragmas, see ``factory._sqlite_on_connect``) and runs in autocommit
mode, so every read is its own snapshot and sees the latest committed events of every process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from shopguide.errors import StoreError


class SqliteReader:
    """Runs read-only statements on this thread's own sqlite3 connection to ``path``."""

    def __init__(self, path: str, *, timeout: float, on_connect: Callable[[Any, Any], None]) -> None:
        self._path = path
        self._timeout = timeout
        self._on_connect = on_connect
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:
                if self._closed:
                    raise StoreError("the store is closed")
                conn = sqlite3.connect(self._path, timeout=self._timeout, check_same_thread=False)
                self._on_connect(conn, None)
                self._opened.append(conn)
            self._local.conn = conn
        return conn

    def rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """All rows of ``sql`` (``?`` placeholders) with ``params``; a database error is a StoreError."""
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"store failed to read: {exc.__class__.__name__}: {exc}") from exc

    def close(self) -> None:
        """Close every thread's connection (a thread that reads afterwards gets a StoreError)."""
        with self._lock:
            self._closed = True
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
