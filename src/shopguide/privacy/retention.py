"""Retention: behaviour events and chat sessions are kept for a configured number of days, then purged.

``retention_days`` (events; 0 keeps them forever, the default) and ``session_retention_days`` (chat sessions,
by their last write; 0 keeps them) are settings. ``shopguide purge`` and the service's schedule
(``service/retention.py``) both call :func:`purge_expired`. A purge is idempotent (it deletes what is older
than a cutoff), so two workers purging at once only repeat each other's work; the schedule still lets one
worker per home purge per interval (:func:`due`).

When events were purged, the analytics Parquet copy (which still holds them) is deleted too; the next
analytics computation rebuilds it from the store.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shopguide.analytics.export import remove_export
from shopguide.store.base import PurgeResult, Store

log = logging.getLogger(__name__)

DAY_S = 86400.0
STAMP_FILE = "retention.json"


@dataclass(frozen=True)
class Cutoffs:
    """Unix times before which events and sessions go (None: kept forever)."""

    events: float | None
    sessions: float | None

    @classmethod
    def of(cls, event_days: float, session_days: float, *, now: float | None = None) -> Cutoffs:
        """The cutoffs ``event_days`` and ``session_days`` before ``now`` (0 days: keep forever)."""
        now = time.time() if now is None else now
        return cls(
            events=now - event_days * DAY_S if event_days > 0 else None,
            sessions=now - session_days * DAY_S if session_days > 0 else None,
        )

    @property
    def keeps_everything(self) -> bool:
        return self.events is None and self.sessions is None


def purge_expired(store: Store, cutoffs: Cutoffs, *, analytics_dir: Path | None = None) -> PurgeResult:
    """Delete events and sessions older than ``cutoffs``; when events went, also the analytics copy."""
    if cutoffs.keeps_everything:
        return PurgeResult()
    # Store.purge's sessions cutoff defaults to the events cutoff; 0.0 keeps them (none predates 1970)
    sessions = cutoffs.sessions if cutoffs.sessions is not None else 0.0
    result = store.purge(cutoffs.events, sessions_before_ts=sessions)
    if result.events and analytics_dir is not None:
        remove_export(store, analytics_dir)
    if result.events or result.sessions:
        log.info("purged expired data", extra={"events": result.events, "sessions": result.sessions})
    return result


@contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    """A non-blocking exclusive lock on ``path``: yields whether this process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no coordination, purges are idempotent
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def due(home: Path, interval_s: float, *, now: float | None = None) -> Iterator[bool]:
    """Whether this worker should purge now: no other worker of ``home`` is purging and none finished one in
    the last ``interval_s``. On a clean exit after ``True`` the time is recorded for the other workers."""
    stamp = Path(home) / STAMP_FILE
    now = time.time() if now is None else now
    with _exclusive(stamp.with_suffix(".lock")) as held:
        if not held:
            yield False
            return
        try:
            last = float(json.loads(stamp.read_text())["purged_at"])
        except (OSError, ValueError, KeyError, TypeError):
            last = 0.0
        if now - last < interval_s:
            yield False
            return
        yield True
        tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"purged_at": now}))
        os.replace(tmp, stamp)
