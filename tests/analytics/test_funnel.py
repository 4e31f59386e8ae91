"""The funnel against an independent pandas computation: overall, per category, per day, per traffic source
and strategy, with date and category filters, on the demo events (with impressions) and the Taobao sample."""

from __future__ import annotations

import pytest
import reference as ref

from shopguide.analytics import Filters, funnel, overview, tracked_stages

COLUMNS = [
    *(f"{t}_events" for t in ("impression", "view", "click", "cart", "fav", "purchase")),
    *(f"{s}_users" for s in ("impression", "view", "click", "cart_fav", "purchase")),
    *(f"{s}_rate" for s in ("view", "click", "cart_fav", "purchase")),
    "conversion",
]


@pytest.mark.parametrize("by", [None, "category", "leaf", "day", "week", "traffic_source", "strategy", "source"])
def test_demo_funnel_matches_pandas(demo_source, demo_df, by):
    got = funnel(demo_source, by=by)
    ref.assert_same(got, ref.funnel(demo_df, by), ["group"], COLUMNS)


@pytest.mark.parametrize(
    ("date_from", "date_to", "categories"),
    [("2026-09-20", "2026-10-05", ()), (None, None, ("服装",)), ("2026-10-01", None, ("美妆", "衬衫"))],
)
def test_demo_funnel_filters(demo_source, demo_df, date_from, date_to, categories):
    f = Filters.of(date_from, date_to, categories)
    part = ref.select(demo_df, date_from, date_to, categories)
    assert len(part) < len(demo_df)
    for by in (None, "category", "day"):
        ref.assert_same(funnel(demo_source, f, by=by), ref.funnel(part, by), ["group"], COLUMNS)


def test_funnel_rows_ordered_and_limited(demo_source):
    by_cat = funnel(demo_source, by="category", limit=3)
    assert len(by_cat) == 3
    assert list(by_cat["view_users"]) == sorted(by_cat["view_users"], reverse=True)
    days = funnel(demo_source, by="day")["group"].tolist()
    assert days == sorted(days)


def test_demo_stages_and_rates(demo_source, demo_df):
    assert tracked_stages(demo_source) == ["impression", "view", "click", "cart_fav", "purchase"]
    row = funnel(demo_source).iloc[0]
    users = demo_df.groupby("type")["user"].nunique()
    assert row["click_rate"] == pytest.approx(users["click"] / users["view"])
    assert row["conversion"] == pytest.approx(users["purchase"] / users["view"])


@pytest.mark.slow
@pytest.mark.parametrize("by", [None, "category", "day", "week", "traffic_source"])
def test_taobao_funnel_matches_pandas(taobao_source, taobao_df, by):
    ref.assert_same(funnel(taobao_source, by=by), ref.funnel(taobao_df, by), ["group"], COLUMNS)


@pytest.mark.slow
def test_taobao_untracked_click_stage_is_skipped(taobao_source, taobao_df):
    assert tracked_stages(taobao_source) == ["view", "cart_fav", "purchase"]
    row = funnel(taobao_source).iloc[0]
    assert row["click_users"] == 0
    viewers = taobao_df.loc[taobao_df["type"] == "view", "user"].nunique()
    carters = taobao_df.loc[taobao_df["type"].isin(["cart", "fav"]), "user"].nunique()
    assert row["cart_fav_rate"] == pytest.approx(carters / viewers)  # against views: clicks are not tracked


@pytest.mark.slow
def test_taobao_filters(taobao_source, taobao_df):
    f = Filters.of("2017-11-27", "2017-11-30", ["4756105", "982926"])
    part = ref.select(taobao_df, "2017-11-27", "2017-11-30", ["4756105", "982926"])
    ref.assert_same(funnel(taobao_source, f, by="category"), ref.funnel(part, "category"), ["group"], COLUMNS)


@pytest.mark.parametrize("fixture", ["demo", "taobao"])
def test_overview_matches_pandas(request, fixture):
    source = request.getfixturevalue(f"{fixture}_source")
    df = request.getfixturevalue(f"{fixture}_df")
    ov = overview(source)
    assert ov["events"] == len(df)
    assert ov["events_by_type"] == {t: int((df["type"] == t).sum()) for t in ov["events_by_type"]}
    assert ov["users"] == df.loc[df["type"] != "impression", "user"].nunique()
    assert ov["buyers"] == df.loc[df["type"] == "purchase", "user"].nunique()
    assert ov["purchase_conversion"] == pytest.approx(ov["buyers"] / ov["users"])
    assert ov["items"] == df["item"].nunique()
    assert ov["categories"] == df["category"].nunique()
    assert ov["days"] == df["day"].nunique()
    assert ov["first_day"] == ref.iso(df["day"].min())
    assert ov["last_day"] == ref.iso(df["day"].max())
    assert ov["simulated"] is (fixture == "demo")


def test_a_stage_logged_for_a_few_shoppers_does_not_give_absurd_rates(tmp_path):
    """A storefront that logged one impression before 40 shoppers viewed: the view rate is not 4,000 %."""
    from shopguide.analytics.source import EventSource
    from shopguide.data.schema import Event
    from shopguide.store import open_store

    url = f"sqlite:///{tmp_path}/shop.db"
    events = [Event(user="u0", item="i0", type="impression", ts=1_780_000_000.0)]
    events += [Event(user=f"u{k}", item="i0", type="view", ts=1_780_000_100.0 + k) for k in range(40)]
    events += [Event(user=f"u{k}", item="i0", type="purchase", ts=1_780_000_200.0 + k) for k in range(10)]
    with open_store(url) as st:
        st.add_events(events)
    row = funnel(EventSource.from_store(url, cache_dir=tmp_path / "cache")).iloc[0]
    assert (row["impression_users"], row["view_users"]) == (1, 40)
    assert row["view_rate"] != row["view_rate"]  # NaN: no earlier stage was logged for enough shoppers
    assert row["purchase_rate"] == pytest.approx(0.25) and row["conversion"] == pytest.approx(0.25)


def test_a_day_still_going_on_is_left_out_of_the_daily_charts():
    from shopguide.analytics.report import _funnel_section

    day = {"view_users": 100, "purchase_users": 10, "conversion": 0.1}
    funnel_aggs = {"stages": ["view", "purchase"], "overall": [{"view_users": 200, "purchase_users": 21}],
                   "by_day": [{"group": "2026-12-01", **day}, {"group": "2026-12-02", **day},
                              {"group": "2026-12-03", "view_users": 5, "purchase_users": 0, "conversion": 0.0}]}  # fmt: skip
    partial = _funnel_section(funnel_aggs, {"last_day": "2026-12-03", "last_day_share": 0.2})
    assert "2026-12-03 is left out of the daily charts: its events reach only 20% into the day" in partial
    whole = _funnel_section(funnel_aggs, {"last_day": "2026-12-03", "last_day_share": 0.99})
    assert "left out" not in whole and "2026-12-03" in whole
