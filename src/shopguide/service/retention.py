"""Retention on a schedule while serving: a small task of the app's lifespan purges what expired.

Start it after the worker's state is ready and stop it before the state closes::

    retention = start_retention(app.state.shopguide)
    ...
    await stop_retention(retention)

Every ``purge_interval_seconds`` each worker asks :func:`shopguide.privacy.retention.due` whether to purge:
a file lock and a time stamp under the home let one worker of that home purge per interval (the others skip).
Workers that do not share a home (replicas on other machines, on one PostgreSQL) may purge in the same
interval; a purge deletes what is older than a cutoff, so the second one finds nothing and changes nothing.
The purge itself runs in a thread (short write transactions, see ``store/privacy_sql.py``); a failed purge is
logged and tried again at the next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from shopguide.privacy.retention import Cutoffs, due, purge_expired
from shopguide.service.state import ServiceState
from shopguide.store.base import PurgeResult

log = logging.getLogger(__name__)


@dataclass
class Retention:
    """The running schedule: its task and what its purges removed (``ran`` is set after each attempt)."""

    task: asyncio.Task[None] | None = None
    runs: int = 0
    removed: PurgeResult = field(default_factory=PurgeResult)
    ran: asyncio.Event = field(default_factory=asyncio.Event)


def purge_now(state: ServiceState, *, force: bool = False) -> PurgeResult | None:
    """Purge what the settings' retention expired, if this worker's turn (``force``: regardless); None when
    another worker's turn."""
    settings = state.settings
    cutoffs = Cutoffs.of(settings.retention_days, settings.session_retention_days)
    interval = 0.0 if force else settings.purge_interval_seconds * 0.9  # a little early rather than skip a round
    with due(settings.home, interval) as mine:
        if not mine:
            return None
        return purge_expired(state.store, cutoffs, analytics_dir=settings.home / "analytics")


async def _loop(state: ServiceState, retention: Retention, interval: float) -> None:
    while True:
        try:
            result = await asyncio.to_thread(purge_now, state)
            if result is not None:
                retention.removed = PurgeResult(
                    retention.removed.events + result.events, retention.removed.sessions + result.sessions
                )
        except Exception:  # the store may be down for a moment: try again next interval
            log.exception("scheduled purge failed; trying again at the next interval")
        retention.runs += 1
        retention.ran.set()
        await asyncio.sleep(interval)


def start_retention(state: ServiceState) -> Retention:
    """Start purging on the settings' schedule (nothing runs when the interval is 0 or every retention is
    0: keep forever). Call from the running event loop (the app's lifespan)."""
    settings = state.settings
    retention = Retention()
    keep_all = Cutoffs.of(settings.retention_days, settings.session_retention_days).keeps_everything
    if settings.purge_interval_seconds > 0 and not keep_all:
        retention.task = asyncio.create_task(_loop(state, retention, settings.purge_interval_seconds), name="retention")
    return retention


async def stop_retention(retention: Retention | None) -> None:
    """Stop the schedule (a purge in progress finishes its current transaction in its thread)."""
    if retention is None or retention.task is None:
        return
    retention.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await retention.task
