"""A/B experiments: golden assignments, split proportions, salt independence, the weight-boundary property,
SRM verdicts, result summaries, JSON round trips and validation errors that name the field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections import Counter

import pytest
from scipy.stats import chi2_contingency, chisquare

from shopguide.bandit.experiments import (
    SRM_THRESHOLD,
    Experiment,
    Variant,
    assign,
    srm_check,
    unit_point,
    variant_summary,
)
from shopguide.bandit.stats import newcombe_interval, ratio_interval, two_proportion_p, wilson_interval
from shopguide.errors import DataError

IDS = [f"user-{k}" for k in range(20_000)]  # fixed ids: every figure below is deterministic


def three_way(**kw) -> Experiment:
    variants = (Variant("control", 0.2), Variant("a", 0.3, arm="ease"), Variant("b", 0.5, arm="item_knn"))
    return Experiment("exp-golden", "feed:home", variants, **kw)


def two_way(name: str, treatment_weight: float = 1.0, **kw) -> Experiment:
    return Experiment(name, "guide:vague", (Variant("control", 1.0), Variant("treatment", treatment_weight)), **kw)


# --- assignment ---------------------------------------------------------------------------------------------


def test_golden_points_and_assignments():
    """Pinned values: a change here reassigns live shoppers, so it must never happen by accident."""
    exp = three_way()
    assert [assign(exp, f"user-{k}").name for k in range(12)] == [
        "b", "a", "a", "a", "b", "b", "b", "a", "b", "control", "a", "b",
    ]  # fmt: skip
    assert unit_point("exp-golden", "user-0") == 0.9475818189277022
    assert unit_point("exp-golden", "shopper:42") == 0.7811994175090278
    assert unit_point("exp-golden", "顾客-7") == 0.06520209344216676
    # the scheme, spelled out: top 53 bits of SHA-256("salt:unit") over 2**53
    digest = hashlib.sha256(b"exp-golden:user-0").digest()
    assert unit_point("exp-golden", "user-0") == (int.from_bytes(digest[:8], "big") >> 11) / 2**53


def test_assignment_is_deterministic_and_ignores_the_switch():
    exp = three_way()
    first = [assign(exp, u) for u in IDS[:500]]
    assert [assign(three_way(), u) for u in IDS[:500]] == first  # a fresh, equal experiment
    assert [assign(three_way(enabled=False), u) for u in IDS[:500]] == first  # serving reads `enabled`
    assert all(0.0 <= unit_point("s", u) < 1.0 for u in IDS[:500])


def test_split_proportions_within_binomial_tolerance():
    exp = three_way()
    counts = Counter(assign(exp, u).name for u in IDS)
    n = len(IDS)
    for name, p in exp.split.items():
        sd = math.sqrt(n * p * (1 - p))
        assert abs(counts[name] - n * p) < 4 * sd, (name, counts[name], n * p)
    assert srm_check(counts, exp).mismatch is False  # the hash itself passes its own SRM check


def test_salts_make_experiments_independent():
    a, b = two_way("exp-a"), three_way()
    joint = Counter((assign(a, u).name, assign(b, u).name) for u in IDS)
    rows = ["control", "treatment"]
    cols = ["control", "a", "b"]
    table = [[joint[(r, c)] for c in cols] for r in rows]
    assert chi2_contingency(table).pvalue > 0.01  # no association between the two experiments
    n = len(IDS)
    for r, wr in a.split.items():
        for c, wc in b.split.items():
            assert joint[(r, c)] / n == pytest.approx(wr * wc, abs=0.01)  # the joint table ~ the product


def test_a_new_salt_reshuffles_only_that_experiment():
    a, b = two_way("exp-a"), two_way("exp-b")
    a2 = dataclasses.replace(a, salt="exp-a-rerun")
    before_a = [assign(a, u).name for u in IDS]
    after_a = [assign(a2, u).name for u in IDS]
    moved = sum(x != y for x, y in zip(before_a, after_a, strict=True)) / len(IDS)
    assert moved == pytest.approx(0.5, abs=0.02)  # independent re-draw of a 50/50 split
    assert [assign(b, u).name for u in IDS] == [assign(two_way("exp-b"), u).name for u in IDS]
    # the same name with the default salt is the same experiment; a different name is a different draw
    assert two_way("exp-a").salt == "exp-a"
    assert before_a != [assign(two_way("exp-c"), u).name for u in IDS]


def test_more_weight_on_the_last_variant_moves_only_units_at_the_boundary():
    old, new = two_way("exp-ramp", 1.0), two_way("exp-ramp", 1.5)  # 50/50 -> 40/60
    moved = [u for u in IDS if assign(old, u).name != assign(new, u).name]
    assert all(assign(old, u).name == "control" and assign(new, u).name == "treatment" for u in moved)
    assert all(0.4 <= unit_point("exp-ramp", u) < 0.5 for u in moved)  # exactly those between the boundaries
    assert len(moved) == sum(0.4 <= unit_point("exp-ramp", u) < 0.5 for u in IDS)
    assert len(moved) / len(IDS) == pytest.approx(0.1, abs=0.01)  # the change in share, nobody else
    # three variants: every boundary moves towards 0, so a unit only ever moves to a later variant
    order = {"control": 0, "a": 1, "b": 2}
    ramped = Experiment("exp-golden", "feed:home", (Variant("control", 0.2), Variant("a", 0.3), Variant("b", 0.7)))
    for u in IDS[:5000]:
        assert order[assign(ramped, u).name] >= order[assign(three_way(), u).name]


def test_unit_id_must_be_a_non_empty_string():
    with pytest.raises(DataError) as err:
        assign(three_way(), "")
    assert err.value.field == "unit_id"


# --- sample-ratio mismatch ----------------------------------------------------------------------------------


def test_srm_verdicts_on_constructed_counts():
    exp = two_way("exp-srm")
    ok = srm_check({"control": 1000, "treatment": 1000}, exp)
    assert (ok.p_value, ok.mismatch, ok.verdict) == (pytest.approx(1.0), False, "ok")
    bad = srm_check({"control": 1000, "treatment": 800}, exp)
    assert bad.p_value == pytest.approx(chisquare([1000, 800]).pvalue) and bad.p_value < SRM_THRESHOLD
    assert (bad.mismatch, bad.verdict, bad.dof) == (True, "mismatch", 1)
    assert bad.expected == {"control": 900.0, "treatment": 900.0} and bad.statistic == pytest.approx(200 / 9)
    # against a configured 90/10 split: 900/100 is right, 500/500 is badly wrong
    skewed = two_way("exp-srm", 1 / 9)
    assert srm_check({"control": 900, "treatment": 100}, skewed).mismatch is False
    assert srm_check({"control": 500, "treatment": 500}, skewed).mismatch is True
    three = srm_check({"control": 2000, "a": 3000, "b": 5100}, three_way())
    assert three.p_value == pytest.approx(chisquare([2000, 3000, 5100], [2020, 3030, 5050]).pvalue)
    assert three.dof == 2 and three.mismatch is False


def test_srm_edge_cases():
    exp = two_way("exp-srm")
    empty = srm_check({}, exp)
    assert (empty.total, empty.p_value, empty.mismatch, empty.verdict) == (0, None, None, "no data")
    assert srm_check({"control": 5}, exp).counts == {"control": 5, "treatment": 0}  # a missing arm counts 0
    stray = srm_check({"control": 500, "treatment": 500, "old-arm": 3}, exp)
    assert (stray.mismatch, stray.p_value, stray.unexpected) == (True, 0.0, ("old-arm",))
    single = srm_check({"control": 10}, {"control": 1.0})
    assert (single.mismatch, single.verdict) == (None, "single variant")
    assert srm_check({"control": 1000, "treatment": 800}, exp, threshold=1e-6).mismatch is False
    with pytest.raises(DataError) as err:
        srm_check({"control": -1}, exp)
    assert err.value.field == "counts['control']"
    with pytest.raises(DataError) as err:
        srm_check({"control": 1}, {"control": 1.0, "treatment": math.inf})
    assert err.value.field == "experiment['treatment']"


# --- result summaries ---------------------------------------------------------------------------------------


def test_variant_summary_against_the_control():
    # in the order of ``trials``; the variant named control is the baseline wherever it is
    treatment, control = variant_summary({"treatment": 70, "control": 50}, {"treatment": 1000, "control": 1000})
    assert (treatment.name, control.name, control.is_control) == ("treatment", "control", True)
    assert math.isnan(control.lift) and math.isnan(control.diff_low) and math.isnan(control.p_value)
    assert (control.rate_low, control.rate_high) == wilson_interval(50, 1000)
    assert treatment.diff == pytest.approx(0.02) and treatment.lift == pytest.approx(0.4)
    assert (treatment.diff_low, treatment.diff_high) == newcombe_interval(70, 1000, 50, 1000)
    r_low, r_high = ratio_interval(70, 1000, 50, 1000)
    assert (treatment.lift_low, treatment.lift_high) == pytest.approx((r_low - 1, r_high - 1))
    assert treatment.p_value == two_proportion_p(70, 1000, 50, 1000) == pytest.approx(0.0597, abs=1e-4)
    # without a variant named control the first is the baseline; an explicit one wins
    first, second = variant_summary({"a": 10, "b": 20}, {"a": 100, "b": 100})
    assert first.is_control and second.lift == pytest.approx(1.0)
    _, b_vs_a = variant_summary({"a": 10, "b": 20}, {"a": 100, "b": 100}, control="a")
    assert b_vs_a.lift == pytest.approx(1.0)
    with pytest.raises(DataError) as err:
        variant_summary({"a": 11}, {"a": 10})
    assert err.value.field == "successes['a']"


def test_interval_known_values():
    # Newcombe (1998), table II example (56/70 vs 48/80), method 10: 0.0524 .. 0.3339
    assert newcombe_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    low, high = ratio_interval(56, 70, 48, 80)  # Katz: exp(ln(4/3) -+ 1.96 * sqrt(1/56 - 1/70 + 1/48 - 1/80))
    se = math.sqrt(1 / 56 - 1 / 70 + 1 / 48 - 1 / 80)
    assert (low, high) == pytest.approx((4 / 3 * math.exp(-1.959964 * se), 4 / 3 * math.exp(1.959964 * se)))
    assert all(math.isnan(v) for v in (*ratio_interval(0, 10, 5, 10), *newcombe_interval(1, 0, 1, 1)))


# --- serialisation and validation ---------------------------------------------------------------------------


def test_json_round_trip_is_exact():
    exp = Experiment(
        "exp-rt",
        "feed:home",
        (Variant("control", 3.0), Variant("treatment", 7.0, arm="ease"), Variant("c", 1.0)),
        enabled=False,
        salt="rt-2026",
        started_at=1_790_000_000.5,
    )
    assert [v.weight for v in exp.variants] == pytest.approx([3 / 11, 7 / 11, 1 / 11])
    again = Experiment.from_json(exp.to_json())
    assert again == exp and again.to_json() == exp.to_json()
    assert [assign(again, u) for u in IDS[:200]] == [assign(exp, u) for u in IDS[:200]]
    assert Experiment.from_dict(json.loads(exp.to_json())) == exp
    data = exp.to_dict()
    assert data["version"] == 1 and data["variants"][1] == {"name": "treatment", "weight": 7 / 11, "arm": "ease"}
    minimal = Experiment.from_dict({"name": "m", "point": "p", "variants": [{"name": "x"}, {"name": "y"}]})
    assert minimal.split == {"x": 0.5, "y": 0.5} and minimal.enabled and minimal.salt == "m"
    assert minimal.control.name == "x" and exp.control.name == "control"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"point": "p", "variants": []}, "name"),
        ({"name": "has space", "point": "p", "variants": []}, "name"),
        ({"name": "x" * 65, "point": "p", "variants": []}, "name"),
        ({"name": "e", "point": "", "variants": [{"name": "a"}, {"name": "b"}]}, "point"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}]}, "variants"),
        ({"name": "e", "point": "p", "variants": "ab"}, "variants"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "a"}]}, "variants[1].name"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b", "weight": 0}]}, "variants[1].weight"),
        ({"name": "e", "point": "p", "variants": [{"name": "a", "weight": -1}, {"name": "b"}]}, "variants[0].weight"),
        ({"name": "e", "point": "p", "variants": [{"name": "a", "weight": "1"}, {"name": "b"}]}, "variants[0].weight"),
        (
            {"name": "e", "point": "p", "variants": [{"name": "a", "weight": math.nan}, {"name": "b"}]},
            "variants[0].weight",
        ),
        (
            {"name": "e", "point": "p", "variants": [{"name": "a", "weight": math.inf}, {"name": "b"}]},
            "variants[0].weight",
        ),
        (
            {"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b", "arm": "no spaces"}]},
            "variants[1].arm",
        ),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b", "wieght": 2}]}, "variants[1].wieght"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"weight": 2}]}, "variants[1].name"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b"}], "enabled": "yes"}, "enabled"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b"}], "salt": "a b"}, "salt"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b"}], "started_at": 1e20}, "started_at"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b"}], "started_at": math.nan}, "started_at"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b"}], "version": 2}, "version"),
        ({"name": "e", "point": "p", "variants": [{"name": "a"}, {"name": "b"}], "owner": "me"}, "owner"),
    ],
)
def test_validation_errors_name_the_field(data, field):
    with pytest.raises(DataError) as err:
        Experiment.from_dict(data)
    assert err.value.field == field
    assert repr(field) in str(err.value)


def test_constructor_validates_too():
    with pytest.raises(DataError) as err:
        Experiment("e", "p", (Variant("a", 1.0),))
    assert err.value.field == "variants"
    with pytest.raises(DataError, match="not valid JSON"):
        Experiment.from_json("{")
    with pytest.raises(DataError) as err:
        dataclasses.replace(three_way(), point="bad point")  # replace re-validates
    assert err.value.field == "point"
