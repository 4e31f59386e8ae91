"""EventSource: the store export (incremental, rebuilt when needed), Parquet / CSV / Taobao / in-memory inputs
giving the same figures, column and type aliases, clear errors, and PostgreSQL when a server is configured."""

from __future__ import annotations

import json
import os
import uuid

import pandas as pd
import pyarrow.parquet as pq
import pytest
import reference as ref
import sqlalchemy as sa
from analytics_support import TAOBAO, events_frame
from sqlalchemy.engine import make_url

from shopguide.analytics import EventSource, Filters, export_store, funnel, overview, store_fingerprint
from shopguide.data.loaders import load_taobao
from shopguide.data.schema import Event, EventType
from shopguide.errors import ConfigError, DataError
from shopguide.store import open_store

FUNNEL = [
    "view_users",
    "click_users",
    "cart_fav_users",
    "purchase_users",
    "view_events",
    "purchase_events",
    "conversion",
]


def test_export_is_incremental_and_tracks_changes(tmp_path, demo):
    url = f"sqlite:///{tmp_path}/s.db"
    cache = tmp_path / "cache"
    with open_store(url) as st:
        st.import_batch(items=demo.items, users=demo.users, events=demo.events[:5000])
        first = export_store(st, cache)
        assert (first.events_count, first.exported_rows) == (5000, 5000)
        again = export_store(st, cache)
        assert again.exported_rows == 0 and again.fingerprint == first.fingerprint
        assert store_fingerprint(st) == first.fingerprint
        st.add_events(demo.events[5000:7000])
        more = export_store(st, cache)
        assert more.exported_rows == 2000 and len(more.events) == 2
        assert more.fingerprint != first.fingerprint
        assert sum(pq.ParquetFile(p).metadata.num_rows for p in more.events) == 7000
        st.delete_item(demo.items[0].id)  # items changed: new items file, events untouched
        changed = export_store(st, cache)
        assert changed.exported_rows == 0 and changed.items != more.items and not more.items.exists()
        source = EventSource.from_store(st, cache_dir=cache)
        assert source.catalogue_size() == len(demo.items) - 1
        assert overview(source)["events"] == 7000
    with sa.create_engine(f"sqlite:///{tmp_path}/s.db").begin() as conn:  # an erasure below the exported seq
        conn.execute(sa.text("DELETE FROM events WHERE seq = 10"))
    with open_store(url) as st:
        rebuilt = export_store(st, cache)
        assert rebuilt.exported_rows == 6999 and len(rebuilt.events) == 1
        manifest = json.loads((rebuilt.events[0].parent / "manifest.json").read_text())
        assert manifest["count"] == 6999


def test_empty_store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/e.db") as st:
        source = EventSource.from_store(st, cache_dir=tmp_path / "c")
        assert overview(source)["events"] == 0
        assert funnel(source).empty


def test_store_source_equals_in_memory_source(demo_source, demo, demo_events):
    memory = EventSource.from_events(demo_events, demo.items)
    for by in (None, "category", "day"):
        ref.assert_same(funnel(demo_source, by=by), funnel(memory, by=by), ["group"], FUNNEL)


def test_parquet_and_csv_with_aliases(tmp_path, demo, demo_df):
    raw = pd.DataFrame(
        {
            "user": demo_df["user"],
            "sku": demo_df["item"],
            "behavior": demo_df["type"]
            .map({"view": "pv", "purchase": "BUY", "cart": "add_to_cart"})
            .fillna(demo_df["type"]),
            "timestamp": pd.to_datetime(demo_df["ts"], unit="s"),
            "session_id": demo_df["session"],
        }
    )
    items = pd.DataFrame(
        {
            "id": [it.id for it in demo.items],
            "category": [" > ".join(it.category) for it in demo.items],
            "price": [it.price for it in demo.items],
        }
    )
    raw.to_parquet(tmp_path / "events.parquet")
    items.to_parquet(tmp_path / "items.parquet")
    from_parquet = EventSource.from_parquet(tmp_path / "events.parquet", tmp_path / "items.parquet")
    raw.assign(timestamp=demo_df["ts"].astype("int64")).to_csv(tmp_path / "events.csv", index=False)
    items.to_csv(tmp_path / "items.csv", index=False)
    from_csv = EventSource.open(tmp_path / "events.csv", items=tmp_path / "items.csv")
    for source in (from_parquet, from_csv):
        for by in (None, "category", "leaf"):
            ref.assert_same(funnel(source, by=by), ref.funnel(demo_df, by), ["group"], FUNNEL)
    f = Filters.of(categories=["衬衫"])  # a leaf category
    assert overview(from_csv, f)["events"] == len(ref.select(demo_df, categories=["衬衫"]))


def test_utc_offset_moves_days(demo, demo_df):
    shifted = EventSource.from_events(demo.events, demo.items, utc_offset_hours=8)
    df8 = ref.with_day(demo_df[demo_df["type"] != "impression"], 8)
    ref.assert_same(funnel(shifted, by="day"), ref.funnel(df8, "day"), ["group"], FUNNEL)
    assert shifted.fingerprint != EventSource.from_events(demo.events, demo.items).fingerprint


def test_bad_inputs_raise_data_errors(tmp_path):
    pd.DataFrame({"user": ["u"], "ts": [1.0], "type": ["view"]}).to_parquet(tmp_path / "noitem.parquet")
    with pytest.raises(DataError, match="no item column"):
        EventSource.from_parquet(tmp_path / "noitem.parquet")
    pd.DataFrame({"user": ["u"], "item": ["i"], "ts": [1.0], "type": ["teleport"]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match="unknown event types 'teleport'"):
        EventSource.from_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match="file not found"):
        EventSource.from_parquet(tmp_path / "missing.parquet")
    with pytest.raises(ConfigError, match="unknown analytics source format"):
        EventSource.open(tmp_path / "t.parquet", format="xml")
    with pytest.raises(ConfigError, match="date range is empty"):
        Filters.of("2026-10-02", "2026-10-01")
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        Filters.of("yesterday")


def test_unknown_category_filter_selects_nothing(demo_source):
    assert overview(demo_source, Filters.of(categories=["no such category"]))["events"] == 0


@pytest.mark.slow
def test_taobao_csv_equals_taobao_store(tmp_path, taobao_source):
    """The Taobao CSV read by DuckDB and the same file imported by the loader into a store agree."""
    data = load_taobao(TAOBAO)
    with open_store(f"sqlite:///{tmp_path}/t.db") as st:
        st.import_batch(items=data.items, users=data.users, events=data.events)
        stored = EventSource.from_store(st, cache_dir=tmp_path / "c")
    for by in (None, "category", "day"):
        ref.assert_same(funnel(stored, by=by), funnel(taobao_source, by=by), ["group"], FUNNEL)
    assert stored.catalogue_size() == taobao_source.catalogue_size()


def test_postgres_store(demo, tmp_path):
    url = os.environ.get("SHOPGUIDE_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail("SHOPGUIDE_TEST_POSTGRES_URL is not set but CI is")
        pytest.skip("SHOPGUIDE_TEST_POSTGRES_URL is not set")
    pytest.importorskip("psycopg")
    schema = f"shopguide_an_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        store_url = (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        events = demo.events[:4000]
        with open_store(store_url) as st:
            st.import_batch(items=demo.items, users=demo.users, events=events)
            cache = tmp_path / schema
            source = EventSource.from_store(st, cache_dir=cache)
            st.add_events([Event(user="late", item=demo.items[0].id, type=EventType.PURCHASE, ts=events[-1].ts + 1)])
            later = EventSource.from_store(st, cache_dir=cache)
        df = events_frame(events, demo.items)
        for by in (None, "category", "day"):
            ref.assert_same(funnel(source, by=by), ref.funnel(df, by), ["group"], FUNNEL)
        assert overview(later)["events"] == 4001 and later.fingerprint != source.fingerprint
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
