"""Strategy performance (impression attribution) and A/B results against pandas ``merge_asof``."""

from __future__ import annotations

import math

import pytest
import reference as ref
from scipy.stats import chisquare

from shopguide.analytics import (
    EventSource,
    Filters,
    compute_dashboard,
    context_events,
    experiment_results,
    render_report,
    strategy_performance,
)
from shopguide.analytics.strategy import two_proportion_p, wilson_interval
from shopguide.bandit.stats import newcombe_interval, ratio_interval
from shopguide.data.schema import Event, EventType, Item
from shopguide.errors import ConfigError

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
    # the new columns: the lift's intervals, users per variant and the SRM check (an equal split by user parity)
    diff = newcombe_interval(t["clicked"], t["impressions"], c["clicked"], c["impressions"])
    assert tuple(got.loc["treatment", ["ctr_diff_low", "ctr_diff_high"]]) == pytest.approx(diff)
    assert got.loc["treatment", "ctr_diff"] == pytest.approx(t["ctr"] - c["ctr"])
    assert (
        got.loc["treatment", "ctr_lift_low"] < got.loc["treatment", "ctr_lift"] < got.loc["treatment", "ctr_lift_high"]
    )
    assert math.isnan(got.loc["control", "ctr_diff_low"]) and math.isnan(got.loc["control", "ctr_lift_low"])
    users = got["users"]
    assert list(got["srm_expected"]) == ["equal", "equal"]
    assert got["srm_p_value"].iloc[0] == pytest.approx(chisquare(users.to_numpy()).pvalue)
    assert list(got["srm"]) == [got["srm_p_value"].iloc[0] < 0.001] * 2
    assert list(got["user_share"]) == pytest.approx(list(users / users.sum()))


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


AB_ITEMS = [Item(id=f"it-{k}", title=f"item {k}", category=["服装", "衬衫"], price=99.0) for k in range(3)]


def ab_events(experiment: str, arms: dict[str, tuple[int, int]]) -> list[Event]:
    """One impression per user in each arm (users, clickers): the first ``clickers`` users click it."""
    out = []
    for variant, (users, clickers) in arms.items():
        for k in range(users):
            user, ts = f"{experiment}-{variant}-{k}", 1.75e9 + k
            ctx = {"experiment": experiment, "variant": variant, "source": "popular"}
            out.append(Event(user=user, item="it-1", type=EventType.IMPRESSION, ts=ts, context=ctx))
            if k < clickers:
                out.append(Event(user=user, item="it-1", type=EventType.CLICK, ts=ts + 30))
    return out


@pytest.fixture(scope="module")
def ab_source():
    events = ab_events("exp-even", {"control": (1000, 50), "treatment": (1000, 70)}) + ab_events(
        "exp-skew", {"control": (1000, 100), "treatment": (800, 80)}
    )
    with EventSource.from_events(events, AB_ITEMS) as source:
        yield source


def test_experiment_lift_intervals_on_known_counts(ab_source):
    got = experiment_results(ab_source).set_index(["experiment", "variant"])
    row = got.loc[("exp-even", "treatment")]
    assert (row["impressions"], row["users"], row["clicked"]) == (1000, 1000, 70)
    assert row["ctr_diff"] == pytest.approx(0.02)
    assert (row["ctr_diff_low"], row["ctr_diff_high"]) == pytest.approx(newcombe_interval(70, 1000, 50, 1000))
    low, high = ratio_interval(70, 1000, 50, 1000)
    assert (row["ctr_lift_low"], row["ctr_lift_high"]) == pytest.approx((low - 1, high - 1))
    assert row["ctr_lift"] == pytest.approx(0.4) and row["ctr_lift_low"] < 0 < row["ctr_lift_high"]  # p ~ 0.06
    assert row["p_value"] == pytest.approx(two_proportion_p(70, 1000, 50, 1000))
    same = got.loc[("exp-skew", "treatment")]  # 10% CTR in both arms: no lift, interval around 0
    assert same["ctr_lift"] == pytest.approx(0.0) and same["ctr_lift_low"] < 0 < same["ctr_lift_high"]


def test_experiment_srm_on_users(ab_source):
    got = experiment_results(ab_source).set_index(["experiment", "variant"])
    even, skew = got.loc["exp-even"], got.loc["exp-skew"]
    assert list(even["users"]) == [1000, 1000] and list(skew["users"]) == [1000, 800]
    assert list(even["srm_expected"]) == ["equal", "equal"] and list(skew["srm_expected"]) == ["equal", "equal"]
    assert list(even["srm_p_value"]) == pytest.approx([1.0, 1.0]) and list(even["srm"]) == [False, False]
    assert skew["srm_p_value"].iloc[0] == pytest.approx(chisquare([1000, 800]).pvalue)  # 2.4e-6
    assert skew["srm_p_value"].iloc[0] < 0.001 and list(skew["srm"]) == [True, True]
    assert list(skew["expected_share"]) == [0.5, 0.5]
    assert list(skew["user_share"]) == pytest.approx([1000 / 1800, 800 / 1800])


def test_experiment_srm_against_configured_splits(ab_source):
    # 1000 / 800 is exactly a 5:4 split; exp-even is not configured, so it is still checked against an equal one
    got = experiment_results(ab_source, splits={"exp-skew": {"control": 5, "treatment": 4}})
    skew = got[got["experiment"] == "exp-skew"]
    assert list(skew["srm_expected"]) == ["configured", "configured"]
    assert list(skew["srm_p_value"]) == pytest.approx([1.0, 1.0]) and not skew["srm"].any()
    assert list(skew["expected_share"]) == pytest.approx([5 / 9, 4 / 9])
    assert list(got.loc[got["experiment"] == "exp-even", "srm_expected"]) == ["equal", "equal"]
    # a 90/10 configuration of the even experiment is badly off; a variant the split does not name is a mismatch
    off = experiment_results(
        ab_source, splits={"exp-even": {"control": 0.9, "treatment": 0.1}, "exp-skew": {"control": 1}}
    )
    assert off.groupby("experiment")["srm"].all().to_dict() == {"exp-even": True, "exp-skew": True}
    assert off.loc[off["experiment"] == "exp-skew", "srm_p_value"].iloc[0] == 0.0
    # the old columns are unchanged by a split
    old = ["impressions", "users", "clicked", "ctr", "ctr_low", "ctr_high", "ctr_lift", "p_value"]
    base = experiment_results(ab_source)
    assert off[old].equals(base[old])


@pytest.mark.parametrize(
    "splits", [{"exp-even": {}}, {"exp-even": {"control": 0.0, "treatment": 1.0}}, {"exp-even": {"control": math.nan}}]
)
def test_bad_splits_are_config_errors(ab_source, splits):
    with pytest.raises(ConfigError, match="splits\\['exp-even'\\]"):
        experiment_results(ab_source, splits=splits)


def test_report_shows_lift_interval_and_srm(ab_source):
    aggs = compute_dashboard(ab_source)
    rows = {(r["experiment"], r["variant"]): r for r in aggs["strategy"]["experiments"]}
    assert rows[("exp-skew", "control")]["srm"] is True and rows[("exp-even", "control")]["srm"] is False
    assert rows[("exp-even", "control")]["ctr_lift_low"] is None  # NaN -> None in the JSON-ready dict
    html = render_report(aggs)
    assert "lift 95% CI" in html and "<th>SRM</th>" in html
    assert "MISMATCH p=2.4e-06 (equal split)" in html and "ok p=1 (equal split)" in html
    low, high = ratio_interval(70, 1000, 50, 1000)
    assert f"{100 * (low - 1):+.1f}% .. {100 * (high - 1):+.1f}%" in html
