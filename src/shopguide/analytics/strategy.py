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
lift and the two-sided p-value of a two-proportion z-test.

Without impressions nothing here can be computed: :func:`context_events` still counts events by the
context key the events themselves carry.
"""

from __future__ import annotations

import math

import pandas as pd

from shopguide.analytics.dims import NONE_LABEL, group_sql, label
from shopguide.analytics.filters import Filters
from shopguide.analytics.keys import CONTEXT_KEYS
from shopguide.analytics.source import EventSource
from shopguide.errors import ConfigError

DEFAULT_WINDOW_HOURS = 24.0
STRATEGY_DIMENSIONS = ("source", "strategy", "intent", "traffic_source", "device", "category")
_Z95 = 1.959963984540054


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


def wilson_interval(successes: int, trials: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (NaNs for zero trials)."""
    if trials <= 0:
        return float("nan"), float("nan")
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return centre - half, centre + half


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (NaN when undefined)."""
    if n1 <= 0 or n2 <= 0:
        return float("nan")
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return float("nan")
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def experiment_results(
    source: EventSource, filters: Filters | None = None, *, window_hours: float = DEFAULT_WINDOW_HOURS
) -> pd.DataFrame:
    """Per (experiment, variant) of impressions that name an experiment: the strategy figures plus
    ``ctr_low`` / ``ctr_high`` (95% Wilson), ``control`` (the baseline arm), ``ctr_lift`` (relative to the
    control's CTR) and ``p_value`` (CTR against the control; empty on the control row)."""
    columns = ["experiment", "variant", "impressions", "users", "clicked", "carted", "purchased", "ctr", "cart_rate",
               "conversion", "ctr_low", "ctr_high", "control", "ctr_lift", "p_value"]  # fmt: skip
    frame = _attributed(source, filters, ["fe.experiment", "coalesce(fe.variant, '')"], window_hours)
    frame = frame[frame["g0"].notna()].rename(columns={"g0": "experiment", "g1": "variant"})
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["variant"] = frame["variant"].map(lambda v: v or NONE_LABEL)
    frame = _rates(frame).sort_values(["experiment", "variant"], kind="stable").reset_index(drop=True)
    bounds = [wilson_interval(int(r.clicked), int(r.impressions)) for r in frame.itertuples()]
    frame["ctr_low"] = [b[0] for b in bounds]
    frame["ctr_high"] = [b[1] for b in bounds]
    controls = {}
    for name, arms in frame.groupby("experiment", sort=False):
        variants = list(arms["variant"])
        controls[name] = "control" if "control" in variants else variants[0]
    frame["control"] = frame["experiment"].map(controls)
    lifts, pvalues = [], []
    for r in frame.itertuples():
        base = frame[(frame["experiment"] == r.experiment) & (frame["variant"] == r.control)].iloc[0]
        if r.variant == r.control:
            lifts.append(float("nan"))
            pvalues.append(float("nan"))
            continue
        lifts.append(r.ctr / base["ctr"] - 1 if base["ctr"] > 0 else float("nan"))
        pvalues.append(
            two_proportion_p(int(r.clicked), int(r.impressions), int(base["clicked"]), int(base["impressions"]))
        )
    frame["ctr_lift"] = lifts
    frame["p_value"] = pvalues
    return frame[columns]


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
