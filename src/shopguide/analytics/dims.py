"""Dimensions an aggregate can be broken down by, and how their values are labelled.

``category`` and ``leaf`` are the item's top-level and leaf category; ``day`` and ``week`` (weeks start on
Monday) are ISO dates; the others are event context keys (:data:`~shopguide.analytics.keys.CONTEXT_KEYS`).
Events without a value for the dimension are grouped under :data:`NONE_LABEL`.
"""

from __future__ import annotations

import pandas as pd

from shopguide.analytics.filters import day_date
from shopguide.analytics.keys import CONTEXT_KEYS
from shopguide.analytics.source import EventSource
from shopguide.errors import ConfigError

NONE_LABEL = "(none)"
TIME_DIMENSIONS = ("day", "week")
DIMENSIONS: tuple[str, ...] = ("category", "leaf", "day", "week", *(k for k in CONTEXT_KEYS if k != "simulated"))


def week_of(day: int) -> int:
    """Monday-based week number of a day number (day 0, 1970-01-01, was a Thursday)."""
    return (day + 3) // 7


def week_start(week: int) -> int:
    """The day number of the Monday that starts ``week``."""
    return week * 7 - 3


def group_sql(by: str | None, table: str = "fe") -> str:
    """SQL expression of the group key of dimension ``by`` (a constant for the overall row); never NULL
    (a missing category is -1, a missing context value '')."""
    if by is None:
        return "0"
    if by not in DIMENSIONS:
        raise ConfigError(f"cannot break down by {by!r}; choose one of {', '.join(DIMENSIONS)}")
    if by == "category":
        return f"coalesce({table}.cat, -1)"
    if by == "leaf":
        return f"coalesce({table}.leaf, -1)"
    if by == "day":
        return f"{table}.day"
    if by == "week":
        return f"({table}.day + 3) // 7"
    return f"coalesce({table}.{by}, '')"


def label(source: EventSource, by: str | None, keys: pd.Series) -> pd.Series:
    """Human-readable labels for group keys produced by :func:`group_sql`."""
    if by is None:
        return pd.Series(["all"] * len(keys), index=keys.index, dtype=object)
    if by in ("category", "leaf"):
        names = source.category_names()
        return keys.map(lambda k: names.get(int(k), NONE_LABEL)).astype(object)
    if by == "day":
        return keys.map(lambda d: day_date(int(d)).isoformat()).astype(object)
    if by == "week":
        return keys.map(lambda w: day_date(week_start(int(w))).isoformat()).astype(object)
    return keys.map(lambda v: str(v) if v else NONE_LABEL).astype(object)
