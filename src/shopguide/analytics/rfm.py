"""RFM segmentation of buyers, and the repeat-purchase rate.

Per buyer (a user with at least one purchase in the selection):

- **orders**: purchases are grouped into orders by session, or by calendar day when a purchase has no
  session (the schema has no order id); ``frequency`` is the number of orders;
- **recency_days**: whole days from the buyer's last purchase to the last event of the selection
  (``floor((t_end - t_last) / 86400)``);
- **monetary**: the sum of the purchased items' prices, rounded to cents; when no purchase in the selection
  has a known price (Taobao) it is the number of purchased items instead (``basis`` says which).

**Scoring rule.** Each of R, F and M scores 1-5 by rank among the buyers: ``score = 1 + (5 * below) // n``,
where ``n`` is the number of buyers and ``below`` the number of buyers with a strictly worse value (a
larger recency; a smaller frequency or monetary value). Ties share a score, and the most common value
(one order) scores 1, never a flattering 4.

**Segments** come from R and F (M is reported, not used, as in the usual RF grid):

==================== ===================================
segment              rule
==================== ===================================
Champions            R = 5 and F >= 4
Loyal                R in 3-4 and F >= 4
Potential loyalists  R in 4-5 and F in 2-3
New                  R = 5 and F = 1
Promising            R = 4 and F = 1
Need attention       R = 3 and F = 3
About to sleep       R = 3 and F <= 2
Can't lose           R <= 2 and F = 5
At risk              R <= 2 and F in 3-4
Hibernating          R = 2 and F <= 2
Lost                 R = 1 and F <= 2
==================== ===================================

The **repeat-purchase rate** is the share of buyers with two or more orders.
"""

from __future__ import annotations

import pandas as pd

from shopguide.analytics.dims import group_sql, label
from shopguide.analytics.filters import Filters
from shopguide.analytics.source import EventSource

SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "Can't lose",
    "At risk",
    "Hibernating",
    "Lost",
)


def segment_of(r: int, f: int) -> str:
    """The named segment of an (R, F) score pair (see the module docstring)."""
    if r == 5 and f >= 4:
        return "Champions"
    if r in (3, 4) and f >= 4:
        return "Loyal"
    if r >= 4 and f in (2, 3):
        return "Potential loyalists"
    if r == 5:
        return "New"
    if r == 4:
        return "Promising"
    if r == 3:
        return "Need attention" if f == 3 else "About to sleep"
    if f == 5:
        return "Can't lose"
    if f >= 3:
        return "At risk"
    return "Hibernating" if r == 2 else "Lost"


_SEGMENT_SQL = """CASE
    WHEN r = 5 AND f >= 4 THEN 'Champions'
    WHEN r IN (3, 4) AND f >= 4 THEN 'Loyal'
    WHEN r >= 4 AND f IN (2, 3) THEN 'Potential loyalists'
    WHEN r = 5 THEN 'New'
    WHEN r = 4 THEN 'Promising'
    WHEN r = 3 AND f = 3 THEN 'Need attention'
    WHEN r = 3 THEN 'About to sleep'
    WHEN f = 5 THEN 'Can''t lose'
    WHEN f >= 3 THEN 'At risk'
    WHEN r = 2 THEN 'Hibernating'
    ELSE 'Lost' END"""

_ORDER_KEY = "coalesce(session, '#day ' || CAST(day AS VARCHAR))"


def rfm_table(source: EventSource, filters: Filters | None = None) -> tuple[pd.DataFrame, str]:
    """Per buyer: ``user_id``, ``recency_days``, ``frequency``, ``monetary``, ``r``, ``f``, ``m``, ``segment``;
    and the monetary basis, ``"price"`` or ``"count"``. Rows ordered by user id."""
    with source.session(filters) as s:
        priced = s.scalar("SELECT count(*) FROM fe WHERE t = 'purchase' AND price IS NOT NULL") or 0
        basis = "price" if priced else "count"
        money = "round(coalesce(sum(price), 0), 2)" if priced else "CAST(count(*) AS DOUBLE)"
        frame = s.df(
            f"""
            WITH b AS (
                SELECT u, any_value(user_id) AS user_id, max(ts) AS last_ts,
                       count(DISTINCT {_ORDER_KEY}) AS frequency, {money} AS monetary
                FROM fe WHERE t = 'purchase' GROUP BY u
            ),
            scored AS (
                SELECT user_id, CAST(floor(((SELECT max(ts) FROM fe) - last_ts) / 86400) AS BIGINT) AS recency_days,
                       frequency, monetary FROM b
            ),
            ranked AS (
                SELECT *, count(*) OVER () AS n,
                       rank() OVER (ORDER BY recency_days DESC) - 1 AS r_below,
                       rank() OVER (ORDER BY frequency) - 1 AS f_below,
                       rank() OVER (ORDER BY monetary) - 1 AS m_below
                FROM scored
            ),
            final AS (
                SELECT user_id, recency_days, frequency, monetary,
                       CAST(1 + (5 * r_below) // n AS INTEGER) AS r, CAST(1 + (5 * f_below) // n AS INTEGER) AS f,
                       CAST(1 + (5 * m_below) // n AS INTEGER) AS m
                FROM ranked
            )
            SELECT *, {_SEGMENT_SQL} AS segment FROM final ORDER BY user_id
            """
        )
    frame["frequency"] = frame["frequency"].astype("int64")
    return frame, basis


def rfm_segments(source: EventSource, filters: Filters | None = None) -> pd.DataFrame:
    """Per named segment (every segment, in :data:`SEGMENTS` order): ``users``, ``share`` of buyers and the
    mean ``recency_days``, ``frequency`` and ``monetary``."""
    table, basis = rfm_table(source, filters)
    grouped = table.groupby("segment").agg(
        users=("user_id", "size"),
        recency_days=("recency_days", "mean"),
        frequency=("frequency", "mean"),
        monetary=("monetary", "mean"),
    )
    out = grouped.reindex(list(SEGMENTS))
    out["users"] = out["users"].fillna(0).astype("int64")
    total = int(out["users"].sum())
    out.insert(1, "share", out["users"] / total if total else float("nan"))
    out = out.reset_index(names="segment")
    out.attrs["basis"] = basis
    return out


def repeat_purchase(source: EventSource, filters: Filters | None = None, *, by: str | None = None) -> pd.DataFrame:
    """Per group of ``by`` (one ``all`` row when None): ``buyers``, ``repeat_buyers`` (two or more orders in
    the group) and ``rate``; groups by buyers, most first."""
    key = group_sql(by)
    frame = source.query(
        f"""
        WITH o AS (SELECT {key} AS grp, u, count(DISTINCT {_ORDER_KEY}) AS orders FROM fe WHERE t = 'purchase' GROUP BY ALL)
        SELECT grp, count(*) AS buyers, count(*) FILTER (WHERE orders >= 2) AS repeat_buyers FROM o GROUP BY grp
        """,
        filters,
    )
    frame.insert(0, "group", label(source, by, frame["grp"]).to_numpy())
    frame = frame.drop(columns="grp")
    frame["buyers"] = frame["buyers"].astype("int64")
    frame["repeat_buyers"] = frame["repeat_buyers"].astype("int64")
    frame["rate"] = frame["repeat_buyers"] / frame["buyers"]
    return frame.sort_values(["buyers", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)
