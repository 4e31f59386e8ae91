"""Strategy performance (impression attribution) and A/B results against pandas ``merge_asof``."""

from __future__ import annotations

import math

import pytest
import reference as ref

from shopguide.analytics import Filters, context_events, experiment_results, strategy_performance
from shopguide.analytics.strategy import two_proportion_p, wilson_interval

COLUMNS = ["impressions", "users", "clicked", "carted", "purchased", "ctr", "conversion"]


@pytest.mark.parametrize("by", ["source", "strategy", "intent", "traffic_source", "category"])
def test_strategy_matches_pandas(demo_source, demo_df, by):
    got = strategy_performance(demo_source, by=by)
    ref.assert_same(got, ref.strategy(demo_df, by), ["group"], COLUMNS)
    assert got["clicked"].sum() > 0 and got["purchased"].sum() > 0


def test_strategy_window_and_filters(demo_source, demo_df):
    f = Filters.of("2026-09-15", "2026-10-15", ["服装", "数码"])
    part = ref.select(demo_df, "2026-09-15", "2026-10-15", ["服装", "数码"])
    got = strategy_performance(demo_source, f, window_hours=1)
    ref.assert_same(got, ref.strategy(part, "source", window_hours=1), ["group"], COLUMNS)
    wide = strategy_performance(demo_source, f, window_hours=72)
    assert wide["clicked"].sum() > got["clicked"].sum()  # the 2-day-old impressions count only in a wide window


def test_experiment_results(demo_source, demo_df):
    got = experiment_results(demo_source).set_index("variant")
    expected = ref.strategy(demo_df, "variant").set_index("group")
    assert list(got.index) == ["control", "treatment"]
    for variant in got.index:
        for col in COLUMNS:
            assert got.loc[variant, col] == pytest.approx(expected.loc[variant, col])
    c, t = expected.loc["control"], expected.loc["treatment"]
    assert math.isnan(got.loc["control", "p_value"])
    assert got.loc["treatment", "ctr_lift"] == pytest.approx(t["ctr"] / c["ctr"] - 1)
    assert got.loc["treatment", "p_value"] == pytest.approx(
        two_proportion_p(t["clicked"], t["impressions"], c["clicked"], c["impressions"])
    )
    low, high = got.loc["treatment", ["ctr_low", "ctr_high"]]
    assert low < t["ctr"] < high


def test_wilson_and_z_test_known_values():
    low, high = wilson_interval(50, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert two_proportion_p(50, 100, 50, 100) == pytest.approx(1.0)
    assert two_proportion_p(60, 100, 40, 100) == pytest.approx(0.004678, abs=1e-5)


def test_no_impressions_gives_empty_tables(taobao_source):
    assert strategy_performance(taobao_source).empty
    assert experiment_results(taobao_source).empty


def test_context_events_counts_own_context(demo_source, demo_df):
    got = context_events(demo_source, key="device").set_index("group")
    counts = demo_df.assign(d=demo_df["device"].fillna("(none)")).groupby(["d", "type"]).size()
    for (device, etype), n in counts.items():
        assert got.loc[device, etype] == n
