"""Rows that older versions stored (a time of 1e20, infinities, NaN) are skipped by analytics, counted, and
shown on the dashboard: /dashboard and /v1/analytics keep answering 200."""

from __future__ import annotations

import logging
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from test_dashboard_route import make_app

from authkit import AUTH
from shopguide.analytics import EventSource, overview
from shopguide.data.schema import Event, EventType, Item
from shopguide.store import open_store

ITEMS = [Item(id=f"it-{k}", title=f"item {k}", category=["服装", "衬衫"], price=99.0) for k in range(3)]
GOOD = [
    Event(
        user=f"u{k % 4}", item=f"it-{k % 3}", type=EventType.VIEW if k % 3 else EventType.PURCHASE, ts=1.7e9 + k * 3600
    )
    for k in range(12)
]
#: (key, ts, value): what the store held before times and values were checked at the edge.
LEGACY = [
    ("legacy-far-future", 1e20, 1.0),
    ("legacy-far-past", -1e20, 1.0),
    ("legacy-inf", math.inf, 1.0),
    ("legacy-minus-inf", -math.inf, 1.0),
    ("legacy-year-33658", 1e12, 1.0),
    ("legacy-value-inf", 1.7e9, math.inf),
]


def insert_legacy_rows(url: str) -> None:
    """Write the rows with plain SQL, past every check (SQLite turns NaN into NULL, so NaN is not among them)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for key, ts, value in LEGACY:
            conn.execute(
                sa.text(
                    "INSERT INTO events (key, user_id, item_id, type, value, ts, session, context) "
                    "VALUES (:key, 'u-old', 'it-0', 'purchase', :value, :ts, NULL, '{}')"
                ),
                {"key": key, "ts": ts, "value": value},
            )
    engine.dispose()


@pytest.fixture
def legacy_store_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/legacy.db"
    with open_store(url) as store:
        store.import_batch(items=ITEMS, events=GOOD)
    insert_legacy_rows(url)
    return url


def test_the_dashboard_answers_despite_legacy_rows(legacy_store_url, tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="shopguide.analytics.prepare")
    with open_store(legacy_store_url) as store, TestClient(make_app(store, tmp_path / "home"), headers=AUTH) as c:
        assert store.count_events() == len(GOOD) + len(LEGACY)
        data = c.get("/v1/analytics")
        assert data.status_code == 200
        ov = data.json()["overview"]
        assert ov["events"] == len(GOOD)
        assert ov["skipped_events"] == len(LEGACY)
        assert ov["last_day"] == "2023-11-15"
        assert c.get("/v1/analytics/overview").status_code == 200
        page = c.get("/dashboard")
        assert page.status_code == 200
        assert f"{len(LEGACY)} stored events were skipped" in page.text
        fresh = c.get("/dashboard", params={"date_from": "2023-11-14", "category": "服装"})  # a fresh computation
        assert fresh.status_code == 200 and "computed now" in fresh.text
    assert any("skipped 6 events" in r.getMessage() for r in caplog.records)


def test_a_clean_store_shows_no_skipped_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/clean.db"
    with open_store(url) as store, TestClient(make_app(store, tmp_path / "home"), headers=AUTH) as c:
        store.import_batch(items=ITEMS, events=GOOD)
        assert c.get("/v1/analytics/overview").json()["skipped_events"] == 0
        assert "were skipped" not in c.get("/dashboard").text


def test_in_memory_events_with_nan_and_infinities_are_skipped() -> None:
    bad = [
        Event(user="u9", item="it-1", type=EventType.VIEW, ts=math.nan),
        Event(user="u9", item="it-1", type=EventType.VIEW, ts=math.inf),
        Event(user="u9", item="it-1", type=EventType.PURCHASE, ts=1.7e9, value=math.nan),
        Event(user="u9", item="it-1", type=EventType.VIEW, ts=5e15),
    ]
    with EventSource.from_events([*GOOD, *bad], ITEMS) as source:
        assert source.skipped_events == len(bad)
        assert overview(source)["events"] == len(GOOD)


def test_parquet_with_nan_times_as_postgresql_can_hold_them(tmp_path) -> None:
    """The store export writes PostgreSQL's NaN as a float NaN (not a null): such rows are skipped."""
    table = pa.table(
        {
            "user_id": ["a", "b", "c", "d"],
            "item_id": ["it-0", "it-1", "it-2", "it-0"],
            "type": ["view", "purchase", "view", "cart"],
            "value": pa.array([1.0, math.nan, 1.0, 1.0], pa.float64()),
            "ts": pa.array([1.7e9, 1.7e9, math.nan, -math.inf], pa.float64()),
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    with EventSource.from_parquet(path) as source:
        assert (source.skipped_events, overview(source)["events"]) == (3, 1)


def test_csv_with_absurd_times_is_read_without_them(tmp_path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user,item,type,ts\na,x,view,1700000000\nb,y,view,1e20\nc,z,view,-inf\n", encoding="utf-8")
    with EventSource.from_csv(path) as source:
        assert (source.skipped_events, overview(source)["events"]) == (2, 1)
