"""The audit log: who did what, when and from where, for admin and catalog actions.

The service records every request to a route of scope ``catalog`` or ``admin`` (allowed or refused) and
every refused request to any route; the CLI records the key commands it runs. Entries are buffered per
worker and written in one short transaction by the service's request path at most every
:data:`FLUSH_SECONDS` (or when :data:`FLUSH_AT` are waiting), so an audited request does not wait on a
write of its own. ``shopguide audit`` lists them.
"""

from __future__ import annotations

import getpass
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
FLUSH_AT = 200
MAX_PENDING = 100_000
#: Outcomes an entry may record.
OUTCOMES = ("allowed", "denied", "unauthenticated", "rate_limited")


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    ts: float
    actor: str
    action: str
    target: str = ""
    client: str = ""
    outcome: str = "allowed"
    id: int | None = None


def cli_actor() -> str:
    """The actor name of a command run on this machine (``cli:<login>``)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (a container without a passwd entry)
        return "cli"


class AuditTrail:
    """A worker's buffer of audit entries in front of the store."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pending: list[AuditEntry] = []
        self._flushed_at = time.monotonic()

    def record(self, entry: AuditEntry) -> None:
        with self._lock:
            self._pending.append(entry)

    def due(self) -> bool:
        """Whether a flush is due (call :meth:`flush` in a worker thread then)."""
        return bool(self._pending) and (
            len(self._pending) >= FLUSH_AT or time.monotonic() - self._flushed_at >= FLUSH_SECONDS
        )

    def flush(self) -> None:
        """Write the buffered entries (a store failure is logged; the entries are kept for the next flush)."""
        with self._lock:
            pending, self._pending = self._pending, []
            self._flushed_at = time.monotonic()
        try:
            self._store.add_audit(pending)
        except Exception:
            log.exception("could not write %d audit entries; keeping them for the next flush", len(pending))
            with self._lock:
                self._pending[:0] = pending
                if len(self._pending) > MAX_PENDING:  # the store has been down for long: keep the newest
                    dropped = len(self._pending) - MAX_PENDING
                    del self._pending[:dropped]
                    log.error("dropped the %d oldest unwritten audit entries", dropped)
