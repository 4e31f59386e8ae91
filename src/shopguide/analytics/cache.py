"""Aggregates cached as JSON files, one per key (data fingerprint + filters + options).

Writes are atomic (a temporary file renamed into place), so a reader never sees half a file; the
directory keeps the ``max_entries`` most recently written files. Reads keep a small in-process copy of
recent entries, so a page rendered twice does not parse the same JSON twice; the copy is used only while its
file is still the one it was read from (one ``stat``), so an entry another process removed or rewrote (a
shopper's erasure clears the directory for every worker) is never served from memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class AggregateCache:
    """A directory of ``<key>.json`` files holding computed aggregates."""

    def __init__(self, directory: str | os.PathLike[str], *, max_entries: int = 256, memory_entries: int = 16) -> None:
        self.directory = Path(directory)
        self.max_entries = max_entries
        self._memory: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()  # key -> (file mtime_ns, value)
        self._memory_entries = memory_entries
        self._lock = threading.Lock()

    @staticmethod
    def make_key(*parts: str) -> str:
        """A file-name-safe key from any strings."""
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached value, or None when absent or unreadable."""
        path = self.path(key)
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            with self._lock:
                self._memory.pop(key, None)
            return None
        with self._lock:
            held = self._memory.get(key)
            if held is not None and held[0] == mtime:
                self._memory.move_to_end(key)
                return held[1]
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self._remember(key, value, mtime)
        return value

    def put(self, key: str, value: dict[str, Any]) -> Path:
        """Store ``value`` (JSON-serialisable) under ``key``; returns the file written."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False, allow_nan=False), encoding="utf-8")
        os.replace(tmp, path)
        self._remember(key, value, path.stat().st_mtime_ns)
        self._evict()
        return path

    def forget(self, key: str) -> None:
        """Drop one entry (file and memory)."""
        with self._lock:
            self._memory.pop(key, None)
        self.path(key).unlink(missing_ok=True)

    def clear(self) -> int:
        """Drop every entry (of every process: the files go); how many files were removed."""
        with self._lock:
            self._memory.clear()
        removed = 0
        for path in self.directory.glob("*.json"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def _remember(self, key: str, value: dict[str, Any], mtime: int) -> None:
        with self._lock:
            self._memory[key] = (mtime, value)
            self._memory.move_to_end(key)
            while len(self._memory) > self._memory_entries:
                self._memory.popitem(last=False)

    def _evict(self) -> None:
        files = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for path in files[: max(0, len(files) - self.max_entries)]:
            path.unlink(missing_ok=True)
