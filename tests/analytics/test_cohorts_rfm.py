"""Retention cohorts, RFM scores and segments, and repeat purchase against pandas."""

from __future__ import annotations

import pytest
import reference as ref

from shopguide.analytics import (
    SEGMENTS,
    Filters,
    repeat_purchase,
    retention,
    retention_matrix,
    rfm_segments,
    rfm_table,
    segment_of,
)


@pytest.mark.parametrize("period", ["day", "week"])
@pytest.mark.parametrize("activity", ["any", "purchase"])
def test_demo_retention_matches_pandas(demo_source, demo_df, period, activity):
    got = retention(demo_source, period=period, activity=activity)
    ref.assert_same(got, ref.retention(demo_df, period, activity), ["cohort", "period"], ["size", "active", "rate"])


def test_retention_filters_and_matrix(demo_source, demo_df):
    f = Filters.of("2026-09-14", "2026-10-18", ["数码"])
    got = retention(demo_source, f, max_periods=3)
    part = ref.select(demo_df, "2026-09-14", "2026-10-18", ["数码"])
    ref.assert_same(got, ref.retention(part, max_periods=3), ["cohort", "period"], ["size", "active", "rate"])
    assert got["period"].max() == 3
    matrix = retention_matrix(got)
    assert (matrix[0] == 1.0).all()
    assert matrix.index[0] == "2026-09-14"  # a Monday: weeks start on Monday


@pytest.mark.slow
def test_taobao_retention_matches_pandas(taobao_source, taobao_df):
    got = retention(taobao_source, period="day")
    ref.assert_same(got, ref.retention(taobao_df, "day"), ["cohort", "period"], ["size", "active", "rate"])


RFM_COLUMNS = ["recency_days", "frequency", "monetary", "r", "f", "m", "segment"]


@pytest.mark.parametrize("fixture", ["demo", "taobao"])
def test_rfm_table_matches_pandas(request, fixture):
    source, df = request.getfixturevalue(f"{fixture}_source"), request.getfixturevalue(f"{fixture}_df")
    got, basis = rfm_table(source)
    expected, expected_basis = ref.rfm(df)
    assert basis == expected_basis == ("price" if fixture == "demo" else "count")
    ref.assert_same(got, expected, ["user_id"], RFM_COLUMNS)
    assert set(got["r"]) <= {1, 2, 3, 4, 5}
    assert got["segment"].isin(SEGMENTS).all()


def test_rfm_filtered(demo_source, demo_df):
    f = Filters.of("2026-10-01", None, ["服装", "鞋靴"])
    got, _ = rfm_table(demo_source, f)
    expected, _ = ref.rfm(ref.select(demo_df, "2026-10-01", None, ["服装", "鞋靴"]))
    ref.assert_same(got, expected, ["user_id"], RFM_COLUMNS)


def test_rfm_segments_summary(demo_source, demo_df):
    seg = rfm_segments(demo_source)
    assert list(seg["segment"]) == list(SEGMENTS)
    expected, _ = ref.rfm(demo_df)
    counts = expected["segment"].value_counts()
    for row in seg.itertuples():
        assert row.users == counts.get(row.segment, 0)
        if row.users:
            part = expected[expected["segment"] == row.segment]
            assert row.recency_days == pytest.approx(part["recency_days"].mean())
            assert row.monetary == pytest.approx(part["monetary"].mean())
    assert seg["share"].sum() == pytest.approx(1.0)


def test_segment_rule_covers_every_score_pair():
    for r in range(1, 6):
        for f in range(1, 6):
            assert segment_of(r, f) == ref.segment(r, f)


@pytest.mark.parametrize("fixture", ["demo", "taobao"])
@pytest.mark.parametrize("by", [None, "category"])
def test_repeat_purchase_matches_pandas(request, fixture, by):
    source, df = request.getfixturevalue(f"{fixture}_source"), request.getfixturevalue(f"{fixture}_df")
    ref.assert_same(
        repeat_purchase(source, by=by), ref.repeat_purchase(df, by), ["group"], ["buyers", "repeat_buyers", "rate"]
    )
