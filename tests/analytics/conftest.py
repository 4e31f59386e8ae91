"""Fixtures for the analytics tests: the demo events (plus deterministic impressions, so strategy tables have
something to measure) in a real SQLite store, the Taobao sample, and the same data as plain pandas frames
for the independent reference computations in ``reference.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import reference as ref
from analytics_support import TAOBAO, events_frame, with_impressions

from shopguide.analytics import EventSource
from shopguide.data.demo import demo_data
from shopguide.data.schema import Event
from shopguide.store import open_store


@pytest.fixture(scope="session")
def demo():
    return demo_data()


@pytest.fixture(scope="session")
def demo_events(demo) -> list[Event]:
    return with_impressions(demo.events, demo.items)


@pytest.fixture(scope="session")
def demo_df(demo, demo_events) -> pd.DataFrame:
    return events_frame(demo_events, demo.items)


@pytest.fixture(scope="session")
def demo_store_url(tmp_path_factory, demo, demo_events) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('analytics-store')}/shop.db"
    with open_store(url) as st:
        st.import_batch(items=demo.items, users=demo.users, events=demo_events)
    return url


@pytest.fixture(scope="session")
def demo_source(demo_store_url, tmp_path_factory) -> EventSource:
    """The demo events read back from the SQLite store through the Parquet export."""
    source = EventSource.from_store(demo_store_url, cache_dir=tmp_path_factory.mktemp("analytics-cache"))
    yield source
    source.close()


@pytest.fixture(scope="session")
def taobao_df() -> pd.DataFrame:
    if not TAOBAO.exists():
        pytest.skip("../shared/data/taobao-userbehavior-sample is not present")
    files = sorted(TAOBAO.glob("UserBehavior*.csv"))
    raw = pd.concat(
        [pd.read_csv(f, header=None, names=["user", "item", "category", "behavior", "ts"], dtype=str) for f in files]
    )
    df = pd.DataFrame(
        {
            "user": raw["user"],
            "item": raw["item"],
            "type": raw["behavior"].map({"pv": "view", "cart": "cart", "fav": "fav", "buy": "purchase"}),
            "value": 1.0,
            "ts": raw["ts"].astype("int64").astype("float64"),
            "session": None,
        }
    ).reset_index(drop=True)
    # an item's category is the one on its first row (the loader's rule); Taobao has no prices or context
    first = raw.reset_index(drop=True).drop_duplicates("item").set_index("item")["category"]
    df["category"] = df["item"].map(first)
    df["leaf"] = df["category"]
    df["price"] = np.nan
    for k in ("source", "strategy", "intent", "traffic_source", "experiment", "variant", "device"):
        df[k] = None
    return ref.with_day(df)


@pytest.fixture(scope="session")
def taobao_source(taobao_df) -> EventSource:
    source = EventSource.from_taobao(TAOBAO)
    yield source
    source.close()
