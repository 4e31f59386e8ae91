"""Trending items and categories, catalogue coverage and long-tail share against pandas."""

from __future__ import annotations

import pytest
import reference as ref

from shopguide.analytics import Filters, coverage, trend_windows, trending
from shopguide.analytics.filters import day_number

TREND_COLUMNS = ["recent", "baseline", "recent_purchases", "expected", "lift", "growth"]


@pytest.mark.parametrize("level", ["item", "category"])
@pytest.mark.parametrize("windows", [{}, {"recent_days": 3, "baseline_days": 10}])
def test_demo_trending_matches_pandas(demo_source, demo_df, level, windows):
    got = trending(demo_source, level=level, limit=25, **windows)
    kw = {"recent": windows.get("recent_days"), "baseline": windows.get("baseline_days")}
    expected = ref.trending(demo_df, level=level, limit=25, **kw)
    name = "item_id" if level == "item" else "category"
    assert list(got[name]) == list(expected["name"])  # same order: lift, recent, name
    ref.assert_same(got.rename(columns={name: "name"}), expected, ["name"], TREND_COLUMNS)


def test_trend_windows_default_and_short_span(demo_source, taobao_source):
    w = trend_windows(demo_source)
    assert (w.recent_days, w.baseline_days) == (7, 21)
    short = trend_windows(demo_source, Filters.of("2026-10-01", "2026-10-09"))
    assert (short.recent_days, short.baseline_days) == (3, 6)
    assert short.recent_to == day_number(Filters.of("2026-10-09").date_from)
    assert trend_windows(demo_source, Filters.of("2026-10-09", "2026-10-09")) is None


@pytest.mark.slow
@pytest.mark.parametrize("level", ["item", "category"])
def test_taobao_trending_matches_pandas(taobao_source, taobao_df, level):
    f = Filters.of("2017-11-25", "2017-12-03")
    got = trending(taobao_source, f, level=level)
    expected = ref.trending(ref.select(taobao_df, "2017-11-25", "2017-12-03"), level=level)
    name = "item_id" if level == "item" else "category"
    assert list(got[name]) == list(expected["name"])
    ref.assert_same(got.rename(columns={name: "name"}), expected, ["name"], TREND_COLUMNS)


def _check_coverage(result, expected):
    rows = result.table.set_index("scope")
    assert set(rows.index) == set(expected)
    for scope, figures in expected.items():
        for key, value in figures.items():
            assert rows.loc[scope, key] == pytest.approx(value, nan_ok=True), (scope, key)


def test_demo_coverage_matches_pandas(demo_source, demo_df, demo):
    result = coverage(demo_source)
    assert result.catalogue == len(demo.items)
    assert result.head_items == len(ref.head_items(demo_df))
    _check_coverage(result, ref.coverage(demo_df, len(demo.items)))
    assert result.notes == []


def test_demo_coverage_filtered(demo_source, demo_df, demo):
    f = Filters.of("2026-10-10", None, ["美妆"])
    part = ref.select(demo_df, "2026-10-10", None, ["美妆"])
    catalogue = sum(1 for it in demo.items if "美妆" in it.category)
    result = coverage(demo_source, f, head_share=0.5)
    assert result.catalogue == catalogue
    _check_coverage(result, ref.coverage(part, catalogue, head_share=0.5))


@pytest.mark.slow
def test_taobao_coverage_matches_pandas(taobao_source, taobao_df):
    result = coverage(taobao_source)
    catalogue = taobao_df["item"].nunique()  # no catalogue: the items seen in events
    assert result.catalogue == catalogue
    expected = ref.coverage(taobao_df, catalogue)
    _check_coverage(result, expected)
    assert any("no impressions" in n for n in result.notes)
