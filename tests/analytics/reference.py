"""Independent pandas computations of every analytics figure, written from the rules in the module docstrings
of ``shopguide.analytics`` (not from its SQL). The tests compare DuckDB's results with these.

Input: a DataFrame with one row per event and the columns ``user``, ``item``, ``type``, ``value``, ``ts``,
``session``, ``category`` (top level), ``leaf``, ``price`` and the context keys (``source``, ``strategy``,
``intent``, ``traffic_source``, ``experiment``, ``variant``, ``device``); plus, where needed, the catalogue
as a DataFrame ``item``, ``category``, ``leaf``, ``deleted``.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

NONE = "(none)"
ACTIONS = ("view", "click", "cart", "fav", "purchase", "rating")


def with_day(df: pd.DataFrame, utc_offset_hours: float = 0.0) -> pd.DataFrame:
    out = df.copy()
    out["day"] = np.floor((out["ts"] + utc_offset_hours * 3600) / 86400).astype("int64")
    return out


def iso(day: int) -> str:
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(day)).isoformat()


def select(df: pd.DataFrame, date_from: str | None = None, date_to: str | None = None, categories=()) -> pd.DataFrame:
    out = df
    epoch = date(1970, 1, 1)
    if date_from:
        out = out[out["day"] >= (date.fromisoformat(date_from) - epoch).days]
    if date_to:
        out = out[out["day"] <= (date.fromisoformat(date_to) - epoch).days]
    if categories:
        out = out[out["category"].isin(categories) | out["leaf"].isin(categories)]
    return out


def group_key(df: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=df.index)
    if by == "day":
        return df["day"].map(iso)
    if by == "week":
        monday = df["day"] - (df["day"] + 3) % 7
        return monday.map(iso)
    return df[by].fillna(NONE).astype(str)


# ------------------------------------------------------------------------------------------------ funnel
def funnel(df: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Per group: users per stage, events per type, rates against the previous tracked stage, conversion."""
    g = group_key(df, by)
    present = set(df["type"])
    stages = {"impression": {"impression"}, "view": {"view"}, "click": {"click"}, "cart_fav": {"cart", "fav"},
              "purchase": {"purchase"}}  # fmt: skip
    tracked = [s for s, types in stages.items() if present & types]
    rows = []
    for name, part in df.groupby(g, sort=False):
        row = {"group": name}
        for t in ("impression", "view", "click", "cart", "fav", "purchase"):
            row[f"{t}_events"] = int((part["type"] == t).sum())
        for s, types in stages.items():
            row[f"{s}_users"] = part.loc[part["type"].isin(types), "user"].nunique()
        earlier: list[str] = []
        for s in stages:
            row[f"{s}_rate"] = math.nan
            if s in tracked:  # the nearest earlier tracked stage with at least half as many users
                base = next((p for p in reversed(earlier) if row[f"{p}_users"] >= 0.5 * row[f"{s}_users"]), None)
                if base is not None and row[f"{base}_users"]:
                    row[f"{s}_rate"] = row[f"{s}_users"] / row[f"{base}_users"]
                earlier.append(s)
        entry = next((s for s in tracked if s in ("view", "click", "cart_fav")), None)
        den = row[f"{entry}_users"] if entry else 0
        row["conversion"] = row["purchase_users"] / den if den else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------ cohorts
def retention(df: pd.DataFrame, period: str = "week", activity: str = "any", max_periods: int = 12) -> pd.DataFrame:
    types = ("purchase",) if activity == "purchase" else ACTIONS
    act = df[df["type"].isin(types)].copy()
    act["p"] = act["day"] if period == "day" else (act["day"] + 3) // 7
    act = act[["user", "p"]].drop_duplicates()
    first = act.groupby("user")["p"].min().rename("c")
    act = act.join(first, on="user")
    act["k"] = act["p"] - act["c"]
    act = act[act["k"] <= max_periods]
    counts = act.groupby(["c", "k"]).size().rename("active").reset_index()
    sizes = counts[counts["k"] == 0].set_index("c")["active"]
    counts["size"] = counts["c"].map(sizes)
    counts["rate"] = counts["active"] / counts["size"]
    start = counts["c"] if period == "day" else counts["c"] * 7 - 3
    counts["cohort"] = start.map(iso)
    return counts.rename(columns={"k": "period"})[["cohort", "size", "period", "active", "rate"]]


# ------------------------------------------------------------------------------------------------ RFM
def _score(values: pd.Series, higher_is_better: bool) -> pd.Series:
    n = len(values)
    # the number of buyers with a strictly worse value: smaller (F, M) or larger (recency)
    below = (values if higher_is_better else -values).rank(method="min") - 1
    return (1 + (5 * below.astype("int64")) // n).astype("int64")


def segment(r: int, f: int) -> str:
    table = {
        (5, 4): "Champions", (5, 5): "Champions",
        (3, 4): "Loyal", (3, 5): "Loyal", (4, 4): "Loyal", (4, 5): "Loyal",
        (4, 2): "Potential loyalists", (4, 3): "Potential loyalists", (5, 2): "Potential loyalists",
        (5, 3): "Potential loyalists", (5, 1): "New", (4, 1): "Promising", (3, 3): "Need attention",
        (3, 1): "About to sleep", (3, 2): "About to sleep",
        (1, 5): "Can't lose", (2, 5): "Can't lose",
        (1, 3): "At risk", (1, 4): "At risk", (2, 3): "At risk", (2, 4): "At risk",
        (2, 1): "Hibernating", (2, 2): "Hibernating", (1, 1): "Lost", (1, 2): "Lost",
    }  # fmt: skip
    return table[(r, f)]


def order_keys(buys: pd.DataFrame) -> pd.Series:
    return buys["session"].where(buys["session"].notna(), "#day " + buys["day"].astype(str))


def rfm(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    buys = df[df["type"] == "purchase"].copy()
    buys["order"] = order_keys(buys)
    priced = buys["price"].notna().any()
    end = df["ts"].max()
    g = buys.groupby("user")
    out = pd.DataFrame(
        {
            "last": g["ts"].max(),
            "frequency": g["order"].nunique(),
            "monetary": g["price"].sum(min_count=0).round(2) if priced else g.size().astype(float),
        }
    )
    if priced:
        out["monetary"] = out["monetary"].fillna(0.0).round(2)
    out["recency_days"] = np.floor((end - out["last"]) / 86400).astype("int64")
    out["r"] = _score(out["recency_days"], higher_is_better=False)
    out["f"] = _score(out["frequency"], higher_is_better=True)
    out["m"] = _score(out["monetary"], higher_is_better=True)
    out["segment"] = [segment(r, f) for r, f in zip(out["r"], out["f"], strict=True)]
    out = out.reset_index(names="user_id").sort_values("user_id").reset_index(drop=True)
    return out[["user_id", "recency_days", "frequency", "monetary", "r", "f", "m", "segment"]], (
        "price" if priced else "count"
    )


def repeat_purchase(df: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    buys = df[df["type"] == "purchase"].copy()
    buys["order"] = order_keys(buys)
    buys["g"] = group_key(buys, by)
    orders = buys.groupby(["g", "user"])["order"].nunique().reset_index()
    out = orders.groupby("g").agg(buyers=("user", "size"), repeat_buyers=("order", lambda s: int((s >= 2).sum())))
    out["rate"] = out["repeat_buyers"] / out["buyers"]
    return out.reset_index(names="group")


# ------------------------------------------------------------------------------------------------ trends
def trend_windows(
    df: pd.DataFrame, recent: int | None = None, baseline: int | None = None
) -> tuple[int, int, int, int] | None:
    act = df[df["type"].isin(ACTIONS)]
    if act.empty:
        return None
    first, last = int(act["day"].min()), int(act["day"].max())
    span = last - first + 1
    if recent is None and baseline is None and span < 28:
        recent = max(1, span // 3)
        baseline = span - recent
    recent = 7 if recent is None else recent
    baseline = 21 if baseline is None else baseline
    if baseline == 0:
        return None
    r0 = last - recent + 1
    return r0, last, r0 - baseline, r0 - 1


def trending(df: pd.DataFrame, level: str = "item", min_recent: int = 3, limit: int = 20, **windows) -> pd.DataFrame:
    w = trend_windows(df, **windows)
    assert w is not None
    r0, r1, b0, _ = w
    act = df[df["type"].isin(ACTIONS) & (df["day"] >= b0) & (df["day"] <= r1)].copy()
    act["key"] = act["item"] if level == "item" else act["category"].fillna(NONE)
    act["recent"] = act["day"] >= r0
    act["buy"] = act["recent"] & (act["type"] == "purchase")
    g = act.groupby("key")
    out = pd.DataFrame(
        {"recent": g["recent"].sum(), "baseline": g.size() - g["recent"].sum(), "recent_purchases": g["buy"].sum()}
    )
    out = out[out["recent"] >= min_recent].copy()
    rd, bd = r1 - r0 + 1, r0 - b0
    out["expected"] = out["baseline"].astype(float) * (float(rd) / float(bd))
    out["lift"] = (out["recent"] + 1.0) / (out["expected"] + 1.0)
    out["growth"] = (out["recent"] / out["expected"] - 1.0).where(out["expected"] > 0)
    out = out.reset_index(names="name").sort_values(["lift", "recent", "name"], ascending=[False, False, True])
    return out.head(limit).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ coverage
def head_items(df: pd.DataFrame, head_share: float = 0.8) -> set[str]:
    counts = df[df["type"] != "impression"].groupby("item").size()
    ranked = counts.reset_index(name="n").sort_values(["n", "item"], ascending=[False, True])
    before = ranked["n"].cumsum() - ranked["n"]
    return set(ranked.loc[before < head_share * counts.sum(), "item"])


def coverage(df: pd.DataFrame, catalogue: int, head_share: float = 0.8) -> dict[str, dict[str, float]]:
    head = head_items(df, head_share)
    scopes = {
        "recommended": df[df["type"] == "impression"],
        "interactions": df[df["type"] != "impression"],
        "views": df[df["type"] == "view"],
        "purchases": df[df["type"] == "purchase"],
    }
    for src, part in df[df["type"] == "impression"].groupby(df["source"].fillna(NONE)):
        scopes[f"recommended: {src}"] = part
    out = {}
    for scope, part in scopes.items():
        events = len(part)
        out[scope] = {
            "events": events,
            "items": part["item"].nunique(),
            "coverage": part["item"].nunique() / catalogue,
            "long_tail_share": (~part["item"].isin(head)).sum() / events if events else math.nan,
        }
    return out


# ------------------------------------------------------------------------------------------------ strategy
def attributed(df: pd.DataFrame, window_hours: float = 24.0) -> pd.DataFrame:
    """Impressions with flags clicked / carted / purchased from the latest-impression attribution rule."""
    imp = df[df["type"] == "impression"].reset_index(drop=True).copy()
    imp["imp_id"] = np.arange(len(imp))
    act = df[df["type"].isin(["click", "view", "cart", "purchase"])]
    merged = pd.merge_asof(
        act.sort_values("ts")[["user", "item", "ts", "type"]],
        imp.sort_values("ts")[["user", "item", "ts", "imp_id"]].rename(columns={"ts": "imp_ts"}),
        left_on="ts",
        right_on="imp_ts",
        by=["user", "item"],
        direction="backward",
    )
    merged = merged[merged["imp_id"].notna() & (merged["ts"] - merged["imp_ts"] <= window_hours * 3600)]
    for flag, types in (("clicked", ("click", "view")), ("carted", ("cart",)), ("purchased", ("purchase",))):
        ids = set(merged.loc[merged["type"].isin(types), "imp_id"].astype(int))
        imp[flag] = imp["imp_id"].isin(ids)
    return imp


def strategy(df: pd.DataFrame, by: str = "source", window_hours: float = 24.0) -> pd.DataFrame:
    imp = attributed(df, window_hours)
    imp["g"] = group_key(imp, by)
    out = imp.groupby("g").agg(
        impressions=("user", "size"),
        users=("user", "nunique"),
        clicked=("clicked", "sum"),
        carted=("carted", "sum"),
        purchased=("purchased", "sum"),
    )
    out["ctr"] = out["clicked"] / out["impressions"]
    out["conversion"] = out["purchased"] / out["impressions"]
    return out.reset_index(names="group")


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str], columns: list[str]) -> None:
    """Same rows (matched on ``keys``) with the same values in ``columns`` (floats to 1e-12 relative)."""
    a = actual[keys + columns].sort_values(keys).reset_index(drop=True)
    e = expected[keys + columns].sort_values(keys).reset_index(drop=True)
    assert len(a) == len(e), f"{len(a)} rows, expected {len(e)}"
    pd.testing.assert_frame_equal(a, e, check_dtype=False, check_exact=False, rtol=1e-12, atol=0)
