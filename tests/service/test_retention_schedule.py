"""The retention schedule the app's lifespan starts: it purges at once and stops cleanly; it never starts when
retention keeps everything or the interval is 0."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from shopguide.config import Settings
from shopguide.service.retention import purge_now, start_retention, stop_retention
from shopguide.store import open_store
from shopguide.store.base import PurgeResult


def _state(home: Path, **overrides) -> SimpleNamespace:
    settings = Settings(_env_file=None, home=home, store_url="", **overrides)
    store = open_store(settings.resolved_store_url)
    store.put_session("old", {"user_id": "u1"})
    store.put_session("new", {"user_id": "u1"})
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE sessions SET updated_at = 1000 WHERE session_id = 'old'")
    return SimpleNamespace(settings=settings, store=store)


def test_the_schedule_purges_then_stops(tmp_path: Path) -> None:
    state = _state(tmp_path, session_retention_days=30, purge_interval_seconds=3600)

    async def serve() -> tuple[int, PurgeResult, bool]:
        retention = start_retention(state)
        await asyncio.wait_for(retention.ran.wait(), timeout=60)
        await stop_retention(retention)
        return retention.runs, retention.removed, retention.task.done()

    runs, removed, stopped = asyncio.run(serve())
    assert (runs, removed, stopped) == (1, PurgeResult(events=0, sessions=1), True)
    assert state.store.get_session("old") is None and state.store.get_session("new") is not None
    assert purge_now(state) is None  # another worker of this home purged within the interval: skip
    assert purge_now(state, force=True) == PurgeResult()
    state.store.close()


def test_no_schedule_when_retention_keeps_everything_or_the_interval_is_0(tmp_path: Path) -> None:
    for overrides in ({"session_retention_days": 0}, {"purge_interval_seconds": 0}):
        state = _state(tmp_path / str(len(overrides)) / next(iter(overrides)), **overrides)

        async def serve(state=state):
            retention = start_retention(state)
            await stop_retention(retention)
            return retention

        retention = asyncio.run(serve())
        assert retention.task is None and retention.runs == 0
        assert state.store.get_session("old") is not None
        state.store.close()
    asyncio.run(stop_retention(None))
