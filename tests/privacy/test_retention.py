"""Retention: cutoffs from days, what a purge removes (and the analytics copy with it), one purger per home."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from shopguide.analytics import EventSource
from shopguide.analytics.export import store_directory
from shopguide.data.schema import Event
from shopguide.privacy.retention import DAY_S, Cutoffs, due, purge_expired
from shopguide.store import open_store
from shopguide.store.base import PurgeResult

NOW = 1_800_000_000.0


def test_cutoffs_from_days_and_zero_keeps_forever() -> None:
    assert Cutoffs.of(90, 30, now=NOW) == Cutoffs(events=NOW - 90 * DAY_S, sessions=NOW - 30 * DAY_S)
    assert Cutoffs.of(0, 30, now=NOW) == Cutoffs(events=None, sessions=NOW - 30 * DAY_S)
    assert Cutoffs.of(0, 0, now=NOW).keeps_everything and not Cutoffs.of(0, 1).keeps_everything


def test_purge_expired_removes_only_what_retention_expired(tmp_path: Path) -> None:
    workdir = tmp_path / "analytics"
    now = time.time()  # sessions are stamped with the clock when written
    with open_store(f"sqlite:///{tmp_path}/shop.db") as store:
        ages = [200, 100, 10, 1]  # days before now
        store.add_events(Event(user="u1", item=f"i{d}", type="click", ts=now - d * DAY_S) for d in ages)
        store.put_session("recent", {"user_id": "u1"})
        store.put_session("stale", {"user_id": "u1"})
        with store.engine.begin() as conn:  # written 40 days before now
            conn.exec_driver_sql(f"UPDATE sessions SET updated_at = {now - 40 * DAY_S} WHERE session_id = 'stale'")
        EventSource.from_store(store, cache_dir=workdir).close()
        assert any(store_directory(workdir, store).glob("*.parquet"))

        sessions_only = purge_expired(store, Cutoffs.of(0, 30, now=now), analytics_dir=workdir)
        assert sessions_only == PurgeResult(events=0, sessions=1)
        assert store.get_session("stale") is None and store.get_session("recent") is not None
        assert store.count_events() == 4 and any(store_directory(workdir, store).glob("*.parquet"))

        events = purge_expired(store, Cutoffs.of(90, 0, now=now), analytics_dir=workdir)
        assert events == PurgeResult(events=2, sessions=0)
        assert sorted(e.item for e in store.iter_events()) == ["i1", "i10"]
        assert store.get_session("recent") is not None  # session retention 0: kept
        assert not any(store_directory(workdir, store).glob("*.parquet"))  # the copy held the purged events
        assert purge_expired(store, Cutoffs.of(90, 30, now=now)) == PurgeResult()  # idempotent
        assert purge_expired(store, Cutoffs.of(0, 0)) == PurgeResult()


def test_one_worker_per_home_purges_per_interval(tmp_path: Path) -> None:
    with due(tmp_path, 3600, now=NOW) as first:
        assert first
        inside: list[bool] = []

        def other_worker() -> None:  # another process's turn while this one purges: it skips
            with due(tmp_path, 3600, now=NOW) as mine:
                inside.append(mine)

        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join()
        assert inside == [False]
    with due(tmp_path, 3600, now=NOW + 60) as again:
        assert not again  # purged a minute ago
    with due(tmp_path, 3600, now=NOW + 3601) as later:
        assert later
    with due(tmp_path, 0, now=NOW + 3602) as forced:
        assert forced


def test_a_failed_purge_is_not_recorded(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), due(tmp_path, 3600, now=NOW) as mine:
        assert mine
        raise RuntimeError("the store is down")
    with due(tmp_path, 3600, now=NOW + 1) as retry:
        assert retry
