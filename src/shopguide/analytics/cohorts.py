"""Retention cohorts: users grouped by the day or week they were first seen, and how many come back.

A user's cohort is the period (day, or Monday-based week) of their first *activity* in the selection;
activity is any of the shopper's own events (every type but impressions) with ``activity="any"``, or a
purchase with ``activity="purchase"`` (then the cohort is the first purchase and "retained" means bought
again). Row (cohort, k) counts the cohort's users active in period cohort + k; ``rate`` divides by the
cohort size (its users in period 0). Periods past ``max_periods`` are left out.
"""

from __future__ import annotations

import pandas as pd

from shopguide.analytics.dims import week_start
from shopguide.analytics.filters import Filters, day_date
from shopguide.analytics.keys import ACTION_TYPES, sql_str
from shopguide.analytics.source import EventSource
from shopguide.errors import ConfigError

PERIODS = ("day", "week")
ACTIVITIES = ("any", "purchase")


def retention(
    source: EventSource,
    filters: Filters | None = None,
    *,
    period: str = "week",
    activity: str = "any",
    max_periods: int = 12,
) -> pd.DataFrame:
    """Long table: ``cohort`` (ISO date of the period start), ``size``, ``period`` (k), ``active``, ``rate``."""
    if period not in PERIODS:
        raise ConfigError(f"retention period must be one of {', '.join(PERIODS)}, got {period!r}")
    if activity not in ACTIVITIES:
        raise ConfigError(f"retention activity must be one of {', '.join(ACTIVITIES)}, got {activity!r}")
    bucket = "day" if period == "day" else "(day + 3) // 7"
    types = ("purchase",) if activity == "purchase" else ACTION_TYPES
    kinds = ", ".join(sql_str(t) for t in types)
    frame = source.query(
        f"""
        WITH a AS (SELECT DISTINCT u, {bucket} AS p FROM fe WHERE t IN ({kinds})),
        f AS (SELECT u, min(p) AS c FROM a GROUP BY u)
        SELECT f.c AS cohort, a.p - f.c AS period, count(*) AS active
        FROM a JOIN f USING (u) WHERE a.p - f.c <= {int(max_periods)}
        GROUP BY ALL ORDER BY cohort, period
        """,
        filters,
    )
    sizes = frame[frame["period"] == 0].set_index("cohort")["active"]
    frame["size"] = frame["cohort"].map(sizes).astype("int64")
    frame["rate"] = frame["active"] / frame["size"]
    start = (lambda c: c) if period == "day" else week_start
    frame["cohort"] = frame["cohort"].map(lambda c: day_date(start(int(c))).isoformat())
    frame["period"] = frame["period"].astype("int64")
    frame["active"] = frame["active"].astype("int64")
    return frame[["cohort", "size", "period", "active", "rate"]].reset_index(drop=True)


def retention_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Cohorts as rows, periods as columns, rates as values (NaN where a period has not happened)."""
    if table.empty:
        return pd.DataFrame()
    matrix = table.pivot(index="cohort", columns="period", values="rate")
    matrix.insert(0, "size", table.drop_duplicates("cohort").set_index("cohort")["size"])
    return matrix
