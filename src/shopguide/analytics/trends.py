"""Trending items and categories: activity in a recent window against a baseline window before it.

Windows are whole days ending on the last day of the selection: the recent window is its last
``recent_days`` days, the baseline the ``baseline_days`` days before that. Defaults are 7 and 21 days;
when the selection spans fewer than 28 days, the recent window is a third of the span (at least one day)
and the baseline the rest.

Activity counts the shoppers' own events (every type but impressions). For each item or category:
``expected`` is the baseline count scaled to the recent window's length, ``lift`` =
``(recent + 1) / (expected + 1)`` (add-one smoothing, so a jump from nothing does not divide by zero)
and ``growth`` = ``recent / expected - 1`` (empty when the baseline is empty). Rows need at least
``min_recent`` recent events; they are ordered by lift, then recent count (both descending), then name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from shopguide.analytics.dims import NONE_LABEL
from shopguide.analytics.filters import Filters, day_date
from shopguide.analytics.keys import ACTION_TYPES, sql_str
from shopguide.analytics.source import EventSource
from shopguide.errors import ConfigError

DEFAULT_RECENT_DAYS = 7
DEFAULT_BASELINE_DAYS = 21
LEVELS = ("item", "category")
_ACTIONS = ", ".join(sql_str(t) for t in ACTION_TYPES)


@dataclass(frozen=True)
class TrendWindows:
    """The two windows, as day numbers (inclusive) and lengths."""

    recent_from: int
    recent_to: int
    baseline_from: int
    baseline_to: int

    @property
    def recent_days(self) -> int:
        return self.recent_to - self.recent_from + 1

    @property
    def baseline_days(self) -> int:
        return self.baseline_to - self.baseline_from + 1

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {k: day_date(v).isoformat() for k, v in asdict(self).items()}
        out.update(recent_days=self.recent_days, baseline_days=self.baseline_days)
        return out


def trend_windows(
    source: EventSource,
    filters: Filters | None = None,
    *,
    recent_days: int | None = None,
    baseline_days: int | None = None,
) -> TrendWindows | None:
    """The windows for this selection (None when it is empty or spans a single day with no baseline)."""
    with source.session(filters) as s:
        first, last = s.rows(f"SELECT min(day), max(day) FROM fe WHERE t IN ({_ACTIONS})")[0]
    if first is None:
        return None
    span = int(last) - int(first) + 1
    if recent_days is None and baseline_days is None and span < DEFAULT_RECENT_DAYS + DEFAULT_BASELINE_DAYS:
        recent_days = max(1, span // 3)
        baseline_days = span - recent_days
    recent = DEFAULT_RECENT_DAYS if recent_days is None else int(recent_days)
    baseline = DEFAULT_BASELINE_DAYS if baseline_days is None else int(baseline_days)
    if recent < 1 or baseline < 0:
        raise ConfigError(f"trend windows need recent_days >= 1 and baseline_days >= 0, got {recent}, {baseline}")
    if baseline == 0:
        return None
    recent_from = int(last) - recent + 1
    return TrendWindows(recent_from, int(last), recent_from - baseline, recent_from - 1)


def trending(
    source: EventSource,
    filters: Filters | None = None,
    *,
    level: str = "item",
    recent_days: int | None = None,
    baseline_days: int | None = None,
    min_recent: int = 3,
    limit: int = 20,
) -> pd.DataFrame:
    """Top ``limit`` trending items (``level="item"``: ``item_id``, ``category``) or categories
    (``category``), with ``recent``, ``baseline``, ``expected``, ``lift``, ``growth`` and ``recent_purchases``."""
    if level not in LEVELS:
        raise ConfigError(f"trend level must be one of {', '.join(LEVELS)}, got {level!r}")
    w = trend_windows(source, filters, recent_days=recent_days, baseline_days=baseline_days)
    columns = ["item_id", "category"] if level == "item" else ["category"]
    columns += ["recent", "baseline", "expected", "lift", "growth", "recent_purchases"]
    if w is None:
        return pd.DataFrame(columns=columns)
    scale = f"{w.recent_days!r}.0 / {w.baseline_days!r}.0"
    if level == "item":
        key, extra = "i", "any_value(item_id) AS name, any_value(coalesce(cat, -1)) AS cat,"
    else:
        key, extra = "coalesce(cat, -1)", "coalesce(cat, -1) AS cat,"
    # items: order and cut in SQL (there may be millions); categories: in pandas, by their names
    order = f"ORDER BY lift DESC, recent DESC, name LIMIT {int(limit)}" if level == "item" else ""
    frame = source.query(
        f"""
        WITH counts AS (
            SELECT {key} AS k, {extra}
                   count(*) FILTER (WHERE day >= {w.recent_from}) AS recent,
                   count(*) FILTER (WHERE day < {w.recent_from}) AS baseline,
                   count(*) FILTER (WHERE day >= {w.recent_from} AND t = 'purchase') AS recent_purchases
            FROM fe WHERE t IN ({_ACTIONS}) AND day BETWEEN {w.baseline_from} AND {w.recent_to}
            GROUP BY ALL
        ),
        scored AS (
            SELECT *, CAST(baseline AS DOUBLE) * ({scale}) AS expected FROM counts WHERE recent >= {int(min_recent)}
        )
        SELECT *, (recent + 1.0) / (expected + 1.0) AS lift,
               CASE WHEN expected > 0 THEN recent / expected - 1.0 END AS growth
        FROM scored {order}
        """,
        filters,
    )
    names = source.category_names()
    frame["category"] = frame["cat"].map(lambda c: names.get(int(c), NONE_LABEL)).astype(object)
    sort_name = "name" if level == "item" else "category"
    frame = frame.sort_values(["lift", "recent", sort_name], ascending=[False, False, True], kind="stable").head(limit)
    if level == "item":
        frame = frame.rename(columns={"name": "item_id"})
    for col in ("recent", "baseline", "recent_purchases"):
        frame[col] = frame[col].astype("int64")
    return frame[columns].reset_index(drop=True)
