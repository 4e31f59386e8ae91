"""Strategy performance: CTR and conversion of impressions by recommendation source, strategy, guide intent,
traffic source, and A/B experiment arm.

**Attribution.** Every click, view, cart and purchase event is attributed to the latest impression of the
same item to the same user at or before it, if that impression is at most ``window_hours`` (default 24)
older; the impression's context (``source``, ``strategy``, ``intent``, ``experiment``, ``variant``, ...)
says what to credit. An impression is *clicked* when a click or view is attributed to it (a detail view
after an impression is a click-through), *carted* / *purchased* likewise. Per group:

- ``impressions``, ``users`` (distinct users shown something), ``clicked``, ``carted``, ``purchased``;
- ``ctr`` = clicked / impressions, ``cart_rate`` = carted / impressions, ``conversion`` = purchased /
  impressions.

**Experiments.** Per (experiment, variant) the same figures, plus a 95% Wilson interval for the CTR and,
against the experiment's control arm (the variant named ``control``, else the first by name), the CTR
lift and the two-sided p-value of a two-proportion z-test; the CTR difference with Newcombe's hybrid score
interval and the relative lift with the Katz log interval (all from :mod:`shopguide.bandit.stats`, the
same figures :func:`~shopguide.bandit.experiments.variant_summary` gives). Per experiment, a
sample-ratio-mismatch check on distinct users per variant (Pearson's chi-square against the configured split
when ``splits`` names the experiment, else against an equal split; a mismatch is p < 0.001, and users in a
variant the configured split does not name are a mismatch by themselves). A user who saw several variants
counts in each, so shares of users can add up to more than 1 when assignment leaked.

Without impressions nothing here can be computed: :func:`context_events` still counts events by the
context key the events themselves carry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from shopguide.analytics.dims import NONE_LABEL, group_sql, label
from shopguide.analytics.filters import Filters
from shopguide.analytics.keys import CONTEXT_KEYS
from shopguide.analytics.source import EventSource
from shopguide.bandit.experiments import SRM_THRESHOLD, srm_check, variant_summary
from shopguide.bandit.stats import two_proportion_p as two_proportion_p  # re-exported: the old home of both
from shopguide.bandit.stats import wilson_interval as wilson_interval
from shopguide.errors import ConfigError

DEFAULT_WINDOW_HOURS = 24.0
STRATEGY_DIMENSIONS = ("source", "strategy", "intent", "traffic_source", "device", "category")


def _attributed(source: EventSource, filters: Filters | None, keys: list[str], window_hours: float) -> pd.DataFrame:
    """Per group of ``keys`` (SQL expressions over the impression): counts of impressions and outcomes."""
    if window_hours <= 0:
        raise ConfigError(f"the attribution window must be positive, got {window_hours} hours")
    groups = ", ".join(f"{k} AS g{n}" for n, k in enumerate(keys))
    names = ", ".join(f"g{n}" for n in range(len(keys)))
    empty = pd.DataFrame(
        columns=[*(f"g{n}" for n in range(len(keys))), "impressions", "users", "clicked", "carted", "purchased"]
    )
    if not source.has_type("impression", filters):
        return empty
    return source.query(
        f"""
        WITH imp AS MATERIALIZED (SELECT rid, u, i, ts, {groups} FROM fe WHERE t = 'impression'),
        act AS (
            SELECT u, i, ts, CAST(t AS VARCHAR) AS t FROM fe
            WHERE t IN ('click', 'view', 'cart', 'purchase') AND i IN (SELECT i FROM imp)
        ),
        hit AS (
            SELECT imp.rid, act.t FROM act ASOF JOIN imp ON act.u = imp.u AND act.i = imp.i AND act.ts >= imp.ts
            WHERE act.ts - imp.ts <= {float(window_hours) * 3600.0!r}
        ),
        flags AS (
            SELECT rid, bool_or(t IN ('click', 'view')) AS clicked, bool_or(t = 'cart') AS carted,
                   bool_or(t = 'purchase') AS purchased
            FROM hit GROUP BY rid
        )
        SELECT {names}, count(*) AS impressions, count(DISTINCT imp.u) AS users,
               count(*) FILTER (WHERE flags.clicked) AS clicked, count(*) FILTER (WHERE flags.carted) AS carted,
               count(*) FILTER (WHERE flags.purchased) AS purchased
        FROM imp LEFT JOIN flags USING (rid) GROUP BY ALL
        """,
        filters,
    )


def _rates(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("impressions", "users", "clicked", "carted", "purchased"):
        frame[col] = frame[col].astype("int64")
    frame["ctr"] = frame["clicked"] / frame["impressions"]
    frame["cart_rate"] = frame["carted"] / frame["impressions"]
    frame["conversion"] = frame["purchased"] / frame["impressions"]
    return frame


def strategy_performance(
    source: EventSource,
    filters: Filters | None = None,
    *,
    by: str = "source",
    window_hours: float = DEFAULT_WINDOW_HOURS,
) -> pd.DataFrame:
    """Per value of ``by`` (a context key or ``category``): impressions, users, clicked, carted, purchased,
    ctr, cart_rate, conversion; by impressions, most first, then name. Empty without impressions."""
    frame = _attributed(source, filters, [group_sql(by, "fe")], window_hours)
    frame.insert(0, "group", label(source, by, frame["g0"]).to_numpy())
    frame = _rates(frame.drop(columns="g0"))
    return frame.sort_values(["impressions", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)


def experiment_results(
    source: EventSource,
    filters: Filters | None = None,
    *,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    splits: Mapping[str, Mapping[str, float]] | None = None,
    srm_threshold: float = SRM_THRESHOLD,
) -> pd.DataFrame:
    """Per (experiment, variant) of impressions that name an experiment: the strategy figures plus
    ``ctr_low`` / ``ctr_high`` (95% Wilson), ``control`` (the baseline arm), ``ctr_lift`` (relative to the
    control's CTR) and ``p_value`` (CTR against the control; empty on the control row); then
    ``ctr_diff`` / ``ctr_diff_low`` / ``ctr_diff_high`` (CTR minus the control's, Newcombe interval),
    ``ctr_lift_low`` / ``ctr_lift_high`` (Katz interval of the relative lift), ``user_share`` /
    ``expected_share`` (of the experiment's users per variant), ``srm_expected`` (``"configured"`` when
    ``splits`` names the experiment, else ``"equal"``), ``srm_p_value`` and ``srm`` (the experiment's
    sample-ratio-mismatch verdict on users per variant, ``p < srm_threshold``; empty without a verdict).

    ``splits`` maps experiment -> variant -> weight (e.g. ``{exp.name: exp.split}``)."""
    columns = ["experiment", "variant", "impressions", "users", "clicked", "carted", "purchased", "ctr", "cart_rate",
               "conversion", "ctr_low", "ctr_high", "control", "ctr_lift", "p_value",
               "ctr_diff", "ctr_diff_low", "ctr_diff_high", "ctr_lift_low", "ctr_lift_high",
               "user_share", "expected_share", "srm_expected", "srm_p_value", "srm"]  # fmt: skip
    splits = _checked_splits(splits)
    frame = _attributed(source, filters, ["fe.experiment", "coalesce(fe.variant, '')"], window_hours)
    frame = frame[frame["g0"].notna()].rename(columns={"g0": "experiment", "g1": "variant"})
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["variant"] = frame["variant"].map(lambda v: v or NONE_LABEL)
    frame = _rates(frame).sort_values(["experiment", "variant"], kind="stable").reset_index(drop=True)
    rows: list[dict[str, Any]] = []
    for name, arms in frame.groupby("experiment", sort=False):  # in frame order: sorted by experiment, variant
        variants = [str(v) for v in arms["variant"]]
        clicked = dict(zip(variants, (int(x) for x in arms["clicked"]), strict=True))
        summaries = variant_summary(clicked, dict(zip(variants, (int(n) for n in arms["impressions"]), strict=True)))
        users = dict(zip(variants, (int(n) for n in arms["users"]), strict=True))
        split = splits.get(str(name))
        expected = split or dict.fromkeys(variants, 1.0)
        srm = srm_check(users, expected, threshold=srm_threshold)
        control = next(s.name for s in summaries if s.is_control)
        for s in summaries:
            rows.append(
                {
                    "ctr_low": s.rate_low,
                    "ctr_high": s.rate_high,
                    "control": control,
                    "ctr_lift": s.lift,
                    "p_value": s.p_value,
                    "ctr_diff": s.diff,
                    "ctr_diff_low": s.diff_low,
                    "ctr_diff_high": s.diff_high,
                    "ctr_lift_low": s.lift_low,
                    "ctr_lift_high": s.lift_high,
                    "user_share": users[s.name] / srm.total,
                    "expected_share": expected.get(s.name, 0.0) / math.fsum(expected.values()),
                    "srm_expected": "configured" if split else "equal",
                    "srm_p_value": math.nan if srm.p_value is None else srm.p_value,
                    "srm": srm.mismatch,
                }
            )
    frame = pd.concat([frame, pd.DataFrame(rows, index=frame.index)], axis=1)
    return frame[columns]


def _checked_splits(splits: Mapping[str, Mapping[str, float]] | None) -> dict[str, dict[str, float]]:
    """``splits`` as plain dicts; a split that is empty or has a weight that is not finite and > 0 raises."""
    out: dict[str, dict[str, float]] = {}
    for exp, split in (splits or {}).items():
        if not isinstance(split, Mapping) or not split:
            raise ConfigError(f"splits[{exp!r}] must be a non-empty mapping of variant -> weight")
        for variant, weight in split.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < math.inf:
                raise ConfigError(f"splits[{exp!r}][{variant!r}] must be a finite weight > 0, got {weight!r}")
        out[str(exp)] = {str(v): float(w) for v, w in split.items()}
    return out


def context_events(source: EventSource, filters: Filters | None = None, *, key: str = "source") -> pd.DataFrame:
    """Event counts by type per value of the events' own context ``key`` (no attribution needed)."""
    if key not in CONTEXT_KEYS:
        raise ConfigError(f"unknown context key {key!r}; expected one of {', '.join(CONTEXT_KEYS)}")
    frame = source.query(
        f"SELECT coalesce({key}, '') AS k, CAST(t AS VARCHAR) AS t, count(*) AS n FROM fe GROUP BY ALL", filters
    )
    if frame.empty:
        return pd.DataFrame(columns=["group", "events"])
    wide = frame.pivot_table(index="k", columns="t", values="n", aggfunc="sum", fill_value=0)
    wide = wide.astype("int64")
    wide.insert(0, "events", wide.sum(axis=1))
    wide = wide.reset_index()
    wide.insert(0, "group", wide["k"].map(lambda v: v or NONE_LABEL))
    wide = wide.drop(columns="k")
    wide.columns.name = None
    return wide.sort_values(["events", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)
