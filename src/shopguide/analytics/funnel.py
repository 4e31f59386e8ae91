"""The purchase funnel: impression -> view -> click -> cart / fav -> purchase.

Counting rule (user level, not ordered): a user reaches a stage in a group when they have at least one
event of that stage's types in the group's events; ``cart_fav`` counts users with a cart *or* a fav event.
Each stage's rate is its users divided by the users of the previous *tracked* stage (a stage is tracked
when the selection holds at least one event of it: Taobao data, for example, has no clicks, so its cart /
fav rate is taken against views) that has at least half as many users: a stage logged for only a part of
the shoppers (a storefront that logged a few impressions) is passed over instead of giving rates of
thousands of percent (no rate is given when no earlier stage fits). ``conversion`` is purchasing users over the users of the entry stage,
the first tracked stage among view, click and cart / fav (impressions are not a shopper's own action).
Event counts per type come along (``view_events``, ``cart_events``, ...).
"""

from __future__ import annotations

import pandas as pd

from shopguide.analytics.dims import NONE_LABEL, TIME_DIMENSIONS, group_sql, label
from shopguide.analytics.filters import Filters
from shopguide.analytics.keys import CONTEXT_KEYS
from shopguide.analytics.source import EventSource

STAGES: dict[str, tuple[str, ...]] = {
    "impression": ("impression",),
    "view": ("view",),
    "click": ("click",),
    "cart_fav": ("cart", "fav"),
    "purchase": ("purchase",),
}
STAGE_LABELS = {
    "impression": "impression",
    "view": "view",
    "click": "click",
    "cart_fav": "cart / fav",
    "purchase": "purchase",
}
FUNNEL_TYPES = ("impression", "view", "click", "cart", "fav", "purchase")


def tracked_stages(source: EventSource, filters: Filters | None = None) -> list[str]:
    """The stages with at least one event in the selection, in funnel order."""
    present = set(source.query("SELECT DISTINCT CAST(t AS VARCHAR) AS t FROM fe", filters)["t"])
    return [stage for stage, types in STAGES.items() if present.intersection(types)]


def entry_stage(tracked: list[str]) -> str | None:
    """The stage conversion is measured from: the first tracked one among view, click, cart / fav."""
    return next((s for s in tracked if s in ("view", "click", "cart_fav")), None)


def funnel(
    source: EventSource,
    filters: Filters | None = None,
    *,
    by: str | None = None,
    limit: int | None = None,
    tracked: list[str] | None = None,
) -> pd.DataFrame:
    """One row per group of ``by`` (one ``all`` row when None): stage users, event counts and rates.

    Rows are in time order for ``day`` / ``week``, otherwise by entry-stage users (most first), then name;
    ``limit`` keeps the first rows. ``tracked`` passes :func:`tracked_stages` when the caller has it.
    """
    if tracked is None:
        tracked = tracked_stages(source, filters)
    if by in CONTEXT_KEYS and not source.has_values(by, filters):  # one "(none)" group: the overall row
        overall = funnel(source, filters, tracked=tracked)
        return overall.assign(group=NONE_LABEL) if not overall.empty else overall
    key = group_sql(by)
    with source.session(filters) as s:
        per_type = s.df(
            f"SELECT {key} AS grp, CAST(t AS VARCHAR) AS t, count(*) AS n, count(DISTINCT u) AS users FROM fe GROUP BY ALL"
        )
        cart_fav = s.df(
            f"SELECT {key} AS grp, count(DISTINCT u) AS users FROM fe WHERE t IN ('cart', 'fav') GROUP BY ALL"
        )
    groups = pd.Index(per_type["grp"].drop_duplicates())
    out = pd.DataFrame(index=groups)
    events = per_type.pivot_table(index="grp", columns="t", values="n", aggfunc="sum", dropna=False)
    users = per_type.pivot_table(index="grp", columns="t", values="users", aggfunc="sum", dropna=False)
    for etype in FUNNEL_TYPES:
        out[f"{etype}_events"] = _column(events, etype, groups)
    for stage, types in STAGES.items():
        if stage == "cart_fav":
            out["cart_fav_users"] = cart_fav.set_index("grp")["users"].reindex(groups).fillna(0).astype("int64")
        else:
            out[f"{stage}_users"] = _column(users, types[0], groups)
    earlier: list[str] = []
    for stage in STAGES:
        out[f"{stage}_rate"] = _stage_rate(out, stage, earlier) if stage in tracked else float("nan")
        if stage in tracked:
            earlier.append(stage)
    entry = entry_stage(tracked)
    out["conversion"] = _ratio(out["purchase_users"], out[f"{entry}_users"]) if entry else float("nan")
    out = out.reset_index(names="key")
    if by in TIME_DIMENSIONS:
        out = out.sort_values("key", kind="stable")
    out.insert(0, "group", label(source, by, out["key"]).to_numpy())
    if by not in TIME_DIMENSIONS:
        sort_users = out[f"{entry}_users"] if entry else out["purchase_users"]
        out = out.assign(_n=sort_users).sort_values(["_n", "group"], ascending=[False, True], kind="stable")
        out = out.drop(columns="_n")
    out = out.drop(columns="key").reset_index(drop=True)
    return out.head(limit) if limit else out


def _stage_rate(out: pd.DataFrame, stage: str, earlier: list[str]) -> pd.Series:
    """Per row: the stage's users over those of the nearest earlier tracked stage that has at least
    :data:`PARTIAL_SHARE` as many (NaN when none has). A stage logged for only a part of the shoppers (a
    storefront that logged a few impressions) is passed over instead of giving rates of thousands of percent;
    a rate a little above 100 % (shoppers who viewed without a logged impression) is kept."""
    users = out[f"{stage}_users"].astype("float64")
    rate = pd.Series(float("nan"), index=out.index)
    decided = pd.Series(False, index=out.index)
    for previous in reversed(earlier):
        base = out[f"{previous}_users"].astype("float64")
        fits = ~decided & (base >= PARTIAL_SHARE * users)
        rate[fits & (base > 0)] = users / base.where(base > 0)
        decided |= fits
    return rate


#: an earlier stage with fewer users than this share of a later stage's is taken as only partly logged
PARTIAL_SHARE = 0.5


def _column(table: pd.DataFrame, name: str, groups: pd.Index) -> pd.Series:
    if name not in table.columns:
        return pd.Series(0, index=groups, dtype="int64")
    return table[name].reindex(groups).fillna(0).astype("int64")


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype("float64")
    return (num.astype("float64") / den).where(den > 0)
